// Package open311 serves Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2)
// at /open311/v2/, over the complaints of package complaint (有诉即应):
// services are complaint categories, service requests are complaints as
// anyone may read them — without the complainant's personal data — and
// a client holding an API key with the open311 scope (package apikey)
// files new ones. mySociety's servicerequestupdates extension lists the
// public entries of the complaints' progress logs. docs/OPEN311.md is
// the integrator's guide; package georeport is the wire format.
package open311

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/open311/georeport"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
)

// Prefix is where the endpoint is served.
const Prefix = "/open311/v2/"

// IsOpen311 reports whether r is a request to the endpoint, for the
// middleware to answer its refusals in the specification's error body.
func IsOpen311(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, Prefix) }

// Deps are what the endpoint serves from.
type Deps struct {
	Complaints *complaint.Service
	Keys       *apikey.Service
	Regions    *region.Store
	Clock      clock.Clock
	Log        *slog.Logger
	// PublicURL is the site's address, for discovery's endpoint URL.
	PublicURL string
	// Test marks the endpoint "test" in discovery (the demo): what is filed
	// there is not acted upon.
	Test bool
}

// Handler serves the endpoint.
type Handler struct {
	complaints *complaint.Service
	keys       *apikey.Service
	regions    *region.Store
	clock      clock.Clock
	log        *slog.Logger
	publicURL  string
	test       bool
}

// New returns the endpoint.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Handler{complaints: d.Complaints, keys: d.Keys, regions: d.Regions, clock: d.Clock, log: d.Log,
		publicURL: strings.TrimRight(d.PublicURL, "/"), test: d.Test}
}

// handler is one resource: it answers in format or returns an error,
// which Register answers in the specification's error body.
type handler func(w http.ResponseWriter, r *http.Request, format string) error

// Register mounts the endpoint on mux. A resource with a fixed name has a
// pattern per format (so metrics count them apart); one named by an id
// has one pattern, and the format is cut from the id.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, f := range []string{georeport.JSON, georeport.XML} {
		mux.Handle("GET "+Prefix+"discovery."+f, h.fixed(f, h.discovery))
		mux.Handle("GET "+Prefix+"services."+f, h.fixed(f, h.services))
		mux.Handle("GET "+Prefix+"requests."+f, h.fixed(f, h.requests))
		mux.Handle("POST "+Prefix+"requests."+f, h.fixed(f, h.create))
		mux.Handle("GET "+Prefix+"servicerequestupdates."+f, h.fixed(f, h.updates))
	}
	mux.Handle("GET "+Prefix+"services/{file}", h.named(h.definition))
	mux.Handle("GET "+Prefix+"requests/{file}", h.named(h.request))
	mux.Handle("GET "+Prefix+"tokens/{file}", h.named(h.token))
}

func (h *Handler) fixed(format string, fn handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r, format); err != nil {
			WriteError(h.log, w, r, err)
		}
	})
}

// named serves services/{code}.xml and the like: the name, without its
// format, is in the request's "name" value.
func (h *Handler) named(fn handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, format, ok := georeport.SplitFormat(r.PathValue("file"))
		if !ok {
			WriteError(h.log, w, r, apperr.New(apperr.NotFound, "没有这个资源：地址应以 .xml 或 .json 结尾。"))
			return
		}
		r.SetPathValue("name", name)
		if err := fn(w, r, format); err != nil {
			WriteError(h.log, w, r, err)
		}
	})
}

// WriteError answers err in the specification's error body and status,
// in the format the path asks for (XML when it names none). The
// middleware calls it too, for requests it refuses before a handler.
func WriteError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	httpx.LogError(log, r, err)
	msg := apperr.MessageOf(err)
	if httpx.Status(err) >= 500 {
		// A general service error: the client is to report it, quoting this.
		msg = fmt.Sprintf("%s（请求编号 %s）", msg, httpx.RequestID(r.Context()))
	}
	st := georeport.Status(err)
	if werr := georeport.Write(w, georeport.FormatOf(r.URL.Path), st, georeport.Errors(georeport.Error{Code: st, Description: msg})); werr != nil {
		log.ErrorContext(r.Context(), "open311: write error", "err", werr)
	}
}

// param is a parameter of the query or the posted form, trimmed; empty is
// absent.
func param(r *http.Request, name string) string { return strings.TrimSpace(r.FormValue(name)) }

