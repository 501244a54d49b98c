package catalog_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/catalog/item"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// goodItem is a complete guide that passes every quality rule.
func goodItem() catalog.Item {
	return catalog.Item{
		BaseCode: "010100100001", Name: "个体工商户设立登记", Type: catalog.Licensing, Department: "scjgj",
		Basis: "《促进个体工商户发展条例》", Subjects: []string{"自然人"}, Themes: []string{"就业创业", "设立变更"},
		CaseKind:   catalog.Promised,
		LegalLimit: catalog.TimeLimit{Value: 15, Unit: "工作日"}, PromiseLimit: catalog.TimeLimit{Value: 1, Unit: "工作日"},
		Visits: 0, Depth: catalog.DepthFull, Conditions: "经营者具有完全民事行为能力。",
		Steps:        []catalog.Step{{Name: "申请", Description: "网上提交"}, {Name: "审核", Description: "登记机关审核"}},
		Fee:          catalog.Fee{Charged: false},
		Result:       catalog.Result{Name: "营业执照", Type: "证照"},
		ConsultPhone: "0375-8861002", ComplaintPhone: "12345",
		Materials: []catalog.Material{{Name: "经营者身份证明", Necessity: "必需", Form: "电子", Copies: 1,
			Source: "政府部门核发", Standard: "真实有效"}},
		Form: []catalog.FormSection{{Title: "经营者信息", Fields: []catalog.FormField{
			{Key: "name", Label: "经营者姓名", Type: "text", Required: true},
			{Key: "id_number", Label: "身份证号码", Type: "idcard", Required: true},
			{Key: "scope", Label: "经营范围", Type: "select", Options: []string{"零售", "餐饮"}},
		}}},
		Aliases: []string{"营业执照", "开店"},
	}
}

func TestQualityRules(t *testing.T) {
	t.Parallel()
	good := goodItem()
	good.ImplCode = item.ImplCode("11410411MB1234567X", good.BaseCode, "")
	if ps := good.Problems(); len(ps) != 0 {
		t.Fatalf("good item has problems: %+v", ps)
	}
	cases := []struct {
		rule   string
		mutate func(it *catalog.Item)
	}{
		{"name_suffix", func(it *catalog.Item) { it.Name = "食品经营许可（新办）（新办）" }},
		{"full_online_no_visit", func(it *catalog.Item) { it.Visits = 1; it.VisitReason = "核验原件" }},
		{"visit_reason", func(it *catalog.Item) { it.Depth = catalog.DepthApply; it.Visits = 1 }},
		{"promise_within_legal", func(it *catalog.Item) { it.PromiseLimit.Value = 20 }},
		{"limit_units", func(it *catalog.Item) { it.PromiseLimit.Unit = "自然日" }},
		{"promised_limit", func(it *catalog.Item) { it.PromiseLimit.Value = 0 }},
		{"immediate_limit", func(it *catalog.Item) { it.CaseKind = catalog.Immediate; it.PromiseLimit.Value = 5 }},
		{"steps", func(it *catalog.Item) { it.Steps = nil }},
		{"fee_basis", func(it *catalog.Item) { it.Fee = catalog.Fee{Charged: true, Standard: "10元"} }},
		{"phones", func(it *catalog.Item) { it.ComplaintPhone = "" }},
		{"phones", func(it *catalog.Item) { it.ComplaintPhone = it.ConsultPhone }},
		{"materials", func(it *catalog.Item) { it.Materials[0].Necessity = "容缺" }},
		{"material_standard", func(it *catalog.Item) { it.Materials[0].Standard = "" }},
		{"online_form", func(it *catalog.Item) { it.Form = nil }},
		{"base_code", func(it *catalog.Item) { it.BaseCode = "01010010000X" }},
		{"impl_code", func(it *catalog.Item) { it.ImplCode = "abc" }},
		{"conditions", func(it *catalog.Item) { it.Conditions = " " }},
		{"apply_elsewhere", func(it *catalog.Item) {
			it.Steps[0].Description = "通过河南政务服务网或窗口提交申请材料"
		}},
		{"full_online_on_site", func(it *catalog.Item) { it.Materials[0].Notes = "现场核验原件后退还" }},
		{"full_online_on_site", func(it *catalog.Item) { it.Steps[0].Description = "本人到场签字" }},
		{"appointment", func(it *catalog.Item) { it.Appointment = true }},
	}
	tested := map[string]bool{}
	for _, c := range cases {
		tested[c.rule] = true
	}
	for _, r := range item.Rules {
		if !tested[r.Rule] {
			t.Errorf("rule %s (%s) is listed but not tested", r.Rule, r.Description)
		}
		delete(tested, r.Rule)
	}
	if len(tested) > 0 {
		t.Errorf("rules %v are checked but not listed in item.Rules", tested)
	}
	for _, c := range cases {
		it := good
		it = it.Clone()
		c.mutate(&it)
		ps := it.Problems()
		found := false
		for _, p := range ps {
			found = found || p.Rule == c.rule
			if p.Message == "" {
				t.Errorf("rule %s without a message", p.Rule)
			}
		}
		if !found {
			t.Errorf("rule %s not reported; got %+v", c.rule, ps)
		}
	}
}

