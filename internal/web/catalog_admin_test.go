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
	return url.Values{"name": {name}, "department": {"scjgj"}, "base_code": {"010100109999"}, "type": {"01"}, "basis": {"《某条例》"},
		"subjects": {"自然人"}, "themes": {"准营准办"}, "case_kind": {"承诺件"}, "legal_value": {"20"}, "legal_unit": {"工作日"},
		"promise_value": {"5"}, "promise_unit": {"工作日"}, "visits": {"1"}, "visit_reason": {""}, "depth": {"3"},
		"conditions": {"符合条件。"}, "steps": {"申请：提交材料\n审查：审查材料"}, "result_name": {"许可证"}, "result_type": {"证照"},
		"consult_phone": {"0375-8861002"}, "complaint_phone": {"12345"}, "aliases": {"测试别名、另一个"},
		"mat_rows": {"1"}, "mat_0_name": {"申请书"}, "mat_0_necessity": {"必需"}, "mat_0_form": {"原件"}, "mat_0_copies": {"1"},
		"mat_0_source": {"申请人自备"}, "mat_0_standard": {"填写完整"},
		"fld_rows": {"1"}, "fld_0_section": {"申请人"}, "fld_0_key": {"name"}, "fld_0_label": {"姓名"}, "fld_0_type": {"text"}, "fld_0_required": {"1"},
		"wf_rows": {"0"}}
}

