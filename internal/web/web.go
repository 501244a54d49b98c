// Package web serves the portal's server-rendered pages in Simplified
// Chinese. Pages work without JavaScript, from a 375 px phone up, and in
// 关怀模式 (the elderly-friendly mode) that a visitor switches on once and
// keeps through a cookie.
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/calendardays"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/catalog/item"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/evaluation"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/hall"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/jobs/jobview"
	"github.com/zwfw/zwfw/internal/licence"
	"github.com/zwfw/zwfw/internal/oidc"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/stats"
	"github.com/zwfw/zwfw/internal/survey"
	"github.com/zwfw/zwfw/internal/throttle"
	"github.com/zwfw/zwfw/internal/usage"
	"github.com/zwfw/zwfw/internal/webhook"
)

//go:embed templates
var templateFiles embed.FS

// elderCookie remembers 关怀模式 for a year.
const elderCookie = "zwfw_elder"

// Server holds what the pages need.
type Server struct {
	log       *slog.Logger
	audit     *audit.Log
	regions   *region.Store
	catalog   *catalog.Store
	searcher  *catalog.Searcher
	identity  *identity.Service
	cases     *casework.Service
	ratings   *rating.Service
	calendar  *calendar.Calendar
	days      *calendardays.Store
	files     filestore.Store
	throttle  *throttle.Throttle // the public lookup's limit
	jobs      jobview.Viewer
	clock     clock.Clock
	oidc      *oidc.Provider
	publicURL string
	demo      bool
	devSMS    *sms.Dev
	assets    *assets
	table     []route          // the route table
	guards    map[string]guard // its guards, by pattern
	pages     map[string]*template.Template
	fragments map[string]template.HTML // rendered once at start-up: see New
	results   *resultCache             // the search page's results (issue 18.4)
	// Complaints (有诉即应).
	complaints *complaint.Service

	// Boards and surveys (表扬台, 曝光台, 问卷).
	boards  *board.Service
	surveys *survey.Service

	// Statistics and dashboards (统计分析, issue 10).
	stats *stats.Service
	// Module usage and the self-evaluation (绩效自评).
	usage      *usage.Service
	evaluation *evaluation.Service
	// The hall (预约, 取号叫号).
	halls   *hall.Service
	bundles *bundle.Service // 一件事一次办
	// 电子证照 (e-licences, issue 12).
	licences *licence.Service
	// Webhooks of API clients (issue 12).
	webhooks    *webhook.Service
	inbox       *webhook.Inbox
	integration *integration.Service // issue 12
}

// Deps are the services the pages use.
type Deps struct {
	Log       *slog.Logger
	Audit     *audit.Log
	Regions   *region.Store
	Catalog   *catalog.Store
	Searcher  *catalog.Searcher
	Identity  *identity.Service
	Cases     *casework.Service
	Ratings   *rating.Service     // 好差评
	Calendar  *calendar.Calendar  // the one Cases counts deadlines on; the calendar page edits its local days
	Days      *calendardays.Store // the store of those days, the one whose watcher keeps Calendar current
	Files     filestore.Store
	Jobs      jobview.Viewer     // the job queue (a *jobs.Queue), for the admin page
	Throttle  *throttle.Throttle // limits held in the database, shared by every instance
	Clock     clock.Clock
	OIDC      *oidc.Provider // nil unless the unified identity platform is configured
	PublicURL string         // for links that leave the site: QR codes on printed guides
	// Demo shows what only a demonstration may: the SMS messages that the
	// development sender kept (DevSMS), so that one-time codes can be read.
	Demo   bool
	DevSMS *sms.Dev
	// Complaints (有诉即应).
	Complaints *complaint.Service
	// Boards and surveys (表扬台, 曝光台, 问卷).
	Boards  *board.Service
	Surveys *survey.Service
	// Statistics and dashboards (统计分析, issue 10).
	Stats *stats.Service
	// Module usage and the self-evaluation (绩效自评).
	Usage      *usage.Service
	Evaluation *evaluation.Service
	// The hall (预约, 取号叫号).
	Halls *hall.Service
	// 一件事一次办 (internal/bundle); nil: its pages answer unavailable.
	Bundles *bundle.Service
	// 电子证照 (e-licences, issue 12).
	Licences *licence.Service
	// Webhooks of API clients (issue 12).
	Webhooks *webhook.Service
	// WebhookInbox is the demo's built-in receiver (Demo only).
	WebhookInbox *webhook.Inbox
	// Integration (issue 12): API clients, the sharing directory and the
	// access log; nil: its pages are not offered.
	Integration *integration.Service
}

