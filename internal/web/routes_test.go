package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/web"
)

// Who the tests sign in as, one of each kind and staff role.
var visitors = []string{"anonymous", "citizen", "window", "reviewer", "head", "supervisor", "catalog", "admin", "assistant"}

var staffRoles = map[string]policy.Role{"window": policy.Window, "reviewer": policy.Reviewer, "head": policy.Head,
	"supervisor": policy.Supervisor, "catalog": policy.CatalogManager, "admin": policy.Admin, "assistant": policy.Assistant}

// expectedGuards states, for every route, who may open it: a guard of the
// route table, and whom that guard lets in. A route missing here fails
// TestEveryRouteHasItsGuard: adding a route means saying who may open it.
var guardLetsIn = map[string][]string{
	"public":              visitors,
	"signed-in":           visitors[1:],
	"person":              {"citizen"},
	"staff":               visitors[2:],
	"admin tools":         visitors[2:], // every unit's staff has 统计分析 (issue 10)
	"may view audit_log":  {"supervisor", "admin"},
	"may view jobs":       {"admin"},
	"may edit account":    {"admin"},
	"may edit department": {"admin"},
	"may view calendar":   {"admin"},
	"may edit calendar":   {"admin"},
	// Webhooks of API clients (issue 12).
	"may edit api_key":    {"admin"},
	"may view statistics": {"head", "supervisor", "admin"},
	"catalog":             {"head", "catalog", "admin"},
	"may export catalog":  {"admin"},
	"may edit catalog":    {"admin"},
	// 好差评: those who see some ratings (not a catalog manager alone).
	"rating staff": {"window", "reviewer", "head", "supervisor", "admin"},
	// Complaints (有诉即应).
	"may create complaint":        {"window", "admin"},
	"may view complaint_stats":    {"supervisor", "admin"},
	"may edit complaint_settings": {"admin"},
	// Statistics (issue 10): any staff with a role in a unit, supervisors, administrators.
	"statistics": visitors[2:],
	// Boards and surveys.
	"board editor":      {"supervisor", "admin"},
	"may edit survey":   {"admin"},
	"may view survey":   {"admin"},
	"may export survey": {"admin"},
	// Module usage and the self-evaluation.
	"may view usage":      {"admin"},
	"may view evaluation": {"admin"},
	"may edit evaluation": {"admin"},
	// 帮办代办: the 帮办代办员 of a community (not an administrator).
	"assistant": {"assistant"},
	// The hall (预约, 取号叫号): window clerks call; administrators keep
	// the groups; supervisors, heads and administrators read the waits.
	"hall clerk":             {"window"},
	"may edit hall_settings": {"admin"},
	"hall waits":             {"head", "supervisor", "admin"},
	// 一件事一次办: catalog managers (of any department) build bundles.
	"may edit bundle": {"catalog", "admin"},
	// Integration (issue 12): API clients, the directory and the access log.
	"may view api_key":   {"admin"},
	"may create api_key": {"admin"},
	"may export api_key": {"admin"},
}

// What a guard says when it refuses someone signed in.
var refusal = map[string]string{"person": "网上申请须使用个人或法人账户登录。", "staff": "工作台只对工作人员开放。",
	"admin tools": "管理后台只对系统管理员、督查人员和事项管理员开放。", "catalog": "事项管理只对事项管理员、部门负责人和系统管理员开放。",
	"may export catalog": "导出整个目录须由系统管理员进行。", "may edit catalog": "导入整个目录须由系统管理员进行。",
	"rating staff": "好差评回访只对窗口人员、审批人员、部门负责人和督查人员开放。", "assistant": "帮办代办只对街道、社区的帮办代办员开放。",
	"hall clerk": "叫号只对窗口人员开放。", "hall waits": "等候时长统计只对督查人员、部门负责人和系统管理员开放。"}

