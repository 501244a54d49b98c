package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// scan posts a file for material n from the staff case page.
func scan(b *browser, caseID, version string, n int) exchange {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("version", version)
	fw, _ := mw.CreateFormFile("file", "扫描件.pdf")
	fw.Write([]byte("%PDF-1.5 scan"))
	mw.Close()
	req := httptest.NewRequest("POST", fmt.Sprintf("/workbench/cases/%s/materials/%d", caseID, n), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// A citizen's online draft is theirs alone: to a window clerk, a
// supervisor or an administrator it is not there — no page, no form, no
// upload, no submission in the citizen's name, no queue of drafts.
func TestStaffCannotTakeOverAnOnlineDraft(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		ex := citizen.post(fmt.Sprintf("/items/%d/apply", id), url.Values{"op": {"save"}, "name": {"张三"}, "id_number": {"11010519491231002X"}})
		caseID := between(ex.header.Get("Location"), "case=", "&")
		if caseID == "" {
			t.Fatalf("no draft: %d %s", ex.status, ex.header.Get("Location"))
		}
		upload(citizen, caseID, 0, "申请书.pdf", []byte("%PDF-1.7 本人"))
		version := between(citizen.get("/me/cases/"+caseID).body, `name="version" value="`, `"`)

		clerk := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		super := signInStaff(t, site, db, "super", "xzfwzx", policy.Supervisor)
		admin := signInStaff(t, site, db, "boss", "scjgj", policy.Admin, policy.Window)
		for name, b := range map[string]*browser{"clerk": clerk, "supervisor": super, "admin": admin} {
			if ex := b.get("/workbench/cases/" + caseID); ex.status != http.StatusNotFound {
				t.Errorf("%s opens the draft: %d", name, ex.status)
			}
			if ex := b.get("/cases/" + caseID + "/materials/0"); ex.status != http.StatusNotFound {
				t.Errorf("%s downloads the draft's material: %d", name, ex.status)
			}
		}
		if ex := clerk.post("/workbench/cases/"+caseID+"/form", url.Values{"version": {version}, "name": {"王五"}, "id_number": {"11010519491231002X"}}); ex.status != http.StatusNotFound {
			t.Errorf("the clerk edits the answers: %d", ex.status)
		}
		if ex := scan(clerk, caseID, version, 0); ex.status != http.StatusNotFound {
			t.Errorf("the clerk replaces the applicant's file: %d", ex.status)
		}
		if ex := clerk.post("/workbench/cases/"+caseID, url.Values{"op": {"submit"}, "version": {version}}); ex.status != http.StatusNotFound {
			t.Errorf("the clerk submits in the applicant's name: %d", ex.status)
		}
		if ex := clerk.get("/workbench/queue/draft"); ex.status != http.StatusForbidden || strings.Contains(ex.body, "/workbench/cases/"+caseID) {
			t.Errorf("a queue of citizens' drafts: %d", ex.status)
		}
		mine := citizen.get("/me/cases/" + caseID)
		if !strings.Contains(mine.body, "草稿") || strings.Contains(mine.body, "王五") || between(mine.body, `name="version" value="`, `"`) != version {
			t.Fatal("a refused request changed the draft")
		}
		if dl := citizen.get("/cases/" + caseID + "/materials/0"); dl.body != "%PDF-1.7 本人" {
			t.Fatal("the applicant's file was replaced")
		}
	})
}

// Queues are reads of the department's cases: a catalog manager has none,
// on the workbench or by address.
func TestQueuesOnlyForThoseWhoHandleCases(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		item := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		caseID := appliedCase(t, citizen, item)
		manager := signInStaff(t, site, db, "mgr", "scjgj", policy.CatalogManager)
		if wb := manager.get("/workbench"); wb.status != 200 || strings.Contains(wb.body, "办件队列") || strings.Contains(wb.body, "/workbench/queue/") {
			t.Errorf("the catalog manager's workbench shows queues: %d", wb.status)
		}
		if q := manager.get("/workbench/queue/submitted"); q.status != http.StatusForbidden || strings.Contains(q.body, "/workbench/cases/"+caseID) {
			t.Errorf("the catalog manager lists the department's cases: %d", q.status)
		}
		if ex := manager.get("/workbench/cases/" + caseID); ex.status != http.StatusNotFound {
			t.Errorf("the catalog manager opens a case: %d", ex.status)
		}
		reviewer := signInStaff(t, site, db, "reviewer", "scjgj", policy.Reviewer)
		if q := reviewer.get("/workbench/queue/submitted"); q.status != 200 || !strings.Contains(q.body, "/workbench/cases/"+caseID) {
			t.Errorf("the reviewer's queue: %d", q.status)
		}
	})
}

// A counter intake that is refused opens no account and writes no audit
// entry: the account is opened in the intake's own transaction.
func TestRefusedCounterIntakeOpensNoAccount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		foreign := guideItem("010100100002", "民政事项", catalog.DepthApply)
		foreign.Department = "mzj"
		other := publish(t, db, site.catalog, foreign)
		clerk := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		count := func() string {
			var accounts, audits int
			db.Read().QueryRow(context.Background(), `SELECT (SELECT COUNT(*) FROM accounts), (SELECT COUNT(*) FROM audit_log)`).Scan(&accounts, &audits)
			return fmt.Sprint(accounts, " accounts, ", audits, " audit entries")
		}
		before := count()
		form := url.Values{"item": {fmt.Sprint(other)}, "name": {"王五"}, "id_number": {"11010519491231002X"}, "mobile": {"13700001111"}}
		if ex := clerk.post("/workbench/intake", form); ex.status != http.StatusForbidden {
			t.Fatalf("intake of another department's item: %d", ex.status)
		}
		if after := count(); after != before {
			t.Fatalf("a refused intake left %s (before: %s)", after, before)
		}
	})
}

// A form without a usable version is told so, not that someone else
// acted first.
func TestMissingVersionIsNotAConflict(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		item := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		caseID := appliedCase(t, citizen, item)
		clerk := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		for _, v := range []string{"abc", ""} {
			ex := clerk.post("/workbench/cases/"+caseID, url.Values{"op": {"accept"}, "version": {v}})
			if ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "请求缺少有效的版本号") || strings.Contains(ex.body, "刚被他人处理") {
				t.Errorf("version %q: %d %s", v, ex.status, between(ex.body, `role="alert">`, "<"))
			}
		}
		if page := clerk.get("/workbench/cases/" + caseID); !strings.Contains(page.body, "待预审") {
			t.Fatal("a request without a version changed the case")
		}
	})
}
