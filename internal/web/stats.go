package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/stats"
)

// Statistics and dashboards (统计分析, issue 10): the dashboards with their
// filters, the cases behind each figure, the exports, the hall screen
// (大屏) and the public figures. The case figures come from internal/stats;
// the complaint, rating and survey figures from their own services.

// statsPages are the templates of the statistics pages.
var statsPages = []string{"stats", "statscases", "statsscreen", "statspublic"}

// statsViewer lets in whoever has a view of the statistics
// (policy.StatsScope): administrators, supervisors, a unit's staff.
var statsViewer = guard{name: "statistics", staff: true, allow: func(who policy.Subject) error {
	if _, _, ok := policy.StatsScope(who); !ok {
		return apperr.New(apperr.Forbidden, "统计分析只对工作人员开放。")
	}
	return nil
}}

// statsQuery is a dashboard's filter as the URL carries it.
type statsQuery struct {
	stats.Filter
	By     stats.Dimension
	Figure string // the drill-down's figure
	After  string // the drill-down's cursor
	Values url.Values
}

// parseStats reads the filter; a malformed one is refused with what is
// wrong, before anything is read.
func parseStats(r *http.Request) (statsQuery, error) {
	q := r.URL.Query()
	sq := statsQuery{Filter: stats.Filter{From: q.Get("from"), To: q.Get("to"), Region: q.Get("region"), Channel: q.Get("channel")},
		By: stats.Dimension(q.Get("by")), Figure: q.Get("figure"), After: q.Get("after"), Values: url.Values{}}
	if sq.By == "" {
		sq.By = stats.ByMonth
	}
	if stats.DimensionName(sq.By) == "" {
		return sq, apperr.New(apperr.Invalid, "未知的统计维度。")
	}
	for _, n := range []struct {
		name string
		into *int64
	}{{"department", &sq.DepartmentID}, {"item", &sq.ItemID}} {
		if v := q.Get(n.name); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				return sq, apperr.New(apperr.Invalid, "部门或事项筛选无效。")
			}
			*n.into = id
		}
	}
	if v := q.Get("level"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil {
			return sq, apperr.New(apperr.Invalid, "层级应为区级、街道级或社区级。")
		}
		sq.Level = l
	}
	if err := sq.Check(); err != nil {
		return sq, err
	}
	for _, k := range []string{"from", "to", "level", "region", "department", "item", "channel"} {
		if v := q.Get(k); v != "" {
			sq.Values.Set(k, v)
		}
	}
	return sq, nil
}

