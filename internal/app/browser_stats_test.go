package app_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Statistics in a real browser (issue 10): the administrator opens the
// dashboards from the admin home (the chart drawn by the vendored
// ECharts), filters to a street, drills down to the late cases — as many
// as the dashboard said — and exports the table and the list as XLSX; a
// department head sees only their department. Every new page is checked
// by axe on a phone and in 关怀模式 as it comes up (visited).
//
// It runs on SQLite and on PostgreSQL, both at once.
func TestBrowserStats(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	eachDatabase(t, func(t *testing.T, kind string) { statsStory(t, env, copyDemoWithCases(t, kind)) })
}

// number reads a whole number the page shows.
func number(t *testing.T, ctx context.Context, what, js string) int {
	t.Helper()
	v := strings.TrimSpace(eval[string](t, ctx, js))
	n, err := strconv.Atoi(strings.TrimSuffix(v, "+"))
	if err != nil {
		t.Fatalf("%s reads %q", what, v)
	}
	return n
}

// statsStory runs the story on a demo whose cases went through the
// workflow, every step counted in the statistics as it was taken.
func statsStory(t *testing.T, env browserEnv, demo seededDemo) {
	s := start(t, nil, demo.Args...)
	b := newBrowser(t, env)

	// The administrator opens the dashboards from the admin home.
	admin := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, admin, s.URL, "admin", "系统管理员")
	open(t, admin, s.URL+"/admin")
	press(t, admin, "统计分析", chromedp.CSS(`main a[href="/admin/stats"]`))
	wantText(t, admin, "the dashboard", "办件概况", "按时办结率", "最多跑一次", "一次性告知", "网上可办率", "好差评")
	all := number(t, admin, "the district's cases", `document.getElementById('st-submitted').textContent`)
	if all == 0 {
		t.Fatal("the demo's cases do not count on the dashboard")
	}
	within(t, admin, 10*time.Second, "the chart is drawn", chromedp.WaitVisible(chromedp.CSS(".stats-chart.drawn svg")))

	// Filtered to 马庄街道, by department.
	do(t, admin, "choose 马庄街道, by department",
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('st-region');
			s.value = [...s.options].find(o => o.textContent.trim().startsWith('马庄')).value;
			document.getElementById('st-by').value = 'department'; })()`))
	press(t, admin, "统计", chromedp.CSS(`#st-filter button[type="submit"]`))
	if q := eval[string](t, admin, `location.search`); !strings.Contains(q, "region=410411001") || !strings.Contains(q, "by=department") {
		t.Fatalf("the filter is not in the address: %s", q)
	}
	street := number(t, admin, "the street's cases", `document.getElementById('st-submitted').textContent`)
	if street > all {
		t.Fatalf("the street has %d cases of the district's %d", street, all)
	}
	if got := download(t, admin, "#st-export"); !bytes.HasPrefix(got, []byte("PK")) {
		t.Fatalf("the table's export is no XLSX: %q", got[:min(len(got), 16)])
	}

	// The late cases behind the figure: as many as it said, each finished
	// after its due date.
	late := number(t, admin, "the street's late cases", `document.getElementById('st-late').textContent`)
	dashboard := eval[string](t, admin, `location.href`)
	t.Logf("the district has %d cases, 马庄街道 %d, of which %d finished late", all, street, late)
	press(t, admin, "the late cases", chromedp.CSS("#st-late"))
	wantText(t, admin, "the late cases", "超期办结的办件")
	if n := number(t, admin, "the list's count", `document.querySelector('main p').textContent.match(/共 (\d+\+?) 件/)[1]`); n != late {
		t.Fatalf("the list has %d cases, the dashboard said %d", n, late)
	}
	if bad := eval[int](t, admin, `[...document.querySelectorAll('#sc-list tbody tr')].filter(tr =>
		!(tr.querySelector('td[data-label="办结日期"]').textContent > tr.querySelector('td[data-label="办结时限"]').textContent)).length`); bad != 0 {
		t.Fatalf("%d listed cases were not finished late", bad)
	}
	if got := download(t, admin, "#sc-export"); !bytes.HasPrefix(got, []byte("PK")) {
		t.Fatalf("the list's export is no XLSX: %q", got[:min(len(got), 16)])
	}
	// The demo's cases are seldom late: the street's cases behind its
	// 申请量 show what a list of them looks like.
	open(t, admin, dashboard)
	press(t, admin, "the street's cases", chromedp.CSS("#st-submitted"))
	if n, rows := number(t, admin, "the list's count", `document.querySelector('main p').textContent.match(/共 (\d+\+?) 件/)[1]`),
		eval[int](t, admin, `document.querySelectorAll('#sc-list tbody tr').length`); n != street || rows != min(street, 50) {
		t.Fatalf("the street's list: %d cases, %d rows; the dashboard said %d", n, rows, street)
	}
	open(t, admin, s.URL+"/admin/audit?action=export")
	wantText(t, admin, "the exports in the audit log", "导出办件统计", "导出超期办结清单")

	// The market regulator's head sees their department's figures only.
	head := newPersonTab(t, b, phone)
	staffSignInBrowser(t, head, s.URL, "scjg.head", "科长赵伟")
	open(t, head, s.URL+"/admin/stats?by=department")
	wantText(t, head, "the head's dashboard", "本部门")
	if n := eval[int](t, head, `document.querySelectorAll('#st-dept, #st-region').length`); n != 0 {
		t.Fatal("the head is offered other departments or regions")
	}
	if rows := eval[[]string](t, head, `[...document.querySelectorAll('.stats-table tbody th')].map(th => th.textContent.trim())`); len(rows) > 1 ||
		len(rows) == 1 && !strings.Contains(rows[0], "市场监督管理局") {
		t.Fatalf("the head's table by department: %v", rows)
	}
	press(t, head, "the department's cases", chromedp.CSS("#st-submitted"))
	if others := eval[int](t, head, `[...document.querySelectorAll('#sc-list td[data-label="部门"]')].filter(td => !td.textContent.includes('市场监督管理局')).length`); others != 0 {
		t.Fatalf("the head's drill-down lists %d cases of other departments", others)
	}

	// The public page and the hall screen.
	open(t, admin, s.URL+"/stats")
	wantText(t, admin, "the public figures", "按时办结率", "好差评满意率")
	// The hall screen keeps its figures current from the JSON API.
	open(t, admin, s.URL+"/admin/stats/screen")
	shown := eval[string](t, admin, `document.querySelector('[data-figure="submitted"]').textContent`)
	eval[chromedp.Void](t, admin, `document.querySelector('[data-figure="submitted"]').textContent = '…'`)
	if got := eval[string](t, admin, `window.zwfwStatsPoll().then(() => document.querySelector('[data-figure="submitted"]').textContent)`, chromedp.EvalAwaitPromise); got != shown {
		t.Fatalf("the hall screen's poll wrote %q, the page said %q", got, shown)
	}
}