var expectedGuards = map[string]string{
	// 一件事一次办.
	"GET /bundles": "public", "GET /bundles/{id}": "public", "GET /bundles/{id}/apply": "person", "POST /bundles/{id}/apply": "person",
	"GET /me/bundles/{id}": "person", "GET /admin/bundles": "may edit bundle", "GET /admin/bundles/new": "may edit bundle",
	"POST /admin/bundles": "may edit bundle", "GET /admin/bundles/{id}": "may edit bundle", "POST /admin/bundles/{id}": "may edit bundle",
	"POST /admin/bundles/{id}/status": "may edit bundle", "GET /admin/bundles/export": "may edit bundle", "POST /admin/bundles/import": "may edit bundle",
	// Integration (issue 12).
	"GET /admin/integration": "may view api_key", "POST /admin/integration/clients": "may create api_key",
	"POST /admin/integration/clients/{id}/limit": "may edit api_key", "POST /admin/integration/clients/{id}/revoke": "may edit api_key", "POST /admin/integration/clients/{id}/keys": "may create api_key",
	"POST /admin/integration/keys/{id}/rotate": "may edit api_key", "POST /admin/integration/keys/{id}/revoke": "may edit api_key",
	"POST /admin/integration/directory": "may edit api_key", "POST /admin/integration/directory/{id}/delete": "may edit api_key",
	"GET /admin/integration/log": "may view api_key", "GET /admin/integration/log.xlsx": "may export api_key",
	"GET /{$}": "public", "GET /search": "public", "GET /levels/{level}": "public", "GET /departments": "public",
	"GET /departments/{id}": "public", "GET /regions/{code}": "public", "GET /items": "public", "GET /items/{id}": "public",
	"GET /items/{id}/qr.svg": "public", "GET /items/{id}/forms/{n}": "public", "GET /readiness": "public", "GET /lookup": "public",
	"POST /preferences/elder": "public", "POST /place": "public", "GET /demo/sms": "public", "GET /signin": "public", "POST /signin/code/send": "public",
	"POST /signin/code": "public", "POST /signin/password": "public", "GET /signin/oidc": "public", "GET /signin/oidc/callback": "public",
	"GET /signin/forgot": "public", "POST /signin/forgot/code": "public", "POST /signin/forgot": "public", "GET /privacy": "public",
	"GET /register": "public", "POST /register/code": "public", "POST /register": "public", "GET /staff/signin": "public",
	"POST /staff/signin": "public", "POST /signout": "public", "/": "public",

	"GET /items/{id}/apply": "person", "POST /items/{id}/apply": "person", "GET /me/cases": "person",
	"POST /me/cases/{id}/materials/{n}": "person", "POST /me/cases/{id}": "person",

	"GET /me/cases/{id}": "signed-in", "GET /cases/{id}/materials/{n}": "signed-in", "GET /cases/{id}/documents/{doc}": "signed-in",
	"GET /cases/{id}/result": "signed-in", "GET /me": "signed-in", "GET /me/messages": "signed-in", "POST /me/password": "signed-in",
	"POST /me/signout-all": "signed-in", "POST /me/mobile/code": "signed-in", "POST /me/mobile": "signed-in", "POST /me/email": "signed-in",
	"POST /me/enterprises": "signed-in", "POST /me/enterprises/{id}/agents": "signed-in", "POST /me/acting": "signed-in",

	"GET /workbench": "staff", "GET /workbench/queue/{status}": "staff", "GET /workbench/intake": "staff", "POST /workbench/intake": "staff",
	"GET /workbench/cases/{id}": "staff", "POST /workbench/cases/{id}": "staff", "POST /workbench/cases/{id}/form": "staff",
	"POST /workbench/cases/{id}/materials/{n}": "staff", "POST /workbench/cases/{id}/visits": "staff",
	"POST /workbench/cases/{id}/reveal": "staff", "POST /workbench/cases/{id}/complete": "staff", "GET /workbench/cases/{id}/archive": "staff",

	"GET /admin": "admin tools", "GET /admin/audit": "may view audit_log", "GET /admin/jobs": "may view jobs",
	"GET /admin/staff": "may edit account", "POST /admin/staff": "may edit account", "POST /admin/staff/{id}": "may edit account",
	"GET /admin/departments": "may edit department", "POST /admin/departments/{id}": "may edit department",
	"GET /admin/calendar": "may view calendar", "POST /admin/calendar": "may edit calendar", "POST /admin/calendar/{day}/delete": "may edit calendar",
	"GET /admin/visits": "may view statistics", "GET /admin/late": "may view statistics", "GET /admin/late.xlsx": "may view statistics", "GET /admin/corrections": "may view statistics",
	"GET /admin/archives": "may view statistics", "GET /admin/visits.xlsx": "may view statistics", "GET /admin/corrections.xlsx": "may view statistics",
	"GET /admin/archives.xlsx": "may view statistics",
	// Webhooks of API clients (issue 12).
	"GET /demo/webhook": "public", "POST /demo/webhook": "public",
	"GET /admin/webhooks": "may edit api_key", "POST /admin/webhooks": "may edit api_key", "GET /admin/webhooks/{id}": "may edit api_key",
	"POST /admin/webhooks/{id}/active": "may edit api_key", "POST /admin/webhooks/{id}/rotate": "may edit api_key",
	"POST /admin/webhooks/{id}/deliveries/{delivery}/redeliver": "may edit api_key",
	"GET /admin/items": "catalog", "GET /admin/items/new": "catalog", "POST /admin/items": "catalog", "GET /admin/items/{id}": "catalog",
	"POST /admin/items/{id}": "catalog", "POST /admin/items/{id}/status": "catalog", "GET /admin/quality": "catalog",
	"GET /admin/catalog/export": "may export catalog", "POST /admin/catalog/import": "may edit catalog",

	// 好差评 (internal/rating).
	"GET /me/ratings/{id}": "person", "POST /me/ratings/{id}": "person", "GET /ratings/rectifications": "public",
	"GET /workbench/ratings": "rating staff", "GET /workbench/ratings/{id}": "rating staff",
	"POST /workbench/ratings/{id}/callback": "rating staff", "POST /workbench/ratings/{id}/rectify": "rating staff",
	"POST /workbench/ratings/{id}/appeal": "rating staff", "POST /workbench/ratings/{id}/decide": "rating staff",
	"POST /workbench/ratings/{id}/reveal": "rating staff", "POST /workbench/tablet": "staff", "GET /admin/ratings": "may view statistics",
	"GET /window/{token}": "public", "POST /window/{token}": "public",
	// Complaints (有诉即应).
	"GET /complaints": "public", "GET /complaints/new": "public", "POST /complaints": "public", "POST /complaints/code": "public",
	"POST /complaints/confirm": "public", "POST /complaints/confirm/code": "public",
	"GET /complaints/{id}/files/{file}": "signed-in", "GET /me/complaints": "person", "GET /me/complaints/{id}": "person",
	"POST /me/complaints/{id}": "person", "GET /workbench/complaints": "staff", "GET /workbench/complaints/{id}": "staff",
	"POST /workbench/complaints/{id}": "staff", "GET /workbench/complaints/new": "may create complaint",
	"POST /workbench/complaints/new": "may create complaint", "GET /admin/complaints/stats": "may view complaint_stats",
	"GET /admin/complaints/settings": "may edit complaint_settings", "POST /admin/complaints/categories": "may edit complaint_settings",
	"POST /admin/complaints/routes": "may edit complaint_settings", "POST /admin/complaints/routes/{id}/delete": "may edit complaint_settings",
	// Boards and surveys (表扬台, 曝光台, 问卷).
	"GET /boards/{board}": "public", "GET /boards/{board}/{id}": "public", "GET /admin/boards": "board editor",
	"POST /admin/boards/preview": "board editor", "POST /admin/boards": "board editor", "POST /admin/boards/{id}/withdraw": "board editor",
	"GET /surveys": "public", "GET /surveys/{id}": "public", "POST /surveys/{id}": "public", "GET /surveys/{id}/qr.svg": "public",
	"GET /admin/surveys": "may edit survey", "GET /admin/surveys/new": "may edit survey", "POST /admin/surveys": "may edit survey",
	"GET /admin/surveys/{id}": "may edit survey", "POST /admin/surveys/{id}": "may edit survey", "POST /admin/surveys/{id}/status": "may edit survey",
	"GET /admin/surveys/{id}/results": "may view survey", "GET /admin/surveys/{id}/results.xlsx": "may export survey",
	// Statistics (issue 10).
	"GET /admin/stats": "statistics", "GET /admin/stats.xlsx": "statistics", "GET /admin/stats/cases": "statistics",
	"GET /admin/stats/cases.xlsx": "statistics", "GET /admin/stats/screen": "statistics", "GET /stats": "public",
	// Module usage and the self-evaluation (绩效自评).
	"GET /admin/usage": "may view usage", "GET /admin/evaluation": "may view evaluation", "POST /admin/evaluation/entries": "may edit evaluation",
	"GET /admin/evaluation/print": "may view evaluation", "GET /admin/evaluation/report.css": "may view evaluation",
	"GET /admin/evaluation/{period}/{code}/evidence": "may view evaluation",
	// 帮办代办 (assisted applications).
	"GET /assist": "assistant", "GET /assist/new": "assistant", "POST /assist/consent": "assistant", "POST /assist/items/{id}": "assistant",
	"GET /assist/cases/{id}": "assistant", "GET /cases/{id}/consent": "signed-in",
	// The hall (预约, 取号叫号).
	"GET /hall": "public", "GET /hall/{hall}": "public", "POST /hall/{hall}/book": "person", "GET /hall/{hall}/kiosk": "public",
	"POST /hall/{hall}/kiosk/booking": "public", "POST /hall/{hall}/kiosk/number": "public", "GET /hall/{hall}/screen": "public",
	"GET /me/bookings": "person", "GET /me/bookings/{id}": "person", "GET /me/bookings/{id}/qr.svg": "person", "POST /me/bookings/{id}/cancel": "person",
	"GET /workbench/hall": "hall clerk", "POST /workbench/hall/groups/{group}/call": "hall clerk", "POST /workbench/hall/groups/{group}/take": "hall clerk",
	"POST /workbench/hall/tickets/{id}": "hall clerk",
	"GET /admin/hall":                   "may edit hall_settings", "POST /admin/hall/groups": "may edit hall_settings", "GET /admin/hall/waits": "hall waits",
	// 电子证照 (e-licences, issue 12).
	"GET /me/licences": "person", "GET /me/licences/{id}": "person", "GET /me/licences/{id}/file": "person",
	"GET /v/{token}": "public", "GET /licences/verify": "public", "GET /workbench/licences": "staff",
	"POST /workbench/licences/{id}/revoke": "staff", "GET /admin/licences": "catalog", "POST /admin/licences": "catalog",
}

