package app_test

import (
	"context"
	"encoding/csv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/app"
)

// The self-evaluation (绩效自评) and module usage in the demo: the
// administrator sees an idle module, enters 预算执行率 with its evidence,
// sees the score and grade, opens the A4 print view (printed to PDF on
// A4), and exports the evidence pack from the command line, whose figures
// are the page's.
func TestBrowserEvaluation(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	eachDatabase(t, func(t *testing.T, kind string) { evaluationStory(t, env, copyDemoWithCases(t, kind)) })
}

// evaluationStory runs on a district whose cases are all made: the
// figures hold still, and the page and the pack can be compared.
func evaluationStory(t *testing.T, env browserEnv, demo seededDemo) {
	data, db := demo.Data, demo.DSN
	s := start(t, nil, demo.Args...)
	b := newBrowser(t, env)
	files := makeUploads(t)
	admin := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, admin, s.URL, "admin", "系统管理员")

	// Module usage: nothing has used Open311 in the new demo.
	open(t, admin, s.URL+"/admin")
	press(t, admin, "the usage tile", chromedp.CSS(`main a[href="/admin/usage"]`))
	wantText(t, admin, "the usage page", "模块使用统计", "Open311 接口")
	if st := eval[string](t, admin, `document.querySelector('#usage-open311 td[data-label="状态"]').textContent.trim()`); st != "闲置" {
		t.Errorf("Open311 on the usage page: %q, want 闲置", st)
	}
	if st := eval[string](t, admin, `document.querySelector('#usage-portal td[data-label="状态"]').textContent.trim()`); st != "使用中" {
		t.Errorf("the portal on the usage page: %q, want 使用中 (the demo's past weeks)", st)
	}
	screenshot(t, admin, env, "usage")

	// The self-evaluation: the case figures of internal/stats are not
	// connected yet, and say so.
	open(t, admin, s.URL+"/admin")
	press(t, admin, "the evaluation tile", chromedp.CSS(`main a[href="/admin/evaluation"]`))
	wantText(t, admin, "the evaluation page", "决策", "过程", "产出", "效益", "未接入数据源", "待录入")

	// 预算执行率 95% with the final accounts as evidence.
	do(t, admin, "fill in B11",
		chromedp.SetValue(chromedp.CSS("#ev-code"), "B11"),
		chromedp.SendKeys(chromedp.CSS("#ev-value"), "95"),
		chromedp.SendKeys(chromedp.CSS("#ev-note"), "2026 年项目决算：到位 300 万元，支出 285 万元"),
		chromedp.SetUploadFiles(chromedp.CSS("#ev-file"), []string{files["公司章程.pdf"]}))
	if st := press(t, admin, "save B11", chromedp.CSS(`form[action="/admin/evaluation/entries"] button[type="submit"]`)); st != 200 {
		t.Fatalf("saving B11: HTTP %d:\n%s", st, mainText(t, admin))
	}
	wantText(t, admin, "the evaluation after B11", "已保存指标 B11", "95%", "证明材料：公司章程.pdf")
	if pts := eval[string](t, admin, `document.querySelector('#ev-B11 td[data-label="得分"]').textContent.trim()`); pts != "5.25" {
		t.Errorf("B11 scores %q, want 5.25 (95%% between 60%% and 100%% of 6)", pts)
	}
	total := eval[string](t, admin, `document.getElementById('ev-total').textContent.trim()`)
	grade := eval[string](t, admin, `document.getElementById('ev-grade').textContent.trim()`)
	if _, err := strconv.ParseFloat(total, 64); err != nil || !strings.Contains("优良中差", grade) || grade == "" {
		t.Fatalf("total %q, grade %q", total, grade)
	}

	// The A4 print view, printed by Chromium on A4 paper.
	href := eval[string](t, admin, `document.getElementById('ev-print').href`)
	do(t, admin, "open the print view", chromedp.Navigate(href), chromedp.WaitVisible(chromedp.CSS("main")))
	axeCheck(t, admin, env, "the A4 print view", false, nil)
	if got := eval[string](t, admin, `document.getElementById('ev-total').textContent.trim() + ' ' + document.getElementById('ev-grade').textContent.trim()`); got != total+" "+grade {
		t.Errorf("print view shows %q, the page %q", got, total+" "+grade)
	}
	wantText(t, admin, "the print view's evidence", "公司章程.pdf", "电子档案不完整的办件", "超期办件", "差评回访与整改")
	// Chromium's default paper is Letter: the page's @page rule makes it A4.
	yes := true
	printed, err := chromedp.Call(admin, page.PrintToPDF, page.PrintToPDFParams{PreferCSSPageSize: &yes})
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	checkA4(t, printed.Data)
	if _, err := chromedp.Call(admin, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	screenshot(t, admin, env, "evaluation-print")
	if err := os.WriteFile(filepath.Join(env.shots, "evaluation-a4.pdf"), printed.Data, 0o644); err != nil {
		t.Fatal(err)
	}

	// The evidence pack from the command line: its figures are the page's.
	out := t.TempDir()
	year := strconv.Itoa(time.Now().Year())
	var stdout strings.Builder
	err = app.Run(context.Background(), []string{"evidence", "export", "--period", year, "--out", out, "--db", db, "--data", data,
		"--audit-keys", demoAuditKeys(t, data)}, func(string) string { return "" }, strings.NewReader(""), &stdout, io.Discard)
	if err != nil {
		t.Fatalf("evidence export: %v\n%s", err, stdout.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var written int
	filepath.WalkDir(out, func(_ string, d fs.DirEntry, _ error) error {
		if !d.IsDir() {
			written++
		}
		return nil
	})
	if last := lines[len(lines)-1]; last != "wrote "+strconv.Itoa(written)+" files" || written != 5 {
		t.Errorf("the export's last line %q; %d files in the folder, want 5 (report, workbook, manifest, one evidence file, checksums)", last, written)
	}
	report, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !strings.Contains(string(report), `<dd id="ev-total">`+total+`</dd>`) || !strings.Contains(string(report), `<dd id="ev-grade">`+grade+`</dd>`) ||
		!strings.Contains(string(report), "size: A4") {
		t.Errorf("report.html does not show total %s and grade %s on A4", total, grade)
	}
	x, err := excelize.OpenFile(filepath.Join(out, "indicators.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if v, _ := x.GetCellValue("评价结果", "B5"); v != total {
		t.Errorf("the workbook's total %q, the page's %q", v, total)
	}
	if v, _ := x.GetCellValue("评价结果", "B6"); v != grade {
		t.Errorf("the workbook's grade %q, the page's %q", v, grade)
	}
	rows, _ := x.GetRows("指标得分")
	for _, r := range rows {
		if r[0] == "B11" && (r[4] != "95" || r[5] != "5.25") {
			t.Errorf("the workbook's B11: %v", r)
		}
	}
	// The manifest lists every finished case of the year with its chain's
	// head; its count is the page's (档案完整 n 件 / 办结 m 件).
	f, err := os.Open(filepath.Join(out, "archive-manifest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	complete := 0
	for _, r := range records[1:] {
		if !chainHash.MatchString(r[8]) {
			t.Errorf("manifest row without a chain hash: %v", r)
		}
		if r[6] == "是" {
			complete++
		}
	}
	want := regexp.MustCompile(`档案完整 (\d+) 件 / 办结 (\d+) 件`).FindStringSubmatch(string(report))
	if want == nil || want[1] != strconv.Itoa(complete) || want[2] != strconv.Itoa(len(records)-1) {
		t.Errorf("manifest: %d complete of %d; the report says %v", complete, len(records)-1, want)
	}
	if _, err := os.Stat(filepath.Join(out, "evidence", "B11-公司章程.pdf")); err != nil {
		t.Errorf("the evidence file is not in the pack: %v", err)
	}
}

// chainHash is a hash of a case's event chain: the key's id, then the
// HMAC-SHA-256.
var chainHash = regexp.MustCompile(`^[a-z0-9]+\.[0-9a-f]{64}$`)

// mediaBox reads a PDF page's size in points.
var mediaBox = regexp.MustCompile(`/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\]`)

// checkA4 fails unless every page of pdf is A4 (210 × 297 mm, 595 × 842 pt).
func checkA4(t *testing.T, pdf []byte) {
	t.Helper()
	boxes := mediaBox.FindAllSubmatch(pdf, -1)
	if len(boxes) == 0 {
		t.Fatalf("the PDF (%d bytes) has no page size", len(pdf))
	}
	for _, m := range boxes {
		w, _ := strconv.ParseFloat(string(m[1]), 64)
		h, _ := strconv.ParseFloat(string(m[2]), 64)
		if w < 594 || w > 597 || h < 840 || h > 844 {
			t.Errorf("a page of %.1f × %.1f pt, want A4 (595 × 842)", w, h)
		}
	}
	t.Logf("printed %d A4 pages", len(boxes))
}
