package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/calendardays"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/evaluation"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/hall"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/licence"
	"github.com/zwfw/zwfw/internal/oidc"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/stats"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/survey"
	"github.com/zwfw/zwfw/internal/throttle"
	"github.com/zwfw/zwfw/internal/usage"
	"github.com/zwfw/zwfw/internal/web"
	"github.com/zwfw/zwfw/internal/webhook"
)

// testAdmin opens the staff accounts tests sign in with, as the command
// line does.
var testAdmin = policy.Subject{Kind: policy.Staff, Name: "测试管理员", Roles: []policy.Role{policy.Admin}}

func newSite(t *testing.T, db *store.DB) http.Handler {
	t.Helper()
	return newTestSite(t, db).handler
}

type testSite struct {
	handler  http.Handler
	server   *web.Server
	catalog  *catalog.Store
	searcher *catalog.Searcher
	identity *identity.Service
	sms      *sms.Dev
	clock    *clock.Manual
	calendar *calendar.Calendar // the one cases count deadlines on, as the server wires it
	files    *staging.Store
	// complaints (有诉即应)
	complaints *complaint.Service
	// integration (issue 12): API clients and the access log
	integration *integration.Service
}

func newTestSite(t testing.TB, db *store.DB) testSite {
	t.Helper()
	return newTestSiteWith(t, db, nil)
}

