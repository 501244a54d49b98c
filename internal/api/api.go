// Package api is the versioned JSON API under /api/v1/, described by the
// OpenAPI 3.1 document served at /api/openapi.json. Every route is listed
// in one table, and a test checks the table and the document against
// each other, so that the description stays true to the code.
package api

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/hall"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/licence"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/stats"
	"github.com/zwfw/zwfw/internal/survey"
	"github.com/zwfw/zwfw/internal/webhook"
)

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the API's OpenAPI 3.1 document.
func OpenAPI() []byte { return openAPIDocument }

// API serves the JSON API.
type API struct {
	log          *slog.Logger
	regions      *region.Store
	catalog      *catalog.Store
	searcher     *catalog.Searcher
	cases        *casework.Service
	files        filestore.Store
	ratings      *rating.Service
	authenticate Authenticator
	complaints   *complaint.Service // 有诉即应; nil: its operations answer unavailable
	// Boards and surveys (表扬台, 曝光台, 问卷).
	boards  *board.Service
	surveys *survey.Service
	// Statistics (issue 10); nil: its operations answer unavailable.
	stats *stats.Service
	// The hall (预约, 取号叫号); nil: its operations answer unavailable.
	halls *hall.Service
	// 一件事一次办; nil: its operations answer unavailable.
	bundles *bundle.Service
	// 电子证照 (e-licences, issue 12); nil: verification answers unavailable.
	licences *licence.Service
	// Integration (issue 12, integration.go); nil: its operations answer unavailable.
	integration     *integration.Service
	clientApplicant ClientApplicantFunc
	// Webhooks: clients keep their own subscriptions (integration_shared.go).
	webhooks *webhook.Service
}

// Authenticator resolves a session token to who holds it.
type Authenticator func(ctx context.Context, token string) (policy.Subject, error)

// Deps are the services the API serves from.
type Deps struct {
	Log          *slog.Logger
	Regions      *region.Store
	Catalog      *catalog.Store
	Searcher     *catalog.Searcher
	Cases        *casework.Service
	Files        filestore.Store
	Ratings      *rating.Service // 好差评; nil: its routes answer unavailable
	Authenticate Authenticator
	Complaints   *complaint.Service
	// Boards and surveys (表扬台, 曝光台, 问卷).
	Boards  *board.Service
	Surveys *survey.Service
	// Statistics (issue 10).
	Stats *stats.Service
	// The hall (预约, 取号叫号).
	Halls *hall.Service
	// 一件事一次办 (bundles.go).
	Bundles *bundle.Service
	// 电子证照 (e-licences, issue 12).
	Licences *licence.Service
	// Integration (issue 12): API clients, the directory and the access log.
	Integration     *integration.Service
	ClientApplicant ClientApplicantFunc
	// Webhooks (issue 12): clients keep their own subscriptions; nil: those
	// operations answer unavailable.
	Webhooks *webhook.Service
}

// New returns the API over its services.
func New(d Deps) *API {
	return &API{log: d.Log, regions: d.Regions, catalog: d.Catalog, searcher: d.Searcher, cases: d.Cases, files: d.Files, ratings: d.Ratings, authenticate: d.Authenticate,
		complaints: d.Complaints, boards: d.Boards, surveys: d.Surveys, stats: d.Stats,
		halls: d.Halls, bundles: d.Bundles, licences: d.Licences,
		integration: d.Integration, clientApplicant: d.ClientApplicant, webhooks: d.Webhooks}
}

// Route is one API operation. Path uses ServeMux wildcards, which are
// also OpenAPI's path templates.
type Route struct {
	Method string
	Path   string
	handle func(w http.ResponseWriter, r *http.Request) error
}

