package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/zwfw/zwfw/internal/demo"
)

// 帮办代办 (issue 11) in Chromium, on both databases. The community's
// 帮办代办员, on a phone at a resident's home, applies for an elderly
// resident who has no account: she types who the resident is, the
// platform texts the resident a code, a wrong code is refused, the code
// the resident tells her confirms the consent, and the form and the
// scanned papers go in with it. The resident then signs in on their own
// phone with a code and finds the case, which says who applied for them
// and how they agreed; the street centre's clerk, who handles it, sees
// the same line.
func TestBrowserAssisted(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	eachDatabase(t, func(t *testing.T, kind string) { assistedStory(t, env, copyDemo(t, kind).Args...) })
}

// smsCodeJS reads the newest code on the demo's SMS page.
const smsCodeJS = `fetch('/demo/sms').then(r => r.text()).then(t => (t.match(/验证码是(\d{6})/) || [])[1] || '')`

func assistedStory(t *testing.T, env browserEnv, args ...string) {
	began := time.Now()
	defer func() { t.Logf("the story took %s", time.Since(began).Round(time.Second)) }()
	s := start(t, nil, args...)
	b := newBrowser(t, env)
	files := makeUploads(t)
	const (
		item     = "高龄津贴申领" // a street centre's item
		name     = "李桂英"
		idNumber = "410411193805123026"
		mobile   = "13903750888"
		line     = "代 李桂英 申请，授权方式：短信确认 139****0888"
	)

	// 1. The worker, on her phone, finds the item and types who the
	// resident is; the platform texts the resident a code.
	worker := newPersonTab(t, b, phone)
	staffSignInBrowser(t, worker, s.URL, demo.AssistantUsername, "社区帮办代办员郑秀梅")
	press(t, worker, "帮办代办", chromedp.CSS(`main a[href="/assist/new"]`))
	do(t, worker, "look for the item", chromedp.SendKeys(chromedp.CSS("#as-q"), "高龄津贴"))
	press(t, worker, "查找", chromedp.CSS(`form[action="/assist/new"] button[type="submit"]`))
	press(t, worker, "choose "+item, linkWithText(item))
	do(t, worker, "type who the resident is",
		chromedp.SendKeys(chromedp.CSS("#as-name"), name),
		chromedp.SendKeys(chromedp.CSS("#as-id"), idNumber),
		chromedp.SendKeys(chromedp.CSS("#as-mobile"), mobile))
	if st := press(t, worker, "下一步", chromedp.CSS(`form[action="/assist/consent"] button[type="submit"]`)); st != 200 {
		t.Fatalf("sending the code: HTTP %d:\n%s", st, mainText(t, worker))
	}
	wantText(t, worker, "the code sent", "验证码已发送至申请人手机 139****0888", "申请人告知的短信验证码")
	code := eval[string](t, worker, smsCodeJS, chromedp.EvalAwaitPromise)
	if len(code) != 6 {
		t.Fatalf("no code on the demo SMS page: %q", code)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}

	// 2. The form and the papers, with a wrong code first: refused, the
	// answers kept; then the right one.
	fill := func(code string) {
		do(t, worker, "fill in the form, choose the papers, type the code",
			chromedp.SetValue(chromedp.CSS("#af-address"), "平顶山市湛河区开源路12号3号楼1单元201室"),
			chromedp.SetValue(chromedp.CSS("#af-birth_date"), "1938-05-12"),
			chromedp.SetUploadFiles(chromedp.CSS("#am-0"), []string{files["身份证.jpg"]}),
			chromedp.SetUploadFiles(chromedp.CSS("#am-1"), []string{files["申请书.pdf"]}),
			chromedp.SetUploadFiles(chromedp.CSS("#am-2"), []string{files["任职文件.png"]}),
			chromedp.SetValue(chromedp.CSS("#as-code"), code))
	}
	submit := `form[action^="/assist/items/"] button[type="submit"]`
	fill(wrong)
	if st := press(t, worker, "submit with a wrong code", chromedp.CSS(submit)); st != 400 {
		t.Fatalf("a wrong code: HTTP %d", st)
	}
	wantText(t, worker, "the refused application", "验证码不正确")
	if v := eval[string](t, worker, `document.getElementById('af-address').value`); !strings.Contains(v, "开源路12号") {
		t.Errorf("the answers were lost: address %q", v)
	}
	fill(code)
	if st := press(t, worker, "代申请人提交申请", chromedp.CSS(submit)); st != 200 {
		t.Fatalf("the application: HTTP %d:\n%s", st, mainText(t, worker))
	}
	wantText(t, worker, "the worker's case", "已代申请人提交申请", "帮办代办：", line, "待预审", "由 马庄社区便民服务站 社区帮办代办员郑秀梅 帮办代办")
	caseID := strings.TrimPrefix(eval[string](t, worker, `location.pathname`), "/assist/cases/")
	number := fact(t, worker, "办件编号")
	screenshot(t, worker, env, "assist-case-phone")
	open(t, worker, s.URL+"/assist")
	wantText(t, worker, "the worker's cases", number, name, "待预审")

	// 3. The resident signs in on their own phone and finds the case.
	elder := newPersonTab(t, b, phone)
	open(t, elder, s.URL+"/signin")
	do(t, elder, "ask for a sign-in code", chromedp.SendKeys(chromedp.CSS("#c-mobile"), mobile),
		chromedp.Click(chromedp.CSS(`button[formaction="/signin/code/send"]`)), chromedp.WaitVisible(chromedp.CSS(`.notice[role="status"]`)))
	signin := eval[string](t, elder, smsCodeJS, chromedp.EvalAwaitPromise)
	do(t, elder, "type the code", chromedp.SendKeys(chromedp.CSS("#c-code"), signin))
	press(t, elder, "登录", chromedp.CSS(`form[action="/signin/code"] button[type="submit"]:not([formaction])`))
	open(t, elder, s.URL+"/me/cases")
	wantText(t, elder, "the resident's cases", item, "待预审")
	press(t, elder, "open the case", chromedp.CSS(`a.item-name[href="/me/cases/`+caseID+`"]`))
	wantText(t, elder, "the resident's case", "帮办代办：", line)
	checkNoSideScroll(t, elder, phone)
	screenshot(t, elder, env, "assist-resident-case-phone")

	// 4. The street centre's clerk sees who applied for whom.
	clerk := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, clerk, s.URL, "mazhuang.window", "便民服务中心周涛")
	openCaseFromQueue(t, clerk, s.URL, "submitted", caseID, number)
	wantText(t, clerk, "the clerk's case", "帮办代办：", line)
	if got := eval[string](t, clerk, `document.getElementById('c-assisted')?.textContent || ''`); !strings.Contains(got, "（"+demo.AssistantUsername+"）") {
		t.Errorf("the clerk's page does not name the worker's account: %q", got)
	}
}