// New parses every template and loads the static files; an error here is
// a bug in the embedded files, found at start-up rather than on a request.
func New(d Deps) (*Server, error) {
	if d.Calendar == nil {
		return nil, errors.New("web: Deps.Calendar is not set")
	}
	if d.Ratings == nil {
		return nil, errors.New("web: Deps.Ratings is not set")
	}
	if d.Stats == nil {
		return nil, errors.New("web: Deps.Stats is not set")
	}
	if d.Halls == nil {
		return nil, errors.New("web: Deps.Halls is not set")
	}
	if d.Licences == nil {
		return nil, errors.New("web: Deps.Licences is not set")
	}
	a, err := loadAssets()
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	s := &Server{log: d.Log, audit: d.Audit, regions: d.Regions, catalog: d.Catalog, searcher: d.Searcher, identity: d.Identity, cases: d.Cases, ratings: d.Ratings, calendar: d.Calendar, days: d.Days, files: d.Files, throttle: d.Throttle,
		jobs: d.Jobs, clock: d.Clock, oidc: d.OIDC, publicURL: d.PublicURL, demo: d.Demo, devSMS: d.DevSMS, assets: a, pages: map[string]*template.Template{}, fragments: map[string]template.HTML{}, results: newResultCache(resultCacheBytes),
		complaints: d.Complaints, boards: d.Boards, surveys: d.Surveys, stats: d.Stats, usage: d.Usage, evaluation: d.Evaluation,
		halls: d.Halls, bundles: d.Bundles, licences: d.Licences, webhooks: d.Webhooks, inbox: d.WebhookInbox,
		integration: d.Integration}
	s.table, s.guards = s.routes(), map[string]guard{}
	for _, rt := range s.table {
		if rt.guard.name == "" {
			return nil, fmt.Errorf("web: route %s has no guard", rt.pattern)
		}
		s.guards[rt.pattern] = rt.guard
	}
	for _, t := range adminTools {
		if _, ok := s.guards[t.Route]; !ok {
			return nil, fmt.Errorf("web: admin tool %s: no route %s", t.Name, t.Route)
		}
	}
	base, err := template.New("").Funcs(template.FuncMap{"asset": a.url, "levelName": levelName, "lines": lines,
		"hotWords": func() []string { return hotWords }, "themes": func() map[string][]string { return item.Themes },
		"fragment": func(name string) template.HTML { return s.fragments[name] }, "opens": s.opens, "list": func(xs ...string) []string { return xs },
		// Statistics (issue 10).
		"percent": stats.Percent, "dimensionName": stats.DimensionName,
		"inc": func(i int) int { return i + 1 }, "join": strings.Join, "date": func(t time.Time) string { return calendar.DateOf(t).String() },
		"needsReason": casework.NeedsReason, "deliveryName": casework.DeliveryName, "dueClass": dueClass,
		"caseAction": func(a casework.Action) string {
			if a == casework.Create {
				return "创建申请"
			}
			return a.Name()
		},
		"changeName": func(a string) string {
			if n, ok := changeNames[a]; ok {
				return n
			}
			return a
		}, "html": func(s string) template.HTML { return template.HTML(s) },
		"hasRole": func(a identity.Account, r policy.Role) bool { return slices.Contains(a.Roles, r) }, "time": formatTime, "method": func(m string) string {
			if n, ok := signInMethods[m]; ok {
				return n
			}
			return m
		},
		// The self-evaluation's figures, as its report writes them.
		"num": evaluation.Num, "maxMB": func() int { return MaxMaterialBytes >> 20 },
		// 好差评's names, and a table of rates with its first column's label.
		"stateName": rating.StateName, "subjectName": rating.SubjectName, "channelName": func(c string) string { return channelNames[c] },
		"rateTable": func(rows []rating.Rate, levels []rating.Level, label string) any {
			return struct {
				Rows   []rating.Rate
				Levels []rating.Level
				Label  string
			}{rows, levels, label}
		},
		"auditActions": func() map[string]string { return auditActions }, "auditAction": func(a string) string {
			if n, ok := auditActions[a]; ok {
				return n
			}
			return a
		}}).
		ParseFS(templateFiles, "templates/layout.html", "templates/partials.html", "templates/boardpartials.html")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	// The fragments that never change are rendered once, on a copy (a
	// template set that has run can no longer be cloned for the pages).
	fb, err := base.Clone()
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"headassets", "brandicon", "hotwords", "themechips"} {
		var b strings.Builder
		if err := fb.ExecuteTemplate(&b, name, nil); err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		s.fragments[name] = template.HTML(b.String())
	}
	for _, name := range []string{"home", "search", "level", "departments", "department", "region", "signin", "error",
		"items", "item", "form", "readiness", "register", "staffsignin", "me", "workbench", "admin", "audit", "jobs",
		"quality", "demosms", "staff", "deptadmin", "itemsadmin", "itemedit", "importresult", "apply", "mycases", "mycase", "queue", "staffcase", "notice", "lookup", "intake", "visits", "messages", "late", "archives", "corrections", "calendar", "privacy", "forgot",
		"rate", "followups", "followup", "ratingrates", "rectifications", "tablet", "tabletpair",
		"boards", "boardentry", "boardsadmin", "surveys", "survey", "surveysadmin", "surveyedit", "surveyresults",
		"webhooks", "webhook", "demowebhook",
		"integration", "sharinglog"} { // integration: issue 12
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		// Each page defines "title" and "content".
		if t, err = t.ParseFS(templateFiles, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	// Complaints (有诉即应).
	if err := parsePages(base, templateFiles, complaintPages, s.pages); err != nil {
		return nil, err
	}
	// Statistics (issue 10).
	if err := parsePages(base, templateFiles, statsPages, s.pages); err != nil {
		return nil, err
	}
	// 帮办代办 (assisted applications).
	if err := parsePages(base, templateFiles, assistPages, s.pages); err != nil {
		return nil, err
	}
	// 一件事一次办.
	if err := parsePages(base, templateFiles, bundlePages, s.pages); err != nil {
		return nil, err
	}
	// Module usage and the self-evaluation (绩效自评).
	if err := parsePages(base, templateFiles, []string{"usage", "evaluation"}, s.pages); err != nil {
		return nil, err
	}
	// The hall (预约, 取号叫号).
	if err := parsePages(base, templateFiles, hallPages, s.pages); err != nil {
		return nil, err
	}
	// 电子证照 (e-licences, issue 12).
	if err := parsePages(base, templateFiles, licencePages, s.pages); err != nil {
		return nil, err
	}
	return s, nil
}

// view is what every page template receives.
type view struct {
	SiteName string
	District region.Region
	Elder    bool
	Me       policy.Subject
	Back     string // this page's path and query, for forms that return here
	Nav      string
	NavIs    map[string]bool // {Nav: true}: the layout tests a field, not eq by reflection
	Query    string
	Data     any
}

// handle adapts a handler that returns an error: it resolves the session
// first, and the error becomes a page with the right status; only the
// server's own failures are logged.
func (s *Server) handle(fn func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return s.withSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			if apperr.Is(err, apperr.Unauthorized) && r.Method == http.MethodGet && requireSignIn(w, r, true) {
				return
			}
			s.Error(w, r, err)
		}
	})).ServeHTTP
}