// discovery says where the endpoint is, which formats it speaks and how
// to get a key. Its changeset moves when the services change.
func (h *Handler) discovery(w http.ResponseWriter, r *http.Request, format string) error {
	at, err := h.complaints.CategoriesChanged(r.Context())
	if err != nil {
		return err
	}
	changed := string(georeport.W3(at))
	kind := "production"
	if h.test {
		kind = "test"
	}
	d := georeport.Discovery{Changeset: changed, Contact: "请联系本区政务服务管理部门（12345 政务服务便民热线）。",
		KeyService: "接口密钥（api_key）由平台系统管理员用 zwfw apikey create 开设，见 docs/OPEN311.md。",
		Endpoints: []georeport.Endpoint{{Specification: georeport.Specification, URL: h.publicURL + strings.TrimSuffix(Prefix, "/"),
			Changeset: changed, Type: kind, Formats: georeport.Formats}}}
	return georeport.Write(w, format, http.StatusOK, d)
}

// group is what every service is grouped under.
const group = "有诉即应"

// service is a category as a service: realtime, with no more fields to
// ask for than a request's own.
func service(c complaint.Category) georeport.Service {
	return georeport.Service{Code: c.Code, Name: c.Name, Description: georeport.Text(c.Description), Metadata: false,
		Type: "realtime", Keywords: georeport.Text(strings.Join(keywords(c.Description), ",")), Group: group}
}

