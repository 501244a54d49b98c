package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// A catalog manager builds a bundle on its page — lines of text refused
// with the line named, then saved — publishes it, and the portal lists it
// with its one guide; the bundles download as their exchange file.
func TestCatalogManagerBuildsABundle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		ctx := context.Background()
		items := catalog.NewStore(db, region.NewStore(db), clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China)))
		var ids []int64
		for i, name := range []string{"个体工商户设立登记", "食品经营许可"} {
			it := catalog.Item{BaseCode: fmt.Sprintf("01010010000%d", i), Name: name, Type: catalog.Licensing, Department: "scjgj",
				Basis: "《促进个体工商户发展条例》", Subjects: []string{"自然人"}, CaseKind: catalog.Promised,
				LegalLimit: catalog.TimeLimit{Value: 15, Unit: "工作日"}, PromiseLimit: catalog.TimeLimit{Value: 3, Unit: "工作日"},
				Depth: catalog.DepthFull, Conditions: "完全民事行为能力。", Steps: []catalog.Step{{Name: "申请", Description: "网上提交"}},
				Result: catalog.Result{Name: []string{"营业执照", "食品经营许可证"}[i], Type: "证照"}, ConsultPhone: "0375-8861002", ComplaintPhone: "12345",
				Materials: []catalog.Material{{Name: "身份证明", Necessity: "必需", Form: "电子", Copies: 1, Source: "政府部门核发", Standard: "真实"}},
				Form:      []catalog.FormSection{{Title: "经营者", Fields: []catalog.FormField{{Key: "name", Label: "姓名", Type: "text", Required: true}}}}}
			if i == 1 {
				it.Materials = append(it.Materials, catalog.Material{Name: "营业执照", Necessity: "必需", Form: "电子", Copies: 1, Source: "政府部门核发", Standard: "有效"})
			}
			if err := db.Tx(ctx, func(tx *store.Tx) error { return items.Load(ctx, tx, &it, "测试") }); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, it.ID)
		}
		mgr := signInStaff(t, site, db, "scjg.catalog", "scjgj", policy.CatalogManager)
		form := url.Values{"name": {"开办餐饮店"}, "theme": {"准营准办"}, "summary": {"一次办好开店的证照。"},
			"bundle_items": {fmt.Sprintf("%d 个体工商户设立登记\n食品经营许可", ids[0])}, "bundle_fields": {""},
			"bundle_deps": {fmt.Sprintf("%d <- %d : 营业执照", ids[1], ids[0])}}
		if ex := mgr.post("/admin/bundles", form); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "事项列表的每行应以事项编号开头：食品经营许可") ||
			!strings.Contains(ex.body, "开办餐饮店") {
			t.Fatalf("a line without a number: %d", ex.status)
		}
		form.Set("bundle_items", fmt.Sprintf("%d 个体工商户设立登记\n%d 食品经营许可", ids[0], ids[1]))
		form.Set("bundle_deps", fmt.Sprintf("%d ← %d：执照", ids[1], ids[0]))
		if ex := mgr.post("/admin/bundles", form); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "没有名为「执照」的材料") {
			t.Fatalf("a dependency on a material the item lacks: %d", ex.status)
		}
		form.Set("bundle_deps", fmt.Sprintf("%d ← %d：营业执照", ids[1], ids[0]))
		if ex := mgr.post("/admin/bundles", form); ex.status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", ex.status, ex.body)
		}
		page := mgr.get("/admin/bundles")
		if !strings.Contains(page.body, "开办餐饮店") || !strings.Contains(page.body, "未发布") {
			t.Fatalf("the list lacks the new bundle")
		}
		var id int64
		if err := db.Read().QueryRow(ctx, `SELECT id FROM bundles`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if ex := mgr.get(fmt.Sprintf("/bundles/%d", id)); ex.status != http.StatusNotFound {
			t.Errorf("an unpublished bundle's guide: %d", ex.status)
		}
		if ex := mgr.post(fmt.Sprintf("/admin/bundles/%d/status", id), url.Values{"to": {"published"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("publish: %d %s", ex.status, ex.body)
		}
		visitor := newBrowser(t, site.handler)
		if ex := visitor.get("/bundles"); !strings.Contains(ex.body, "开办餐饮店") {
			t.Errorf("the portal does not list the bundle")
		}
		guide := visitor.get(fmt.Sprintf("/bundles/%d", id))
		for _, want := range []string{"个体工商户设立登记", "食品经营许可", "平顶山市湛河区市场监督管理局", "待「个体工商户设立登记」办结后自动提交", "身份证明", "全部办结最长约 <strong>6 个工作日</strong>"} {
			if !strings.Contains(guide.body, want) {
				t.Errorf("the guide lacks %q", want)
			}
		}
		if ex := mgr.get("/admin/bundles/export"); ex.status != 200 || !strings.Contains(ex.body, `"zwfw-bundles"`) || !strings.Contains(ex.body, "开办餐饮店") {
			t.Errorf("export: %d", ex.status)
		}
		var audited int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('bundle_create', 'bundle_publish', 'export') AND object LIKE 'bundle%'`).Scan(&audited); err != nil || audited != 3 {
			t.Errorf("audit entries: %d, %v", audited, err)
		}
	})
}
