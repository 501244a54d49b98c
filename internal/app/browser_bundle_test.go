package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/zwfw/zwfw/internal/ident"
)

// 一件事一次办 (issue 11), in Chromium: a parent applies for 出生一件事
// once — one form, each merged material uploaded once — and four cases
// start in four departments, 出生登记 waiting for the birth certificate.
// The hospital's clerk signs in, finds the certificate's case in their
// queue (which does not show the waiting part) and issues it; the
// registration then starts by itself, with the certificate as its material
// (免提交), and the police clerk finds it in theirs and registers the
// child; the insurance and social-security clerks each handle their part.
// The parent sees one bundle, completed, with every result.
func TestBrowserBundle(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	eachDatabase(t, func(t *testing.T, kind string) { bundleStory(t, env, copyDemo(t, kind).Args...) })
}

// bundlePart is a row of the parent's tracking page.
type bundlePart struct {
	Item, Number, Href, Status string
}

func bundleParts(t *testing.T, ctx context.Context) map[string]bundlePart {
	t.Helper()
	rows := eval[[]bundlePart](t, ctx, `[...document.querySelectorAll('li[data-part]')].map(li => ({Item: li.dataset.part,
		Number: li.querySelector('[data-number]').textContent.trim(), Href: li.querySelector('a.item-name').getAttribute('href'),
		Status: li.querySelector('.badge').textContent.trim()}))`)
	out := map[string]bundlePart{}
	for _, r := range rows {
		out[r.Item] = r
	}
	return out
}

func bundleStory(t *testing.T, env browserEnv, args ...string) {
	s := start(t, nil, args...)
	b := newBrowser(t, env)
	files := makeUploads(t)
	const (
		name   = "王芳"
		mobile = "13800000011"
		cert   = "出生医学证明签发"
		hukou  = "出生登记"
		ins    = "新生儿城乡居民医保参保登记"
		card   = "新生儿社会保障卡申领"
	)
	first17 := "41041119930304112"
	check, err := ident.IDCardCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()

	// 1. The parent finds the life event and its one guide.
	parent := newPersonTab(t, b, phone)
	registerInBrowser(t, parent, s.URL, name, first17+string(check), mobile)
	open(t, parent, s.URL+"/")
	press(t, parent, "the bundles", chromedp.CSS(`main a[href="/bundles"]`))
	press(t, parent, "出生一件事", linkWithText("出生一件事"))
	wantText(t, parent, "the bundle's guide", cert, hukou, ins, card, "平顶山市湛河区卫生健康委员会", "平顶山市公安局湛河分局",
		"每项只交一次", "待「出生医学证明签发」办结后自动提交", "免提交")
	runAxe(t, parent, env, "bundle guide")

	// 2. One form, one set of materials.
	press(t, parent, "apply", chromedp.CSS(`a.button-link[href$="/apply"]`))
	if v := eval[string](t, parent, `document.getElementById('f-applicant_name').value + ' ' + document.getElementById('f-applicant_name').readOnly`); v != name+" true" {
		t.Errorf("the applicant's name starts as %q, want the account's, fixed", v)
	}
	if n := eval[int](t, parent, `document.querySelectorAll('#f-baby_name').length + document.querySelectorAll('[name=insured_name], [name=card_holder]').length`); n != 1 {
		t.Errorf("the child's name is asked %d times, want once (mapped to the insured and the card holder)", n)
	}
	do(t, parent, "fill in the combined form",
		chromedp.SendKeys(chromedp.CSS("#f-baby_name"), "王小宝"),
		chromedp.Click(chromedp.CSS("#f-gender-0")),
		chromedp.SetValue(chromedp.CSS("#f-birth_date"), "2026-11-20"),
		chromedp.SendKeys(chromedp.CSS("#f-birth_place"), "平顶山市第一人民医院"),
		chromedp.SendKeys(chromedp.CSS("#f-address"), "平顶山市湛河区开源路88号"),
		chromedp.SendKeys(chromedp.CSS("#f-birth_cert_no"), "Q410123456"),
		chromedp.Click(chromedp.CSS("#f-settle_with-1")),
		chromedp.SendKeys(chromedp.CSS("#f-relation"), "母子"),
		chromedp.SetValue(chromedp.CSS("#f-insured_type"), "新生儿"),
		chromedp.Click(chromedp.CSS("#f-delivery-0")))
	materials := eval[int](t, parent, `document.querySelectorAll('input[type=file]').length`)
	uploads := []string{files["身份证.jpg"], files["申请书.pdf"], files["租赁合同.pdf"], files["公司章程.pdf"], files["经营场所照片.png"]}
	for i := range materials {
		do(t, parent, fmt.Sprintf("choose material %d", i), chromedp.SetUploadFiles(chromedp.CSS(fmt.Sprintf("#file-%d", i)), []string{uploads[i%len(uploads)]}))
	}
	if st := press(t, parent, "submit the one application", chromedp.CSS(`form[action$="/apply"] button[type="submit"]`)); st != 200 {
		t.Fatalf("apply: HTTP %d:\n%s", st, mainText(t, parent))
	}
	wantText(t, parent, "the tracking page", "申请已提交：共 4 个事项", "办理中", "待前置办结", "待预审")
	tracking := eval[string](t, parent, `location.pathname`)
	parts := bundleParts(t, parent)
	if len(parts) != 4 || parts[hukou].Status != "待前置办结" || parts[cert].Status != "待预审" {
		t.Fatalf("parts %+v", parts)
	}
	screenshot(t, parent, env, "bundle-applied-phone")
	// The waiting part is the parent's case too, which they cannot change.
	press(t, parent, "the waiting part", chromedp.CSS(`a.item-name[href="`+parts[hukou].Href+`"]`))
	wantText(t, parent, "the waiting part's page", hukou, "待前置办结")
	if n := eval[int](t, parent, `document.querySelectorAll('main form[method=post]').length`); n != 0 {
		t.Errorf("the waiting part's page offers %d forms", n)
	}
	open(t, parent, s.URL+tracking)

	// 3. The hospital's clerk: the certificate's case in the queue, the
	// waiting registration nowhere; issued on the spot.
	hospital := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, hospital, s.URL, "wjw.window", "出生医学证明签发员何静")
	caseID := func(p bundlePart) string { return strings.TrimPrefix(p.Href, "/me/cases/") }
	openCaseFromQueue(t, hospital, s.URL, "submitted", caseID(parts[cert]), parts[cert].Number)
	wantText(t, hospital, "the certificate's case", "属于一件事：出生一件事", hukou+" 平顶山市公安局湛河分局 待前置办结")
	settleInBrowser(t, hospital, files["营业执照.pdf"])

	// 4. The registration started by itself, with the certificate.
	open(t, parent, s.URL+tracking)
	if parts = bundleParts(t, parent); parts[hukou].Status != "待预审" || parts[cert].Status != "已办结" {
		t.Fatalf("after the certificate: %+v", parts)
	}
	police := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, police, s.URL, "gafj.window", "户籍民警马军")
	openCaseFromQueue(t, police, s.URL, "submitted", caseID(parts[hukou]), parts[hukou].Number)
	wantText(t, police, "the registration's case", "出生医学证明：出生医学证明.pdf（免提交", "前置事项办结，自动提交")
	settleInBrowser(t, police, files["营业执照.pdf"])

	// 5. The insurance and the card, each by its department.
	for _, p := range []struct{ user, who, item string }{{"ybj.window", "医保经办员郭敏", ins}, {"rsj.window", "社保经办员林涛", card}} {
		clerk := newPersonTab(t, b, desktop)
		staffSignInBrowser(t, clerk, s.URL, p.user, p.who)
		openCaseFromQueue(t, clerk, s.URL, "submitted", caseID(parts[p.item]), parts[p.item].Number)
		handleInBrowser(t, clerk, files["营业执照.pdf"])
	}

	// 6. One bundle, completed, every result there.
	open(t, parent, s.URL+tracking)
	wantText(t, parent, "the completed bundle", "已全部办结")
	for item, p := range bundleParts(t, parent) {
		if p.Status != "已办结" {
			t.Errorf("%s is %s", item, p.Status)
		}
	}
	results := eval[[]string](t, parent, `[...document.querySelectorAll('li[data-part] a[data-result]')].map(a => a.textContent.trim())`)
	if strings.Join(results, "|") != "下载办理结果：出生医学证明|下载办理结果：户口簿常住人口登记卡（出生登记）|下载办理结果：城乡居民医保参保登记回执|下载办理结果：社会保障卡" {
		t.Errorf("results %q, want the four items' results by name", results)
	}
	screenshot(t, parent, env, "bundle-completed-phone")
	open(t, parent, s.URL+"/me/cases")
	wantText(t, parent, "my cases", "一件事一次办", "出生一件事", "已全部办结")
	t.Logf("the bundle's story took %s", time.Since(began).Round(time.Second))
}

