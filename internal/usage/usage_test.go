package usage_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/usage"
)

var admin = policy.Subject{AccountID: 1, Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}

func TestModuleOf(t *testing.T) {
	for pattern, want := range map[string]usage.Module{
		"GET /{$}":                          usage.Portal,
		"GET /levels/{level}":               usage.Portal,
		"GET /items/{id}":                   usage.Guides,
		"GET /items/{id}/qr.svg":            usage.Guides,
		"GET /items/{id}/apply":             usage.Apply,
		"POST /me/cases/{id}":               usage.Apply,
		"GET /search":                       usage.Search,
		"POST /workbench/intake":            usage.Intake,
		"POST /assist/items/{id}":           usage.Assist,
		"POST /bundles/{id}/apply":          usage.Bundles,
		"GET /me/bundles/{id}":              usage.Bundles,
		"GET /hall/{hall}/screen":           usage.Hall,
		"POST /workbench/hall/tickets/{id}": usage.Hall,
		"GET /me/bookings":                  usage.Hall,
		"GET /v/{token}":                    usage.Licences,
		"GET /me/licences/{id}":             usage.Licences,
		"GET /lookup":                       usage.Lookup,
		"POST /complaints":                  usage.Complaints,
		"GET /workbench/complaints/{id}":    usage.Complaints,
		"POST /window/{token}":              usage.Ratings,
		"GET /boards/{board}":               usage.Boards,
		"POST /surveys/{id}":                usage.Surveys,
		"POST /api/v1/cases":                usage.API,
		"GET /open311/v2/services.json":     usage.Open311,
		// Not modules: signing in, 我的, administration, the catch-all.
		"GET /signin":        "",
		"GET /me":            "",
		"GET /admin/surveys": "",
		"GET /admin/usage":   "",
		"/":                  "",
		"":                   "",
	} {
		if got := usage.ModuleOf(pattern); got != want {
			t.Errorf("ModuleOf(%q) = %q, want %q", pattern, got, want)
		}
	}
}

func TestUses(t *testing.T) {
	phone := "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
	desk := "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"
	for _, c := range []struct {
		method, pattern string
		status          int
		ua              string
		elder           bool
		want            []usage.Module
	}{
		{"GET", "GET /items/{id}", 200, desk, false, []usage.Module{usage.Guides}},
		{"GET", "GET /items/{id}", 200, phone, true, []usage.Module{usage.Guides, usage.Mobile, usage.Elder}},
		{"POST", "POST /complaints", 303, desk, false, []usage.Module{usage.Complaints}},
		{"GET", "GET /me/cases", 303, desk, false, nil}, // sent on to sign in
		{"GET", "GET /items/{id}", 404, desk, false, nil},
		{"POST", "POST /api/v1/cases", 201, "okhttp/4", false, []usage.Module{usage.API}},
		{"GET", "GET /signin", 200, phone, true, nil}, // no module, so no channel either
	} {
		got := usage.Uses(c.method, c.pattern, c.status, c.ua, c.elder)
		if !slices.Equal(got, c.want) {
			t.Errorf("Uses(%s %s %d) = %v, want %v", c.method, c.pattern, c.status, got, c.want)
		}
	}
}

func uses(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	rows, err := db.Read().Query(context.Background(), `SELECT day, module, uses FROM module_uses`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int64{}
	for rows.Next() {
		var day, module string
		var n int64
		if err := rows.Scan(&day, &module, &n); err != nil {
			t.Fatal(err)
		}
		got[day+" "+module] = n
	}
	return got
}

// Two instances count the same module on the same day; their flushes add
// up, and a flush with nothing new changes nothing.
func TestFlushAddsAcrossInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC)) // 07:30 on the 3rd in Beijing
		a, b := usage.NewCounter(db, clk), usage.NewCounter(db, clk)
		for range 3 {
			a.Add(usage.Guides)
		}
		b.Add(usage.Guides, usage.Mobile)
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		a.Add(usage.Guides)
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Flush(ctx); err != nil { // nothing new
			t.Fatal(err)
		}
		want := map[string]int64{"2026-03-03 guides": 5, "2026-03-03 mobile": 1}
		if got := uses(t, db); !maps(got, want) {
			t.Errorf("after two instances' flushes: %v, want %v", got, want)
		}
	})
}