// Error answers err as a page (or, under /api/, as JSON).
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	httpx.LogError(s.log, r, err)
	if httpx.IsAPI(r) {
		httpx.WriteJSONError(w, err)
		return
	}
	status := httpx.Status(err)
	title := http.StatusText(status)
	switch status {
	case http.StatusNotFound:
		title = "页面不存在"
	case http.StatusBadRequest:
		title = "请求有误"
	case http.StatusUnauthorized:
		title = "请先登录"
	case http.StatusForbidden:
		title = "无权访问"
	case http.StatusConflict:
		title = "内容已变化"
	case http.StatusRequestEntityTooLarge:
		title = "内容过大"
	case http.StatusTooManyRequests:
		title = "操作过于频繁"
	case http.StatusInternalServerError:
		title = "系统繁忙"
	case http.StatusServiceUnavailable:
		title = "服务暂不可用"
	}
	data := struct{ Title, Message, RequestID string }{title, apperr.MessageOf(err), httpx.RequestID(r.Context())}
	if rerr := s.render(w, r, status, "error", "", data); rerr != nil {
		http.Error(w, data.Message, status)
	}
}

// formError answers a refused step on a page with a form: the page again,
// with the error's message and the status httpx.Status gives it, so that
// what was typed is kept. An internal error goes to the error page
// instead: its message would hide the cause and the form cannot help.
func formError(err error, again func(status int, message string) error) error {
	if apperr.Is(err, apperr.Internal) {
		return err
	}
	return again(httpx.Status(err), apperr.MessageOf(err))
}

