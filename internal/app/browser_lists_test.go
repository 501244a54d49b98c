package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/store"
)

// A supervisor pages through 时限监督 (more late cases than a page holds),
// filters it to one department and downloads the filtered list as XLSX,
// which opens with excelize and has the department's rows. The late cases
// are written straight into the demo's database: the list reads rows.
func TestBrowserSupervisorLateList(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	demo := copyDemo(t, "sqlite")
	s := start(t, nil, demo.Args...)
	db, err := store.Open(context.Background(), demo.DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	depts := seedLateCases(t, db, 70, 30)

	b := newBrowser(t, env)
	ctx := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, ctx, s.URL, "supervisor", "督查员刘敏")
	open(t, ctx, s.URL+"/admin/late")
	wantText(t, ctx, "the late list", "即将到期和已超期的办件（100）", "已超期", "个工作日", depts[0].name, depts[1].name)
	if strings.Contains(mainText(t, ctx), "超期 -") {
		t.Fatal("the late list says 超期 with a negative number")
	}
	runAxe(t, ctx, env, "late list")
	rows := func() []string {
		return eval[[]string](t, ctx, `[...document.querySelectorAll('main tbody tr td:first-child')].map(td => td.innerText)`)
	}
	seen := map[string]bool{}
	for page := 1; ; page++ {
		for _, n := range rows() {
			if seen[n] {
				t.Fatalf("page %d shows %s again", page, n)
			}
			seen[n] = true
		}
		if eval[bool](t, ctx, `!document.querySelector('main a[rel="next"]')`) {
			break
		}
		press(t, ctx, "next page", chromedp.CSS(`main a[rel="next"]`))
	}
	if len(seen) != 100 {
		t.Fatalf("paged through %d cases, want 100", len(seen))
	}
	// Filter to the second department.
	do(t, ctx, "choose the department", chromedp.SetValue(chromedp.CSS("#sf-dept"), fmt.Sprint(depts[1].id)))
	press(t, ctx, "filter", chromedp.CSS(`form[role="search"] button[type="submit"]`))
	wantText(t, ctx, "the filtered list", "即将到期和已超期的办件（30）")
	for _, d := range eval[[]string](t, ctx, `[...document.querySelectorAll('main tbody td[data-label="部门"]')].map(td => td.innerText)`) {
		if d != depts[1].name {
			t.Fatalf("the filtered list shows a case of %s", d)
		}
	}
	// The export link, fetched with the page's session.
	encoded := eval[string](t, ctx, `(async () => {
		const a = [...document.querySelectorAll('main a')].find(a => a.textContent.includes('导出 Excel'));
		const r = await fetch(a.href);
		if (!r.ok || !r.headers.get('content-type').includes('spreadsheetml')) return 'HTTP ' + r.status;
		const bytes = new Uint8Array(await r.arrayBuffer());
		let s = ''; for (const x of bytes) s += String.fromCharCode(x);
		return btoa(s);
	})()`, chromedp.EvalAwaitPromise)
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("the export: %s", encoded)
	}
	x, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the export does not open: %v", err)
	}
	defer x.Close()
	sheet, err := x.GetRows(x.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(sheet) != 31 || sheet[0][0] != "办件编号" || sheet[0][2] != "部门" {
		t.Fatalf("the export has %d rows, header %v", len(sheet), sheet[0])
	}
	for _, r := range sheet[1:] {
		if r[2] != depts[1].name || r[7] == "" {
			t.Fatalf("an exported row: %v", r)
		}
	}
	// The export is audited.
	var audited int
	if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND object = 'cases:late'`).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("audit entries of the export: %d %v", audited, err)
	}
	// The other lists' sort and period controls and export links, sorted by
	// date and filtered to a period through the form.
	for _, l := range []struct{ path, order, title string }{
		{"/admin/visits", "date", "申请人到场超过一次的办件"}, {"/admin/corrections", "date", "被要求补正超过一次的办件"},
		{"/admin/archives", "oldest", "档案不完整的办件"},
	} {
		open(t, ctx, s.URL+l.path)
		do(t, ctx, "choose the order", chromedp.SetValue(chromedp.CSS("#sf-order"), l.order))
		do(t, ctx, "choose the period", chromedp.SetValue(chromedp.CSS("#sf-from"), "2026-01-01"))
		press(t, ctx, "filter", chromedp.CSS(`form[role="search"] button[type="submit"]`))
		wantText(t, ctx, l.path, l.title, "导出 Excel")
		if u := eval[string](t, ctx, `location.search`); !strings.Contains(u, "order="+l.order) || !strings.Contains(u, "from=2026-01-01") {
			t.Fatalf("%s filtered to %s", l.path, u)
		}
		runAxe(t, ctx, env, l.path)
	}
}

type seededDept struct {
	id   int64
	name string
}

// seedLateCases writes running cases past due into the demo's database:
// first in one department, second in another (both in the district).
func seedLateCases(t *testing.T, db *store.DB, first, second int) []seededDept {
	t.Helper()
	ctx := context.Background()
	var depts []seededDept
	rows, err := db.Read().Query(ctx, `SELECT id, name FROM departments WHERE kind = 'bureau' ORDER BY id LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d seededDept
		if err := rows.Scan(&d.id, &d.name); err != nil {
			t.Fatal(err)
		}
		depts = append(depts, d)
	}
	rows.Close()
	if len(depts) != 2 {
		t.Fatalf("the demo has %d bureaus", len(depts))
	}
	now := time.Now()
	err = db.Tx(ctx, func(tx *store.Tx) error {
		var person, item int64
		var version int
		var region string
		if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', '王五', ?, ?) RETURNING id`, now, now).Scan(&person); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT id, published_version FROM items WHERE published_version > 0 ORDER BY id LIMIT 1`).Scan(&item, &version); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT code FROM regions WHERE level = 1`).Scan(&region); err != nil {
			return err
		}
		for i := range first + second {
			d := depts[0]
			if i >= first {
				d = depts[1]
			}
			due := now.AddDate(0, 0, -10-i%20).Format("2006-01-02")
			if _, err := tx.Exec(ctx, `INSERT INTO cases (number, item_id, item_version, applicant_id, department_id, region_code, status,
				accepted_on, due_on, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'reviewing', ?, ?, 1, ?, ?)`,
				fmt.Sprintf("LATE%05d", i), item, version, person, d.id, region, due, due, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return depts
}
