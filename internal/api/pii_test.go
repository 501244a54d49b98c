package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// A submission through the API stores identity and mobile numbers sealed,
// and refuses a number answer that is not a plain finite decimal.
func TestSubmittedNumbersAreSealed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		h, _ := casesAPIWith(t, db, func(cases *casework.Service, items *catalog.Store) {
			enc, idx, err := pii.GenerateKeys()
			if err != nil {
				t.Fatal(err)
			}
			keys, err := pii.ParseKeys(enc, idx)
			if err != nil {
				t.Fatal(err)
			}
			cases.UseKeys(keys)
			it, err := items.Version(ctx, 1, 1)
			if err != nil {
				t.Fatal(err)
			}
			it.Form[0].Fields = append(it.Form[0].Fields,
				catalog.FormField{Key: "legal_rep_id", Label: "法定代表人身份证号码", Type: "idcard", Required: true},
				catalog.FormField{Key: "mobile", Label: "联系电话", Type: "mobile", Required: true},
				catalog.FormField{Key: "capital", Label: "注册资本（万元）", Type: "number"})
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				return items.Load(ctx, tx, &it, "测试")
			}); err != nil {
				t.Fatal(err)
			}
		})
		item := part{field: "item_id", data: []byte("1")}
		pdf := part{"material_0", "a.pdf", []byte("%PDF-1.7 身份证明")}
		for _, bad := range []string{"NaN", "-1e308"} {
			form := part{field: "form", data: []byte(`{"name":"张三","legal_rep_id":"11010519491231002X","mobile":"13800000001","capital":"` + bad + `"}`)}
			if rec := submit(h, "t-张三", "", item, form, pdf); rec.Code != 400 || !strings.Contains(rec.Body.String(), "注册资本（万元）应为数字") {
				t.Errorf("capital %s: %d %s", bad, rec.Code, rec.Body)
			}
		}
		form := part{field: "form", data: []byte(`{"name":"张三","legal_rep_id":"11010519491231002X","mobile":"13800000001","capital":"50"}`)}
		if rec := submit(h, "t-张三", "", item, form, pdf); rec.Code != 201 {
			t.Fatalf("submit: %d %s", rec.Code, rec.Body)
		}
		var n int
		var stored string
		db.Read().QueryRow(ctx, `SELECT COUNT(*), MAX(form_data) FROM cases`).Scan(&n, &stored)
		if n != 1 || strings.Contains(stored, "11010519491231002X") || strings.Contains(stored, "13800000001") ||
			!strings.Contains(stored, "110105********002X") || !strings.Contains(stored, "138****0001") {
			t.Fatalf("%d cases; stored form: %s", n, stored)
		}
	})
}