func TestDisplayName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, kind, want string }{
		{"食品经营许可", "", "食品经营许可"},
		{"个体工商户设立登记", "新办", "个体工商户设立登记（新办）"},
		{"食品经营许可（新办）", "新办", "食品经营许可（新办）"},
		{"残疾人证新办（核发）", "新办", "残疾人证新办（核发）"},
		{"残疾人证换领", "延续", "残疾人证换领（延续）"},
	} {
		it := catalog.Item{Name: tc.name, HandlingKind: tc.kind}
		if got := it.DisplayName(); got != tc.want {
			t.Errorf("DisplayName(%q, %q) = %q, want %q", tc.name, tc.kind, got, tc.want)
		}
	}
	// Names with one bracketed part, or two different ones, are not doubled.
	for _, name := range []string{"食品经营许可（新办）", "职业技能等级认定（社会化评价）", "道路运输（货运）（变更）", "（新办）"} {
		it := goodItem()
		it.Name = name
		for _, p := range it.Problems() {
			if p.Rule == "name_suffix" {
				t.Errorf("%q: %s", name, p.Message)
			}
		}
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	it := goodItem()
	it.Name = ""
	it.Type = "99"
	it.Materials[0].Necessity = "可能"
	it.Form[0].Fields[1].Key = "name"
	err := it.Validate()
	if !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"事项名称", "事项类型", "必要性", "重复"} {
		if !strings.Contains(apperr.MessageOf(err), want) {
			t.Errorf("message %q lacks %q", apperr.MessageOf(err), want)
		}
	}
}

func newStore(t testing.TB, db *store.DB) (*catalog.Store, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
	if _, err := demo.SeedDistrict(context.Background(), db, clk); err != nil {
		t.Fatal(err)
	}
	return catalog.NewStore(db, region.NewStore(db), clk), clk
}

// editor changes items as an administrator; the item's history names them.
func editor(name string) policy.Subject {
	return policy.Subject{Kind: policy.Staff, Name: name, Roles: []policy.Role{policy.Admin}}
}

// review submits a version for review as one person and publishes it as
// another, as the catalog requires.
func review(ctx context.Context, s *catalog.Store, id int64, version int) error {
	if err := s.SubmitForReview(ctx, editor("编辑"), audit.Meta{}, id, version); err != nil {
		return err
	}
	return s.Publish(ctx, editor("审核"), audit.Meta{}, id, version)
}

