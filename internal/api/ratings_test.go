package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/api"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The rates through the API, for a supervisor; a citizen is refused, bad
// parameters are refused in Chinese, and every answer is as documented.
// The ratings are of complaints: rating.Invite takes any subject, as the
// complaints part will give it.
func TestRatingRates(t *testing.T) {
	doc := loadDocument(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		enc, idx, _ := pii.GenerateKeys()
		keys, err := pii.ParseKeys(enc, idx)
		if err != nil {
			t.Fatal(err)
		}
		clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
		var ratings *rating.Service
		people := map[string]policy.Subject{}
		h := newAPIWith(t, db, func(d *api.Deps, items *catalog.Store) {
			ratings = rating.New(db, items, clk, calendar.New(nil), rating.Options{Keys: keys})
			d.Ratings = ratings
			d.Authenticate = func(_ context.Context, token string) (policy.Subject, error) {
				if who, ok := people[token]; ok {
					return who, nil
				}
				return policy.Subject{}, apperr.New(apperr.Unauthorized, "登录已失效，请重新登录。")
			}
		})
		scjg, _ := region.NewStore(db).DepartmentBySlug(ctx, db.Read(), "scjgj")
		var citizen int64
		db.Tx(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', '张三', ?, ?) RETURNING id`,
				clk.Now(), clk.Now()).Scan(&citizen)
		})
		people["t-citizen"] = policy.Subject{AccountID: citizen, Kind: policy.Person, Name: "张三"}
		people["t-sup"] = policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: scjg.ID, RegionCode: scjg.RegionCode, Roles: []policy.Role{policy.Supervisor}}
		for i, level := range []rating.Level{5, 4, 1} {
			subj := rating.Subject{Kind: rating.OfComplaint, ID: int64(i + 1), Number: fmt.Sprintf("SQ2026112500%d", i), Title: "市场价格投诉",
				DepartmentID: scjg.ID, RegionCode: scjg.RegionCode, PersonID: citizen, Scene: rating.Online}
			if err := db.Tx(ctx, func(tx *store.Tx) error { return ratings.Invite(ctx, tx, subj) }); err != nil {
				t.Fatal(err)
			}
			if level == 1 {
				break // rated through the API below
			}
			pending, _ := ratings.Pending(ctx, people["t-citizen"])
			in := rating.Input{Level: level, Comment: "处理太慢", Scores: map[string]rating.Level{"efficiency": level, "guide": level, "convenience": level, "usability": level}}
			if _, err := ratings.Rate(ctx, people["t-citizen"], audit.Meta{}, pending[0].ID, in); err != nil {
				t.Fatal(err)
			}
		}
		// The third through the API, as an app would: the invitation with
		// its dimensions, a 差评 refused without a reason, then given; a
		// second rating refused. Every answer as documented.
		call := func(method, token, path, route, body string) (int, map[string]any) {
			t.Helper()
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var v map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			var op operation
			json.Unmarshal(doc.Paths[route][strings.ToLower(method)], &op)
			resp, ok := op.Responses[fmt.Sprint(rec.Code)]
			if !ok {
				t.Fatalf("%s %s: status %d is not documented", method, path, rec.Code)
			}
			sch := &schema{Ref: "#/components/schemas/Error"}
			if resp.Ref == "" {
				sch = resp.Content["application/json"].Schema
			}
			if err := validate(doc, sch, v, "$"); err != nil {
				t.Errorf("%s %s: %v", method, path, err)
			}
			return rec.Code, v
		}
		status, v := call("GET", "t-citizen", "/api/v1/me/ratings", "/api/v1/me/ratings", "")
		invs, _ := v["items"].([]any)
		if status != http.StatusOK || len(invs) != 1 {
			t.Fatalf("invitations: %d %v", status, v)
		}
		inv := invs[0].(map[string]any)
		if inv["kind"] != "complaint" || len(inv["dimensions"].([]any)) != 4 {
			t.Fatalf("invitation: %v", inv)
		}
		path := fmt.Sprintf("/api/v1/me/ratings/%v", inv["id"])
		const route = "/api/v1/me/ratings/{id}"
		scores := `"scores": {"efficiency": 1, "guide": 1, "convenience": 1, "usability": 1}`
		if status, v := call("POST", "t-citizen", path, route, `{"level": 1, `+scores+`}`); status != http.StatusBadRequest || v["message"] == "" {
			t.Fatalf("a 差评 without a reason: %d %v", status, v)
		}
		if status, _ := call("POST", "t-citizen", path, route, `{"level": "差"}`); status != http.StatusBadRequest {
			t.Fatalf("a level that is no number: %d", status)
		}
		if status, _ := call("POST", "t-sup", path, route, `{"level": 5, `+scores+`}`); status != http.StatusNotFound && status != http.StatusForbidden {
			t.Fatalf("a supervisor rates the citizen's service: %d", status)
		}
		status, v = call("POST", "t-citizen", path, route, `{"level": 1, `+scores+`, "comment": "处理太慢"}`)
		if status != http.StatusCreated || v["follow_up"] != true {
			t.Fatalf("the 差评: %d %v", status, v)
		}
		if status, _ := call("POST", "t-citizen", path, route, `{"level": 5, `+scores+`}`); status != http.StatusConflict {
			t.Fatalf("a second rating: %d", status)
		}
		var channel string
		if err := db.Read().QueryRow(ctx, `SELECT channel FROM ratings WHERE id = ?`, v["id"]).Scan(&channel); err != nil || channel != rating.ByApp {
			t.Fatalf("channel %q, %v", channel, err)
		}
		get := func(token, path string) (int, map[string]any) {
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
			json.Unmarshal(doc.Paths["/api/v1/ratings/rates"]["get"], &op)
			resp, ok := op.Responses[fmt.Sprint(rec.Code)]
			if !ok {
				t.Fatalf("%s: status %d is not documented", path, rec.Code)
			}
			s := &schema{Ref: "#/components/schemas/Error"}
			if resp.Ref == "" {
				s = resp.Content["application/json"].Schema
			}
			if err := validate(doc, s, v, "$"); err != nil {
				t.Errorf("%s: %v", path, err)
			}
			return rec.Code, v
		}
		status, v = get("t-sup", "/api/v1/ratings/rates")
		items, _ := v["items"].([]any)
		if status != http.StatusOK || len(items) != 1 {
			t.Fatalf("rates: %d %v", status, v)
		}
		row := items[0].(map[string]any)
		if row["total"] != 3.0 || row["very_dissatisfied"] != 1.0 || fmt.Sprintf("%.3f", row["good_rate"]) != "0.667" {
			t.Fatalf("row: %v", row)
		}
		fu := v["follow_ups"].(map[string]any)
		if fu["bad"] != 1.0 || fu["callback_rate"] != 0.0 {
			t.Fatalf("follow-ups: %v", fu)
		}
		if status, v := get("t-sup", "/api/v1/ratings/rates?by=item"); status != 200 || len(v["items"].([]any)) != 0 {
			t.Fatalf("by item (complaints have none): %d %v", status, v)
		}
		for path, want := range map[string]int{"/api/v1/ratings/rates?by=street": 400, "/api/v1/ratings/rates?from=2026-13-01": 400} {
			if status, v := get("t-sup", path); status != want || v["message"] == "" {
				t.Errorf("%s: %d %v", path, status, v)
			}
		}
		if status, _ := get("t-citizen", "/api/v1/ratings/rates"); status != http.StatusForbidden {
			t.Errorf("a citizen reads the rates: %d", status)
		}
		if status, _ := get("", "/api/v1/ratings/rates"); status != http.StatusUnauthorized {
			t.Errorf("anonymous: %d", status)
		}
	})
}
