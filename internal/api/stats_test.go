package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/api"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/stats"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The statistics through the API: figures within the caller's view, the
// public totals without signing in, bad filters refused in Chinese, and
// every answer as documented.
func TestStatsAPI(t *testing.T) {
	doc := loadDocument(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
		people := map[string]policy.Subject{}
		var itemID int64
		h := newAPIWith(t, db, func(d *api.Deps, items *catalog.Store) {
			d.Stats = stats.New(db, clk)
			d.Authenticate = func(_ context.Context, token string) (policy.Subject, error) {
				if who, ok := people[token]; ok {
					return who, nil
				}
				return policy.Subject{}, apperr.New(apperr.Unauthorized, "登录已失效，请重新登录。")
			}
		})
		regions := region.NewStore(db)
		scjg, _ := regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
		mzj, _ := regions.DepartmentBySlug(ctx, db.Read(), "mzj")
		if err := db.Read().QueryRow(ctx, `SELECT id FROM items LIMIT 1`).Scan(&itemID); err != nil {
			t.Fatal(err)
		}
		// Two months of one department's counters, in both tables, as the hook keeps them.
		for _, row := range [][]any{{"2026-10", "online", 10, 8, 2}, {"2026-11", "window", 4, 3, 1}} {
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO case_stats (month, item_id, department_id, region_code, channel,
				submitted, accepted, finished, timed, on_time, late, one_visit, one_correction) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					row[0], itemID, scjg.ID, scjg.RegionCode, row[1], row[2], row[3], row[3], row[3], row[4], row[3].(int)-row[4].(int), row[2], row[2]); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO case_stats_units (month, department_id, region_code, channel,
				submitted, accepted, finished, timed, on_time, late, one_visit, one_correction) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					row[0], scjg.ID, scjg.RegionCode, row[1], row[2], row[3], row[3], row[3], row[4], row[3].(int)-row[4].(int), row[2], row[2])
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		people["t-admin"] = policy.Subject{AccountID: 1, Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}
		people["t-head"] = policy.Subject{AccountID: 2, Kind: policy.Staff, DepartmentID: mzj.ID, RegionCode: mzj.RegionCode, Roles: []policy.Role{policy.Head}}
		people["t-citizen"] = policy.Subject{AccountID: 3, Kind: policy.Person}
		call := func(token, path, route string) (int, map[string]any) {
			t.Helper()
			req := httptest.NewRequest("GET", path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var v map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			var op operation
			json.Unmarshal(doc.Paths[route]["get"], &op)
			resp, ok := op.Responses[fmt.Sprint(rec.Code)]
			if !ok {
				t.Fatalf("%s: status %d is not documented", path, rec.Code)
			}
			sch := &schema{Ref: "#/components/schemas/Error"}
			if resp.Ref == "" {
				sch = resp.Content["application/json"].Schema
			}
			if err := validate(doc, sch, v, "$"); err != nil {
				t.Errorf("%s: %v", path, err)
			}
			if rec.Code >= 400 && !regexp.MustCompile(`\p{Han}`).MatchString(fmt.Sprint(v["message"])) {
				t.Errorf("%s: error not in Chinese: %v", path, v)
			}
			return rec.Code, v
		}
		const summary, table, public = "/api/v1/stats/summary", "/api/v1/stats/table", "/api/v1/stats/public"
		if st, v := call("t-admin", summary, summary); st != 200 || v["submitted"] != 14.0 || v["on_time_rate"] != 3.0/11 || v["online"] != 10.0 {
			t.Errorf("admin summary: %d %v", st, v)
		}
		if st, v := call("t-admin", summary+"?from=2026-11&channel=window", summary); st != 200 || v["submitted"] != 4.0 {
			t.Errorf("November at the window: %d %v", st, v)
		}
		if st, v := call("t-admin", table+"?by=month", table); st != 200 || len(v["items"].([]any)) != 2 {
			t.Errorf("by month: %d %v", st, v)
		}
		if st, v := call("t-head", summary, summary); st != 200 || v["submitted"] != 0.0 {
			t.Errorf("another department's head: %d %v", st, v)
		}
		if st, _ := call("t-head", fmt.Sprintf("%s?department=%d", summary, scjg.ID), summary); st != http.StatusBadRequest {
			t.Errorf("a head asking for another department: %d", st)
		}
		if st, _ := call("t-citizen", summary, summary); st != http.StatusForbidden {
			t.Errorf("a citizen: %d", st)
		}
		if st, _ := call("", summary, summary); st != http.StatusUnauthorized {
			t.Errorf("nobody: %d", st)
		}
		for _, bad := range []string{"?from=2026-13", "?level=9", "?department=x", "?region=12"} {
			if st, _ := call("t-admin", summary+bad, summary); st != http.StatusBadRequest {
				t.Errorf("%s: %d", bad, st)
			}
		}
		if st, _ := call("t-admin", table+"?by=weather", table); st != http.StatusBadRequest {
			t.Errorf("unknown dimension: %d", st)
		}
		if st, v := call("", public, public); st != 200 || v["submitted"] != 14.0 || v["label"] != "全区" {
			t.Errorf("public: %d %v", st, v)
		}
	})
}