func TestCatalogManagerEditsAndPublishes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		mgr := signInStaff(t, site, db, "scjg.catalog", "scjgj", policy.CatalogManager)

		bad := editorForm("网络餐饮服务备案")
		bad.Set("mat_0_copies", "两份")
		if ex := mgr.post("/admin/items", bad); ex.status != 400 || !strings.Contains(ex.body, "第1项材料的份数应为整数") || !strings.Contains(ex.body, "网络餐饮服务备案") {
			t.Fatalf("bad number of copies: %d", ex.status)
		}
		// The lists are rows: adding, moving and removing one shows the
		// editor again with what was typed, saving nothing.
		grow := editorForm("网络餐饮服务备案")
		grow.Set("edit", "mat-add")
		ex := mgr.post("/admin/items", grow)
		if ex.status != 200 || !strings.Contains(ex.body, `name="mat_1_name"`) || !strings.Contains(ex.body, `value="申请书"`) || !strings.Contains(ex.body, "尚未保存") {
			t.Fatalf("adding a material row: %d", ex.status)
		}
		grow.Set("mat_rows", "2")
		grow.Set("mat_1_name", "营业执照")
		grow.Set("mat_1_necessity", "必需")
		grow.Set("mat_1_form", "复印件")
		grow.Set("mat_1_source", "政府部门核发")
		grow.Set("edit", "mat-up-1")
		ex = mgr.post("/admin/items", grow)
		if i, j := strings.Index(ex.body, `value="营业执照"`), strings.Index(ex.body, `value="申请书"`); ex.status != 200 || i < 0 || j < i {
			t.Fatalf("moving a material up: %d, at %d and %d", ex.status, i, j)
		}
		grow.Set("edit", "wf-default")
		if ex := mgr.post("/admin/items", grow); ex.status != 200 || !strings.Contains(ex.body, `name="wf_5_step"`) || !strings.Contains(ex.body, `name="wf_2_roles" value="head" checked`) {
			t.Fatalf("starting from the default workflow: %d", ex.status)
		}
		var n int
		if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM items`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("editing rows saved %d items (%v)", n, err)
		}
		ex = mgr.post("/admin/items", editorForm("网络餐饮服务备案"))
		if ex.status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", ex.status, ex.body)
		}
		path := strings.Split(ex.header.Get("Location"), "?")[0]
		page := mgr.get(path)
		// One visit without a reason: a quality problem that blocks submitting.
		if !strings.Contains(page.body, "须说明必须到现场的原因") || !strings.Contains(page.body, `value="submit"`) {
			t.Fatalf("draft page lacks the problem or the submit form")
		}
		if ex := mgr.post(path+"/status", url.Values{"op": {"submit"}, "version": {"1"}}); ex.status != 400 || !strings.Contains(ex.body, "不能提交审核") {
			t.Fatalf("submitting a failing draft: %d", ex.status)
		}
		fixed := editorForm("网络餐饮服务备案")
		fixed.Set("visit_reason", "需现场核查经营场所")
		// The workflow is rows of a step, its roles and its share; a wrong one is refused with why.
		wf := [][3]string{{"受理", "window", ""}, {"审查", "reviewer", "70"}, {"决定", "head", "20"}, {"办结", "window", "20"}}
		fixed.Set("wf_rows", "4")
		for i, w := range wf {
			fixed.Set(fmt.Sprintf("wf_%d_step", i), w[0])
			fixed.Set(fmt.Sprintf("wf_%d_roles", i), w[1])
			fixed.Set(fmt.Sprintf("wf_%d_share", i), w[2])
		}
		if ex := mgr.post(path, fixed); ex.status != 400 || !strings.Contains(ex.body, "时限占比之和应为100%，现为110%") {
			t.Fatalf("bad workflow: %d", ex.status)
		}
		fixed.Set("wf_3_share", "10")
		fixed.Add("wf_2_roles", "reviewer")
		if ex := mgr.post(path, fixed); ex.status != http.StatusSeeOther {
			t.Fatalf("save v2: %d %s", ex.status, ex.body)
		}
		if page := mgr.get(path); !strings.Contains(page.body, `name="wf_2_roles" value="reviewer" checked`) || !strings.Contains(page.body, `name="wf_1_share" inputmode="numeric" value="70"`) {
			t.Fatal("the saved workflow is not shown")
		}
		// A second person reviews: the editor cannot approve their own submission.
		if ex := mgr.post(path+"/status", url.Values{"op": {"submit"}, "version": {"2"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("submit: %d %s", ex.status, ex.body)
		}
		if ex := mgr.post(path+"/status", url.Values{"op": {"publish"}, "version": {"2"}}); ex.status != http.StatusForbidden || !strings.Contains(ex.body, "不能审核自己提交的版本") {
			t.Fatalf("self-review: %d", ex.status)
		}
		head := signInStaff(t, site, db, "scjg.head", "scjgj", policy.Head)
		if page := head.get(path); !strings.Contains(page.body, "v2 待审核") || !strings.Contains(page.body, "审核通过并发布") || strings.Contains(page.body, "保存为草稿") {
			t.Fatalf("the head's review page: %d", page.status)
		}
		if ex := head.post(path+"/status", url.Values{"op": {"return"}, "version": {"2"}, "reason": {"材料写得不全"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("return: %d %s", ex.status, ex.body)
		}
		if ex := mgr.post(path+"/status", url.Values{"op": {"submit"}, "version": {"2"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("submit again: %d %s", ex.status, ex.body)
		}
		if ex := head.post(path+"/status", url.Values{"op": {"publish"}, "version": {"2"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("publish: %d %s", ex.status, ex.body)
		}
		page = mgr.get(path)
		for _, want := range []string{"已发布 v2", "新建", "修改", "提交审核", "审核退回", "材料写得不全", "审核通过并发布", "测试scjg.catalog", "测试scjg.head"} {
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
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		mgr := signInStaff(t, site, db, "scjg.catalog", "scjgj", policy.CatalogManager)
		fixed := editorForm("网络餐饮服务备案")
		fixed.Set("visit_reason", "需现场核查经营场所")
		ex := mgr.post("/admin/items", fixed)
		path := strings.Split(ex.header.Get("Location"), "?")[0]
		mgr.post(path+"/status", url.Values{"op": {"submit"}, "version": {"1"}})
		head := signInStaff(t, site, db, "scjg.head", "scjgj", policy.Head)
		if ex := head.post(path+"/status", url.Values{"op": {"publish"}, "version": {"1"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("publish: %d", ex.status)
		}

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
		if ex := upload("catalog.json", broken); ex.status != 400 || !strings.Contains(ex.body, "未作任何更改") || !strings.Contains(ex.body, "<td>第1条记录</td><td>监督投诉电话</td>") {
			t.Fatalf("bad import: %d", ex.status)
		}
		// The file carries bundles too: one naming an item that is neither
		// in the file nor in the catalog is refused at its row.
		if !strings.Contains(exp.body, `"bundles": []`) {
			t.Error("no bundles array in the export")
		}
		unknown := strings.Replace(exp.body, `"bundles": []`, `"bundles": [{"name": "开店一件事", "published": false, "items": ["NO-SUCH-CODE", "OTHER"]}]`, 1)
		if ex := upload("catalog.json", unknown); ex.status != 400 || !strings.Contains(ex.body, "<td>一件事</td><td>第1条记录</td><td>实施编码</td><td>没有实施编码为“NO-SUCH-CODE”的事项") {
			t.Fatalf("unknown item in a bundle: %d", ex.status)
		}
		if ex := upload("catalog.txt", "x"); ex.status != 400 {
			t.Fatalf("wrong format: %d", ex.status)
		}
	})
}
