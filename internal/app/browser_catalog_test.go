package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// A person types 社保 the way people do, finds the pension item among the
// first results, opens its guide and prints it on A4.
func TestBrowserSearchGuidePrint(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	s := start(t, nil, "demo", "--data", t.TempDir())
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