func newTestSiteWith(t testing.TB, db *store.DB, provider *oidc.Provider) testSite {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
	if _, err := demo.SeedDistrict(context.Background(), db, clk); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	regions := region.NewStore(db).WithClock(clk)
	items := catalog.NewStore(db, regions, clk)
	searcher, err := catalog.NewSearcher(context.Background(), items, log)
	if err != nil {
		t.Fatal(err)
	}
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.ParseKeys(enc, idx)
	if err != nil {
		t.Fatal(err)
	}
	dev := sms.NewDev(log, 20)
	local, err := filestore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := staging.New(db, local)
	ids := identity.New(db, identity.Options{Keys: keys, SMS: dev, Clock: clk, RequireTOTP: true})
	cal := calendar.New(nil)
	cases := casework.New(db, items, clk, cal)
	cases.UseFiles(files, 0)
	cases.UseKeys(keys)
	cases.UseKnown(func(ctx context.Context, q store.Querier, account, enterprise int64) (casework.Known, error) {
		k, err := ids.Known(ctx, q, account, enterprise)
		return casework.Known(k), err
	})
	ratings := rating.New(db, items, clk, cal, rating.Options{Keys: keys})
	cases.OnFinished(ratings.InviteCase)
	cases.OnChanged(stats.Changed)
	// An insert-only queue, as the CLI's: the jobs page reads it.
	queue, err := jobs.New(db, nil, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Complaints (有诉即应), with their default categories.
	complaints := complaint.New(db, complaint.Options{Clock: clk, Calendar: cal, Regions: regions, Keys: keys, Files: files,
		VerifyCode: func(ctx context.Context, mobile, code string) error {
			return ids.VerifyCode(ctx, mobile, identity.PurposeComplaint, code)
		}})
	if err := complaints.SeedDefaults(context.Background(), testAdmin, audit.Meta{}); err != nil {
		t.Fatal(err)
	}
	// Module usage and the self-evaluation, with the live sources the
	// server registers.
	uses := usage.New(db, clk, 30)
	evaluations := evaluation.New(db, evaluation.Options{System: evaluation.Default(), Clock: clk, Files: files, Cases: cases,
		Sources: map[string]evaluation.Source{"archives": evaluation.ArchiveSource(cases), "module_use": evaluation.ModuleSource(uses),
			"satisfaction": evaluation.SatisfactionSource(ratings), "complaint_resolution": evaluation.ComplaintSource(complaints)}})
	// Webhooks (issue 12): recorded on the insert-only queue.
	hooks, err := webhook.NewService(db, webhook.Options{Clock: clk, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	hooks.UseQueue(queue)
	sharing := integration.New(db, clk, apikey.NewService(db, clk))
	s, err := web.New(web.Deps{Log: log, Audit: audit.NewLog(db), Throttle: throttle.New(db, clk), Jobs: queue, Regions: regions, Catalog: items, Searcher: searcher, Identity: ids, Cases: cases, Ratings: ratings, Calendar: cal, Days: calendardays.New(db, clk, log), Files: files, Clock: clk, OIDC: provider,
		PublicURL: "https://zwfw.example.gov.cn", Demo: true, DevSMS: dev, Complaints: complaints,
		Boards: board.New(db, clk, cases.BoardSource(), complaints.BoardSource(), ratings.BoardSource()), Surveys: survey.New(db, clk, keys),
		Stats: stats.New(db, clk), Usage: uses, Evaluation: evaluations,
		Halls: hall.New(db, clk, cal, keys, regions), Bundles: bundle.New(db, items, regions, cases, clk),
		Licences: licence.New(db, licence.Options{Clock: clk, Catalog: items, PublicURL: "https://zwfw.example.gov.cn"}), Webhooks: hooks,
		Integration: sharing})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	h, err := httpx.Wrap(mux, httpx.Options{Log: log, MaxBodyBytes: 4096, LargeBody: web.LargeBody, MultiLine: s.MultiLine, OnInvalid: s.Error, Context: store.WithVersions})
	if err != nil {
		t.Fatal(err)
	}
	return testSite{handler: h, server: s, catalog: items, searcher: searcher, identity: ids, sms: dev, clock: clk, calendar: cal, files: files, complaints: complaints,
		integration: sharing}
}

type exchange struct {
	status int
	header http.Header
	body   string
}

func do(h http.Handler, req *http.Request) exchange {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	return exchange{rec.Code, rec.Header(), string(b)}
}

func TestPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newSite(t, db)
		depts, err := region.NewStore(db).Departments(context.Background(), region.DepartmentFilter{Kind: region.Bureau})
		if err != nil || len(depts) == 0 {
			t.Fatal(err)
		}
		bureau := depts[0]
		cases := []struct {
			path   string
			status int
			want   []string
		}{
			{"/", 200, []string{"湛河区政务服务", "按层级办事", "按部门办事", "工作人员入口", `href="/levels/street"`}},
			{"/search", 200, []string{`name="q"`}},
			{"/search?q=马庄", 200, []string{"马庄街道", "马庄街道便民服务中心", "相关的结果"}},
			{"/search?q=" + url.QueryEscape("<script>alert(1)</script>"), 200, []string{"&lt;script&gt;", "没有找到相关结果"}},
			{"/search?q=" + strings.Repeat("长", 51), 400, []string{"搜索词太长了"}},
			{"/levels/district", 200, []string{"区级办事", bureau.Name}},
			{"/levels/street", 200, []string{"马庄街道", "曹镇乡"}},
			{"/levels/community", 200, []string{"便民服务站"}},
			{"/levels/province", 404, []string{"没有这个层级"}},
			{"/departments", 200, []string{"政务服务中心", "区直部门", "便民服务中心", "便民服务站"}},
			{fmt.Sprintf("/departments/%d", bureau.ID), 200, []string{bureau.Name, bureau.Phone, "湛河区"}},
			{"/departments/abc", 404, []string{"部门不存在"}},
			{"/departments/999999", 404, []string{"部门不存在"}},
			{"/regions/410411001000", 200, []string{"马庄街道", "下辖区划", `href="/regions/410411000000"`}},
			{"/regions/410411999000", 404, []string{"不存在"}},
			{"/no/such/page", 404, []string{"页面不存在"}},
		}
		for _, c := range cases {
			ex := do(h, httptest.NewRequest("GET", c.path, nil))
			if ex.status != c.status {
				t.Errorf("GET %s: status %d, want %d", c.path, ex.status, c.status)
			}
			if !strings.HasPrefix(ex.header.Get("Content-Type"), "text/html") {
				t.Errorf("GET %s: content type %q", c.path, ex.header.Get("Content-Type"))
			}
			for _, w := range c.want {
				if !strings.Contains(ex.body, w) {
					t.Errorf("GET %s: page lacks %q", c.path, w)
				}
			}
			if !strings.Contains(ex.body, `<html lang="zh-CN">`) {
				t.Errorf("GET %s: not a complete zh-CN page", c.path)
			}
		}
	})
}

