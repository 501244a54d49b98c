package demo_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// everydayNeeds are things people look for, typed the way they type them:
// two characters, pinyin or its initials, a colloquial name, a typo. Each
// must bring an item whose name contains one of the wanted words into the
// first three results of the demo catalog.
var everydayNeeds = []struct {
	query string
	want  []string
}{
	{"社保", []string{"养老保险", "社会保险"}},
	{"shebao", []string{"养老保险", "社会保险"}},
	{"sb", []string{"养老保险", "社会保险"}},
	{"低保", []string{"最低生活保障"}},
	{"dibao", []string{"最低生活保障"}},
	{"户口", []string{"户口", "户籍", "出生登记"}},
	{"上户口", []string{"出生登记"}},
	{"营业执照", []string{"个体工商户", "公司"}},
	{"yyzz", []string{"个体工商户", "公司"}},
	{"营业执找", []string{"个体工商户", "公司"}},
	{"开店", []string{"个体工商户", "食品经营"}},
	{"身份证", []string{"居民身份证"}},
	{"补办身份证", []string{"居民身份证补领"}},
	{"居住证", []string{"居住证"}},
	{"暂住证", []string{"居住证"}},
	{"居住正", []string{"居住证"}},
	{"结婚", []string{"结婚登记"}},
	{"离婚", []string{"离婚登记"}},
	{"生孩子", []string{"生育"}},
	{"残疾证", []string{"残疾人证"}},
	{"失业金", []string{"失业保险金"}},
	{"医保报销", []string{"报销"}},
	{"异地就医", []string{"异地就医"}},
	{"无犯罪证明", []string{"无犯罪记录"}},
	{"教师资格证", []string{"教师资格"}},
	{"过户", []string{"转移登记"}},
	{"开药店", []string{"药品零售"}},
	{"网吧", []string{"互联网上网服务"}},
	{"施工许可", []string{"施工许可"}},
	{"劳动仲裁", []string{"劳动人事争议仲裁"}},
	{"养老金认证", []string{"资格认证"}},
	{"法律援助", []string{"法律援助"}},
	{"老人补贴", []string{"高龄"}},
}

func TestEverydayNeedsAreFoundInTheFirstThree(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
		sum, err := demo.Seed(ctx, db, clk)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Items < 1260 {
			t.Fatalf("the demo catalog has %d items, want at least 1,260", sum.Items)
		}
		items := catalog.NewStore(db, region.NewStore(db), clk)
		sr, err := catalog.NewSearcher(ctx, items, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if sr.Len() != sum.Items {
			t.Fatalf("index holds %d items, catalog %d", sr.Len(), sum.Items)
		}
		for _, need := range everydayNeeds {
			res := sr.Search(need.query, catalog.Filter{}, 0, 3)
			var names []string
			ok := false
			for _, h := range res.Hits {
				names = append(names, h.Name)
				for _, w := range need.want {
					ok = ok || strings.Contains(h.Name, w)
				}
			}
			if !ok {
				t.Errorf("%q: first three are %v; want one containing %v", need.query, names, need.want)
			}
		}
		if n := len(everydayNeeds); n < 30 {
			t.Fatalf("only %d everyday needs", n)
		}
	})
}

func TestDemoCatalogPassesQualityRulesAndCoversEveryLevel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.SeededSQLite(t, "demo", seedDemo)
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
	items := catalog.NewStore(db, region.NewStore(db), clk)
	failing, err := items.QualityReport(ctx)
	if err != nil || len(failing) != 0 {
		t.Fatalf("%d demo items fail quality rules (%v)", len(failing), err)
	}
	// No guide prints a sub-item's kind twice (食品经营许可（新办）（新办）).
	all, err := items.AllPublished(ctx)
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, it := range all {
		if it.HandlingKind == "" {
			continue
		}
		if strings.HasSuffix(it.Name, "（"+it.HandlingKind+"）") {
			named++
		}
		if n := it.DisplayName(); strings.Count(n, it.HandlingKind) != max(1, strings.Count(it.Name, it.HandlingKind)) {
			t.Errorf("item %d %q is shown as %q", it.ID, it.Name, n)
		}
	}
	if named < 10 {
		t.Errorf("only %d sub-items carry their kind in their name; the check above would not see the doubling", named)
	}
	r, err := items.Readiness(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range r.Levels {
		if l.Total == 0 {
			t.Errorf("level %d has no items", l.Level)
		}
	}
	var depts int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(DISTINCT department_id) FROM items`).Scan(&depts); err != nil || depts < 80 {
		t.Fatalf("items cover %d departments (%v), want nearly all", depts, err)
	}
}

// 低保 is handled at every street centre: the results show it once, at the
// centre of the street the person lives in, and 办证 finds the items that
// issue a 证照 although none is named so.
func TestSearchGroupsAServiceAndPicksThePersonsPlace(t *testing.T) {
	t.Parallel()
	storetest.EachSeeded(t, "demo", seedDemo, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
		items := catalog.NewStore(db, region.NewStore(db), clk)
		sr, err := catalog.NewSearcher(ctx, items, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		flat := sr.Search("低保", catalog.Filter{}, 0, 10)
		res := sr.SearchGrouped("低保", catalog.Filter{}, "", 0, 10)
		if res.Total >= flat.Total || len(res.Groups) == 0 || res.Groups[0].Count < 5 || !strings.Contains(res.Groups[0].Name, "最低生活保障") {
			t.Fatalf("grouped: %d services of %d items, first %+v", res.Total, flat.Total, res.Groups)
		}
		seen := map[string]bool{}
		for _, g := range res.Groups {
			k := g.BaseCode + g.Name
			if seen[k] {
				t.Errorf("%s (%s) shown twice", g.Name, g.BaseCode)
			}
			seen[k] = true
		}
		// A person in 马庄街道's first community gets 马庄街道's centre.
		communities, err := region.NewStore(db).Regions(ctx, region.RegionFilter{Parent: "410411001000"})
		if err != nil || len(communities) == 0 {
			t.Fatalf("communities of 马庄街道: %v %v", communities, err)
		}
		home := communities[0].Code
		local := sr.SearchGrouped("低保", catalog.Filter{}, home, 0, 10)
		for _, g := range local.Groups {
			if g.Count > 1 && (!g.Local || !strings.HasPrefix(home, strings.TrimSuffix(g.RegionCode, "000"))) {
				t.Errorf("%s for %s: shown at %s (%s), local %v", g.Name, home, g.RegionCode, g.Department, g.Local)
			}
		}
		if local.Groups[0].RegionCode != "410411001000" {
			t.Errorf("低保 for 马庄街道 is handled at %s %s", local.Groups[0].RegionCode, local.Groups[0].Department)
		}
		certs := sr.SearchGrouped("办证", catalog.Filter{}, home, 0, 20)
		if certs.Total < 10 {
			t.Fatalf("办证 finds %d services", certs.Total)
		}
		for _, g := range certs.Groups {
			it, _, err := items.Published(ctx, g.ID)
			if err != nil || it.Result.Type != "证照" {
				t.Errorf("办证 found %s, whose result is %q (%v)", g.Name, it.Result.Type, err)
			}
		}
	})
}
