package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/web"
)

// The search page keeps its rendered results (issue 18.4); a change made
// through another instance's stores — a publication, a suspension, an
// item's new version, a new region — shows in the next search once this
// instance's index has caught up (its Watch; here Refresh), and a region
// at once, as on the pages that are not kept.
func TestSearchResultsFollowChangesFromAnotherInstance(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		site := newTestSite(t, db)
		first := guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull, "营业执照")
		first.ID = publish(t, db, site.catalog, first)
		refresh := func() {
			t.Helper()
			if _, err := site.searcher.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
		}
		refresh()
		search := func(q string) string {
			t.Helper()
			ex := do(site.handler, httptest.NewRequest("GET", "/search?q="+url.QueryEscape(q), nil))
			if ex.status != http.StatusOK {
				t.Fatalf("search %s: %d", q, ex.status)
			}
			return ex.body
		}
		if page := search("营业执照"); !strings.Contains(page, "共 1 个事项") || strings.Contains(page, "暂停办理") {
			t.Fatalf("first search:\n%s", page)
		}
		if n, _ := web.CachedResults(site.server); n != 1 {
			t.Fatalf("%d results kept after one search, want 1", n)
		}

		// The other instance: its own stores on the same database.
		regions := region.NewStore(db)
		other := catalog.NewStore(db, regions, clock.System{})
		publish(t, db, other, guideItem("010100100002", "个体工商户变更登记", catalog.DepthApply, "营业执照"))
		refresh()
		if page := search("营业执照"); !strings.Contains(page, "共 2 个事项") || !strings.Contains(page, "个体工商户变更登记") {
			t.Errorf("after a publication elsewhere:\n%s", page)
		}
		if err := other.SetStatus(ctx, testAdmin, audit.Meta{}, first.ID, catalog.Suspended, "系统升级"); err != nil {
			t.Fatal(err)
		}
		refresh()
		if page := search("营业执照"); !strings.Contains(page, "暂停办理") {
			t.Errorf("after a suspension elsewhere, the result does not say 暂停办理:\n%s", page)
		}
		if err := other.SetStatus(ctx, testAdmin, audit.Meta{}, first.ID, catalog.Published, "恢复"); err != nil {
			t.Fatal(err)
		}
		first.Name = "个体工商户开业登记"
		publish(t, db, other, first)
		refresh()
		if page := search("营业执照"); !strings.Contains(page, "个体工商户开业登记") || strings.Contains(page, "设立登记") || strings.Contains(page, "暂停办理") {
			t.Errorf("after a new version elsewhere:\n%s", page)
		}

		// The region directory is read for each request: a region added
		// elsewhere is in the next search without any refresh.
		if page := search("马庄"); strings.Contains(page, "马庄新苑社区") {
			t.Fatal("the new community is there before it was added")
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return regions.AddRegion(ctx, tx, region.Region{Code: "410411001098", Name: "马庄新苑社区", Level: region.Community,
				ParentCode: "410411001000", Kind: "社区"})
		}); err != nil {
			t.Fatal(err)
		}
		if page := search("马庄"); !strings.Contains(page, "马庄新苑社区") {
			t.Errorf("a region added elsewhere is not in the next search:\n%s", page)
		}
	})
}

// Two people searching alike get the same results, each in their own
// page: their names, and 关怀模式, are in the layout around the kept
// results, never in them.
func TestSearchResultsShareNothingPersonal(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull, "营业执照"))
		if _, err := site.searcher.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		zhang := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		zhang.cookies["zwfw_elder"] = &http.Cookie{Name: "zwfw_elder", Value: "1"}
		clerk := signInStaff(t, site, db, "uwindow", "scjgj", policy.Window)
		anon := newBrowser(t, site.handler)
		path := "/search?q=" + url.QueryEscape("营业执照")
		pages := map[string]string{"张三": zhang.get(path).body, "测试uwindow": clerk.get(path).body, "": anon.get(path).body}
		for who, page := range pages {
			if !strings.Contains(page, "<mark>营业执照</mark>") && !strings.Contains(page, "个体工商户设立登记") {
				t.Errorf("%q: no result:\n%s", who, page)
			}
			for _, name := range []string{"张三", "测试uwindow"} {
				if mine := "我的（" + name + "）"; strings.Contains(page, mine) != (name == who) {
					t.Errorf("%q's page: %q shown %v", who, mine, strings.Contains(page, mine))
				}
			}
			if elder := strings.Contains(page, `class="elder"`); elder != (who == "张三") {
				t.Errorf("%q's page in 关怀模式: %v", who, elder)
			}
		}
		if n, _ := web.CachedResults(site.server); n != 1 {
			t.Errorf("%d results kept for one search by three people, want 1", n)
		}
		for _, h := range web.CachedResultsText(site.server) {
			for _, personal := range []string{"张三", "uwindow", "我的", "退出", "elder", "工作台"} {
				if strings.Contains(h, personal) {
					t.Errorf("kept results hold %q:\n%s", personal, h)
				}
			}
		}
	})
}

// The results kept stay within their bound however many searches are
// made, and a search whose results were dropped is rendered again, right.
func TestSearchResultsKeptAreBounded(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	site := newTestSite(t, db)
	publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull, "营业执照"))
	if _, err := site.searcher.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	const max = 8 << 10
	web.LimitResultCache(site.server, max)
	for i := range 60 {
		path := "/search?q=" + url.QueryEscape("营业执照") + "&page=" + strconv.Itoa(i+1)
		ex := do(site.handler, httptest.NewRequest("GET", path, nil))
		if ex.status != http.StatusOK || !strings.Contains(ex.body, "共 1 个事项") {
			t.Fatalf("%s: %d\n%s", path, ex.status, ex.body)
		}
		if _, size := web.CachedResults(site.server); size > max {
			t.Fatalf("after %d searches: %d bytes kept (bound %d)", i+1, size, max)
		}
	}
	if n, _ := web.CachedResults(site.server); n == 0 || n >= 60 {
		t.Errorf("%d results kept of 60 searches within %d bytes", n, max)
	}
	if page := do(site.handler, httptest.NewRequest("GET", "/search?q="+url.QueryEscape("营业执照"), nil)).body; !strings.Contains(page, "个体工商户设立登记") {
		t.Errorf("the first page again:\n%s", page)
	}
}
