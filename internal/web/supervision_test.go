package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

var nextLink = regexp.MustCompile(`href="([^"]*)" rel="next"`)

// 时限监督 through the pages: more late cases than a page, the next page by
// its link, a department filter, and the filtered list as XLSX; a clerk
// may not export it.
func TestLateListPagesFiltersAndExports(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		ctx := context.Background()
		item := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthApply))
		regions := region.NewStore(db)
		scjg, _ := regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
		mzj, _ := regions.DepartmentBySlug(ctx, db.Read(), "mzj")
		now := site.clock.Now()
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			var person int64
			if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', '王五', ?, ?) RETURNING id`, now, now).Scan(&person); err != nil {
				return err
			}
			for i := range 70 {
				d := scjg
				if i%7 == 0 {
					d = mzj
				}
				due := now.AddDate(0, 0, -5-i).Format("2006-01-02")
				if _, err := tx.Exec(ctx, `INSERT INTO cases (number, item_id, item_version, applicant_id, department_id, region_code, status,
					accepted_on, due_on, version, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, 'reviewing', ?, ?, 1, ?, ?)`,
					fmt.Sprintf("LATE%03d", i), item, person, d.ID, d.RegionCode, due, due, now, now); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		sup := signInStaff(t, site, db, "sup", "scjgj", policy.Supervisor)
		first := sup.get("/admin/late")
		if first.status != 200 || !strings.Contains(first.body, "（70）") || !strings.Contains(first.body, "已超期") || strings.Contains(first.body, "超期 -") ||
			strings.Count(first.body, `data-label="部门"`) != 50 {
			t.Fatalf("first page: %d", first.status)
		}
		m := nextLink.FindStringSubmatch(first.body)
		if m == nil {
			t.Fatal("no next page link")
		}
		second := sup.get(html.UnescapeString(m[1]))
		if second.status != 200 || strings.Count(second.body, `data-label="部门"`) != 20 || nextLink.MatchString(second.body) {
			t.Fatalf("second page: %d %s", second.status, m[1])
		}
		filtered := sup.get(fmt.Sprintf("/admin/late?department=%d", mzj.ID))
		if filtered.status != 200 || !strings.Contains(filtered.body, "（10）") || strings.Contains(filtered.body, ">"+scjg.Name+"</td>") {
			t.Fatalf("filtered: %d", filtered.status)
		}
		if bad := sup.get("/admin/late?after=x"); bad.status != 400 {
			t.Fatalf("a malformed cursor: %d", bad.status)
		}
		ex := sup.get(fmt.Sprintf("/admin/late.xlsx?department=%d", mzj.ID))
		if ex.status != 200 || !strings.Contains(ex.header.Get("Content-Type"), "spreadsheetml") {
			t.Fatalf("export: %d %s", ex.status, ex.header.Get("Content-Type"))
		}
		x, err := excelize.OpenReader(bytes.NewReader([]byte(ex.body)))
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		rows, _ := x.GetRows(x.GetSheetName(0))
		if len(rows) != 11 || rows[1][2] != mzj.Name {
			t.Fatalf("exported %d rows: %v", len(rows), rows)
		}
		clerk := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		if ex := clerk.get("/admin/late.xlsx"); ex.status != 403 {
			t.Fatalf("a clerk exports the late list: %d", ex.status)
		}
	})
}