// signInAll signs in one visitor of each kind; anonymous has no cookies.
func signInAll(t *testing.T, site testSite, db *store.DB) map[string]*browser {
	t.Helper()
	bs := map[string]*browser{"anonymous": newBrowser(t, site.handler), "citizen": registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")}
	for name, role := range staffRoles {
		dept := "scjgj"
		if role == policy.Assistant {
			dept = "bmfw-410411001001" // 马庄社区便民服务站
		}
		bs[name] = signInStaff(t, site, db, "u"+name, dept, role)
	}
	return bs
}

var pathParam = regexp.MustCompile(`\{[a-z]+\$?\}`)

// concrete fills a route's pattern with values its handler will look up
// (and mostly not find: the guard comes first).
func concrete(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "GET", "/no/such/page"
	}
	path = pathParam.ReplaceAllStringFunc(path, func(p string) string {
		switch p {
		case "{$}":
			return ""
		case "{status}":
			return "submitted"
		case "{level}":
			return "1"
		case "{day}":
			return "2026-12-31"
		}
		return "999999"
	})
	return method, path
}

func TestEveryRouteHasItsGuard(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	site := newTestSite(t, db)
	seen := map[string]bool{}
	for _, rg := range web.RouteGuards(site.server) {
		pattern, guard := rg[0], rg[1]
		seen[pattern] = true
		want, ok := expectedGuards[pattern]
		if !ok {
			t.Errorf("route %s (guard %q) is not in expectedGuards: say who may open it", pattern, guard)
		} else if guard != want {
			t.Errorf("route %s: guard %q, want %q", pattern, guard, want)
		}
		if _, ok := guardLetsIn[guard]; !ok {
			t.Errorf("route %s: guard %q is not in guardLetsIn", pattern, guard)
		}
	}
	for pattern := range expectedGuards {
		if !seen[pattern] {
			t.Errorf("expectedGuards has %s, which the route table has not", pattern)
		}
	}
}