// myCaseRefused shows the applicant's case page again with why a step
// was refused.
func (s *Server) myCaseRefused(w http.ResponseWriter, r *http.Request, id int64, err error) error {
	return formError(err, func(status int, message string) error { return s.renderMyCase(w, r, status, id, message, "") })
}

// staffCaseRefused shows the staff case page again with why a step was
// refused.
func (s *Server) staffCaseRefused(w http.ResponseWriter, r *http.Request, id int64, err error) error {
	return formError(err, func(status int, message string) error { return s.renderStaffCase(w, r, status, id, message, "") })
}

// render executes a page into a buffer first, so that a failing template
// never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page, nav string, data any) error {
	v := view{Elder: elder(r), Me: subject(r), Back: r.URL.RequestURI(), Nav: nav, NavIs: navIs(nav), Query: strings.TrimSpace(r.URL.Query().Get("q")), Data: data}
	d, err := s.regions.District(r.Context())
	switch {
	case err == nil:
		v.District = d
		v.SiteName = d.Name + "政务服务网"
	case apperr.Is(err, apperr.NotFound),
		// The error page of a database outage is shown whole, with the
		// generic name (issue 13).
		page == "error" && apperr.Is(err, apperr.Unavailable):
		v.SiteName = "政务服务网"
	default:
		return err
	}
	buf := renderBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // a huge page's buffer is not kept
			buf.Reset()
			renderBufs.Put(buf)
		}
	}()
	if err := s.pages[page].ExecuteTemplate(buf, "layout", v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if w.Header().Get("Cache-Control") == "" { // a page may forbid storing it
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.WriteHeader(status)
	_, err = buf.WriteTo(w)
	return err
}

// navFlags holds one map[string]bool{nav: true} per navigation entry,
// shared by every view of it.
var navFlags sync.Map

func navIs(nav string) map[string]bool {
	if m, ok := navFlags.Load(nav); ok {
		return m.(map[string]bool)
	}
	m, _ := navFlags.LoadOrStore(nav, map[string]bool{nav: true})
	return m.(map[string]bool)
}

// renderBufs are the buffers pages are rendered into (whole, so that a
// failure shows the error page instead): growing a new one to a page's
// size on every view was a fifth of the search page's allocation.
var renderBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Elder reports whether r was made in 关怀模式, for the usage count.
func Elder(r *http.Request) bool { return elder(r) }

func elder(r *http.Request) bool {
	c, err := r.Cookie(elderCookie)
	return err == nil && c.Value == "1"
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	var data struct {
		Levels  []region.LevelCount
		Bureaus []region.Department
	}
	var err error
	if data.Levels, data.Bureaus, err = s.regions.Overview(r.Context()); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "home", "home", data)
}