// link is the address of path with the filter and extra parameters.
func (q statsQuery) link(path string, extra ...string) string {
	v := url.Values{}
	for k, vs := range q.Values {
		v[k] = vs
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// Cases is the drill-down of a figure in the whole filter.
func (q statsQuery) Cases(figure string) string {
	return q.link("/admin/stats/cases", "figure", figure)
}

// Export is the XLSX of the table by the query's dimension.
func (q statsQuery) Export() string { return q.link("/admin/stats.xlsx", "by", string(q.By)) }

// statsRow is a table row with the filter narrowed to it, for its links.
type statsRow struct {
	stats.Row
	q statsQuery
}

// Cases is the drill-down of a figure in this row.
func (r statsRow) Cases(figure string) string {
	k := map[stats.Dimension]string{stats.ByItem: "item", stats.ByDepartment: "department", stats.ByRegion: "region",
		stats.ByLevel: "level", stats.ByChannel: "channel"}[r.q.By]
	if r.q.By == stats.ByMonth {
		return r.q.link("/admin/stats/cases", "figure", figure, "from", r.Key, "to", r.Key)
	}
	return r.q.link("/admin/stats/cases", "figure", figure, k, r.Key)
}

type statsDashboard struct {
	Query      statsQuery
	Summary    stats.Summary
	Rows       []statsRow
	Dimensions []struct {
		Dimension stats.Dimension
		Name      string
	}
	Header      []any
	Levels      map[int]string
	LevelList   []int
	Channels    map[string]string
	Regions     []regionOptions
	Departments []region.Department
	OwnOnly     bool // a unit's staff: their own department only
	Readiness   catalog.Readiness
	Complaints  *complaint.Row // nil: not the viewer's to see
	Ratings     *rating.Rate   // the viewer's ratings, all levels
	RatingLevel []rating.Level
	FollowUps   *rating.FollowUpRates
	Surveys     []surveyRate
	Chart       string // the rows as JSON for the chart script (charts are an enhancement)
}

// surveyRate is one survey's satisfaction (问卷满意度).
type surveyRate struct {
	Title     string
	Responses int
	Percent   string
}

// statsDashboardPage is the dashboard: the summary, a table by the chosen
// dimension, and the complaint, rating and survey figures the viewer may
// see, each figure linked to its cases.
func (s *Server) statsDashboardPage(w http.ResponseWriter, r *http.Request) error {
	d, err := s.statsDashboard(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "stats", "admin", d)
}

func (s *Server) statsDashboard(r *http.Request) (statsDashboard, error) {
	ctx, who := r.Context(), subject(r)
	var d statsDashboard
	q, err := parseStats(r)
	if err != nil {
		return d, err
	}
	d.Query, d.Dimensions, d.Header, d.Levels, d.LevelList, d.Channels = q, stats.Dimensions, stats.Header, stats.Levels, []int{1, 2, 3}, stats.Channels
	if d.Summary, err = s.stats.Summary(ctx, who, q.Filter); err != nil {
		return d, err
	}
	rows, err := s.stats.By(ctx, who, q.Filter, q.By)
	if err != nil {
		return d, err
	}
	for _, row := range rows {
		d.Rows = append(d.Rows, statsRow{row, q})
	}
	if d.Chart, err = chartJSON(rows); err != nil {
		return d, err
	}
	prefix, dept, _ := policy.StatsScope(who)
	d.OwnOnly = dept != 0
	if !d.OwnOnly {
		if d.Regions, err = s.regionOptionss(ctx); err != nil {
			return d, err
		}
		if d.Departments, err = s.regions.Departments(ctx, region.DepartmentFilter{Within: prefixRoot(prefix)}); err != nil {
			return d, err
		}
	}
	if d.Readiness, err = s.catalog.Readiness(ctx); err != nil {
		return d, err
	}
	from, to := q.Span()
	if err := s.statsOthers(ctx, who, &d, from, to); err != nil {
		return d, err
	}
	return d, nil
}

// prefixRoot is the region code whose subtree a scope prefix names ("":
// the whole district).
func prefixRoot(prefix string) string {
	if prefix == "" {
		return ""
	}
	for len(prefix) < 12 {
		prefix += "0"
	}
	return prefix
}

// statsOthers adds the complaint, rating and survey figures the viewer
// may see: each service checks who, and a refusal leaves its part out.
func (s *Server) statsOthers(ctx context.Context, who policy.Subject, d *statsDashboard, from, to time.Time) error {
	now := s.clock.Now()
	cfrom, cto := from, to
	if cto.IsZero() {
		cto = now.AddDate(0, 0, 1)
	}
	if s.complaints != nil {
		switch st, err := s.complaints.Stats(ctx, who, cfrom, cto); {
		case err == nil:
			d.Complaints = &st.Total
		case !apperr.Is(err, apperr.Forbidden) && !apperr.Is(err, apperr.NotFound):
			return err
		}
	}
	var rf rating.RateFilter
	if !from.IsZero() {
		rf.From = calendar.DateOf(from)
	}
	if !to.IsZero() {
		rf.To = calendar.DateOf(to).AddDays(-1)
	}
	switch rates, err := s.ratings.Rates(ctx, who, rf); {
	case err == nil:
		all := rating.Rate{Name: "合计"}
		for _, x := range rates {
			for l := range x.Counts {
				all.Counts[l] += x.Counts[l]
			}
			all.Total += x.Total
		}
		d.Ratings, d.RatingLevel = &all, rating.Levels
		fu, err := s.ratings.FollowUpRatesOf(ctx, who, rf.From, rf.To)
		if err != nil {
			return err
		}
		d.FollowUps = &fu
	case !apperr.Is(err, apperr.Forbidden) && !apperr.Is(err, apperr.NotFound):
		return err
	}
	if s.surveys != nil {
		switch list, err := s.surveys.List(ctx, who); {
		case err == nil:
			for i, sv := range list {
				if i == 5 {
					break
				}
				res, err := s.surveys.Results(ctx, who, sv.ID)
				if err != nil {
					return err
				}
				d.Surveys = append(d.Surveys, surveyRate{sv.Title, res.Responses, res.Percent()})
			}
		case !apperr.Is(err, apperr.Forbidden) && !apperr.Is(err, apperr.NotFound):
			return err
		}
	}
	return nil
}

// statsExport is the dashboard's table as XLSX, audited.
func (s *Server) statsExport(w http.ResponseWriter, r *http.Request) error {
	q, err := parseStats(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.stats.Workbook(r.Context(), subject(r), meta(r), q.Filter, q.By, &buf); err != nil {
		return err
	}
	return s.sendWorkbook(w, "办件统计-按"+stats.DimensionName(q.By), &buf)
}

// sendWorkbook sends an XLSX export that was written to buf.
func (s *Server) sendWorkbook(w http.ResponseWriter, name string, buf *bytes.Buffer) error {
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name+"-"+calendar.DateOf(s.clock.Now()).String()+".xlsx"))
	w.Header().Set("Cache-Control", "private, no-store")
	_, err := buf.WriteTo(w)
	return err
}

// behindFilter is the drill-down's filter for casework.
func (q statsQuery) behindFilter() casework.BehindFilter {
	from, to := q.Span()
	return casework.BehindFilter{Figure: q.Figure, From: from, To: to, Level: q.Level, Region: q.Region,
		DepartmentID: q.DepartmentID, ItemID: q.ItemID, Channel: q.Channel, After: q.After}
}

// statsCases lists the cases behind a figure (穿透查询), a page at a time.
func (s *Server) statsCases(w http.ResponseWriter, r *http.Request) error {
	q, err := parseStats(r)
	if err != nil {
		return err
	}
	page, err := s.cases.Behind(r.Context(), subject(r), q.behindFilter(), casework.PageSize)
	if err != nil {
		return err
	}
	// The figure is the list's count, kept by the statistics.
	sum, err := s.stats.Summary(r.Context(), subject(r), q.Filter)
	if err != nil {
		return err
	}
	n, _ := sum.Figure(q.Figure)
	page.Total = int(n)
	var next string
	if page.Next != "" {
		next = q.link("/admin/stats/cases", "figure", q.Figure, "after", page.Next)
	}
	return s.render(w, r, http.StatusOK, "statscases", "admin", struct {
		Query  statsQuery
		Name   string
		Page   casework.Page[casework.Begun]
		Next   string
		Export string
		Back   string
	}{q, casework.FigureNames[q.Figure], page, next, q.link("/admin/stats/cases.xlsx", "figure", q.Figure), q.link("/admin/stats")})
}

// statsCasesExport is the cases behind a figure as XLSX, audited.
func (s *Server) statsCasesExport(w http.ResponseWriter, r *http.Request) error {
	q, err := parseStats(r)
	if err != nil {
		return err
	}
	q.After = ""
	var buf bytes.Buffer
	if err := s.cases.BehindWorkbook(r.Context(), subject(r), meta(r), q.behindFilter(), &buf); err != nil {
		return err
	}
	return s.sendWorkbook(w, casework.FigureNames[q.Figure], &buf)
}

// statsScreen is the hall screen (大屏): this month's figures in large
// type, refreshing itself every minute (a meta refresh: no script).
func (s *Server) statsScreen(w http.ResponseWriter, r *http.Request) error {
	ctx, who := r.Context(), subject(r)
	month := stats.Month(s.clock.Now())
	f := stats.Filter{From: month, To: month}
	sum, err := s.stats.Summary(ctx, who, f)
	if err != nil {
		return err
	}
	total, err := s.stats.Summary(ctx, who, stats.Filter{})
	if err != nil {
		return err
	}
	rows, err := s.stats.By(ctx, who, f, stats.ByDepartment)
	if err != nil {
		return err
	}
	if len(rows) > 10 {
		rows = rows[:10]
	}
	return s.render(w, r, http.StatusOK, "statsscreen", "screen", struct {
		Month   string
		Updated string
		Summary stats.Summary
		Total   stats.Summary
		Rows    []stats.Row
	}{month, s.clock.Now().In(chinaTZ).Format("15:04"), sum, total, rows})
}

// publicStats shows the public the district's on-time rate and
// satisfaction: totals only, naming no one.
func (s *Server) publicStats(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	sum, err := s.stats.Public(ctx)
	if err != nil {
		return err
	}
	rt, err := s.ratings.Overall(ctx, calendar.Date{}, calendar.Date{})
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "statspublic", "", struct {
		Summary stats.Summary
		Ratings rating.Rate
	}{sum, rt})
}
