package app_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/zwfw/zwfw/internal/demo"
)

// A citizen registers with a phone code and sees their own page; then a
// staff member signs in to the workbench and reads the audit log.
func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	s := start(t, nil, "demo", "--data", t.TempDir())
	ctx := newBrowser(t, env)
	if _, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatalf("bypass CSP: %v", err)
	}
	resize(t, ctx, phone)
	open(t, ctx, s.URL+"/register")
	runAxe(t, ctx, env, "registration at phone size")
	do(t, ctx, "fill in the registration",
		chromedp.SendKeys(chromedp.CSS("#r-name"), "张三"),
		chromedp.SendKeys(chromedp.CSS("#r-id"), "11010519491231002X"),
		chromedp.SendKeys(chromedp.CSS("#r-mobile"), "13800000001"),
		chromedp.Click(chromedp.CSS(`button[formaction="/register/code"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice[role="status"]`)))
	// The demo shows the SMS it did not send; the person reads the code there.
	code := eval[string](t, ctx, `fetch('/demo/sms').then(r => r.text()).then(t => (t.match(/验证码是(\d{6})/) || [])[1] || '')`,
		chromedp.EvalAwaitPromise)
	if len(code) != 6 {
		t.Fatalf("no code on the demo SMS page: %q", code)
	}
	do(t, ctx, "finish the registration",
		chromedp.SendKeys(chromedp.CSS("#r-code"), code),
		chromedp.SendKeys(chromedp.CSS("#r-password"), "Zhangsan-2026!"),
		chromedp.Click(chromedp.CSS(`form[action="/register"] button[type="submit"]:not([formaction])`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-profile`)))
	visited(t, ctx)
	main := eval[string](t, ctx, `document.querySelector('main').innerText`)
	for _, want := range []string{"张三", "110105********002X", "138****0001", "未实名核验"} {
		if !strings.Contains(main, want) {
			t.Errorf("my page lacks %q", want)
		}
	}
	checkNoSideScroll(t, ctx, phone)
	screenshot(t, ctx, env, "me-phone")
	runAxe(t, ctx, env, "my page at phone size")
	// The citizen opens an item that can be applied for online and its form.
	open(t, ctx, s.URL+"/items?depth=4")
	do(t, ctx, "open a guide", chromedp.Click(chromedp.CSS("ul.items a.item-name")), chromedp.WaitVisible(chromedp.CSS("article.guide")))
	visited(t, ctx)
	do(t, ctx, "apply online", chromedp.Click(chromedp.CSS(`a.button-link[href$="/apply"]`)), chromedp.WaitVisible(chromedp.CSS(`form[action$="/apply"]`)))
	visited(t, ctx)
	checkNoSideScroll(t, ctx, phone)
	screenshot(t, ctx, env, "apply-phone")
	runAxe(t, ctx, env, "application form at phone size")
	do(t, ctx, "submit it empty", chromedp.Click(chromedp.CSS(`button[value="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".field-error")))
	visited(t, ctx)
	runAxe(t, ctx, env, "application form with errors")
	// The draft is kept: its case page offers the materials and submission.
	open(t, ctx, s.URL+"/me/cases")
	do(t, ctx, "open the draft", chromedp.Click(chromedp.CSS("ul.items a.item-name")), chromedp.WaitVisible(chromedp.CSS("#c-mat")))
	visited(t, ctx)
	checkNoSideScroll(t, ctx, phone)
	screenshot(t, ctx, env, "case-draft-phone")
	runAxe(t, ctx, env, "draft case page at phone size")
	// At phone size the navigation, and 退出 in it, is folded into 菜单.
	do(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`.site-menu summary`)), chromedp.Click(chromedp.CSS(`form.nav-form button`)), chromedp.WaitVisible(chromedp.CSS("#hero-title")))
	visited(t, ctx)

	resize(t, ctx, desktop)
	open(t, ctx, s.URL+"/workbench")
	do(t, ctx, "staff sign-in",
		chromedp.WaitVisible(chromedp.CSS("#s-user")),
		chromedp.SendKeys(chromedp.CSS("#s-user"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#s-pass"), demo.StaffPassword),
		chromedp.Submit(chromedp.CSS("#s-pass")),
		chromedp.WaitVisible(chromedp.CSS(".lead")))
	visited(t, ctx)
	if lead := eval[string](t, ctx, `document.querySelector('.lead').innerText`); !strings.Contains(lead, "系统管理员") {
		t.Fatalf("workbench says %q", lead)
	}
	screenshot(t, ctx, env, "workbench-desktop")
	runAxe(t, ctx, env, "workbench")
	open(t, ctx, s.URL+"/admin/audit")
	if text := eval[string](t, ctx, `document.querySelector('main').innerText`); !strings.Contains(text, "注册") || !strings.Contains(text, "张三") {
		t.Errorf("the audit log does not show the registration")
	}
	screenshot(t, ctx, env, "audit-desktop")
	runAxe(t, ctx, env, "audit log")
	for _, p := range []struct{ path, name string }{{"/admin/items", "items-admin"}, {"/admin/items/new", "item-editor"},
		{"/admin/staff", "staff-admin"}, {"/admin/departments", "departments-admin"}, {"/admin/jobs", "jobs-admin"}} {
		open(t, ctx, s.URL+p.path)
		screenshot(t, ctx, env, p.name+"-desktop")
		runAxe(t, ctx, env, p.path)
	}
	resize(t, ctx, phone)
	open(t, ctx, s.URL+"/admin/items/new")
	checkNoSideScroll(t, ctx, phone)
	runAxe(t, ctx, env, "item editor at phone size")
}