// keywords are what a category's description lists it is for, before
// its "等": "停水、停电、燃气、供暖等公用事业诉求" gives 停水, 停电, 燃气, 供暖.
func keywords(description string) []string {
	before, _, ok := strings.Cut(description, "等")
	if !ok {
		return nil
	}
	var out []string
	for _, k := range strings.Split(before, "、") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

func (h *Handler) services(w http.ResponseWriter, r *http.Request, format string) error {
	cats, err := h.complaints.Categories(r.Context(), false)
	if err != nil {
		return err
	}
	out := make([]georeport.Service, 0, len(cats))
	for _, c := range cats {
		out = append(out, service(c))
	}
	return georeport.Write(w, format, http.StatusOK, georeport.Services(out))
}

// category is the active category of a service_code, or 404.
func (h *Handler) category(ctx context.Context, code string) (complaint.Category, error) {
	c, err := h.complaints.CategoryByCode(ctx, code)
	if apperr.CodeOf(err) == apperr.NotFound || err == nil && !c.Active {
		return c, apperr.New(apperr.NotFound, fmt.Sprintf("没有 service_code 为 %q 的服务。", code))
	}
	return c, err
}

// definition is a service's definition. No service asks for more than
// the request's own fields (metadata false), so its attributes are none.
func (h *Handler) definition(w http.ResponseWriter, r *http.Request, format string) error {
	c, err := h.category(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return georeport.Write(w, format, http.StatusOK, georeport.ServiceDefinition{Code: c.Code, Attributes: []georeport.Attribute{}})
}

// status maps the complaint statuses to the specification's two: a
// complaint is closed once its unit has replied (办结答复) — the unit's
// work is done, and status_notes says whether the person has confirmed —
// and open again if the person reopens it.
func status(s complaint.Status) string {
	if s == complaint.Replied || s == complaint.Closed {
		return georeport.Closed
	}
	return georeport.Open
}

// statuses are the complaint statuses of an Open311 status.
func statuses(s string) ([]complaint.Status, bool) {
	switch s {
	case georeport.Open:
		return []complaint.Status{complaint.Pending, complaint.Dispatched, complaint.Handling}, true
	case georeport.Closed:
		return []complaint.Status{complaint.Replied, complaint.Closed}, true
	}
	return nil, false
}

// notice is the service_notice: the category's limits, as the platform
// promises them.
func notice(c complaint.Category) string {
	return fmt.Sprintf("本类诉求 %s内派单签收，%s内答复。", c.Dispatch, c.Feedback)
}

// request is a complaint as the specification's request: its number is
// the service_request_id; expected_datetime is the feedback limit
// (反馈时限) of its category counted from when it came in; the public
// view holds no personal data, so neither does this.
func request(p complaint.Public, cat complaint.Category) georeport.Request {
	notes := p.StatusName
	if p.Notice != "" {
		notes += "：" + p.Notice
	}
	return georeport.Request{ID: p.Number, Status: status(p.Status), StatusNotes: georeport.Text(notes), ServiceName: p.Category,
		ServiceCode: p.CategoryCode, Description: georeport.Text(p.Description), AgencyResponsible: georeport.Text(p.Department),
		ServiceNotice: georeport.Text(notice(cat)), Requested: georeport.W3(p.CreatedAt), Updated: georeport.W3(p.UpdatedAt),
		Expected: georeport.W3(p.FeedbackDue), Address: georeport.Text(p.Address), Lat: georeport.Coord(p.Lat), Long: georeport.Coord(p.Lng)}
}

// inclusive makes a period's end, which the specification includes, the
// bound the complaint reads exclude: times are stored to the microsecond.
const inclusive = time.Microsecond

// maxRequests is the most requests one answer lists: the specification's
// default limit, "90 days or the first 1000 requests, whichever is smaller".
const maxRequests = 1000

// maxIDs is how many service_request_ids one query may name.
const maxIDs = 100

// requests lists requests: by id, when service_request_id is given (it
// "overrides all other arguments"), else by service_code, status and the
// period of requested_datetime (the last 90 days by default), newest
// first, at most maxRequests.
func (h *Handler) requests(w http.ResponseWriter, r *http.Request, format string) error {
	ctx := r.Context()
	q := r.URL.Query()
	var f complaint.Filter
	var codes []string
	if ids := georeport.CommaList(q["service_request_id"]); len(ids) > 0 {
		if len(ids) > maxIDs {
			return georeport.Invalid("service_request_id 一次最多 %d 个。", maxIDs)
		}
		f.Numbers = ids
	} else {
		p, err := georeport.ParsePeriod(q.Get("start_date"), q.Get("end_date"), h.clock.Now(), georeport.MaxSpan)
		if err != nil {
			return err
		}
		f.Since, f.Until = p.Start, p.End.Add(inclusive)
		for _, s := range georeport.CommaList(q["status"]) {
			st, ok := statuses(s)
			if !ok {
				return georeport.Invalid("参数 status 只能是 open 或 closed，收到 %q。", s)
			}
			f.Status = append(f.Status, st...)
		}
		codes = georeport.CommaList(q["service_code"])
	}
	list, err := h.list(ctx, f, codes)
	if err != nil {
		return err
	}
	return georeport.Write(w, format, http.StatusOK, georeport.Requests(list))
}

// list reads the requests of f, in each of the categories of codes (all
// when none), newest first, at most maxRequests.
func (h *Handler) list(ctx context.Context, f complaint.Filter, codes []string) ([]georeport.Request, error) {
	cats, err := h.complaints.Categories(ctx, true)
	if err != nil {
		return nil, err
	}
	byCode := map[string]complaint.Category{}
	for _, c := range cats {
		byCode[c.Code] = c
	}
	var ids []int64
	for _, code := range codes {
		c, ok := byCode[code]
		if !ok {
			return nil, georeport.Invalid("参数 service_code 中的 %q 不是本平台的服务。", code)
		}
		ids = append(ids, c.ID)
	}
	var pubs []complaint.Public
	if len(ids) == 0 {
		ids = []int64{0}
	}
	for _, id := range ids {
		f.CategoryID = id
		page, err := h.complaints.PublicPage(ctx, f, maxRequests)
		if err != nil {
			return nil, err
		}
		pubs = append(pubs, page...)
	}
	if len(codes) > 1 {
		slices.SortStableFunc(pubs, func(a, b complaint.Public) int { return b.CreatedAt.Compare(a.CreatedAt) })
		if len(pubs) > maxRequests {
			pubs = pubs[:maxRequests]
		}
	}
	out := make([]georeport.Request, 0, len(pubs))
	for _, p := range pubs {
		out = append(out, request(p, byCode[p.CategoryCode]))
	}
	return out, nil
}

// request is one request by its service_request_id, the complaint's number.
func (h *Handler) request(w http.ResponseWriter, r *http.Request, format string) error {
	p, cat, err := h.one(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return georeport.Write(w, format, http.StatusOK, georeport.Requests([]georeport.Request{request(p, cat)}))
}

func (h *Handler) one(ctx context.Context, number string) (complaint.Public, complaint.Category, error) {
	p, err := h.complaints.PublicView(ctx, number)
	if apperr.CodeOf(err) == apperr.NotFound {
		return p, complaint.Category{}, apperr.New(apperr.NotFound, fmt.Sprintf("没有 service_request_id 为 %q 的请求。", number))
	}
	if err != nil {
		return p, complaint.Category{}, err
	}
	cat, err := h.complaints.CategoryByCode(ctx, p.CategoryCode)
	return p, cat, err
}

// token answers GET tokens/{token}. Every service here is realtime: POST
// returns the service_request_id at once and never a token. A client
// written for batch servers that asks anyway with the id it holds gets
// it back, confirmed; any other token is not found.
func (h *Handler) token(w http.ResponseWriter, r *http.Request, format string) error {
	p, _, err := h.one(r.Context(), r.PathValue("name"))
	if apperr.CodeOf(err) == apperr.NotFound {
		return apperr.New(apperr.NotFound, fmt.Sprintf("没有 token 为 %q 的请求（本平台的服务均为 realtime，提交后直接返回 service_request_id）。", r.PathValue("name")))
	}
	if err != nil {
		return err
	}
	return georeport.Write(w, format, http.StatusOK, georeport.Tokens(georeport.Token{ID: p.Number, Token: p.Number}))
}

// create files a complaint for a client with a key of the open311 scope:
// service_code, a location (lat and long, or address_string), the
// description, and the person's name and phone, so that the unit can
// call them back. The key is checked first: without a good one nothing
// else is looked at (403).
func (h *Handler) create(w http.ResponseWriter, r *http.Request, format string) error {
	ctx := r.Context()
	key, err := h.keys.Authenticate(ctx, param(r, "api_key"), policy.ScopeOpen311)
	if err != nil {
		return err
	}
	n, cat, err := h.filing(ctx, r)
	if err != nil {
		return err
	}
	meta := audit.Meta{IP: httpx.ClientIP(ctx), Client: "open311 " + key.Prefix}
	c, _, err := h.complaints.Create(ctx, key.Subject(), meta, n)
	if err != nil {
		return err
	}
	return georeport.Write(w, format, http.StatusOK, georeport.CreatedList(georeport.Created{ID: c.Number, ServiceNotice: georeport.Text(notice(cat))}))
}

// filing reads a POST into a complaint's filing: the service_code's
// category here, then the other parameters (georeport.ReadSubmission,
// fuzzed where no database is linked).
func (h *Handler) filing(ctx context.Context, r *http.Request) (complaint.Filing, complaint.Category, error) {
	var n complaint.Filing
	code := param(r, "service_code")
	if code == "" {
		return n, complaint.Category{}, georeport.Invalid("缺少参数 service_code（服务代码，见 services.xml）。")
	}
	cat, err := h.category(ctx, code)
	if err != nil {
		return n, cat, err
	}
	sub, err := georeport.ReadSubmission(func(name string) string { return param(r, name) })
	if err != nil {
		return n, cat, err
	}
	n = complaint.Filing{CategoryID: cat.ID, Title: sub.Title, Description: sub.Description, Address: sub.Address,
		Lat: sub.Lat, Lng: sub.Long, Name: sub.Name, Mobile: sub.Phone}
	district, err := h.regions.District(ctx)
	if err != nil {
		return n, cat, err
	}
	// No geocoding: the complaint is the district's, and the dispatcher
	// (or the district's routing rule) sends it on.
	n.RegionCode = district.Code
	return n, cat, nil
}

// maxUpdates is the most updates one answer lists.
const maxUpdates = 1000

// updates is mySociety's GET servicerequestupdates: the public entries
// of the progress logs made in the period (start_date, end_date; the
// last day by default, at most 90 days), oldest first, at most
// maxUpdates. Each has its own update_id, the request's id, the status
// after it, its time and what it said.
func (h *Handler) updates(w http.ResponseWriter, r *http.Request, format string) error {
	q := r.URL.Query()
	p, err := georeport.ParsePeriod(q.Get("start_date"), q.Get("end_date"), h.clock.Now(), 24*time.Hour)
	if err != nil {
		return err
	}
	evs, err := h.complaints.PublicUpdates(r.Context(), p.Start, p.End.Add(inclusive), maxUpdates)
	if err != nil {
		return err
	}
	out := make([]georeport.Update, 0, len(evs))
	for _, e := range evs {
		out = append(out, georeport.Update{ID: fmt.Sprint(e.ID), RequestID: e.Number, Status: status(e.Status), Updated: georeport.W3(e.At),
			Description: e.Action + detail(e.Detail)})
	}
	return georeport.Write(w, format, http.StatusOK, georeport.Updates(out))
}

func detail(d string) string {
	if d == "" {
		return ""
	}
	return "：" + d
}