// maxQueryRunes bounds a search: longer input is a mistake or an attack.
const maxQueryRunes = 50

func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	var results template.HTML
	status := http.StatusOK
	if strings.TrimSpace(r.URL.Query().Get("q")) != "" {
		sq, msg := readSearch(r)
		var err error
		if msg != "" {
			status = http.StatusBadRequest
			results, err = s.renderResults(searchResults{Error: msg})
		} else {
			results, err = s.searchResults(r, sq)
		}
		if err != nil {
			return err
		}
	}
	return s.render(w, r, status, "search", "search", results)
}

// searchResults is the search page's results, rendered apart from the
// page ("results" in search.html) from the search alone, so that they can
// be kept (resultCache): nothing of who asks goes into them.
type searchResults struct {
	Query       string
	Error       string
	Total       int
	Items       itemsPage
	Departments []region.Department
	Regions     []region.Region
}

// searchResults renders the results of sq, or takes them from the cache
// when the same search, for the same place, was rendered from the current
// index and region directory.
func (s *Server) searchResults(r *http.Request, sq searchQuery) (template.HTML, error) {
	place, err := s.place(r)
	if err != nil {
		return "", err
	}
	// The versions are read before the results are worked out, so that
	// the results are at least as new as the versions they are kept under.
	dir, err := s.regions.Version(r.Context())
	if err != nil {
		return "", err
	}
	at, key := [2]int64{s.searcher.Version(), dir}, sq.url(r.URL.Path, sq.Page)+"\x00"+place.Code
	if h, ok := s.results.get(at, key); ok {
		return h, nil
	}
	res := searchResults{Query: sq.Text}
	if res.Items, err = s.searchItems(r, sq, place); err != nil {
		return "", err
	}
	if res.Departments, err = s.regions.Departments(r.Context(), region.DepartmentFilter{Query: sq.Text}); err != nil {
		return "", err
	}
	if res.Regions, err = s.regions.Regions(r.Context(), region.RegionFilter{Query: sq.Text}); err != nil {
		return "", err
	}
	res.Total = res.Items.Total + len(res.Departments) + len(res.Regions)
	h, err := s.renderResults(res)
	if err != nil {
		return "", err
	}
	s.results.put(at, key, h)
	return h, nil
}

func (s *Server) renderResults(res searchResults) (template.HTML, error) {
	buf := renderBufs.Get().(*bytes.Buffer)
	defer func() {
		buf.Reset()
		renderBufs.Put(buf)
	}()
	if err := s.pages["search"].ExecuteTemplate(buf, "results", res); err != nil {
		return "", fmt.Errorf("render search results: %w", err)
	}
	return template.HTML(buf.String()), nil
}

type regionGroup struct {
	Region      region.Region
	Departments []region.Department
}

func (s *Server) level(w http.ResponseWriter, r *http.Request) error {
	l, err := region.ParseLevel(r.PathValue("level"))
	if err != nil {
		return apperr.New(apperr.NotFound, "没有这个层级。")
	}
	ctx := r.Context()
	regs, err := s.regions.Regions(ctx, region.RegionFilter{Level: l})
	if err != nil {
		return err
	}
	depts, err := s.regions.Departments(ctx, region.DepartmentFilter{Level: l})
	if err != nil {
		return err
	}
	byRegion := map[string][]region.Department{}
	for _, d := range depts {
		byRegion[d.RegionCode] = append(byRegion[d.RegionCode], d)
	}
	data := struct {
		Level     region.Level
		AllLevels []region.Level
		Groups    []regionGroup
	}{Level: l, AllLevels: region.Levels}
	for _, reg := range regs {
		data.Groups = append(data.Groups, regionGroup{Region: reg, Departments: byRegion[reg.Code]})
	}
	return s.render(w, r, http.StatusOK, "level", "", data)
}