// Routes is the table of every /api/v1/ operation.
func (a *API) Routes() []Route {
	return []Route{
		{"GET", "/api/v1/district", a.district},
		{"GET", "/api/v1/regions", a.listRegions},
		{"GET", "/api/v1/regions/{code}", a.getRegion},
		{"GET", "/api/v1/departments", a.listDepartments},
		{"GET", "/api/v1/departments/{id}", a.getDepartment},
		{"GET", "/api/v1/items", a.listItems},
		{"GET", "/api/v1/items/{id}", a.getItem},
		{"POST", CasesPath, a.createCase},
		{"GET", CasesPath + "/{id}", a.getCase},
		// 好差评 (ratings.go).
		{"GET", "/api/v1/ratings/rates", a.ratingRates},
		{"GET", "/api/v1/me/ratings", a.myRatingInvitations},
		{"POST", "/api/v1/me/ratings/{id}", a.rate},
		// Complaints (有诉即应): the 12345 hotline's 工单 and the statistics.
		{"GET", "/api/v1/complaint-categories", a.complaintCategories},
		{"POST", ComplaintsPath, a.createComplaint},
		{"GET", ComplaintsPath + "/stats", a.complaintStats},
		{"GET", ComplaintsPath + "/{number}", a.getComplaint},
		// Boards and surveys (表扬台, 曝光台, 问卷).
		{"GET", "/api/v1/boards/{board}", a.listBoard},
		{"GET", "/api/v1/boards/{board}/{id}", a.getBoardEntry},
		{"GET", "/api/v1/surveys/{id}", a.getSurvey},
		{"POST", "/api/v1/surveys/{id}/answers", a.answerSurvey},
		// Statistics (统计分析, stats.go).
		{"GET", "/api/v1/stats/summary", a.statsSummary},
		{"GET", "/api/v1/stats/table", a.statsTable},
		{"GET", "/api/v1/stats/public", a.statsPublic},
		// The hall (预约, 取号叫号; halls.go): slots, booking and
		// cancelling for people, and each hall's screen feed.
		{"GET", "/api/v1/halls/{hall}/slots", a.hallSlots},
		{"GET", "/api/v1/halls/{hall}/screen", a.hallScreen},
		{"GET", BookingsPath, a.myBookings},
		{"POST", BookingsPath, a.book},
		{"POST", BookingsPath + "/{id}/cancel", a.cancelBooking},
		// 一件事一次办 (bundles.go).
		{"GET", "/api/v1/bundles", a.listBundles},
		{"GET", "/api/v1/bundles/{id}", a.getBundle},
		{"POST", BundleApplyPath, a.applyBundle},
		{"GET", "/api/v1/me/bundles/{id}", a.getBundleApplication},
		// 电子证照 (licences.go).
		{"GET", "/api/v1/licences/verify", a.verifyLicence},
		// Integration (issue 12, integration.go): other systems, by API client key.
		{"GET", IntegrationPath + "/items/{id}", a.client(policy.ScopeCatalogRead, a.integrationItem)},
		{"POST", IntegrationPath + "/cases", a.client(policy.ScopeCasesCreate, a.integrationApply)},
		{"GET", IntegrationPath + "/cases/{number}", a.client(policy.ScopeResultsRead, a.integrationCase)},
		{"POST", IntegrationPath + "/cases/{number}/steps", a.client(policy.ScopeCasesStatus, a.integrationStep)},
		{"PUT", IntegrationPath + "/cases/{number}/result", a.client(policy.ScopeResultsAttach, a.integrationAttachResult)},
		{"GET", IntegrationPath + "/cases/{number}/result", a.client(policy.ScopeResultsRead, a.integrationResult)},
		// Integration, continued (integration_shared.go): complaints and
		// ratings, and the client's own webhook subscriptions (any client
		// key; which events, its scopes decide).
		{"GET", IntegrationPath + "/complaints/{number}", a.client(policy.ScopeComplaints, a.integrationComplaint)},
		{"GET", IntegrationPath + "/ratings", a.client(policy.ScopeRatings, a.integrationRatings)},
		{"GET", IntegrationPath + "/webhooks", a.client("", a.integrationWebhooks)},
		{"POST", IntegrationPath + "/webhooks", a.client("", a.integrationSubscribe)},
		{"GET", IntegrationPath + "/webhooks/{id}", a.client("", a.integrationWebhook)},
		{"PATCH", IntegrationPath + "/webhooks/{id}", a.client("", a.integrationUpdateWebhook)},
		{"DELETE", IntegrationPath + "/webhooks/{id}", a.client("", a.integrationDeleteWebhook)},
		{"POST", IntegrationPath + "/webhooks/{id}/rotate", a.client("", a.integrationRotateWebhook)},
		{"GET", IntegrationPath + "/webhooks/{id}/deliveries", a.client("", a.integrationDeliveries)},
		{"POST", IntegrationPath + "/webhooks/{id}/deliveries/{delivery}/redeliver", a.client("", a.integrationRedeliver)},
	}
}

// Register adds the API to mux.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range a.Routes() {
		handle := rt.handle
		mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
			if err := handle(w, r); err != nil {
				httpx.LogError(a.log, r, err)
				httpx.WriteJSONError(w, err)
			}
		})
	}
	mux.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(openAPIDocument)
	})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSONError(w, apperr.New(apperr.NotFound, "没有这个接口："+r.Method+" "+r.URL.Path))
	})
}

type list[T any] struct {
	Items []T `json:"items"`
}

func items[T any](xs []T) list[T] {
	if xs == nil {
		xs = []T{}
	}
	return list[T]{Items: xs}
}

type levelCount struct {
	Level       region.Level `json:"level"`
	Slug        string       `json:"slug"`
	Name        string       `json:"name"`
	Regions     int          `json:"regions"`
	Departments int          `json:"departments"`
}