// settleInBrowser settles the 即办件 open in ctx with result.
func settleInBrowser(t *testing.T, ctx context.Context, result string) {
	t.Helper()
	do(t, ctx, "settle: reason and result",
		chromedp.SendKeys(chromedp.CSS("#settle-reason"), "经核对，信息真实，材料齐全，当场办结"),
		chromedp.SetUploadFiles(chromedp.CSS("#result-settle"), []string{result}))
	if st := press(t, ctx, "当场办结", chromedp.CSS(`form:has(#result-settle) button[type="submit"]`)); st != 200 {
		t.Fatalf("settle: HTTP %d:\n%s", st, mainText(t, ctx))
	}
	wantText(t, ctx, "the settled case", "已办结")
}

// handleInBrowser takes the promised case open in ctx from 待预审 to
// 已办结: accepted, reviewed, decided and completed with result.
func handleInBrowser(t *testing.T, ctx context.Context, result string) {
	t.Helper()
	form := func(op string) string {
		return fmt.Sprintf(`form:has(input[name="op"][value=%q]) button[type="submit"]`, op)
	}
	press(t, ctx, "受理", chromedp.CSS(form("accept")))
	do(t, ctx, "the review", chromedp.SendKeys(chromedp.CSS("#r-review"), "经审查，材料齐全，符合条件，建议准予"))
	press(t, ctx, "审查", chromedp.CSS(form("review")))
	do(t, ctx, "the decision", chromedp.Click(chromedp.CSS(`input[name="outcome"][value="approve"]`)),
		chromedp.SendKeys(chromedp.CSS("#r-decide"), "经审查，符合条件，准予办理"))
	press(t, ctx, "作出决定", chromedp.CSS(form("decide")))
	do(t, ctx, "the result", chromedp.SetUploadFiles(chromedp.CSS("#result-complete"), []string{result}))
	if st := press(t, ctx, "办结", chromedp.CSS(form("complete"))); st != 200 {
		t.Fatalf("complete: HTTP %d:\n%s", st, mainText(t, ctx))
	}
	wantText(t, ctx, "the completed case", "已办结")
}