// TestGuardsThroughThePages walks every route as every kind of visitor:
// an anonymous one is sent to the right sign-in page and back; one the
// guard does not let in is refused with its 403 (404 where the policy
// hides that the thing exists); one it lets in reaches the handler.
func TestGuardsThroughThePages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		bs := signInAll(t, site, db)
		for _, rg := range web.RouteGuards(site.server) {
			pattern, guard := rg[0], rg[1]
			method, path := concrete(pattern)
			for _, who := range visitors {
				// Public routes have nothing to refuse; signing in and out
				// as someone else would only lose the session.
				if guard == "public" && (who != "anonymous" || method != "GET") {
					continue
				}
				req := httptest.NewRequest(method, path, nil)
				if method == "POST" {
					req = httptest.NewRequest(method, path, strings.NewReader(""))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Sec-Fetch-Site", "same-origin")
				}
				ex := bs[who].do(req)
				loc := ex.header.Get("Location")
				toSignIn := ex.status == http.StatusSeeOther && (strings.HasPrefix(loc, "/signin?") || strings.HasPrefix(loc, "/staff/signin?"))
				lets := slices.Contains(guardLetsIn[guard], who)
				switch {
				case lets:
					if toSignIn || ex.status == http.StatusForbidden && refusal[guard] != "" && strings.Contains(ex.body, refusal[guard]) ||
						strings.HasPrefix(guard, "may ") && ex.status == http.StatusForbidden {
						t.Errorf("%s %s as %s: guard %q should let in, got %d %s", method, path, who, guard, ex.status, loc)
					}
				case who == "anonymous":
					page := "/staff/signin"
					if guard == "person" || guard == "signed-in" {
						page = "/signin"
					}
					if want := page + "?next=" + url.QueryEscape(path); ex.status != http.StatusSeeOther || loc != want {
						t.Errorf("%s %s as anonymous: %d %q, want 303 to %s", method, path, ex.status, loc, want)
					}
				default:
					want := http.StatusForbidden
					if who == "citizen" && guard == "may edit account" {
						want = http.StatusNotFound // the policy does not tell a person whether an account exists
					}
					if ex.status != want || refusal[guard] != "" && !strings.Contains(ex.body, refusal[guard]) {
						t.Errorf("%s %s as %s: guard %q: %d, want %d %s", method, path, who, guard, ex.status, want, refusal[guard])
					}
				}
			}
		}
	})
}

