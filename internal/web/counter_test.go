package web_test

import (
	"bytes"
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

func TestCounterIntakeThroughThePages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthApply))
		clerk := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		if page := clerk.get("/workbench/intake"); page.status != 200 || !strings.Contains(page.body, "个体工商户设立登记") {
			t.Fatalf("intake form: %d", page.status)
		}
		bad := url.Values{"item": {fmt.Sprint(id)}, "name": {"王五"}, "id_number": {"110105194912310021"}}
		if ex := clerk.post("/workbench/intake", bad); ex.status != 400 || !strings.Contains(ex.body, "校验位") || !strings.Contains(ex.body, `value="王五"`) {
			t.Fatalf("bad id at the counter: %d", ex.status)
		}
		ex := clerk.post("/workbench/intake", url.Values{"item": {fmt.Sprint(id)}, "name": {"王五"}, "id_number": {"11010519491231002X"}, "mobile": {"13700001111"}})
		if ex.status != http.StatusSeeOther {
			t.Fatalf("intake: %d %s", ex.status, ex.body)
		}
		casePath := strings.Split(ex.header.Get("Location"), "?")[0]
		page := clerk.get(casePath)
		// The page says who the applicant is, and the form starts with the
		// identity number the clerk typed at intake, not to be typed again.
		if who := between(page.body, `<dd id="s-who">`, `</dd>`); !strings.Contains(who, "王五") || !strings.Contains(who, "110105********002X") {
			t.Errorf("the counter case names the applicant as %q", who)
		}
		if !strings.Contains(page.body, `id="sf-id_number" name="id_number" value="11010519491231002X" readonly`) {
			t.Error("the counter form does not start with the applicant's identity number")
		}
		version := between(page.body, `name="version" value="`, `"`)
		if ex := clerk.post(casePath+"/form", url.Values{"version": {version}, "name": {"王五"}, "id_number": {"11010519491231002X"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("form: %d %s", ex.status, ex.body)
		}
		page = clerk.get(casePath)
		if !strings.Contains(page.body, "修改申请信息") || !strings.Contains(page.body, "修改：经营者姓名") {
			t.Error("the clerk's typing is not on the case's record")
		}
		version = between(page.body, `name="version" value="`, `"`)
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("version", version)
		fw, _ := mw.CreateFormFile("file", "扫描件.pdf")
		fw.Write([]byte("%PDF-1.5 scan"))
		mw.Close()
		req := httptest.NewRequest("POST", casePath+"/materials/0", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if ex := clerk.do(req); ex.status != http.StatusSeeOther {
			t.Fatalf("scan: %d %s", ex.status, ex.body)
		}
		page = clerk.get(casePath)
		version = between(page.body, `name="version" value="`, `"`)
		if ex := clerk.post(casePath, url.Values{"op": {"submit"}, "version": {version}}); ex.status != http.StatusSeeOther {
			t.Fatalf("submit at the counter: %d %s", ex.status, ex.body)
		}
		page = clerk.get(casePath)
		// The counter prints a 收件回执 for the papers taken in.
		receipt := between(page.body, `<a href="`, `">收件回执</a>`)
		receipt = receipt[strings.LastIndex(receipt, `"`)+1:]
		if doc := clerk.get(receipt); doc.status != 200 || !strings.Contains(doc.body, "收到材料") || !strings.Contains(doc.body, "个体工商户登记申请书") ||
			!strings.Contains(doc.body, "收字〔2026〕1号") || !strings.Contains(doc.body, "王五") {
			t.Errorf("the receipt %q: %d\n%s", receipt, doc.status, doc.body)
		}
		version = between(page.body, `name="version" value="`, `"`)
		if ex := clerk.post(casePath+"/visits", url.Values{"version": {version}, "purpose": {"补交原件"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("visit: %d", ex.status)
		}
		admin := signInStaff(t, site, db, "boss", "xzfwzx", policy.Admin)
		if list := admin.get("/admin/visits"); !strings.Contains(list.body, casePath) || !strings.Contains(list.body, `data-label="到场次数">2</td>`) {
			t.Fatalf("最多跑一次 list: %d", list.status)
		}
		if ex := clerk.get("/admin/visits"); ex.status != http.StatusForbidden {
			t.Errorf("a clerk sees the supervisors' list: %d", ex.status)
		}
		if ex := admin.get("/admin/corrections"); ex.status != 200 || !strings.Contains(ex.body, "被要求补正超过一次的办件") {
			t.Errorf("corrections list: %d", ex.status)
		}
		if ex := clerk.get("/admin/corrections"); ex.status != http.StatusForbidden {
			t.Errorf("a clerk sees the corrections list: %d", ex.status)
		}
		if ex := admin.get("/admin"); !strings.Contains(ex.body, "/admin/corrections") {
			t.Error("the admin page has no link to the corrections list")
		}
		if ex := admin.get("/admin/late"); ex.status != 200 || !strings.Contains(ex.body, "即将到期和已超期的办件") {
			t.Errorf("late list: %d", ex.status)
		}
		if ex := clerk.get("/admin/late"); ex.status != http.StatusForbidden {
			t.Errorf("a clerk sees the late list: %d", ex.status)
		}
		if ex := admin.get("/admin/archives"); ex.status != 200 || !strings.Contains(ex.body, "档案") {
			t.Errorf("archives list: %d", ex.status)
		}
	})
}