func (s *Server) departments(w http.ResponseWriter, r *http.Request) error {
	type section struct {
		Title       string
		Departments []region.Department
	}
	var sections []section
	for _, k := range []region.DeptKind{region.ServiceCenter, region.Bureau, region.StreetCenter, region.CommunityStation} {
		depts, err := s.regions.Departments(r.Context(), region.DepartmentFilter{Kind: k})
		if err != nil {
			return err
		}
		if len(depts) > 0 {
			sections = append(sections, section{Title: k.Name(), Departments: depts})
		}
	}
	return s.render(w, r, http.StatusOK, "departments", "departments", sections)
}

func (s *Server) department(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "部门不存在。")
	}
	d, err := s.regions.Department(r.Context(), id)
	if err != nil {
		return err
	}
	reg, err := s.regions.Region(r.Context(), d.RegionCode)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "department", "departments", struct {
		Department region.Department
		Region     region.Region
	}{d, reg})
}

func (s *Server) region(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	reg, err := s.regions.Region(ctx, r.PathValue("code"))
	if err != nil {
		return err
	}
	var data struct {
		Region      region.Region
		Ancestors   []region.Region
		Children    []region.Region
		Departments []region.Department
	}
	data.Region = reg
	for p := reg.ParentCode; p != ""; {
		a, err := s.regions.Region(ctx, p)
		if err != nil {
			return err
		}
		data.Ancestors = append([]region.Region{a}, data.Ancestors...)
		p = a.ParentCode
	}
	if data.Children, err = s.regions.Regions(ctx, region.RegionFilter{Parent: reg.Code}); err != nil {
		return err
	}
	if data.Departments, err = s.regions.Departments(ctx, region.DepartmentFilter{Region: reg.Code}); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "region", "", data)
}

// setElder switches 关怀模式 on or off and goes back to the page the
// visitor was on. Only a local path is accepted as "back", so the form
// cannot be used to redirect elsewhere.
func (s *Server) setElder(w http.ResponseWriter, r *http.Request) error {
	on := r.PostForm.Get("on")
	if on != "0" && on != "1" {
		return apperr.New(apperr.Invalid, "关怀模式的开关值应为 0 或 1。")
	}
	c := &http.Cookie{Name: elderCookie, Value: on, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: int((365 * 24 * time.Hour).Seconds())}
	if on == "0" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
	http.Redirect(w, r, localPath(r.PostForm.Get("back")), http.StatusSeeOther)
	return nil
}

func localPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.Contains(p, "\\") {
		return "/"
	}
	return u.RequestURI()
}

// auditActions names the audit log's actions in Chinese.
var auditActions = map[string]string{"email_change": "设置通知邮箱", "person_at_counter": "窗口为申请人开设账户", "mobile_change": "更换手机号码", "department_update": "修改部门信息", "account_disable": "停用账户", "account_enable": "恢复账户", "signin": "登录", "signin_failed": "登录失败", "register": "注册", "signout_all": "退出所有设备",
	"password_change": "修改密码", "password_reset": "重置密码", "privacy_consent": "同意个人信息处理告知书", "staff_create": "开设工作人员账户", "role_change": "变更角色",
	"reveal": "查看完整个人信息", "assisted_apply": "帮办代办", "export": "导出", "enterprise_register": "登记企业", "agent_add": "添加经办人", "act_for": "切换办事身份",
	"rating": "评价服务", "rating_callback": "差评回访", "rating_rectify": "差评整改", "rating_appeal": "申诉差评", "rating_appeal_decide": "审核差评申诉", "rating_tablet": "配对窗口评价器",
	"calendar_set": "设置本地工作日历", "calendar_remove": "删除本地工作日历", "keys_rotate": "更换加密密钥",
	"item_save": "保存事项草稿", "item_submit": "提交事项审核", "item_return": "退回事项", "item_publish": "审核发布事项", "item_status": "变更事项状态"}

// CatalogImportPath takes whole catalog files.
const CatalogImportPath = "/admin/catalog/import"

// MaxMaterialBytes is the largest material file an applicant may upload.
const MaxMaterialBytes = casework.MaxMaterialBytes