func (a *API) district(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	d, err := a.regions.District(ctx)
	if err != nil {
		return err
	}
	out := struct {
		region.Region
		Levels []levelCount `json:"levels"`
	}{Region: d}
	for _, l := range region.Levels {
		regs, err := a.regions.Regions(ctx, region.RegionFilter{Level: l})
		if err != nil {
			return err
		}
		depts, err := a.regions.Departments(ctx, region.DepartmentFilter{Level: l})
		if err != nil {
			return err
		}
		out.Levels = append(out.Levels, levelCount{l, l.Slug(), l.Name(), len(regs), len(depts)})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func levelParam(r *http.Request) (region.Level, error) {
	v := r.URL.Query().Get("level")
	if v == "" {
		return 0, nil
	}
	return region.ParseLevel(v)
}

func queryParam(r *http.Request) (string, error) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if utf8.RuneCountInString(q) > 50 {
		return "", apperr.New(apperr.Invalid, "搜索词不能超过50个字")
	}
	return q, nil
}

func (a *API) listRegions(w http.ResponseWriter, r *http.Request) error {
	l, err := levelParam(r)
	if err != nil {
		return err
	}
	q, err := queryParam(r)
	if err != nil {
		return err
	}
	regs, err := a.regions.Regions(r.Context(), region.RegionFilter{Level: l, Parent: r.URL.Query().Get("parent"), Query: q})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, items(regs))
	return nil
}

func (a *API) getRegion(w http.ResponseWriter, r *http.Request) error {
	reg, err := a.regions.Region(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, reg)
	return nil
}

func (a *API) listDepartments(w http.ResponseWriter, r *http.Request) error {
	l, err := levelParam(r)
	if err != nil {
		return err
	}
	q, err := queryParam(r)
	if err != nil {
		return err
	}
	f := region.DepartmentFilter{Level: l, Query: q, Region: r.URL.Query().Get("region"), Within: r.URL.Query().Get("within")}
	if k := r.URL.Query().Get("kind"); k != "" {
		f.Kind = region.DeptKind(k)
		if f.Kind.Name() == "其他" {
			return apperr.New(apperr.Invalid, "部门类型应为 center、bureau、street_center 或 community_station")
		}
	}
	depts, err := a.regions.Departments(r.Context(), f)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, items(depts))
	return nil
}

func (a *API) getDepartment(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.Invalid, "部门编号应为整数")
	}
	d, err := a.regions.Department(r.Context(), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}

// itemSummary is an item in a search result.
type itemSummary struct {
	ID           int64             `json:"id"`
	Name         string            `json:"name"`
	Department   string            `json:"department"`
	Level        int               `json:"level"`
	Type         catalog.ItemType  `json:"type"`
	Depth        catalog.Depth     `json:"depth"`
	CaseKind     catalog.CaseKind  `json:"case_kind"`
	Visits       int               `json:"visits"`
	PromiseLimit catalog.TimeLimit `json:"promise_limit"`
	Suspended    bool              `json:"suspended"`
	Highlights   [][2]int          `json:"highlights"`
	MatchedBy    string            `json:"matched_by"`
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, apperr.New(apperr.Invalid, fmt.Sprintf("参数 %s 应为 %d 到 %d 的整数", name, lo, hi))
	}
	return n, nil
}

func (a *API) listItems(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParam(r)
	if err != nil {
		return err
	}
	l, err := levelParam(r)
	if err != nil {
		return err
	}
	f := catalog.Filter{Level: int(l), Department: r.URL.Query().Get("department"), Theme: r.URL.Query().Get("theme"),
		Subject: r.URL.Query().Get("subject")}
	if v := r.URL.Query().Get("type"); v != "" {
		if f.Type = catalog.ItemType(v); f.Type.Name() == "" {
			return apperr.New(apperr.Invalid, "事项类型代码无效")
		}
	}
	depth, err := intParam(r, "depth", 0, 0, 4)
	if err != nil {
		return err
	}
	f.Depth = catalog.Depth(depth)
	limit, err := intParam(r, "limit", 20, 1, 100)
	if err != nil {
		return err
	}
	offset, err := intParam(r, "offset", 0, 0, 100000)
	if err != nil {
		return err
	}
	res := a.searcher.Search(q, f, offset, limit)
	out := struct {
		Total     int           `json:"total"`
		Offset    int           `json:"offset"`
		Limit     int           `json:"limit"`
		Corrected string        `json:"corrected,omitempty"`
		Items     []itemSummary `json:"items"`
	}{Total: res.Total, Offset: offset, Limit: limit, Corrected: res.Corrected, Items: []itemSummary{}}
	for _, h := range res.Hits {
		marks := h.NameMarks
		if marks == nil {
			marks = [][2]int{}
		}
		out.Items = append(out.Items, itemSummary{ID: h.ID, Name: h.Name, Department: h.Department, Level: h.Level,
			Type: h.Type, Depth: h.Depth, CaseKind: h.CaseKind, Visits: h.Visits, PromiseLimit: h.PromiseLimit,
			Suspended: h.Suspended, Highlights: marks, MatchedBy: h.Via})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getItem(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.Invalid, "事项编号应为整数")
	}
	it, reason, err := a.catalog.Published(r.Context(), id)
	if err != nil {
		return err
	}
	out := struct {
		catalog.Item
		SuspendedReason string `json:"suspended_reason,omitempty"`
	}{it, reason}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}
