package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// signInStaff opens a staff account and signs it in in a new browser.
func signInStaff(t *testing.T, site testSite, db *store.DB, user, deptSlug string, roles ...policy.Role) *browser {
	t.Helper()
	ctx := context.Background()
	dept, err := region.NewStore(db).DepartmentBySlug(ctx, db.Read(), deptSlug)
	if err != nil {
		t.Fatal(err)
	}
	_, otpURL, err := site.identity.CreateStaff(ctx, testAdmin, identity.Meta{}, identity.NewStaff{Username: user, Name: "测试" + user, DepartmentID: dept.ID,
		Roles: roles, Password: "Staff-Pass-2026x"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(otpURL)
	b := newBrowser(t, site.handler)
	if ex := b.post("/staff/signin", url.Values{"username": {user}, "password": {"Staff-Pass-2026x"}, "totp": {totpNow(t, u.Query().Get("secret"), site)}}); ex.status != http.StatusSeeOther {
		t.Fatalf("%s sign-in: %d", user, ex.status)
	}
	return b
}

func editorForm(name string) url.Values {
	mats, _ := json.Marshal([]catalog.Material{{Name: "申请书", Necessity: "必需", Form: "原件", Copies: 1, Source: "申请人自备", Standard: "填写完整"}})
	form, _ := json.Marshal([]catalog.FormSection{{Title: "申请人", Fields: []catalog.FormField{{Key: "name", Label: "姓名", Type: "text", Required: true}}}})
	return url.Values{"name": {name}, "department": {"scjgj"}, "base_code": {"010100109999"}, "type": {"01"}, "basis": {"《某条例》"},
		"subjects": {"自然人"}, "themes": {"准营准办"}, "case_kind": {"承诺件"}, "legal_value": {"20"}, "legal_unit": {"工作日"},
		"promise_value": {"5"}, "promise_unit": {"工作日"}, "visits": {"1"}, "visit_reason": {""}, "depth": {"3"},
		"conditions": {"符合条件。"}, "steps": {"申请：提交材料\n审查：审查材料"}, "result_name": {"许可证"}, "result_type": {"证照"},
		"consult_phone": {"0375-8861002"}, "complaint_phone": {"12345"}, "aliases": {"测试别名、另一个"},
		"materials": {string(mats)}, "form": {string(form)}}
}

func TestCatalogManagerEditsAndPublishes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		mgr := signInStaff(t, site, db, "scjg.catalog", "scjgj", policy.CatalogManager)

		bad := editorForm("网络餐饮服务备案")
		bad.Set("materials", "[not json")
		if ex := mgr.post("/admin/items", bad); ex.status != 400 || !strings.Contains(ex.body, "申请材料的格式不正确") || !strings.Contains(ex.body, "网络餐饮服务备案") {
			t.Fatalf("bad JSON: %d", ex.status)
		}
		ex := mgr.post("/admin/items", editorForm("网络餐饮服务备案"))
		if ex.status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", ex.status, ex.body)
		}
		path := strings.Split(ex.header.Get("Location"), "?")[0]
		page := mgr.get(path)
		// One visit without a reason: a quality problem that blocks publishing.
		if !strings.Contains(page.body, "须说明必须到现场的原因") || strings.Contains(page.body, `value="publish"`) == false {
			t.Fatalf("draft page lacks the problem or the publish form")
		}
		if ex := mgr.post(path+"/status", url.Values{"op": {"publish"}}); ex.status != 400 || !strings.Contains(ex.body, "不能发布") {
			t.Fatalf("publishing a failing draft: %d", ex.status)
		}
		fixed := editorForm("网络餐饮服务备案")
		fixed.Set("visit_reason", "需现场核查经营场所")
		// The workflow is edited as text; a wrong one is refused with why.
		fixed.Set("workflow", "受理:窗口人员\n审查:审批人员:70\n决定:市长:20\n办结:窗口人员:10")
		if ex := mgr.post(path, fixed); ex.status != 400 || !strings.Contains(ex.body, "角色“市长”无效") || !strings.Contains(ex.body, "审查:审批人员:70") {
			t.Fatalf("bad workflow: %d", ex.status)
		}
		fixed.Set("workflow", "受理:窗口人员\n审查:审批人员:70\n决定:部门负责人:20\n办结:窗口人员:10")
		if ex := mgr.post(path, fixed); ex.status != http.StatusSeeOther {
			t.Fatalf("save v2: %d %s", ex.status, ex.body)
		}
		if page := mgr.get(path); !strings.Contains(page.body, "决定:部门负责人:20") {
			t.Fatal("the saved workflow is not shown")
		}
		if ex := mgr.post(path+"/status", url.Values{"op": {"publish"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("publish: %d %s", ex.status, ex.body)
		}
		page = mgr.get(path)
		for _, want := range []string{"已发布 v2", "新建", "修改", "发布", "测试scjg.catalog"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("editor lacks %q", want)
			}
		}
		if ex := mgr.post(path+"/status", url.Values{"op": {"suspend"}}); ex.status != 400 || !strings.Contains(ex.body, "原因") {
			t.Errorf("suspend without reason: %d", ex.status)
		}
		if ex := mgr.post(path+"/status", url.Values{"op": {"suspend"}, "reason": {"系统维护"}}); ex.status != http.StatusSeeOther {
			t.Errorf("suspend: %d", ex.status)
		}

		// Another department's manager cannot touch it; a window clerk has no editor.
		other := signInStaff(t, site, db, "mzj.catalog", "mzj", policy.CatalogManager)
		if ex := other.get(path); ex.status != http.StatusForbidden {
			t.Errorf("other department's manager: %d", ex.status)
		}
		if ex := other.post("/admin/items", editorForm("冒名事项")); ex.status != http.StatusForbidden {
			t.Errorf("creating for another department: %d", ex.status)
		}
		clerk := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		if ex := clerk.get("/admin/items"); ex.status != http.StatusForbidden {
			t.Errorf("clerk: %d", ex.status)
		}
		if ex := mgr.get("/admin/catalog/export?format=xlsx"); ex.status != http.StatusForbidden {
			t.Errorf("a manager exported the whole catalog: %d", ex.status)
		}
	})
}

func TestAdminExportsAndImportsFromThePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		mgr := signInStaff(t, site, db, "scjg.catalog", "scjgj", policy.CatalogManager)
		fixed := editorForm("网络餐饮服务备案")
		fixed.Set("visit_reason", "需现场核查经营场所")
		ex := mgr.post("/admin/items", fixed)
		path := strings.Split(ex.header.Get("Location"), "?")[0]
		mgr.post(path+"/status", url.Values{"op": {"publish"}})

		admin := signInStaff(t, site, db, "boss", "xzfwzx", policy.Admin)
		exp := admin.get("/admin/catalog/export?format=json")
		if exp.status != 200 || !strings.Contains(exp.header.Get("Content-Disposition"), "attachment") || !strings.Contains(exp.body, "网络餐饮服务备案") {
			t.Fatalf("export: %d", exp.status)
		}
		if page := admin.get("/admin/audit?action=export"); !strings.Contains(page.body, "导出事项目录") {
			t.Error("the export is not in the audit log")
		}
		upload := func(name, content string) exchange {
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			fw, _ := mw.CreateFormFile("file", name)
			fw.Write([]byte(content))
			mw.Close()
			req := httptest.NewRequest("POST", "/admin/catalog/import", &body)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			return admin.do(req)
		}
		if ex := upload("catalog.json", exp.body); ex.status != 200 || !strings.Contains(ex.body, "更新 1 项") {
			t.Fatalf("re-import: %d", ex.status)
		}
		broken := strings.Replace(exp.body, `"complaint_phone": "12345"`, `"complaint_phone": "0375-8861002"`, 1)
		if broken == exp.body {
			t.Fatal("test file unchanged")
		}
		if ex := upload("catalog.json", broken); ex.status != 400 || !strings.Contains(ex.body, "未作任何更改") || !strings.Contains(ex.body, "监督投诉电话") {
			t.Fatalf("bad import: %d", ex.status)
		}
		if ex := upload("catalog.txt", "x"); ex.status != 400 {
			t.Fatalf("wrong format: %d", ex.status)
		}
	})
}
