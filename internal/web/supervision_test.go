package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

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
