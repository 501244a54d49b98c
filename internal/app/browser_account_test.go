package app_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/zwfw/zwfw/internal/demo"
)

// A citizen registers with a phone code and sees their own page; then a
// staff member signs in to the workbench and reads the audit log.
func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	s := start(t, nil, copyDemo(t, "sqlite").Args...)
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
		chromedp.SendKeys(chromedp.CSS("#r-password"), "Zhangsan-2026!"))
	// The browser does not send the form before the privacy notice is agreed to.
	do(t, ctx, "register without consent", chromedp.Click(chromedp.CSS(`form[action="/register"] button[type="submit"]:not([formaction])`)))
	if !eval[bool](t, ctx, `document.getElementById('r-consent').matches(':invalid') && !document.querySelector('#m-profile')`) {
		t.Error("the registration went ahead without consent to the privacy notice")
	}
	do(t, ctx, "agree and finish the registration",
		chromedp.Click(chromedp.CSS("#r-consent")),
		chromedp.Click(chromedp.CSS(`form[action="/register"] button[type="submit"]:not([formaction])`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-profile`)))
	registered := time.Now()
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
	// The name and 身份证号 come from the account, fixed; the rest is empty.
	fixed := eval[[]string](t, ctx, `[...document.querySelectorAll('form[action$="/apply"] input[readonly]')].map(i => i.value)`)
	if !slices.Contains(fixed, "张三") || !slices.Contains(fixed, "11010519491231002X") {
		t.Errorf("the form's fixed answers are %v, want the account's name and identity number", fixed)
	}
	do(t, ctx, "submit it empty", chromedp.Click(chromedp.CSS(`button[value="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".field-error")))
	visited(t, ctx)
	// The error summary on top has the focus and a link to each field;
	// a choice says 请选择.
	summary := eval[[]string](t, ctx, `[...document.querySelectorAll('.error-summary a')].map(a => a.getAttribute('href') + ' ' + a.textContent)`)
	if len(summary) == 0 || eval[int](t, ctx, `document.querySelectorAll('.field-error').length`) != len(summary) {
		t.Fatalf("the error summary lists %v", summary)
	}
	if !eval[bool](t, ctx, `document.activeElement && document.activeElement.matches('.error-summary')`) {
		t.Error("the error summary does not have the focus")
	}
	for _, line := range summary {
		href, msg, _ := strings.Cut(line, " ")
		if !eval[bool](t, ctx, `!!document.querySelector('`+href+`')`) {
			t.Errorf("the summary's %q links to nothing", line)
		}
		if strings.Contains(href, "-0") && !strings.HasPrefix(msg, "请选择") {
			t.Errorf("a choice's error says %q, want 请选择…", msg)
		}
	}
	do(t, ctx, "follow the first link", chromedp.Click(chromedp.CSS(".error-summary a")))
	if !eval[bool](t, ctx, `document.activeElement === document.querySelector(document.querySelector('.error-summary a').getAttribute('href'))`) {
		t.Error("the summary's link does not take the focus to its field")
	}
	screenshot(t, ctx, env, "apply-errors-phone")
	runAxe(t, ctx, env, "application form with errors")
	// The draft is kept: its case page offers the materials and submission.
	open(t, ctx, s.URL+"/me/cases")
	do(t, ctx, "open the draft", chromedp.Click(chromedp.CSS("ul.items a.item-name")), chromedp.WaitVisible(chromedp.CSS("#c-mat")))
	visited(t, ctx)
	checkNoSideScroll(t, ctx, phone)
	screenshot(t, ctx, env, "case-draft-phone")
	runAxe(t, ctx, env, "draft case page at phone size")
	// The check page: the applicant's own answers in full, each with 修改;
	// what is missing, and no 提交申请 until nothing is.
	if eval[bool](t, ctx, `!!document.querySelector('button[value="submit"]')`) || !strings.Contains(mainText(t, ctx), "提交前还需") {
		t.Error("an incomplete draft offers 提交申请")
	}
	if n, m := eval[int](t, ctx, `document.querySelectorAll('.check-answers dd a').length`), eval[int](t, ctx, `document.querySelectorAll('.check-answers dt').length`); n == 0 || n != m {
		t.Errorf("%d 修改 links for %d answers", n, m)
	}
	if !strings.Contains(mainText(t, ctx), "11010519491231002X") {
		t.Error("the applicant's own check page masks their identity number")
	}
	// Labels break only where their words do, at phone size and on a desktop.
	for _, sz := range []size{phone, desktop} {
		resize(t, ctx, sz)
		if bad := eval[[]string](t, ctx, labelBreaks); len(bad) > 0 {
			t.Errorf("at %dpx labels break inside a word: %v", sz.width, bad)
		}
	}
	resize(t, ctx, phone)
	// 撤回申请 asks first; 不撤回 leaves the draft as it was.
	do(t, ctx, "撤回申请", chromedp.Click(chromedp.CSS(`button[value="withdraw"]`)), chromedp.WaitVisible(chromedp.CSS("#confirm-withdraw")))
	visited(t, ctx)
	runAxe(t, ctx, env, "withdrawal to confirm")
	do(t, ctx, "不撤回", chromedp.Click(chromedp.CSS(`#confirm-withdraw a`)), chromedp.WaitVisible(chromedp.CSS("#c-mat")))
	if fact := eval[string](t, ctx, `document.querySelector('dl.facts dd:nth-of-type(2)').textContent`); fact != "草稿" {
		t.Errorf("after 不撤回 the case is %q", fact)
	}
	// At phone size the navigation, and 退出 in it, is folded into 菜单.
	do(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`.site-menu summary`)), chromedp.Click(chromedp.CSS(`form.nav-form button`)), chromedp.WaitVisible(chromedp.CSS("#hero-title")))
	visited(t, ctx)

	// 忘记密码: a code to the mobile number and a new password. A number
	// gets one code a minute: the registration's must be a minute old.
	if d := time.Until(registered.Add(61 * time.Second)); d > 0 {
		time.Sleep(d)
	}
	open(t, ctx, s.URL+"/signin")
	do(t, ctx, "忘记密码", chromedp.Click(chromedp.CSS(`a[href="/signin/forgot"]`)), chromedp.WaitVisible(chromedp.CSS("#f-mobile")))
	visited(t, ctx)
	runAxe(t, ctx, env, "forgotten password at phone size")
	do(t, ctx, "ask for a reset code", chromedp.SendKeys(chromedp.CSS("#f-mobile"), "13800000001"),
		chromedp.Click(chromedp.CSS(`button[formaction="/signin/forgot/code"]`)), chromedp.WaitVisible(chromedp.CSS(`.notice[role="status"]`)))
	code = eval[string](t, ctx, `fetch('/demo/sms').then(r => r.text()).then(t => (t.match(/验证码是(\d{6})/) || [])[1] || '')`, chromedp.EvalAwaitPromise)
	do(t, ctx, "type the code and a new password", chromedp.SendKeys(chromedp.CSS("#f-code"), code), chromedp.SendKeys(chromedp.CSS("#f-password"), "Counter-Reset-27!"))
	if st := press(t, ctx, "重设密码", chromedp.CSS(`form[action="/signin/forgot"] button[type="submit"]:not([formaction])`)); st != 200 || !strings.Contains(mainText(t, ctx), "密码已重设") {
		t.Fatalf("after the reset: %s", mainText(t, ctx))
	}
	do(t, ctx, "sign in with the new password", chromedp.SendKeys(chromedp.CSS("#p-password"), "Counter-Reset-27!"),
		chromedp.Submit(chromedp.CSS("#p-password")), chromedp.WaitVisible(chromedp.CSS(`#m-profile`)))
	do(t, ctx, "sign out again", chromedp.Click(chromedp.CSS(`.site-menu summary`)), chromedp.Click(chromedp.CSS(`form.nav-form button`)), chromedp.WaitVisible(chromedp.CSS("#hero-title")))

	// A sign-in code for a number with no account: once the code is
	// verified, registration follows with the same code.
	open(t, ctx, s.URL+"/signin")
	do(t, ctx, "ask for a sign-in code", chromedp.SendKeys(chromedp.CSS("#c-mobile"), "13900002222"),
		chromedp.Click(chromedp.CSS(`button[formaction="/signin/code/send"]`)), chromedp.WaitVisible(chromedp.CSS(`.notice[role="status"]`)))
	code = eval[string](t, ctx, `fetch('/demo/sms').then(r => r.text()).then(t => (t.match(/验证码是(\d{6})/) || [])[1] || '')`, chromedp.EvalAwaitPromise)
	do(t, ctx, "sign in with it", chromedp.SendKeys(chromedp.CSS("#c-code"), code),
		chromedp.Click(chromedp.CSS(`form[action="/signin/code"] button[type="submit"]:not([formaction])`)), chromedp.WaitVisible(chromedp.CSS("#r-verified")))
	runAxe(t, ctx, env, "registration after a verified code")
	do(t, ctx, "register with the same code",
		chromedp.SendKeys(chromedp.CSS("#r-name"), "李四"),
		chromedp.SendKeys(chromedp.CSS("#r-id"), "110105199003071239"),
		chromedp.Click(chromedp.CSS("#r-consent")),
		chromedp.Click(chromedp.CSS(`form[action="/register"] button[type="submit"]:not([formaction])`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-profile`)))
	if !strings.Contains(mainText(t, ctx), "139****2222") {
		t.Errorf("registered with the sign-in code: %s", mainText(t, ctx))
	}
	do(t, ctx, "李四 signs out", chromedp.Click(chromedp.CSS(`.site-menu summary`)), chromedp.Click(chromedp.CSS(`form.nav-form button`)), chromedp.WaitVisible(chromedp.CSS("#hero-title")))

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
	for action, want := range map[string]string{"privacy_consent": "张三", "password_reset": "凭短信验证码重设密码"} {
		open(t, ctx, s.URL+"/admin/audit?action="+action)
		if text := mainText(t, ctx); !strings.Contains(text, want) {
			t.Errorf("the audit log does not show %s", action)
		}
	}
	open(t, ctx, s.URL+"/admin/audit")
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

// labelBreaks lists the labels of the page's lists of facts that break
// inside a word: a label wraps only after a bracket or punctuation.
const labelBreaks = `[...document.querySelectorAll('dl.facts dt')].flatMap(dt => {
	const r = document.createRange(), text = dt.textContent, lines = [];
	let top = null;
	for (let i = 0; i < text.length; i++) {
		r.setStart(dt.firstChild, i); r.setEnd(dt.firstChild, i + 1);
		const y = Math.round(r.getBoundingClientRect().top);
		if (top !== null && y > top + 2 && !'（(、，/'.includes(text[i]) && !'）)、，/'.includes(text[i - 1])) return [text];
		top = y;
	}
	return [];
})`
