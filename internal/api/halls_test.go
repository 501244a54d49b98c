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
	"github.com/zwfw/zwfw/internal/hall"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The hall through the API: slots and the screen feed for anyone,
// bookings for the signed-in person, each response as the document
// describes it.
func TestHallThroughTheAPI(t *testing.T) {
	doc := loadDocument(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Monday 2026-11-30, 08:00.
		clk := clock.NewManual(time.Date(2026, 11, 30, 8, 0, 0, 0, clock.China))
		enc, idx, _ := pii.GenerateKeys()
		keys, err := pii.ParseKeys(enc, idx)
		if err != nil {
			t.Fatal(err)
		}
		var halls *hall.Service
		people := map[string]policy.Subject{}
		h := newAPIWith(t, db, func(d *api.Deps, _ *catalog.Store) {
			halls = hall.New(db, clk, calendar.New(nil), keys, d.Regions)
			d.Halls = halls
			d.Authenticate = func(_ context.Context, token string) (policy.Subject, error) {
				if p, ok := people[token]; ok {
					return p, nil
				}
				return policy.Subject{}, apperr.New(apperr.Unauthorized, "会话已失效，请重新登录。")
			}
		})
		for _, token := range []string{"a", "b"} {
			var id int64
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', ?, ?, ?) RETURNING id`, token, clk.Now(), clk.Now()).Scan(&id)
			}); err != nil {
				t.Fatal(err)
			}
			people[token] = policy.Subject{Kind: policy.Person, AccountID: id}
		}
		var item int64
		if err := db.Read().QueryRow(ctx, `SELECT id FROM items`).Scan(&item); err != nil {
			t.Fatal(err)
		}
		center, err := region.NewStore(db).DepartmentBySlug(ctx, db.Read(), "xzfwzx")
		if err != nil {
			t.Fatal(err)
		}
		admin := policy.Subject{Kind: policy.Staff, Name: "管理员", Roles: []policy.Role{policy.Admin}}
		g, err := halls.SaveGroup(ctx, admin, audit.Meta{}, hall.GroupInput{DepartmentID: center.ID, Name: "综合受理", Prefix: "A", Windows: "1号窗口",
			Hours: "09:00-12:00", SlotMinutes: 60, Capacity: 1, ItemIDs: []int64{item}})
		if err != nil {
			t.Fatal(err)
		}
		send := func(method, path, template, token, body string, status int) []byte {
			t.Helper()
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(method, path, strings.NewReader(body))
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			h.ServeHTTP(rec, r)
			b, _ := io.ReadAll(rec.Body)
			if rec.Code != status {
				t.Fatalf("%s %s: %d, want %d: %s", method, path, rec.Code, status, b)
			}
			var op operation
			if err := json.Unmarshal(doc.Paths[template][strings.ToLower(method)], &op); err != nil {
				t.Fatal(err)
			}
			resp, ok := op.Responses[fmt.Sprint(status)]
			if !ok {
				t.Fatalf("%s %s: status %d is not documented: %s", method, path, status, b)
			}
			s := &schema{Ref: "#/components/schemas/Error"}
			if resp.Ref == "" {
				s = resp.Content["application/json"].Schema
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			if err := validate(doc, s, v, "$"); err != nil {
				t.Errorf("%s %s: %v\n%s", method, path, err, b)
			}
			return b
		}
		const slots, screen = "/api/v1/halls/{hall}/slots", "/api/v1/halls/{hall}/screen"
		body := send("GET", fmt.Sprintf("/api/v1/halls/xzfwzx/slots?group=%d&date=2026-12-01", g.ID), slots, "", "", 200)
		var got struct {
			Slots []hall.Slot `json:"slots"`
		}
		json.Unmarshal(body, &got)
		if len(got.Slots) != 3 || !got.Slots[0].Open {
			t.Fatalf("slots %s", body)
		}
		send("GET", fmt.Sprintf("/api/v1/halls/xzfwzx/slots?group=%d&date=2027-01-01", g.ID), slots, "", "", 200)
		send("GET", fmt.Sprintf("/api/v1/halls/xzfwzx/slots?group=%d&date=tomorrow", g.ID), slots, "", "", 400)
		send("GET", "/api/v1/halls/xzfwzx/slots?group=999&date=2026-12-01", slots, "", "", 400)
		send("GET", fmt.Sprintf("/api/v1/halls/scjgj/slots?group=%d&date=2026-12-01", g.ID), slots, "", "", 404)

		booking := fmt.Sprintf(`{"group_id": %d, "item_id": %d, "starts_at": "2026-12-01T10:00:00+08:00"}`, g.ID, item)
		send("POST", api.BookingsPath, api.BookingsPath, "", booking, 401)
		send("POST", api.BookingsPath, api.BookingsPath, "a", `{"group": 1}`, 400)
		var b struct {
			ID     int64  `json:"id"`
			Number string `json:"number"`
		}
		json.Unmarshal(send("POST", api.BookingsPath, api.BookingsPath, "a", booking, 201), &b)
		if len(b.Number) != 10 {
			t.Fatalf("booking %+v", b)
		}
		if msg := send("POST", api.BookingsPath, api.BookingsPath, "b", booking, 409); !strings.Contains(string(msg), "已约满") {
			t.Fatalf("full: %s", msg)
		}
		if list := send("GET", api.BookingsPath, api.BookingsPath, "a", "", 200); !strings.Contains(string(list), b.Number) {
			t.Fatalf("my bookings: %s", list)
		}
		if list := send("GET", api.BookingsPath, api.BookingsPath, "b", "", 200); strings.Contains(string(list), b.Number) {
			t.Fatalf("another's bookings: %s", list)
		}
		cancel := fmt.Sprintf("%s/%d/cancel", api.BookingsPath, b.ID)
		send("POST", cancel, api.BookingsPath+"/{id}/cancel", "b", "", 404)
		if out := send("POST", cancel, api.BookingsPath+"/{id}/cancel", "a", "", 200); !strings.Contains(string(out), `"cancelled"`) {
			t.Fatalf("cancelled: %s", out)
		}
		send("POST", cancel, api.BookingsPath+"/{id}/cancel", "a", "", 409)

		// The screen: only numbers, groups and windows.
		clk.Set(time.Date(2026, 11, 30, 9, 0, 0, 0, clock.China))
		if _, err := halls.TakeNumber(ctx, center.ID, g.ID, "11010519491231002X", 0); err != nil {
			t.Fatal(err)
		}
		out := send("GET", "/api/v1/halls/xzfwzx/screen", screen, "", "", 200)
		if !strings.Contains(string(out), `"waiting":1`) || strings.Contains(string(out), "1101") {
			t.Fatalf("screen %s", out)
		}
		send("GET", "/api/v1/halls/nowhere/screen", screen, "", "", 404)
	})
}
