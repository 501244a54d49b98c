package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/api"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// 一件事一次办 through the API: the list and the guide for anyone; one
// multipart application; its tracking for its applicant only.
func TestBundlesAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var bundleID int64
		tokens := map[string]policy.Subject{}
		h := newAPIWith(t, db, func(d *api.Deps, items *catalog.Store) {
			clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
			regions := region.NewStore(db)
			food := catalog.Item{BaseCode: "010200100002", Name: "食品经营许可", Type: catalog.Licensing, Department: "scjgj",
				Basis: "《中华人民共和国食品安全法》", Subjects: []string{"自然人"}, CaseKind: catalog.Promised,
				LegalLimit: catalog.TimeLimit{Value: 10, Unit: "工作日"}, PromiseLimit: catalog.TimeLimit{Value: 5, Unit: "工作日"},
				Depth: catalog.DepthFull, Conditions: "已取得营业执照。", Steps: []catalog.Step{{Name: "申请", Description: "网上提交"}},
				Result: catalog.Result{Name: "食品经营许可证", Type: "证照"}, ConsultPhone: "0375-8861002", ComplaintPhone: "12345",
				Materials: []catalog.Material{{Name: "营业执照", Necessity: "必需", Form: "电子", Copies: 1, Source: "政府部门核发", Standard: "有效"},
					{Name: "身份证明", Necessity: "必需", Form: "电子", Copies: 1, Source: "政府部门核发", Standard: "真实有效"}},
				Form: []catalog.FormSection{{Title: "经营者", Fields: []catalog.FormField{{Key: "name", Label: "姓名", Type: "text", Required: true},
					{Key: "premises", Label: "经营场所", Type: "text", Required: true}}}}}
			if err := db.Tx(ctx, func(tx *store.Tx) error { return items.Load(ctx, tx, &food, "测试") }); err != nil {
				t.Fatal(err)
			}
			var licence int64
			if err := db.Read().QueryRow(ctx, `SELECT id FROM items WHERE name = '个体工商户设立登记'`).Scan(&licence); err != nil {
				t.Fatal(err)
			}
			d.Cases = casework.New(db, items, clk, calendar.New(nil))
			local, err := filestore.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			d.Files = staging.New(db, local)
			d.Bundles = bundle.New(db, items, regions, d.Cases, clk)
			admin := policy.Subject{Kind: policy.Staff, Name: "管理员", Roles: []policy.Role{policy.Admin}}
			b := bundle.Bundle{Name: "开办餐饮店", Items: []int64{licence, food.ID},
				Dependencies: []bundle.Dependency{{ItemID: food.ID, Requires: licence, Material: "营业执照"}}}
			if err := d.Bundles.Save(ctx, admin, audit.Meta{}, &b); err != nil {
				t.Fatal(err)
			}
			if err := d.Bundles.SetPublished(ctx, admin, audit.Meta{}, b.ID, true); err != nil {
				t.Fatal(err)
			}
			bundleID = b.ID
			for _, name := range []string{"张三", "李四"} {
				var id int64
				now := time.Now()
				if err := db.Tx(ctx, func(tx *store.Tx) error {
					return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', ?, ?, ?) RETURNING id`, name, now, now).Scan(&id)
				}); err != nil {
					t.Fatal(err)
				}
				tokens["t-"+name] = policy.Subject{AccountID: id, Kind: policy.Person, Name: name}
			}
			tokens["t-staff"] = policy.Subject{AccountID: 1, Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}
			d.Authenticate = func(_ context.Context, token string) (policy.Subject, error) {
				if who, ok := tokens[token]; ok {
					return who, nil
				}
				return policy.Subject{}, apperr.New(apperr.Unauthorized, "登录已失效，请重新登录。")
			}
		})
		var list []struct {
			ID    int64   `json:"id"`
			Name  string  `json:"name"`
			Items []int64 `json:"items"`
		}
		if st, body := call(t, h, "/api/v1/bundles"); st != 200 || json.Unmarshal(body, &list) != nil || len(list) != 1 || list[0].Name != "开办餐饮店" {
			t.Fatalf("list: %d %s", st, body)
		}
		var guide struct {
			Parts []struct {
				ItemName string `json:"item_name"`
				Requires *int64 `json:"requires_item_id"`
				Filled   string `json:"filled_material"`
			} `json:"parts"`
			Fields    []struct{ Key string }  `json:"fields"`
			Materials []struct{ Name string } `json:"materials"`
		}
		st, body := call(t, h, fmt.Sprintf("/api/v1/bundles/%d", bundleID))
		if st != 200 || json.Unmarshal(body, &guide) != nil {
			t.Fatalf("guide: %d %s", st, body)
		}
		// 身份证明 once for both; 营业执照 is the first item's result.
		if len(guide.Parts) != 2 || guide.Parts[1].Requires == nil || guide.Parts[1].Filled != "营业执照" || len(guide.Materials) != 1 || len(guide.Fields) != 2 {
			t.Errorf("guide %s", body)
		}
		apply := func(token string) (int, []byte) {
			var b bytes.Buffer
			w := multipart.NewWriter(&b)
			w.WriteField("form", `{"name":"张三","premises":"平顶山市湛河区开源路88号"}`)
			f, _ := w.CreateFormFile("material_0", "身份证.pdf")
			f.Write([]byte("%PDF-1.4\n% id card\n%%EOF\n"))
			w.Close()
			req := httptest.NewRequest("POST", fmt.Sprintf("/api/v1/bundles/%d/applications", bundleID), &b)
			req.Header.Set("Content-Type", w.FormDataContentType())
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code, rec.Body.Bytes()
		}
		st, body = apply("t-张三")
		var app struct {
			ID    int64  `json:"id"`
			Out   string `json:"outcome"`
			Parts []struct {
				Status string `json:"status"`
			} `json:"parts"`
		}
		if st != http.StatusCreated || json.Unmarshal(body, &app) != nil || app.Out != "open" || len(app.Parts) != 2 ||
			app.Parts[0].Status != "submitted" || app.Parts[1].Status != "waiting" {
			t.Fatalf("apply: %d %s", st, body)
		}
		if st, body := apply(""); st != http.StatusUnauthorized {
			t.Errorf("anonymous application: %d %s", st, body)
		}
		track := func(token string) int {
			req := httptest.NewRequest("GET", fmt.Sprintf("/api/v1/me/bundles/%d", app.ID), nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code
		}
		for token, want := range map[string]int{"t-张三": 200, "t-李四": 404, "t-staff": 404} {
			if got := track(token); got != want {
				t.Errorf("tracking as %s: %d, want %d", token, got, want)
			}
		}
	})
}