// A flush that fails keeps its counts for the next one.
func TestFlushKeepsCountsOnFailure(t *testing.T) {
	db := storetest.SQLite(t)
	clk := clock.NewManual(time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC))
	c := usage.NewCounter(db, clk)
	c.Add(usage.Search, usage.Search)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Flush(ctx); err == nil {
		t.Fatal("a flush on a cancelled context succeeded")
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := uses(t, db); got["2026-03-03 search"] != 2 {
		t.Errorf("after a failed flush and a good one: %v, want 2 searches", got)
	}
}

func maps(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The middleware counts what the mux answered, by pattern; the table
// holds counts only, nothing of the requests.
func TestHandlerCountsWithoutPersonalData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := clock.NewManual(time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC))
		c := usage.NewCounter(db, clk)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /lookup", func(w http.ResponseWriter, r *http.Request) {})
		mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
		h := c.Handler(mux, func(r *http.Request) bool { return r.Header.Get("Cookie") == "zwfw_elder=1" })
		for _, req := range []*http.Request{
			httptest.NewRequest("GET", "/lookup?number=ZW123&mobile=13800138000", nil),
			httptest.NewRequest("GET", "/items/9", nil), // 404: not a use
		} {
			req.Header.Set("User-Agent", "Mozilla/5.0 (Linux; Android 14) Mobile")
			req.Header.Set("Cookie", "zwfw_elder=1")
			req.RemoteAddr = "203.0.113.9:5555"
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
		if err := c.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"2026-03-03 lookup": 1, "2026-03-03 mobile": 1, "2026-03-03 elder": 1}
		if got := uses(t, db); !maps(got, want) {
			t.Errorf("counted %v, want %v", got, want)
		}
		// The table's columns are the day, the module and the count.
		rows, err := db.Read().Query(context.Background(), `SELECT * FROM module_uses`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		rows.Close()
		if strings.Join(cols, ",") != "day,module,uses" {
			t.Errorf("module_uses has columns %v: it must hold counts only", cols)
		}
	})
}

// A module is idle when it has no use in the last IdleDays days, today
// included; channels are flagged but not counted among the modules.
func TestReportFlagsIdleModules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC))
		c := usage.NewCounter(db, clk)
		c.Add(usage.Surveys) // 1 March: 30 days before 31 March
		clk.Set(time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC))
		c.Add(usage.Boards) // 2 March: 29 days before
		clk.Set(time.Date(2026, 3, 31, 4, 0, 0, 0, time.UTC))
		c.Add(usage.Guides, usage.Guides, usage.Mobile)
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		s := usage.New(db, clk, 30)
		rep, err := s.Report(ctx, admin, 31)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Days) != 31 || rep.Days[0] != "2026-03-01" || rep.Days[30] != "2026-03-31" {
			t.Fatalf("days %v", rep.Days)
		}
		byModule := map[usage.Module]usage.Row{}
		for _, r := range rep.Rows {
			byModule[r.Module] = r
		}
		for m, idle := range map[usage.Module]bool{usage.Surveys: true, usage.Boards: false, usage.Guides: false, usage.Mobile: false, usage.Lookup: true, usage.Elder: true} {
			if byModule[m].Idle != idle {
				t.Errorf("%s idle = %v, want %v (last used %q)", m, byModule[m].Idle, idle, byModule[m].LastUsed)
			}
		}
		if g := byModule[usage.Guides]; g.Total != 2 || g.Days[30] != 2 || g.Peak != 2 {
			t.Errorf("guides %+v", g)
		}
		if rep.Modules != 16 || rep.Idle != 14 {
			t.Errorf("%d of %d modules idle, want 14 of 16", rep.Idle, rep.Modules)
		}
		// Only administrators read it.
		super := policy.Subject{AccountID: 2, Kind: policy.Staff, Roles: []policy.Role{policy.Supervisor}}
		if _, err := s.Report(ctx, super, 30); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a supervisor's report: %v, want forbidden", err)
		}
		if _, err := s.Report(ctx, admin, 0); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a report of 0 days: %v, want invalid", err)
		}
	})
}

// BenchmarkCount is what counting costs a request: the module of its
// pattern, the channels, and the in-memory count (docs/PERFORMANCE.md).
//
//	go test -run '^$' -bench BenchmarkCount -cpu 1,2 ./internal/usage/
func BenchmarkCount(b *testing.B) {
	c := usage.NewCounter(storetest.SQLite(b), clock.System{})
	ua := "Mozilla/5.0 (Linux; Android 14) Mobile"
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Add(usage.Uses("GET", "GET /items/{id}", 200, ua, true)...)
		}
	})
}
