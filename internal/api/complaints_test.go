package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The 12345 hotline pushes a 工单 in, once, and reads its status back;
// every answer is what the document says.
func TestHotlineWorkOrders(t *testing.T) {
	doc := loadDocument(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		enc, idx, _ := pii.GenerateKeys()
		keys, _ := pii.ParseKeys(enc, idx)
		admin := policy.Subject{Kind: policy.Staff, Name: "管理员", Roles: []policy.Role{policy.Admin}}
		var svc *complaint.Service
		tokens := map[string]policy.Subject{}
		h := newAPIWith(t, db, func(d *api.Deps, _ *catalog.Store) {
			clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
			svc = complaint.New(db, complaint.Options{Clock: clk, Calendar: calendar.New(nil), Keys: keys})
			if err := svc.SeedDefaults(ctx, admin, audit.Meta{}); err != nil {
				t.Fatal(err)
			}
			d.Complaints = svc
			d.Authenticate = func(_ context.Context, token string) (policy.Subject, error) {
				if who, ok := tokens[token]; ok {
					return who, nil
				}
				return policy.Subject{}, apperr.New(apperr.Unauthorized, "登录已失效，请重新登录。")
			}
		})
		zwfwj, _ := region.NewStore(db).DepartmentBySlug(ctx, db.Read(), "zwfwj")
		for i := 1; i <= 4; i++ { // the accounts the tokens name
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO accounts (id, kind, name, created_at, updated_at) VALUES (?, 'person', ?, ?, ?)`, 100+i, fmt.Sprint("账户", i), time.Now(), time.Now())
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		tokens["hotline"] = policy.Subject{AccountID: 101, Kind: policy.Staff, Name: "12345", DepartmentID: zwfwj.ID, RegionCode: zwfwj.RegionCode, Roles: []policy.Role{policy.Dispatcher}}
		tokens["window"] = policy.Subject{AccountID: 102, Kind: policy.Staff, Name: "窗口", DepartmentID: zwfwj.ID, RegionCode: zwfwj.RegionCode, Roles: []policy.Role{policy.Window}}
		tokens["supervisor"] = policy.Subject{AccountID: 103, Kind: policy.Staff, Name: "督查", DepartmentID: zwfwj.ID, RegionCode: zwfwj.RegionCode, Roles: []policy.Role{policy.Supervisor}}
		tokens["citizen"] = policy.Subject{AccountID: 104, Kind: policy.Person, Name: "张三"}

		send := func(method, path, token, body string) (int, []byte) {
			t.Helper()
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			b, _ := io.ReadAll(rec.Body)
			return rec.Code, b
		}
		check := func(method, template string, status int, body []byte) {
			t.Helper()
			var op operation
			if err := json.Unmarshal(doc.Paths[template][strings.ToLower(method)], &op); err != nil {
				t.Fatal(err)
			}
			resp, ok := op.Responses[fmt.Sprint(status)]
			if !ok {
				t.Errorf("%s %s: status %d is not documented: %s", method, template, status, body)
				return
			}
			s := &schema{Ref: "#/components/schemas/Error"}
			if resp.Ref == "" {
				s = resp.Content["application/json"].Schema
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("%s: %v", template, err)
			}
			if err := validate(doc, s, v, "$"); err != nil {
				t.Errorf("%s %s: %v\n%s", method, template, err, body)
			}
		}

		status, body := send("GET", "/api/v1/complaint-categories", "", "")
		check("GET", "/api/v1/complaint-categories", status, body)
		if status != 200 || !strings.Contains(string(body), `"working_hours"`) {
			t.Fatalf("categories: %d %s", status, body)
		}
		order := `{"external_id":"GD20261125001","category":"general","title":"噪声扰民","description":"工地夜间施工，联系13812345678。",
			"region_code":"410411001002","address":"开源路 1 号","name":"王五","mobile":"13812345678","lat":33.7,"lng":113.3}`
		for _, c := range []struct {
			token, body string
			want        int
		}{
			{"", order, 401},
			{"window", order, 403},
			{"hotline", `{"external_id":"x"`, 400},
			{"hotline", `{"external_id":"GD1","category":"general","title":"t","description":"太短","region_code":"410411001002","unknown":1}`, 400},
			{"hotline", strings.Replace(order, `"general"`, `"nosuch"`, 1), 400},
			{"hotline", strings.Replace(order, `"GD20261125001"`, `""`, 1), 400},
		} {
			status, body := send("POST", "/api/v1/complaints", c.token, c.body)
			if status != c.want {
				t.Errorf("push as %q: %d, want %d: %s", c.token, status, c.want, body)
			}
			check("POST", "/api/v1/complaints", status, body)
		}
		status, body = send("POST", "/api/v1/complaints", "hotline", order)
		check("POST", "/api/v1/complaints", status, body)
		var first struct {
			ID     int64
			Number string
			Status string
		}
		json.Unmarshal(body, &first)
		if status != 201 || first.Status != "pending" || strings.Contains(string(body), "13812345678") || strings.Contains(string(body), "王五") {
			t.Fatalf("push: %d %s", status, body)
		}
		status, body = send("POST", "/api/v1/complaints", "hotline", order)
		var again struct{ ID int64 }
		json.Unmarshal(body, &again)
		if status != 200 || again.ID != first.ID {
			t.Errorf("second push: %d %s", status, body)
		}
		check("POST", "/api/v1/complaints", status, body)
		// Its status read back; others are told it does not exist.
		status, body = send("GET", "/api/v1/complaints/"+first.Number, "hotline", "")
		check("GET", "/api/v1/complaints/{number}", status, body)
		if status != 200 || !strings.Contains(string(body), `"hotline_12345"`) {
			t.Errorf("read back: %d %s", status, body)
		}
		for token, want := range map[string]int{"": 401, "citizen": 404, "window": 404} {
			status, body := send("GET", "/api/v1/complaints/"+first.Number, token, "")
			check("GET", "/api/v1/complaints/{number}", status, body)
			if status != want {
				t.Errorf("read as %q: %d, want %d", token, status, want)
			}
		}
		// The statistics.
		for token, want := range map[string]int{"supervisor": 200, "hotline": 200, "window": 403, "": 401} {
			status, body := send("GET", "/api/v1/complaints/stats?from=2026-11-01&to=2026-11-30", token, "")
			check("GET", "/api/v1/complaints/stats", status, body)
			if status != want {
				t.Errorf("stats as %q: %d, want %d: %s", token, status, want, body)
			}
			if token == "supervisor" && !strings.Contains(string(body), `"received":1`) {
				t.Errorf("stats: %s", body)
			}
		}
		status, body = send("GET", "/api/v1/complaints/stats?from=11-01", "supervisor", "")
		check("GET", "/api/v1/complaints/stats", status, body)
		if status != 400 {
			t.Errorf("bad date: %d", status)
		}
	})
}