func TestVersionsPublishAndStatus(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := newStore(t, db)
		it := goodItem()
		jia, yi, m := editor("管理员甲"), editor("管理员乙"), audit.Meta{}
		ps, err := s.SaveDraft(ctx, jia, m, &it)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 0 {
			t.Errorf("problems: %+v", ps)
		}
		if it.ID == 0 || it.Version != 1 || len(it.ImplCode) != 33 || it.Level != 1 || it.RegionCode != "410411000000" {
			t.Fatalf("saved item: %+v", it)
		}
		if _, _, err := s.Published(ctx, it.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a draft is visible: %v", err)
		}
		v0, _ := s.CatalogVersion(ctx)
		// Two people publish: one submits, another reviews.
		if err := s.Publish(ctx, yi, m, it.ID, 1); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("publishing without a review: %v", err)
		}
		if err := s.SubmitForReview(ctx, jia, m, it.ID, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.Publish(ctx, jia, m, it.ID, 1); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("approving one's own submission: %v", err)
		}
		if err := s.Return(ctx, yi, m, it.ID, 1, " "); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("returning without a reason: %v", err)
		}
		if err := s.Return(ctx, yi, m, it.ID, 1, "受理条件写得不全"); err != nil {
			t.Fatal(err)
		}
		if err := s.Publish(ctx, yi, m, it.ID, 1); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("publishing a returned version: %v", err)
		}
		if err := s.SubmitForReview(ctx, jia, m, it.ID, 1); err != nil {
			t.Fatal(err)
		}
		if _, mg, _ := s.Latest(ctx, it.ID); mg.InReview != 1 {
			t.Fatalf("in review: %d", mg.InReview)
		}
		if err := s.Publish(ctx, yi, m, it.ID, 1); err != nil {
			t.Fatal(err)
		}
		if v1, _ := s.CatalogVersion(ctx); v1 != v0+1 {
			t.Fatalf("publish did not bump the catalog version: %d → %d", v0, v1)
		}

		// An edit is a new draft; citizens still see version 1.
		clk.Advance(time.Hour)
		edit := it
		edit.Name = "个体工商户设立登记（新版）"
		edit.Visits, edit.Depth = 1, catalog.DepthApply // no visit reason: a quality problem
		problems, err := s.SaveDraft(ctx, jia, m, &edit)
		if err != nil {
			t.Fatal(err)
		}
		if edit.Version != 2 || len(problems) != 1 || problems[0].Rule != "visit_reason" {
			t.Fatalf("version %d, problems %+v", edit.Version, problems)
		}
		shown, _, err := s.Published(ctx, it.ID)
		if err != nil || shown.Name != "个体工商户设立登记" || shown.Version != 1 {
			t.Fatalf("shown %q v%d, %v", shown.Name, shown.Version, err)
		}
		err = s.SubmitForReview(ctx, jia, m, it.ID, 2)
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "原因") {
			t.Fatalf("submitting a failing version: %v", err)
		}
		edit.VisitReason = "需核验经营场所原件"
		if _, err := s.SaveDraft(ctx, jia, m, &edit); err != nil {
			t.Fatal(err)
		}
		if err := s.SubmitForReview(ctx, jia, m, it.ID, edit.Version); err != nil {
			t.Fatal(err)
		}
		if err := s.Publish(ctx, yi, m, it.ID, edit.Version); err != nil {
			t.Fatal(err)
		}
		shown, _, _ = s.Published(ctx, it.ID)
		if shown.Version != 3 || shown.Name != edit.Name {
			t.Fatalf("after publishing v3: %+v", shown)
		}
		if old, err := s.Version(ctx, it.ID, 1); err != nil || old.Name != "个体工商户设立登记" {
			t.Fatalf("version 1 is not kept: %v", err)
		}

		// Suspend needs a reason; suspended items stay visible with it; cancelled ones vanish.
		if err := s.SetStatus(ctx, yi, m, it.ID, catalog.Suspended, ""); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("suspend without reason: %v", err)
		}
		if err := s.SetStatus(ctx, yi, m, it.ID, catalog.Suspended, "系统升级"); err != nil {
			t.Fatal(err)
		}
		if _, reason, err := s.Published(ctx, it.ID); err != nil || reason != "系统升级" {
			t.Fatalf("suspended: %q %v", reason, err)
		}
		if err := s.SetStatus(ctx, yi, m, it.ID, catalog.Cancelled, "职能调整"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Published(ctx, it.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("cancelled item visible: %v", err)
		}
		if err := s.SubmitForReview(ctx, jia, m, it.ID, 3); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("submitting a cancelled item: %v", err)
		}
		hist, err := s.History(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, h := range hist {
			actions = append(actions, h.Action+"/"+h.Actor)
		}
		want := "cancel/管理员乙 suspend/管理员乙 publish/管理员乙 submit/管理员甲 edit/管理员甲 edit/管理员甲 publish/管理员乙 submit/管理员甲 return/管理员乙 submit/管理员甲 create/管理员甲"
		if strings.Join(actions, " ") != want {
			t.Fatalf("history %v", actions)
		}
	})
}

func TestRejectedSaveChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newStore(t, db)
		it := goodItem()
		it.Department = "nosuchdept"
		_, err := s.SaveDraft(ctx, editor("x"), audit.Meta{}, &it)
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "实施部门") {
			t.Fatalf("unknown department: %v", err)
		}
		a, b := goodItem(), goodItem()
		if _, err := s.SaveDraft(ctx, editor("x"), audit.Meta{}, &a); err != nil {
			t.Fatal(err)
		}
		_, err = s.SaveDraft(ctx, editor("x"), audit.Meta{}, &b)
		if !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("duplicate implementing code: %v", err)
		}
		var n int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM item_versions`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d versions stored, want 1", n)
		}
	})
}

// The catalog's changes check the policy themselves: a catalog manager
// changes only their own department's items, and each change is on the
// item's history and the audit log with who made it and from where.
func TestChangesAreTheDepartmentsOwn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newStore(t, db)
		regions := region.NewStore(db)
		scjgj, err := regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
		if err != nil {
			t.Fatal(err)
		}
		mzj, err := regions.DepartmentBySlug(ctx, db.Read(), "mzj")
		if err != nil {
			t.Fatal(err)
		}
		// Managers without an account: the entries carry their names alone.
		manager := func(d region.Department) policy.Subject {
			return policy.Subject{Kind: policy.Staff, Name: "管理员" + d.ShortName, DepartmentID: d.ID,
				RegionCode: d.RegionCode, Roles: []policy.Role{policy.CatalogManager}}
		}
		own, other := manager(scjgj), manager(mzj)
		at := audit.Meta{IP: "10.0.0.9", Client: "test"}
		it := goodItem()
		if _, err := s.SaveDraft(ctx, other, at, &it); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("another department's manager creating the item: %v", err)
		}
		if _, err := s.SaveDraft(ctx, own, at, &it); err != nil {
			t.Fatal(err)
		}
		edit := it
		edit.Name = "个体工商户设立登记（改）"
		if _, err := s.SaveDraft(ctx, other, at, &edit); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("another department's manager editing it: %v", err)
		}
		// Moving the item to one's own department is no way round.
		edit.Department = "mzj"
		if _, err := s.SaveDraft(ctx, other, at, &edit); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("another department's manager taking it over: %v", err)
		}
		if err := s.Publish(ctx, other, at, it.ID, it.Version); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("another department's manager publishing it: %v", err)
		}
		if _, _, err := s.Published(ctx, it.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("published after a refusal: %v", err)
		}
		if err := s.SubmitForReview(ctx, own, at, it.ID, it.Version); err != nil {
			t.Fatal(err)
		}
		// The department's head reviews it.
		head := policy.Subject{Kind: policy.Staff, Name: "科长" + scjgj.ShortName, DepartmentID: scjgj.ID,
			RegionCode: scjgj.RegionCode, Roles: []policy.Role{policy.Head}}
		if err := s.Publish(ctx, head, at, it.ID, it.Version); err != nil {
			t.Fatal(err)
		}
		if err := s.SetStatus(ctx, other, at, it.ID, catalog.Suspended, "整改"); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("another department's manager suspending it: %v", err)
		}
		if err := s.SetStatus(ctx, policy.Subject{Kind: policy.Anonymous}, at, it.ID, catalog.Suspended, "整改"); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("anonymous suspending it: %v", err)
		}
		if err := s.SetStatus(ctx, own, at, it.ID, catalog.Suspended, "整改"); err != nil {
			t.Fatal(err)
		}
		entries, err := audit.Search(ctx, db.Read(), audit.Filter{Object: "item:" + strconv.FormatInt(it.ID, 10)})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range entries {
			if actor := map[bool]string{true: head.Name, false: own.Name}[e.Action == "item_publish"]; e.Actor != actor || e.IP != at.IP || e.RegionCode != scjgj.RegionCode {
				t.Errorf("entry %+v", e)
			}
			actions = append(actions, e.Action)
		}
		if strings.Join(actions, ",") != "item_status,item_publish,item_submit,item_save" {
			t.Fatalf("audit actions %v", actions)
		}
		history, err := s.History(ctx, it.ID)
		if err != nil || len(history) != 4 || history[0].Actor != own.Name || history[1].Actor != "科长区市场监管局" {
			t.Fatalf("history %+v, %v", history, err)
		}
	})
}

// A guide view keeps the item's status while the catalog version stands;
// a suspension, resumption or cancellation through another instance moves
// the version, and the next view, in a new request, shows it.
func TestGuideFollowsStatusFromAnotherInstance(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, _ := newStore(t, db)
		it := seedCatalog(t, db, a, 1)
		b := catalog.NewStore(db, region.NewStore(db), clock.System{})
		view := func() (catalog.Item, string, error) { return a.PublishedView(store.WithVersions(ctx), it.ID) }
		if got, _, err := view(); err != nil || got.Status != catalog.Published {
			t.Fatalf("first view: %v, %v", got.Status, err)
		}
		admin := editor("管理员")
		if err := b.SetStatus(ctx, admin, audit.Meta{}, it.ID, catalog.Suspended, "系统升级"); err != nil {
			t.Fatal(err)
		}
		if got, reason, err := view(); err != nil || got.Status != catalog.Suspended || reason != "系统升级" {
			t.Fatalf("after the suspension: %v %q, %v", got.Status, reason, err)
		}
		if err := b.SetStatus(ctx, admin, audit.Meta{}, it.ID, catalog.Published, "恢复"); err != nil {
			t.Fatal(err)
		}
		if got, _, err := view(); err != nil || got.Status != catalog.Published {
			t.Fatalf("after the resumption: %v, %v", got.Status, err)
		}
		if err := b.SetStatus(ctx, admin, audit.Meta{}, it.ID, catalog.Cancelled, "职能调整"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := view(); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("after the cancellation: %v", err)
		}
	})
}
