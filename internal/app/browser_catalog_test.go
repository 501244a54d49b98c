package app_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/zwfw/zwfw/internal/demo"
)

// A person types 社保 the way people do, finds the pension item among the
// first results, opens its guide and prints it on A4.
func TestBrowserSearchGuidePrint(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	s := start(t, nil, copyDemo(t, "sqlite").Args...)
	ctx := newBrowser(t, env)
	if _, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatalf("bypass CSP: %v", err)
	}
	resize(t, ctx, phone)
	open(t, ctx, s.URL+"/")
	do(t, ctx, "type a search", chromedp.SendKeys(chromedp.CSS("#q"), "社保"), chromedp.Submit(chromedp.CSS("#q")))
	do(t, ctx, "wait for results", chromedp.WaitVisible(chromedp.CSS("ul.items a.item-name")))
	visited(t, ctx)
	first3 := eval[[]string](t, ctx, `[...document.querySelectorAll('ul.items a.item-name')].slice(0, 3).map(a => a.textContent)`)
	found := false
	for _, name := range first3 {
		found = found || strings.Contains(name, "养老保险") || strings.Contains(name, "社会保险")
	}
	if !found {
		t.Fatalf("社保 did not find a social insurance item in the first three: %v", first3)
	}
	checkNoSideScroll(t, ctx, phone)
	screenshot(t, ctx, env, "search-shebao-phone")
	runAxe(t, ctx, env, "search results at phone size")

	do(t, ctx, "open the first guide", chromedp.Click(chromedp.CSS("ul.items a.item-name")), chromedp.WaitVisible(chromedp.CSS("article.guide")))
	visited(t, ctx)
	text := eval[string](t, ctx, `document.querySelector('article.guide').innerText`)
	for _, want := range []string{"一次性告知", "受理条件", "申请材料", "办理流程", "咨询电话", "监督投诉电话", "设定依据"} {
		if !strings.Contains(text, want) {
			t.Errorf("the guide lacks %q", want)
		}
	}
	if ok := eval[bool](t, ctx, `document.querySelector('.qr img').complete && document.querySelector('.qr img').naturalWidth > 0`); !ok {
		t.Error("the QR code image did not load")
	}
	if hidden := eval[bool](t, ctx, `document.querySelector('[data-print]').hidden`); hidden {
		t.Error("the print button stayed hidden although scripts run")
	}
	checkNoSideScroll(t, ctx, phone)
	screenshot(t, ctx, env, "guide-phone")
	runAxe(t, ctx, env, "guide at phone size")
	resize(t, ctx, desktop)
	screenshot(t, ctx, env, "guide-desktop")
	runAxe(t, ctx, env, "guide at desktop size")

	// Print preview: the print stylesheet hides the site's chrome and shows
	// the guide's web address beside the QR code.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatalf("emulate print: %v", err)
	}
	if shown := eval[string](t, ctx, `getComputedStyle(document.querySelector('.site-header')).display`); shown != "none" {
		t.Errorf("the header is printed (display %q)", shown)
	}
	if shown := eval[string](t, ctx, `getComputedStyle(document.querySelector('.print-only')).display`); shown == "none" {
		t.Error("the guide's address is not printed")
	}
	screenshot(t, ctx, env, "guide-print")
	cssSize := true
	res, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{PaperWidth: 8.27, PaperHeight: 11.69, PreferCSSPageSize: &cssSize})
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	pdf := res.Data
	if !strings.HasPrefix(string(pdf), "%PDF") || strings.Count(string(pdf), "/Type /Page") < 1 {
		t.Fatalf("the printed guide is not a PDF with pages (%d bytes)", len(pdf))
	}
	if err := os.WriteFile(filepath.Join(env.shots, "guide-a4.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A person looks for 低保 on a phone: it is one result, not one per
// street; they say where they live and it shows their street's centre.
// 办证 finds what issues a licence or certificate.
func TestBrowserSearchGroupsServicesByPlace(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	s := start(t, nil, copyDemo(t, "sqlite").Args...)
	ctx := newBrowser(t, env)
	resize(t, ctx, phone)
	open(t, ctx, s.URL+"/search?q="+url.QueryEscape("低保"))
	names := eval[[]string](t, ctx, `[...document.querySelectorAll('ul.items a.item-name')].slice(0, 10).map(a => a.textContent)`)
	if len(names) == 0 || !strings.Contains(names[0], "最低生活保障") {
		t.Fatalf("低保 gives %v", names)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("%s is listed twice in the first ten: %v", n, names)
		}
		seen[n] = true
	}
	wantText(t, ctx, "低保 before choosing a place", "请在上方选择居住地", "个办理点")
	if strings.Contains(mainText(t, ctx), "按同义词匹配") {
		t.Error("the internal 按同义词匹配 chip is shown")
	}
	runAxe(t, ctx, env, "search results with the place chooser at phone size")
	home := eval[string](t, ctx, `[...document.querySelectorAll('#place optgroup[label="马庄街道"] option')][1].value`)
	if len(home) != 12 {
		t.Fatalf("no community of 马庄街道 to choose: %q", home)
	}
	do(t, ctx, "choose where I live", chromedp.SetValue(chromedp.CSS("#place"), home))
	press(t, ctx, "remember the place", chromedp.CSS(`form.place-chooser button[type="submit"]`))
	if p := eval[string](t, ctx, `location.pathname + location.search`); !strings.HasPrefix(p, "/search?q=") {
		t.Fatalf("after choosing the place the browser is at %s", p)
	}
	first := eval[string](t, ctx, `document.querySelector('ul.items li').innerText`)
	if !strings.Contains(first, "最低生活保障") || !strings.Contains(first, "为您所在地") || !strings.Contains(first, "马庄") {
		t.Errorf("the first result for a 马庄街道 resident: %q", first)
	}
	toggleElder(t, ctx, phone)
	checkNoSideScroll(t, ctx, phone)
	screenshot(t, ctx, env, "search-dibao-place-elder-phone")
	open(t, ctx, s.URL+"/search?q="+url.QueryEscape("办证"))
	if n := eval[int](t, ctx, `document.querySelectorAll('ul.items li').length`); n < 5 {
		t.Errorf("办证 finds %d items:\n%s", n, mainText(t, ctx))
	}
}

// The catalog manager pages through the catalog, edits a guide's
// materials as rows, and submits it; they cannot approve it themselves;
// the head reviews and publishes it, and the history says who did what.
func TestBrowserCatalogEditorAndReview(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	s := start(t, nil, copyDemo(t, "sqlite").Args...)
	b := newBrowser(t, env)
	signIn := func(ctx context.Context, user string) {
		open(t, ctx, s.URL+"/workbench")
		do(t, ctx, "sign in as "+user,
			chromedp.WaitVisible(chromedp.CSS("#s-user")),
			chromedp.SendKeys(chromedp.CSS("#s-user"), user),
			chromedp.SendKeys(chromedp.CSS("#s-pass"), demo.StaffPassword))
		press(t, ctx, "sign in as "+user, chromedp.CSS(`form[action="/staff/signin"] button[type="submit"]`))
	}
	admin := newPersonTab(t, b, desktop)
	signIn(admin, "admin")
	open(t, admin, s.URL+"/admin/items")
	wantText(t, admin, "the whole catalog, paged", "共 1656 项，第 1/34 页", "导入导出整个目录")
	do(t, admin, "filter", chromedp.SendKeys(chromedp.CSS("#ia-q"), "登记"))
	press(t, admin, "find", chromedp.CSS(`form.filters button[type="submit"]`))
	press(t, admin, "next page", linkWithText("下一页"))
	if p := eval[string](t, admin, `location.search`); !strings.Contains(p, "page=2") || !strings.Contains(p, "q=") {
		t.Errorf("the next page lost the filter: %s", p)
	}

	mgr := newPersonTab(t, b, desktop)
	signIn(mgr, "scjg.catalog")
	open(t, mgr, s.URL+"/admin")
	if strings.Contains(mainText(t, mgr), "导入导出目录") {
		t.Error("the admin home promises the catalog manager 导入导出目录")
	}
	open(t, mgr, s.URL+"/admin/items?q="+url.QueryEscape("食品经营许可（新办）"))
	press(t, mgr, "open the item", chromedp.CSS(`table a[href^="/admin/items/"]`))
	path := eval[string](t, mgr, `location.pathname`)
	before := eval[int](t, mgr, `document.querySelectorAll('#e-mats .row-edit').length`)
	press(t, mgr, "add a material", chromedp.CSS(`button[value="mat-add"]`))
	n := before
	do(t, mgr, "fill in the new material",
		chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("#mat-%d-name", n)), "食品安全管理制度文本"),
		chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("#mat-%d-std", n)), "加盖公章，内容完整"))
	press(t, mgr, "move it up", chromedp.CSS(fmt.Sprintf(`button[value="mat-up-%d"]`, n)))
	if got := eval[string](t, mgr, fmt.Sprintf(`document.querySelector('#mat-%d-name').value`, n-1)); got != "食品安全管理制度文本" {
		t.Fatalf("after moving up, material %d is %q", n, got)
	}
	screenshot(t, mgr, env, "item-editor-desktop")
	runAxe(t, mgr, env, "item editor with material rows")
	press(t, mgr, "save the draft", chromedp.CSS(`form.item-editor > button[type="submit"]:not([name])`))
	wantText(t, mgr, "saved", "已保存为新的草稿版本")
	press(t, mgr, "submit for review", chromedp.CSS(`input[value="submit"] ~ button`))
	wantText(t, mgr, "submitted", "已提交审核", "待审核")
	if st := press(t, mgr, "approve one's own submission", chromedp.CSS(`input[value="publish"] ~ button`)); st != 403 {
		t.Errorf("approving one's own submission: HTTP %d", st)
	}
	wantText(t, mgr, "self-review refused", "不能审核自己提交的版本")

	head := newPersonTab(t, b, desktop)
	signIn(head, "scjg.head")
	open(t, head, s.URL+path)
	wantText(t, head, "the head's review", "待审核", "事项管理员陈静")
	press(t, head, "approve and publish", chromedp.CSS(`input[value="publish"] ~ button`))
	wantText(t, head, "published", "已审核通过并发布", "审核通过并发布", "科长赵伟", "提交审核", "事项管理员陈静")
	resize(t, head, phone)
	checkNoSideScroll(t, head, phone)
	id := strings.TrimPrefix(path, "/admin/items/")
	open(t, head, s.URL+"/items/"+id)
	wantText(t, head, "the published guide", "食品安全管理制度文本")
}
