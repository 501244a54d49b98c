// Package usage counts how much each module and channel of the platform
// is used, per Beijing date, without personal data: a count per (day,
// module) and nothing else — no account, no address, no path, no query.
// Evaluators ask whether every module that was paid for is used; the
// idle ones (no use in ZWFW_USAGE_IDLE_DAYS days) are flagged.
//
// A request is not a row: each instance counts in memory (Counter) and
// adds its counts to the database now and then with an additive upsert
// (Flush), so several instances behind a load balancer add up and a busy
// portal costs one small transaction a minute, not one per request. The
// cost is a lag: the page shows uses up to the last flush of each
// instance (FlushEvery), and an instance that dies without shutting down
// loses at most that much.
package usage

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Module names a module or channel, as stored.
type Module string

// The modules and channels the issue names. A request counts once for
// its module and once more for each channel it came by (mobile, 关怀模式).
const (
	Portal     Module = "portal"     // home, levels, departments, regions, readiness
	Guides     Module = "guides"     // the service guides (办事指南)
	Search     Module = "search"     // 事项搜索
	Apply      Module = "apply"      // online application and 我的办件
	Intake     Module = "counter"    // 窗口收件
	Assist     Module = "assist"     // 帮办代办: applications made for people by community workers
	Bundles    Module = "bundles"    // 一件事一次办
	Hall       Module = "hall"       // 预约, 取号叫号 and the hall screen
	Licences   Module = "licences"   // 电子证照: the 证照夹 and verification
	Lookup     Module = "lookup"     // 办件查询
	Complaints Module = "complaints" // 有诉即应
	Ratings    Module = "ratings"    // 好差评
	Boards     Module = "boards"     // 表扬台, 曝光台
	Surveys    Module = "surveys"    // 问卷
	API        Module = "api"        // the JSON API
	Open311    Module = "open311"    // Open311 GeoReport v2
	Mobile     Module = "mobile"     // channel: a phone's browser
	Elder      Module = "elder"      // channel: 关怀模式
)

// Info is a module as the pages show it.
type Info struct {
	Module  Module
	Name    string // in Chinese
	Channel bool   // a channel (mobile, 关怀模式) rather than a module
}

// Modules lists every module and channel, in the pages' order.
var Modules = []Info{
	{Portal, "门户首页", false}, {Guides, "办事指南", false}, {Search, "事项搜索", false},
	{Apply, "网上申办", false}, {Intake, "窗口收件", false}, {Assist, "帮办代办", false},
	{Bundles, "一件事一次办", false}, {Hall, "预约与取号", false}, {Licences, "电子证照", false}, {Lookup, "办件查询", false},
	{Complaints, "投诉诉求", false}, {Ratings, "好差评", false}, {Boards, "表扬台与曝光台", false},
	{Surveys, "问卷调查", false}, {API, "开放接口（API）", false}, {Open311, "Open311 接口", false},
	{Mobile, "移动端", true}, {Elder, "关怀模式", true},
}

// prefixes map a route pattern's path to its module; the first that
// matches wins, so the longer prefixes come first. Routes of no module
// (signing in, 我的, the workbench's other pages, administration) are not
// counted: they serve the modules rather than being one.
var prefixes = []struct {
	prefix string
	module Module
}{
	{"/api/", API}, {"/open311/", Open311},
	{"/items/{id}/apply", Apply}, {"/me/cases", Apply},
	{"/items", Guides},
	{"/search", Search},
	{"/workbench/intake", Intake},
	{"/assist", Assist},
	{"/bundles", Bundles}, {"/me/bundles", Bundles},
	{"/hall", Hall}, {"/me/bookings", Hall}, {"/workbench/hall", Hall},
	{"/v/", Licences}, {"/licences/", Licences}, {"/me/licences", Licences}, {"/workbench/licences", Licences},
	{"/lookup", Lookup},
	{"/complaints", Complaints}, {"/me/complaints", Complaints}, {"/workbench/complaints", Complaints},
	{"/me/ratings", Ratings}, {"/ratings/", Ratings}, {"/window/", Ratings}, {"/workbench/ratings", Ratings},
	{"/boards/", Boards},
	{"/surveys", Surveys},
	{"/{$}", Portal}, {"/levels/", Portal}, {"/departments", Portal}, {"/regions/", Portal}, {"/readiness", Portal},
}

