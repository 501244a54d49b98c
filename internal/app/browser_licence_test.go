package app_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// 电子证照 (issue 12) in Chromium, on both databases. A citizen applies
// for 个体工商户设立登记 (whose demo template issues a 营业执照) and the
// head settles it; the licence is in the citizen's 证照夹 with its QR
// code, whose URL (read from the page) opens the public verification
// page: valid. One character changed in it shows invalid. The licence
// is offered and used for the 营业执照 of a later application (免提交).
// The department then cancels it, and the same URL shows 已注销.
func TestBrowserLicence(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	eachDatabase(t, func(t *testing.T, kind string) { licenceStory(t, env, copyDemo(t, kind).Args...) })
}

func licenceStory(t *testing.T, env browserEnv, args ...string) {
	began := time.Now()
	defer func() { t.Logf("the story took %s", time.Since(began).Round(time.Second)) }()
	s := start(t, nil, args...)
	b := newBrowser(t, env)
	files := makeUploads(t)
	const (
		itemName = "个体工商户设立登记"
		later    = "食品小经营店登记"
		name     = "钱七"
		idNumber = "11010519491231002X"
		mobile   = "13800000007"
	)

	// 1. The citizen applies; the head settles the case.
	citizen := newPersonTab(t, b, desktop)
	registerInBrowser(t, citizen, s.URL, name, idNumber, mobile)
	open(t, citizen, s.URL+"/search?q="+url.QueryEscape(itemName))
	press(t, citizen, "open the guide", linkWithText(itemName))
	press(t, citizen, "在线申办", chromedp.CSS(`a.button-link[href$="/apply"]`))
	do(t, citizen, "fill in the form",
		chromedp.SendKeys(chromedp.CSS("#f-address"), "河南省平顶山市湛河区曹镇乡曹镇村"),
		chromedp.Click(chromedp.CSS("#f-org_form-0")),
		chromedp.SendKeys(chromedp.CSS("#f-trade_name"), "湛河区钱七小吃店"),
		chromedp.SendKeys(chromedp.CSS("#f-premises"), "平顶山市湛河区南环路16号"),
		chromedp.SendKeys(chromedp.CSS("#f-business_scope"), "餐饮服务"),
		chromedp.SendKeys(chromedp.CSS("#f-employees"), "3"),
		chromedp.SendKeys(chromedp.CSS("#f-capital"), "10"),
		chromedp.Click(chromedp.CSS("#f-paper_license-0")))
	if st := press(t, citizen, "下一步：上传材料", chromedp.CSS(`button[value="submit"]`)); st != 200 {
		t.Fatalf("the form: HTTP %d:\n%s", st, mainText(t, citizen))
	}
	caseID := strings.TrimPrefix(eval[string](t, citizen, `location.pathname`), "/me/cases/")
	uploads := []string{files["申请书.pdf"], files["身份证.jpg"], files["经营场所照片.png"]}
	required := eval[[]int](t, citizen, `[...document.querySelectorAll('ol.materials > li')].flatMap((li, i) => li.querySelector('.badge.required') ? [i] : [])`)
	for k, n := range required {
		attach(t, citizen, "upload a material", fmt.Sprintf("#file-%d", n), uploads[k%len(uploads)])
	}
	if st := press(t, citizen, "提交申请", chromedp.CSS(`button[value="submit"]`)); st != 200 {
		t.Fatalf("submit: HTTP %d:\n%s", st, mainText(t, citizen))
	}
	number := fact(t, citizen, "办件编号")
	head := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, head, s.URL, "scjg.head", "科长赵伟")
	openCaseFromQueue(t, head, s.URL, "submitted", caseID, number)
	do(t, head, "write the settlement",
		chromedp.SendKeys(chromedp.CSS("#settle-reason"), "材料齐全，符合登记条件，准予登记。"),
		chromedp.SetUploadFiles(chromedp.CSS(`form:has(input[name="op"][value="settle"]) input[type="file"]`), []string{files["营业执照.pdf"]}))
	press(t, head, "当场办结", chromedp.CSS(`form:has(input[name="op"][value="settle"]) button[type="submit"]`))
	wantText(t, head, "the settled case", "已办结")

	// 2. The licence is in the 证照夹, with its QR code.
	open(t, citizen, s.URL+"/me")
	press(t, citizen, "证照夹", chromedp.CSS(`main a[href="/me/licences"]`))
	wantText(t, citizen, "the 证照夹", "营业执照", "有效")
	press(t, citizen, "open the licence", chromedp.CSS(`a.item-name[href^="/me/licences/"]`))
	wantText(t, citizen, "the licence", "营业执照", "湛河区钱七小吃店", "平顶山市湛河区南环路16号", "110105********002X", number, "有效")
	if n := eval[int](t, citizen, `document.querySelectorAll('figure.qr svg path').length`); n != 1 {
		t.Fatalf("no QR code on the licence page")
	}
	qrURL := eval[string](t, citizen, `document.querySelector('figure.qr').dataset.verifyUrl`)
	u, err := url.Parse(qrURL)
	if err != nil || !strings.HasPrefix(u.Path, "/v/") {
		t.Fatalf("the QR code's URL: %q %v", qrURL, err)
	}
	checkNoSideScroll(t, citizen, desktop)
	screenshot(t, citizen, env, "licence-desktop")

	// 3. The QR code's URL opens the verification page: valid. The
	// server's own address stands for the public one.
	verify := newPersonTab(t, b, phone)
	verifyURL := s.URL + u.EscapedPath()
	result := func(what, want string, valid bool) {
		t.Helper()
		open(t, verify, verifyURL)
		got := eval[string](t, verify, `document.querySelector('.licence-result')?.textContent || ''`)
		gotValid := eval[string](t, verify, `document.querySelector('.licence-result')?.dataset.valid || ''`)
		if got != want || gotValid != fmt.Sprint(valid) {
			t.Fatalf("%s: %q (valid %s), want %q:\n%s", what, got, gotValid, want, mainText(t, verify))
		}
	}
	result("the genuine licence", "有效", true)
	wantText(t, verify, "the verified licence", "营业执照", "钱七", "湛河区钱七小吃店")
	checkNoSideScroll(t, verify, phone)
	genuine := verifyURL
	// One character of the signed data changed.
	token := strings.TrimPrefix(u.EscapedPath(), "/v/")
	i := 40
	c := "A"
	if token[i] == 'A' {
		c = "B"
	}
	verifyURL = s.URL + "/v/" + token[:i] + c + token[i+1:]
	result("a tampered licence", "无效", false)
	verifyURL = genuine

	// 4. A later application offers the licence for its 营业执照, and uses it.
	open(t, citizen, s.URL+"/search?q="+url.QueryEscape(later))
	press(t, citizen, "open the guide", linkWithText(later))
	press(t, citizen, "在线申办", chromedp.CSS(`a.button-link[href$="/apply"]`))
	do(t, citizen, "fill in the form",
		chromedp.SendKeys(chromedp.CSS("#f-address"), "河南省平顶山市湛河区曹镇乡曹镇村"),
		chromedp.SendKeys(chromedp.CSS("#f-shop_name"), "钱七小吃"),
		chromedp.SendKeys(chromedp.CSS("#f-premises"), "平顶山市湛河区南环路16号"),
		chromedp.Click(chromedp.CSS("#f-shop_type-0")),
		chromedp.SendKeys(chromedp.CSS("#f-area"), "30"),
		chromedp.SendKeys(chromedp.CSS("#f-employees"), "2"))
	if st := press(t, citizen, "下一步：上传材料", chromedp.CSS(`button[value="submit"]`)); st != 200 {
		t.Fatalf("the later form: HTTP %d:\n%s", st, mainText(t, citizen))
	}
	reuse := `form:has(input[name="reuse_position"][value="-2"]) button[type="submit"]`
	wantText(t, citizen, "the licence offered", "使用证照夹中的电子证照「营业执照（电子证照")
	if st := press(t, citizen, "use the licence", chromedp.CSS(reuse)); st != 200 {
		t.Fatalf("reuse: HTTP %d:\n%s", st, mainText(t, citizen))
	}
	wantText(t, citizen, "the reused licence", "已提交：营业执照（电子证照", "（复用已有材料，免提交）")

	// 5. The department cancels it: the same URL now shows 已注销.
	open(t, head, s.URL+"/workbench/licences")
	wantText(t, head, "the department's licences", "营业执照", name)
	do(t, head, "cancel the licence",
		chromedp.SetValue(chromedp.CSS(`form[action$="/revoke"] select[name="kind"]`), "cancelled"),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/revoke"] input[name="reason"]`), "经营者申请注销"))
	press(t, head, "确认", chromedp.CSS(`form[action$="/revoke"] button[type="submit"]`))
	wantText(t, head, "the cancelled licence", "已注销", "经营者申请注销")
	result("the cancelled licence", "已注销", false)
	wantText(t, verify, "the cancellation", "注销日期")
}