// LargeBody is the body limit of the routes that take files: whole catalog
// files, and materials (a file plus the form around it). Other requests
// keep the server's default.
func LargeBody(r *http.Request) int64 {
	switch {
	case r.URL.Path == CatalogImportPath:
		return 64 << 20
	case (strings.HasPrefix(r.URL.Path, "/me/cases/") || strings.HasPrefix(r.URL.Path, "/workbench/cases/")) &&
		(strings.Contains(r.URL.Path, "/materials/") || strings.HasSuffix(r.URL.Path, "/complete")):
		return MaxMaterialBytes + 1<<20
	case strings.HasPrefix(r.URL.Path, "/assist/items/"):
		// 帮办代办: the consent form and the item's materials at once.
		return maxAssistFiles*MaxMaterialBytes + 1<<20
	case strings.HasPrefix(r.URL.Path, "/bundles/") && strings.HasSuffix(r.URL.Path, "/apply"):
		// 一件事一次办: the combined form with a file per merged material.
		return maxBundleBytes
	case r.URL.Path == "/admin/evaluation/entries":
		// A hand entry's evidence file (绩效自评).
		return MaxMaterialBytes + 1<<20
	case r.URL.Path == "/complaints" || r.URL.Path == "/complaints/code" || r.URL.Path == "/workbench/complaints/new":
		// A complaint's photos with the form around them.
		return maxComplaintPhotos*MaxMaterialBytes + 1<<20
	}
	return 0
}

// multiLineFields are the names of the <textarea> fields of the pages'
// own forms (templates/*.html; a test keeps the two in step). Every other
// field is one line, and httpx refuses line breaks in it.
var multiLineFields = map[string]bool{"basis": true, "conditions": true, "reason": true, "steps": true, "comment": true, "note": true, "what": true,
	"description": true, "answer": true, "intro": true}

// MultiLine reports whether field of r may hold line breaks: a textarea of
// a page's form, or a textarea answer of an item's application form (the
// item, named in the path, says which its are).
func (s *Server) MultiLine(r *http.Request, field string) bool {
	if multiLineFields[field] || surveyFieldMultiLine(r, field) {
		return true
	}
	idText, ok := strings.CutPrefix(r.URL.Path, "/assist/items/") // 帮办代办's application
	if !ok {
		rest, isItem := strings.CutPrefix(r.URL.Path, "/items/")
		if !isItem {
			return false
		}
		idText, ok = strings.CutSuffix(rest, "/apply")
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil {
		return false
	}
	it, err := s.catalog.PublishedRecent(r.Context(), id)
	return err == nil && it.MultiLine(field)
}

// changeNames names the catalog's history actions.
var changeNames = map[string]string{"create": "新建", "edit": "修改", "submit": "提交审核", "return": "审核退回", "publish": "审核通过并发布",
	"suspend": "暂停办理", "resume": "恢复办理", "cancel": "取消"}

// signInMethods names the ways of signing in.
var signInMethods = map[string]string{"register": "注册", "code": "短信验证码", "password": "密码", "staff": "工作人员密码", "oidc": "统一身份认证"}

// hotWords are offered under the search box: what people most often look for.
var hotWords = []string{"社保", "营业执照", "低保", "居住证", "生育登记", "身份证"}

// dueClass colours a deadline's state: 预警 yellow, 超期 red.
func dueClass(s calendar.Status) string {
	switch s {
	case calendar.Warning:
		return "badge warning"
	case calendar.Overdue:
		return "badge overdue"
	}
	return "badge"
}

func levelName(l int) string { return region.Level(l).Name() }

// lines splits a text into its paragraphs, for guides written with line breaks.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) readiness(w http.ResponseWriter, r *http.Request) error {
	rd, err := s.catalog.Readiness(r.Context())
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "readiness", "readiness", rd)
}

var chinaTZ = time.FixedZone("CST", 8*3600)

// formatTime shows a time in Beijing time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(chinaTZ).Format("2006-01-02 15:04:05")
}