func TestElderModeIsSwitchedOnceAndKept(t *testing.T) {
	t.Parallel()
	h := newSite(t, storetest.SQLite(t))
	post := func(form url.Values, site string) exchange {
		req := httptest.NewRequest("POST", "/preferences/elder", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", site)
		return do(h, req)
	}
	ex := post(url.Values{"on": {"1"}, "back": {"/search?q=马庄"}}, "same-origin")
	loc, _ := url.Parse(ex.header.Get("Location"))
	if ex.status != http.StatusSeeOther || loc.Path != "/search" || loc.Query().Get("q") != "马庄" {
		t.Fatalf("switch on: %d to %q", ex.status, ex.header.Get("Location"))
	}
	cookie := (&http.Response{Header: ex.header}).Cookies()
	if len(cookie) != 1 || cookie[0].Value != "1" || cookie[0].MaxAge < 300*24*3600 || !cookie[0].HttpOnly {
		t.Fatalf("cookie %+v: want a year-long HttpOnly elder cookie", cookie)
	}
	req := httptest.NewRequest("GET", "/departments", nil)
	req.AddCookie(cookie[0])
	if page := do(h, req); !strings.Contains(page.body, `<html lang="zh-CN" class="elder">`) || !strings.Contains(page.body, "退出关怀模式") {
		t.Fatal("elder cookie does not switch the page to 关怀模式")
	}

	off := post(url.Values{"on": {"0"}, "back": {"/"}}, "same-origin")
	if c := (&http.Response{Header: off.header}).Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Fatalf("switch off: cookie %+v, want it deleted", c)
	}
	for _, evil := range []string{"//evil.example/x", "https://evil.example/", "javascript:alert(1)", `/\evil.example`} {
		if ex := post(url.Values{"on": {"1"}, "back": {evil}}, "same-origin"); ex.header.Get("Location") != "/" {
			t.Errorf("back=%q redirected to %q, want /", evil, ex.header.Get("Location"))
		}
	}
	if ex := post(url.Values{"on": {"2"}}, "same-origin"); ex.status != 400 || !strings.Contains(ex.body, "0 或 1") {
		t.Errorf("on=2: %d", ex.status)
	}
	// A form posted from another site is refused and sets nothing.
	if ex := post(url.Values{"on": {"1"}}, "cross-site"); ex.status != http.StatusForbidden || ex.header.Get("Set-Cookie") != "" {
		t.Errorf("cross-site post: %d, cookie %q", ex.status, ex.header.Get("Set-Cookie"))
	}
	// Too large a body is refused with a Chinese message.
	big := url.Values{"on": {"1"}, "back": {strings.Repeat("x", 8000)}}
	if ex := post(big, "same-origin"); ex.status != http.StatusRequestEntityTooLarge || ex.header.Get("Set-Cookie") != "" {
		t.Errorf("large post: %d", ex.status)
	}
}

func TestStaticFilesAreHashedAndCached(t *testing.T) {
	t.Parallel()
	h := newSite(t, storetest.SQLite(t))
	home := do(h, httptest.NewRequest("GET", "/", nil))
	i := strings.Index(home.body, "/static/app.")
	if i < 0 {
		t.Fatal("no stylesheet link")
	}
	href := home.body[i : i+strings.Index(home.body[i:], `"`)]
	css := do(h, httptest.NewRequest("GET", href, nil))
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") ||
		!strings.Contains(css.header.Get("Cache-Control"), "immutable") || !strings.Contains(css.body, ".elder") {
		t.Fatalf("GET %s: %d %v", href, css.status, css.header)
	}
	if ex := do(h, httptest.NewRequest("GET", "/static/app.css", nil)); ex.status != 404 {
		t.Errorf("unhashed name served: %d", ex.status)
	}
}

// browser keeps cookies between requests, as a browser would.
type browser struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]*http.Cookie
}

func newBrowser(t *testing.T, h http.Handler) *browser {
	return &browser{t: t, h: h, cookies: map[string]*http.Cookie{}}
}

func (b *browser) do(req *http.Request) exchange {
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	ex := do(b.h, req)
	for _, c := range (&http.Response{Header: ex.header}).Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return ex
}

func (b *browser) get(path string) exchange { return b.do(httptest.NewRequest("GET", path, nil)) }

func (b *browser) post(path string, form url.Values) exchange {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

var smsCode = regexp.MustCompile(`验证码是(\d{6})`)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