var navLink = regexp.MustCompile(`<nav[^>]*aria-label="主导航"[\s\S]*?</nav>`)

// TestLinksOnlyToWhatOpens: the header shows 工作台 and 管理 only to those
// who may open them, and every tile of the admin home opens for whoever
// sees it.
func TestLinksOnlyToWhatOpens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		bs := signInAll(t, site, db)
		wantNav := map[string][2]bool{ // 工作台, 管理
			"anonymous": {false, false}, "citizen": {false, false}, "window": {true, true}, "reviewer": {true, true}, // 统计分析, their department's
			"head": {true, true}, "supervisor": {true, true}, "catalog": {true, true}, "admin": {true, true}, "assistant": {true, true}}
		for _, who := range visitors {
			ex := bs[who].get("/items")
			nav := navLink.FindString(ex.body)
			if ex.status != http.StatusOK || nav == "" {
				t.Fatalf("%s: /items %d, no main navigation", who, ex.status)
			}
			got := [2]bool{strings.Contains(nav, `href="/workbench"`), strings.Contains(nav, `href="/admin"`)}
			if got != wantNav[who] {
				t.Errorf("%s sees 工作台, 管理: %v, want %v", who, got, wantNav[who])
			}
			if !got[1] {
				continue
			}
			home := bs[who].get("/admin")
			if home.status != http.StatusOK {
				t.Fatalf("%s: /admin %d", who, home.status)
			}
			tiles := regexp.MustCompile(`<li class="card"><a href="([^"]+)"`).FindAllStringSubmatch(home.body, -1)
			if len(tiles) == 0 {
				t.Errorf("%s: admin home without tiles", who)
			}
			for _, m := range tiles {
				path, _, _ := strings.Cut(m[1], "#")
				if ex := bs[who].get(path); ex.status != http.StatusOK {
					t.Errorf("%s: admin home links to %s, which answers %d", who, m[1], ex.status)
				}
			}
		}
		// The catalog tile for a department's catalog manager does not
		// offer the whole catalog's import and export, which are the
		// administrator's.
		if strings.Contains(bs["catalog"].get("/admin").body, "导入导出目录") || !strings.Contains(bs["admin"].get("/admin").body, "导入导出目录") {
			t.Error("导入导出目录 shown to the wrong people")
		}
	})
}