// ModuleOf is the module of a request that the mux matched to pattern
// ("GET /items/{id}", as http.ServeMux gives it), "" for none.
func ModuleOf(pattern string) Module {
	_, path, ok := strings.Cut(pattern, " ")
	if !ok {
		path = pattern
	}
	for _, p := range prefixes {
		if strings.HasPrefix(path, p.prefix) {
			return p.module
		}
	}
	return ""
}

// IsMobile reports whether a user agent is a phone's or tablet's browser,
// by the tokens their browsers send ("Mobi" is MDN's advice; Android
// tablets and WeChat's browser add the others).
func IsMobile(userAgent string) bool {
	for _, t := range []string{"Mobi", "Android", "iPhone", "iPad", "MicroMessenger"} {
		if strings.Contains(userAgent, t) {
			return true
		}
	}
	return false
}

// Uses is what one answered request counts for: its module, and the
// channels it came by. A request counts when it was answered with
// success: 2xx, or a form's 303 after a POST; a refusal, an error or a
// GET sent on to sign in is not a use. Nothing of the request but its
// pattern, user agent and mode is read.
func Uses(method, pattern string, status int, userAgent string, elder bool) []Module {
	m := ModuleOf(pattern)
	ok := status >= 200 && status < 300 || method == http.MethodPost && status == http.StatusSeeOther
	if m == "" || !ok {
		return nil
	}
	uses := []Module{m}
	if IsMobile(userAgent) {
		uses = append(uses, Mobile)
	}
	if elder {
		uses = append(uses, Elder)
	}
	return uses
}

// Day is the Beijing date of t as stored.
func Day(t time.Time) string { return t.In(clock.China).Format(time.DateOnly) }

type key struct {
	day    string
	module Module
}

// Counter counts uses in memory and adds them to the database on Flush.
// Safe for concurrent use.
type Counter struct {
	db    *store.DB
	clock clock.Clock
	mu    sync.Mutex
	n     map[key]int64
}

// NewCounter returns a counter that adds to db, dating uses by clk.
func NewCounter(db *store.DB, clk clock.Clock) *Counter {
	return &Counter{db: db, clock: clk, n: map[key]int64{}}
}

// Add counts one use of each module, today.
func (c *Counter) Add(modules ...Module) {
	if len(modules) == 0 {
		return
	}
	day := Day(c.clock.Now())
	c.mu.Lock()
	for _, m := range modules {
		c.n[key{day, m}]++
	}
	c.mu.Unlock()
}

// Flush adds the counts made since the last flush to the database, in one
// transaction of additive upserts, and forgets them; if the transaction
// fails they are kept for the next flush.
func (c *Counter) Flush(ctx context.Context) error {
	c.mu.Lock()
	n := c.n
	c.n = map[key]int64{}
	c.mu.Unlock()
	if len(n) == 0 {
		return nil
	}
	keys := slices.SortedFunc(maps.Keys(n), func(a, b key) int { // one order: no deadlock between instances
		return strings.Compare(a.day+string(a.module), b.day+string(b.module))
	})
	err := c.db.Tx(ctx, func(tx *store.Tx) error {
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `INSERT INTO module_uses (day, module, uses) VALUES (?, ?, ?)
				ON CONFLICT (day, module) DO UPDATE SET uses = module_uses.uses + excluded.uses`, k.day, string(k.module), n[k]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		c.mu.Lock()
		for k, v := range n {
			c.n[k] += v
		}
		c.mu.Unlock()
		return fmt.Errorf("usage: flush: %w", err)
	}
	return nil
}

// FlushEvery is how often a server adds its counts to the database: the
// lag of the usage page.
const FlushEvery = time.Minute

// Run flushes every interval until ctx ends, then once more with its own
// short deadline, so a shutdown keeps the last counts. Failures are
// returned through report and retried at the next round.
func (c *Counter) Run(ctx context.Context, every time.Duration, report func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := c.Flush(ctx); err != nil {
				report(err)
			}
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := c.Flush(last); err != nil {
				report(err)
			}
			return
		}
	}
}

