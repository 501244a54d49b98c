package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func publish(t *testing.T, db *store.DB, s *catalog.Store, it catalog.Item) int64 {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		return s.Load(ctx, tx, &it, "测试")
	}); err != nil {
		t.Fatal(err)
	}
	return it.ID
}

func guideItem(base, name string, depth catalog.Depth, aliases ...string) catalog.Item {
	visits, reason := 0, ""
	if depth < catalog.DepthFull {
		visits, reason = 1, "需核验原件"
	}
	return catalog.Item{
		BaseCode: base, Name: name, Type: catalog.Licensing, Department: "scjgj",
		Basis: "《促进个体工商户发展条例》第八条", Subjects: []string{"自然人"}, Themes: []string{"设立变更"},
		CaseKind:   catalog.Promised,
		LegalLimit: catalog.TimeLimit{Value: 15, Unit: "工作日"}, PromiseLimit: catalog.TimeLimit{Value: 3, Unit: "工作日"},
		Visits: visits, VisitReason: reason, Depth: depth, Conditions: "经营者具有完全民事行为能力。\n有固定的经营场所。",
		Steps:  []catalog.Step{{Name: "申请", Description: "网上提交申请"}, {Name: "审核", Description: "登记机关审核"}},
		Result: catalog.Result{Name: "营业执照", Type: "证照"},
		Place:  "湛河区行政服务中心一楼", Hours: "周一至周五", ConsultPhone: "0375-8861002", ComplaintPhone: "12345",
		Materials: []catalog.Material{{Name: "个体工商户登记申请书", Necessity: "必需", Form: "原件", Copies: 1,
			Source: "申请人自备", BlankForm: "个体工商户登记（备案）申请书", Sample: "填写示例", Standard: "填写完整、签字清晰"}},
		Form: []catalog.FormSection{{Title: "经营者信息", Fields: []catalog.FormField{
			{Key: "name", Label: "经营者姓名", Type: "text", Required: true},
			{Key: "id_number", Label: "身份证号码", Type: "idcard", Required: true},
		}}},
		Aliases: aliases,
	}
}

func TestCatalogPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull, "营业执照", "开店"))
		ent := guideItem("010100100002", "娱乐场所经营许可", catalog.DepthPrecheck)
		ent.Result = catalog.Result{Name: "娱乐经营许可证", Type: "证照"}
		offline := publish(t, db, site.catalog, ent)
		if _, err := site.searcher.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		h := site.handler
		cases := []struct {
			path   string
			status int
			want   []string
		}{
			{"/items", 200, []string{"共 2 个事项", "个体工商户设立登记", "四级 全程网办", "零跑腿"}},
			{"/items?q=" + url.QueryEscape("营业执照"), 200, []string{"共 1 个事项", "按常用名称匹配"}},
			{"/items?q=" + url.QueryEscape("设立"), 200, []string{"<mark>设立</mark>"}},
			{"/items?depth=2", 200, []string{"娱乐场所经营许可", "共 1 个事项"}},
			{"/items?depth=9", 400, []string{"网上办理深度"}},
			{"/items?level=province", 400, []string{"层级"}},
			{"/search?q=" + url.QueryEscape("个体工商户"), 200, []string{"办事事项", "<mark>个体工商户</mark>设立登记"}},
			{fmt.Sprintf("/items/%d", id), 200, []string{"一次性告知", "全程网办，零跑腿", "受理条件", "有固定的经营场所。", "申请材料（共 1 项，其中必需 1 项）",
				"个体工商户登记申请书", "填写完整、签字清晰", "办理流程", "登记机关审核", "0375-8861002", "12345", "不收费",
				"可以网上申请", "《促进个体工商户发展条例》第八条", fmt.Sprintf("/items/%d/qr.svg", id), "https://zwfw.example.gov.cn/items/",
				fmt.Sprintf("/items/%d/forms/1", id)}},
			{fmt.Sprintf("/items/%d", offline), 200, []string{"到现场次数", "1 次（需核验原件）", "暂不能网上申请"}},
			{"/items/999999", 404, []string{"事项不存在"}},
			{fmt.Sprintf("/items/%d/forms/1", id), 200, []string{"个体工商户登记（备案）申请书", "经营者姓名", "（必填）", "申请人（签字）"}},
			{fmt.Sprintf("/items/%d/forms/1?sample=1", id), 200, []string{"填写示例", "11010519491231002X"}},
			{fmt.Sprintf("/items/%d/forms/2", id), 404, []string{"空白表格"}},
			{"/readiness", 200, []string{"网上可办情况", "娱乐场所经营许可", "50%"}},
		}
		for _, c := range cases {
			ex := do(h, httptest.NewRequest("GET", c.path, nil))
			if ex.status != c.status {
				t.Errorf("GET %s: status %d, want %d", c.path, ex.status, c.status)
			}
			for _, w := range c.want {
				if !strings.Contains(ex.body, w) {
					t.Errorf("GET %s: page lacks %q", c.path, w)
				}
			}
		}
		qr := do(h, httptest.NewRequest("GET", fmt.Sprintf("/items/%d/qr.svg", id), nil))
		if qr.status != 200 || qr.header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(qr.body, "<svg") || strings.Count(qr.body, "h1v1") < 100 {
			t.Errorf("QR code: %d %q", qr.status, qr.header.Get("Content-Type"))
		}

		// A suspended item shows why; a cancelled one is gone.
		ctx := context.Background()
		if err := site.catalog.SetStatus(ctx, testAdmin, audit.Meta{}, offline, catalog.Suspended, "场所整改期间暂停受理"); err != nil {
			t.Fatal(err)
		}
		if ex := do(h, httptest.NewRequest("GET", fmt.Sprintf("/items/%d", offline), nil)); !strings.Contains(ex.body, "本事项暂停办理：场所整改期间暂停受理") {
			t.Error("suspension reason not shown")
		}
	})
}

// A sub-item's guide names its kind once, whether or not the item's name
// already carries it, and the printed guide says which version it is and
// when it was printed (the Beijing date of the site's clock).
func TestGuideNameAndPrint(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		// 00:30 on 3 December in Beijing is still 2 December in UTC.
		site.clock.Set(time.Date(2026, 12, 2, 16, 30, 0, 0, time.UTC))
		food := guideItem("010020000401", "食品经营许可（新办）", catalog.DepthFull)
		food.HandlingKind, food.ParentCode = "新办", "010020000400"
		firm := guideItem("010020000101", "个体工商户设立登记", catalog.DepthFull)
		firm.HandlingKind, firm.ParentCode = "新办", "010020000100"
		for _, tc := range []struct {
			it   catalog.Item
			want string
		}{{food, "食品经营许可（新办）"}, {firm, "个体工商户设立登记（新办）"}} {
			id := publish(t, db, site.catalog, tc.it)
			ex := do(site.handler, httptest.NewRequest("GET", fmt.Sprintf("/items/%d", id), nil))
			if !strings.Contains(ex.body, "<h1>"+tc.want+"</h1>") || strings.Contains(ex.body, "（新办）（新办）") {
				t.Errorf("guide of %q: heading is not %q", tc.it.Name, tc.want)
			}
			if !strings.Contains(ex.body, "本指南为第 1 版，打印日期：2026年12月3日") {
				t.Errorf("guide of %q: no version and print date", tc.it.Name)
			}
		}
	})
}