// The other supervisors' lists (最多跑一次, 一次性告知, 电子档案检查): sorted
// by their count or their date, filtered by a period of their date, and
// exported, filtered and whole, as audited XLSX; a clerk may export none.
func TestSupervisorListsSortFilterAndExport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		ctx := context.Background()
		item := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthApply))
		regions := region.NewStore(db)
		scjg, _ := regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
		mzj, _ := regions.DepartmentBySlug(ctx, db.Read(), "mzj")
		now := site.clock.Now()
		// 60 cases made a day apart, the latest yesterday: every third in 民政局,
		// two to four visits and two or three corrections (not in the order
		// they were made), every other one finished (without its result: its
		// archive is incomplete) an hour after it was made.
		const n = 60
		made := func(i int) time.Time { return now.AddDate(0, 0, i-n) }
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			var person int64
			if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', '王五', ?, ?) RETURNING id`, now, now).Scan(&person); err != nil {
				return err
			}
			for i := range n {
				d, status := scjg, "reviewing"
				if i%3 == 0 {
					d = mzj
				}
				if i%2 == 0 {
					status = "completed"
				}
				if _, err := tx.Exec(ctx, `INSERT INTO cases (number, item_id, item_version, applicant_id, department_id, region_code, status,
					visits, corrections, version, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
					fmt.Sprintf("SUP%03d", i), item, person, d.ID, d.RegionCode, status, 2+(i/3)%3, 3-(i/5)%2, made(i), made(i).Add(time.Hour)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		sup := signInStaff(t, site, db, "sup", "scjgj", policy.Supervisor)
		clerk := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		number := regexp.MustCompile(`>(SUP\d{3})</a>`)
		firstNumber := func(path string) string {
			t.Helper()
			ex := sup.get(path)
			m := number.FindStringSubmatch(ex.body)
			if ex.status != 200 || m == nil {
				t.Fatalf("%s: %d, no case", path, ex.status)
			}
			return m[1]
		}
		// The period: the 10 days that end 5 days ago, as a supervisor types them.
		from, to := calendar.DateOf(made(n-15)), calendar.DateOf(made(n-6))
		for _, l := range []struct {
			path, byCount, byDate string
			first                 [2]string // the first case by count, by date
			keep                  func(i int) bool
		}{
			{"/admin/visits", "count", "date", [2]string{"SUP053", "SUP059"}, func(int) bool { return true }},
			{"/admin/corrections", "count", "date", [2]string{"SUP054", "SUP059"}, func(int) bool { return true }},
			{"/admin/archives", "latest", "oldest", [2]string{"SUP058", "SUP000"}, func(i int) bool { return i%2 == 0 }},
		} {
			if got := firstNumber(l.path + "?order=" + l.byCount); got != l.first[0] {
				t.Errorf("%s by %s starts with %s, want %s", l.path, l.byCount, got, l.first[0])
			}
			if got := firstNumber(l.path + "?order=" + l.byDate); got != l.first[1] {
				t.Errorf("%s by %s starts with %s, want %s", l.path, l.byDate, got, l.first[1])
			}
			if bad := sup.get(l.path + "?order=nonsense"); bad.status != 400 || !strings.Contains(bad.body, "排序应为") {
				t.Errorf("%s: an unknown order: %d", l.path, bad.status)
			}
			var want []string
			for i := range n {
				if d := calendar.DateOf(made(i)); i%3 == 0 && l.keep(i) && !d.Before(from) && !d.After(to) {
					want = append(want, fmt.Sprintf("SUP%03d", i))
				}
			}
			page := sup.get(fmt.Sprintf("%s?department=%d&from=%s&to=%s&order=%s", l.path, mzj.ID, from, to, l.byDate))
			if got := number.FindAllStringSubmatch(page.body, -1); page.status != 200 || len(got) != len(want) || len(want) == 0 {
				t.Fatalf("%s in a period: %d, %d cases, want %v", l.path, page.status, len(got), want)
			}
			ex := sup.get(fmt.Sprintf("%s.xlsx?department=%d&from=%s&to=%s&order=%s", l.path, mzj.ID, from, to, l.byDate))
			if ex.status != 200 || !strings.Contains(ex.header.Get("Content-Type"), "spreadsheetml") {
				t.Fatalf("%s export: %d %s", l.path, ex.status, ex.header.Get("Content-Type"))
			}
			x, err := excelize.OpenReader(bytes.NewReader([]byte(ex.body)))
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := x.GetRows(x.GetSheetName(0))
			x.Close()
			var got []string
			for _, r := range rows[1:] {
				if r[2] != mzj.Name {
					t.Fatalf("%s export: a row of %s", l.path, r[2])
				}
				got = append(got, r[0])
			}
			slices.Reverse(want) // by date: the latest first (archives: the earliest)
			if l.path == "/admin/archives" {
				slices.Reverse(want)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s export: %v, want %v", l.path, got, want)
			}
			// The whole list, over more than one page.
			whole := sup.get(l.path + ".xlsx")
			if x, err = excelize.OpenReader(bytes.NewReader([]byte(whole.body))); err != nil {
				t.Fatal(err)
			}
			rows, _ = x.GetRows(x.GetSheetName(0))
			x.Close()
			all := 0
			for i := range n {
				if l.keep(i) {
					all++
				}
			}
			if len(rows) != all+1 {
				t.Fatalf("%s whole export: %d rows, want %d", l.path, len(rows)-1, all)
			}
			var audited int
			object := "cases:" + strings.TrimPrefix(l.path, "/admin/")
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND object = ? AND actor_id IS NOT NULL`, object).Scan(&audited); err != nil || audited != 2 {
				t.Fatalf("%s: %d exports audited (%v)", l.path, audited, err)
			}
			if ex := clerk.get(l.path + ".xlsx"); ex.status != 403 {
				t.Fatalf("a clerk exports %s: %d", l.path, ex.status)
			}
		}
	})
}