// Handler counts next's answered requests; it must wrap the ServeMux
// itself, whose pattern it reads from the request after serving it.
// elder says whether a request was made in 关怀模式 (the pages' cookie).
func (c *Counter) Handler(next http.Handler, elder func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		c.Add(Uses(r.Method, r.Pattern, sw.status, r.UserAgent(), elder(r))...)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Service reads the counts.
type Service struct {
	db       *store.DB
	clock    clock.Clock
	idleDays int
}

// New returns the reader of db's counts; a module with no use in idleDays
// days (today included) is idle.
func New(db *store.DB, clk clock.Clock, idleDays int) *Service {
	return &Service{db: db, clock: clk, idleDays: idleDays}
}

// IdleDays is the setting the report flags idle modules by.
func (s *Service) IdleDays() int { return s.idleDays }

// Row is one module's use in a report.
type Row struct {
	Info
	Days     []int64 // uses per day of the report, oldest first
	Total    int64   // over the report's days
	Peak     int64   // the busiest day's uses
	LastUsed string  // the last day with a use, ever; "" never
	Idle     bool    // no use in the last IdleDays days
}

// Report is usage per module over the days ending today.
type Report struct {
	Days     []string // the dates, oldest first
	Rows     []Row
	IdleDays int
	Idle     int // how many modules (not channels) are idle
	Modules  int // how many modules (not channels) there are
}

// Report gives usage over the last days days (today included). Only
// administrators may read it.
func (s *Service) Report(ctx context.Context, who policy.Subject, days int) (Report, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Usage}); err != nil {
		return Report{}, err
	}
	if days < 1 || days > 366 {
		return Report{}, apperr.New(apperr.Invalid, "统计天数应在 1 到 366 之间。")
	}
	return s.report(ctx, days)
}

// Idle is the report's view the self-evaluation takes: the share of
// modules in use and the idle ones, without the policy check (the
// evaluation checks its own reader).
func (s *Service) Idle(ctx context.Context) (Report, error) { return s.report(ctx, s.idleDays) }

func (s *Service) report(ctx context.Context, days int) (Report, error) {
	today := s.clock.Now().In(clock.China)
	rep := Report{IdleDays: s.idleDays}
	for i := days - 1; i >= 0; i-- {
		rep.Days = append(rep.Days, Day(today.AddDate(0, 0, -i)))
	}
	idleSince := Day(today.AddDate(0, 0, -(s.idleDays - 1)))
	index := map[string]int{}
	for i, d := range rep.Days {
		index[d] = i
	}
	rows := map[Module]*Row{}
	for _, info := range Modules {
		rows[info.Module] = &Row{Info: info, Days: make([]int64, days)}
	}
	q := s.db.Read()
	rs, err := q.Query(ctx, `SELECT day, module, uses FROM module_uses WHERE day >= ? ORDER BY day`, rep.Days[0])
	if err != nil {
		return Report{}, err
	}
	defer rs.Close()
	for rs.Next() {
		var day, module string
		var n int64
		if err := rs.Scan(&day, &module, &n); err != nil {
			return Report{}, err
		}
		if r, ok := rows[Module(module)]; ok {
			if i, ok := index[day]; ok {
				r.Days[i] += n
				r.Total += n
				r.Peak = max(r.Peak, r.Days[i])
			}
		}
	}
	if err := rs.Err(); err != nil {
		return Report{}, err
	}
	last, err := q.Query(ctx, `SELECT module, MAX(day) FROM module_uses WHERE uses > 0 GROUP BY module`)
	if err != nil {
		return Report{}, err
	}
	defer last.Close()
	for last.Next() {
		var module, day string
		if err := last.Scan(&module, &day); err != nil {
			return Report{}, err
		}
		if r, ok := rows[Module(module)]; ok {
			r.LastUsed = day
		}
	}
	if err := last.Err(); err != nil {
		return Report{}, err
	}
	for _, info := range Modules {
		r := rows[info.Module]
		r.Idle = r.LastUsed < idleSince
		if !info.Channel {
			rep.Modules++
			if r.Idle {
				rep.Idle++
			}
		}
		rep.Rows = append(rep.Rows, *r)
	}
	return rep, nil
}
