package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// enter posts a hand entry of the self-evaluation as the page's form does.
func enter(b *browser, fields map[string]string, file string, content []byte) exchange {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != "" {
		fw, _ := mw.CreateFormFile("file", file)
		fw.Write(content)
	}
	mw.Close()
	req := httptest.NewRequest("POST", "/admin/evaluation/entries", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// An administrator enters 预算执行率 with its evidence: the page shows the
// value, its score and the file; a refused entry shows the form again
// with what was typed and stores nothing; others may not open the page.
func TestEvaluationHandEntry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		admin := signInStaff(t, site, db, "uadmin", "scjgj", policy.Admin)
		page := admin.get("/admin/evaluation?period=2026")
		if page.status != http.StatusOK || !strings.Contains(page.body, "未接入数据源") || !strings.Contains(page.body, "B11 预算执行率") {
			t.Fatalf("evaluation page %d:\n%s", page.status, page.body)
		}
		// No evidence: refused, what was typed kept.
		ex := enter(admin, map[string]string{"period": "2026", "code": "B11", "value": "95", "note": "2026 年决算报表"}, "", nil)
		if ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "请上传证明材料") || !strings.Contains(ex.body, "2026 年决算报表") {
			t.Fatalf("entry without evidence: %d\n%s", ex.status, ex.body)
		}
		// Not a PDF: refused at the file.
		ex = enter(admin, map[string]string{"period": "2026", "code": "B11", "value": "95", "note": "决算"}, "a.txt", []byte("plain text"))
		if ex.status < 400 || !strings.Contains(ex.body, "证明材料：") {
			t.Fatalf("entry with a text file: %d\n%s", ex.status, ex.body)
		}
		var n int
		if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM evaluation_entries`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("refused entries stored %d rows, %v", n, err)
		}
		ex = enter(admin, map[string]string{"period": "2026", "code": "B11", "value": "95", "note": "2026 年决算报表"}, "决算.pdf", []byte("%PDF-1.7\n决算"))
		if ex.status != http.StatusSeeOther {
			t.Fatalf("entry: %d\n%s", ex.status, ex.body)
		}
		page = admin.get(ex.header.Get("Location"))
		row := between(page.body, `id="ev-B11"`, "</tr>")
		// 95% between 60 (0) and 100 (6): 5.25.
		if !strings.Contains(row, "95%") || !strings.Contains(row, "5.25") || !strings.Contains(row, "证明材料：决算.pdf") {
			t.Errorf("B11 row after the entry: %s", row)
		}
		file := admin.get("/admin/evaluation/2026/B11/evidence")
		if file.status != http.StatusOK || file.body != "%PDF-1.7\n决算" {
			t.Errorf("evidence download %d %q", file.status, file.body)
		}
		print := admin.get("/admin/evaluation/print?period=2026")
		if print.status != http.StatusOK || !strings.Contains(print.body, `id="evidence-B11"`) || !strings.Contains(print.body, "决算.pdf") {
			t.Errorf("print view %d", print.status)
		}
		if css := admin.get("/admin/evaluation/report.css"); !strings.Contains(css.body, "size: A4") {
			t.Errorf("report style sheet without A4: %s", css.body)
		}
		super := signInStaff(t, site, db, "usuper", "scjgj", policy.Supervisor)
		if ex := super.get("/admin/evaluation"); ex.status != http.StatusForbidden {
			t.Errorf("a supervisor opening the evaluation: %d", ex.status)
		}
		if ex := enter(super, map[string]string{"period": "2026", "code": "B11", "value": "10", "note": "x"}, "b.pdf", []byte("%PDF-1.7\nb")); ex.status != http.StatusForbidden {
			t.Errorf("a supervisor's entry: %d", ex.status)
		}
	})
}

// The usage page flags the modules nobody used.
func TestUsagePageFlagsIdleModules(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	site := newTestSite(t, db)
	if _, err := db.WritePool().Exec(`INSERT INTO module_uses (day, module, uses) VALUES ('2026-11-24', 'guides', 12)`); err != nil {
		t.Fatal(err)
	}
	admin := signInStaff(t, site, db, "uadmin", "scjgj", policy.Admin)
	page := admin.get("/admin/usage?days=7")
	guides, surveys := between(page.body, `id="usage-guides"`, "</tr>"), between(page.body, `id="usage-surveys"`, "</tr>")
	if !strings.Contains(guides, "12") || !strings.Contains(guides, "使用中") || !strings.Contains(surveys, "闲置") || !strings.Contains(surveys, "从未使用") {
		t.Errorf("guides: %s\nsurveys: %s", guides, surveys)
	}
	if ex := admin.get("/admin/usage?days=0"); ex.status != http.StatusBadRequest {
		t.Errorf("0 days: %d", ex.status)
	}
}
