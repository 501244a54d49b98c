package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func TestStaffHandleACaseFromTheirQueues(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull, "营业执照"))
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		ex := citizen.post(fmt.Sprintf("/items/%d/apply", id), url.Values{"op": {"submit"}, "name": {"张三"}, "id_number": {"11010519491231002X"}})
		casePath := strings.Split(ex.header.Get("Location"), "?")[0]
		caseID := strings.TrimPrefix(casePath, "/me/cases/")
		upload(citizen, caseID, 0, "申请书.pdf", []byte("%PDF-1.7 x"))
		if ex := submitCase(citizen, caseID); ex.status != http.StatusSeeOther {
			t.Fatalf("submit: %d", ex.status)
		}

		window := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		window2 := signInStaff(t, site, db, "clerk2", "scjgj", policy.Window)
		if wb := window.get("/workbench"); !strings.Contains(wb.body, "待预审 <strong>1</strong>") {
			t.Fatalf("workbench does not count the new case")
		}
		if q := window.get("/workbench/queue/submitted"); !strings.Contains(q.body, "/workbench/cases/"+caseID) || !strings.Contains(q.body, `name="due"`) {
			t.Fatal("queue does not list the case, or has no filters")
		}
		if q := window.get("/workbench/queue/submitted?channel=window"); strings.Contains(q.body, "/workbench/cases/"+caseID) {
			t.Fatal("an online case is listed among the counter's")
		}
		if q := window.get("/workbench/queue/submitted?q=个体工商户&channel=online"); !strings.Contains(q.body, "/workbench/cases/"+caseID) {
			t.Fatal("filtering by item name loses the case")
		}
		if q := window.get("/workbench/queue/submitted?due=someday"); q.status != 400 {
			t.Fatalf("bad filter: %d", q.status)
		}
		page := window.get("/workbench/cases/" + caseID)
		if !strings.Contains(page.body, "110105********002X") || strings.Contains(page.body, "11010519491231002X") {
			t.Error("staff see the identity number unmasked by default")
		}
		version := between(page.body, `name="version" value="`, `"`)
		// Two clerks act on the same version: one wins, the other is told.
		if ex := window.post("/workbench/cases/"+caseID, url.Values{"op": {"correct"}, "version": {version}, "reason": {"请补充经营场所证明"}, "material": {"0"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("ask for correction: %d %s", ex.status, ex.body)
		}
		if ex := window2.post("/workbench/cases/"+caseID, url.Values{"op": {"accept"}, "version": {version}}); ex.status != http.StatusConflict || !strings.Contains(ex.body, "刚被他人处理") || !strings.Contains(ex.body, "待补正") {
			t.Fatalf("second clerk: %d", ex.status)
		}
		// The citizen sees what is asked, and the other department sees nothing.
		mine := citizen.get(casePath)
		if !strings.Contains(mine.body, "待补正") || !strings.Contains(mine.body, "请补充经营场所证明") || !strings.Contains(mine.body, "补正材料通知书") {
			t.Error("the citizen does not see the correction request and its notice")
		}
		if msgs := citizen.get("/me/messages"); !strings.Contains(msgs.body, "请补正申请材料") || !strings.Contains(msgs.body, "请补充经营场所证明") {
			t.Error("the message centre does not tell the citizen")
		}
		docPath := "/cases/" + caseID + "/documents/" + between(mine.body, "/cases/"+caseID+"/documents/", `"`)
		notice := citizen.get(docPath)
		if notice.status != 200 || !strings.Contains(notice.body, "区市场监管局补字〔2026〕1号") || !strings.Contains(notice.body, "请一次性补正以下全部内容") ||
			!strings.Contains(notice.body, "平顶山市湛河区市场监督管理局") {
			t.Fatalf("notice: %d", notice.status)
		}
		// The page lays the notice out: the addressee apart, the 署名 with
		// the Chinese date under it, room for the seal; no ISO date.
		article := between(notice.body, `<article`, `</article>`)
		if !regexp.MustCompile(`<p class="doc-to">[^<]+：</p>`).MatchString(article) ||
			!regexp.MustCompile(`<p class="doc-signer">平顶山市湛河区市场监督管理局</p><p class="doc-date">\d{4}年[1-9]\d?月[1-9]\d?日</p>`).MatchString(article) ||
			!strings.Contains(article, `class="doc-seal-room"`) || regexp.MustCompile(`\d{4}-\d{1,2}-\d{1,2}`).MatchString(article) {
			t.Errorf("the notice is not laid out as an official document:\n%s", article)
		}
		// To another department's staff the case is not there at all.
		foreign := signInStaff(t, site, db, "mzj.clerk", "mzj", policy.Window)
		if ex := foreign.get("/workbench/cases/" + caseID); ex.status != http.StatusNotFound {
			t.Errorf("another department's clerk: %d", ex.status)
		}
		if ex := foreign.get(docPath); ex.status != http.StatusNotFound {
			t.Errorf("another department reads the notice: %d", ex.status)
		}
		if ex := foreign.get("/cases/" + caseID + "/materials/0"); ex.status != http.StatusNotFound {
			t.Errorf("another department reads the material: %d", ex.status)
		}
	})
}
