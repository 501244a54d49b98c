package web

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
)

// supervisorList renders a supervisors' list: the casework query decides, through
// the policy, who may read it and which cases they see.
func (s *Server) supervisorList(page string, list func(*http.Request, policy.Subject, supervisionQuery) (any, casework.Count, string, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		who := subject(r)
		q, err := parseSupervision(r)
		if err != nil {
			return err
		}
		rows, total, next, err := list(r, who, q)
		if err != nil {
			return err
		}
		data := supervisionPage{Query: q, Rows: rows, Total: total, Path: r.URL.Path}
		if next != "" {
			data.Next = q.url(r.URL.Path, next)
		}
		if q.After != "" {
			data.First = q.url(r.URL.Path, "")
		}
		// The filters' choices: the departments, and the district and
		// streets within who's scope.
		if data.Departments, err = s.regions.Departments(r.Context(), region.DepartmentFilter{}); err != nil {
			return err
		}
		regions, err := s.regions.Regions(r.Context(), region.RegionFilter{})
		if err != nil {
			return err
		}
		scope := policy.FollowRegion(who)
		for _, g := range regions {
			if g.Level <= 2 && strings.HasPrefix(g.Code, scope) {
				data.Regions = append(data.Regions, g)
			}
		}
		return s.render(w, r, http.StatusOK, page, "admin", data)
	}
}

// supervisionQuery is a supervisors' list's filter as the URL gives it.
type supervisionQuery struct {
	casework.LateFilter
	Department, From, To, Order string // as typed, for the form
}

// parseSupervision reads the filter of a supervisors' list from the URL.
func parseSupervision(r *http.Request) (supervisionQuery, error) {
	v := r.URL.Query()
	q := supervisionQuery{Department: v.Get("department"), From: v.Get("from"), To: v.Get("to"), Order: v.Get("order")}
	q.Region, q.Due, q.After = v.Get("region"), v.Get("due"), v.Get("after")
	if q.Department != "" {
		id, err := strconv.ParseInt(q.Department, 10, 64)
		if err != nil || id <= 0 {
			return q, apperr.New(apperr.Invalid, "部门筛选无效。")
		}
		q.DepartmentID = id
	}
	for _, d := range []struct {
		text string
		into *calendar.Date
	}{{q.From, &q.LateFilter.From}, {q.To, &q.LateFilter.To}} {
		if d.text == "" {
			continue
		}
		date, err := calendar.ParseDate(d.text)
		if err != nil {
			return q, apperr.New(apperr.Invalid, "日期应为“年-月-日”，如 2026-12-01。")
		}
		*d.into = date
	}
	// Each list sorts by what it counts or by its own date.
	switch list := strings.TrimSuffix(r.URL.Path, ".xlsx"); {
	case list == "/admin/late" && q.Order == "due":
		q.Newest = true
	case list == "/admin/late" && q.Order != "" && q.Order != "late":
		return q, apperr.New(apperr.Invalid, "排序应为超期天数或承诺办结日期。")
	case list == "/admin/archives" && q.Order == "oldest":
		q.Oldest = true
	case list == "/admin/archives" && q.Order != "" && q.Order != "latest":
		return q, apperr.New(apperr.Invalid, "排序应为办结日期。")
	case (list == "/admin/visits" || list == "/admin/corrections") && q.Order == "date":
		q.ByDate = true
	case (list == "/admin/visits" || list == "/admin/corrections") && q.Order != "" && q.Order != "count":
		return q, apperr.New(apperr.Invalid, "排序应为次数或申请日期。")
	}
	return q, nil
}

// url is the list at path with this filter, on the page after the cursor
// after ("": the first page).
func (q supervisionQuery) url(path, after string) string {
	v := url.Values{}
	for k, val := range map[string]string{"department": q.Department, "region": q.Region, "due": q.Due, "from": q.From,
		"to": q.To, "order": q.Order, "after": after} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// Export is the URL of the filtered list's XLSX export.
func (q supervisionQuery) Export(path string) string {
	return q.url(path+".xlsx", "")
}

// supervisionPage is what a supervisors' list page shows.
type supervisionPage struct {
	Query       supervisionQuery
	Rows        any
	Total       casework.Count // not shown for the archive check, which does not count
	Path        string
	Next, First string // links to the next and the first page; "" when none
	Departments []region.Department
	Regions     []region.Region
}

// The supervisors' lists: cases that needed more than one visit (最多跑一次),
// cases asked for corrections more than once (一次性告知), cases near or
// past their deadline, finished cases with incomplete archives.
func (s *Server) multiVisits(r *http.Request, who policy.Subject, q supervisionQuery) (any, casework.Count, string, error) {
	p, err := s.cases.MultiVisits(r.Context(), who, q.SupervisionFilter, casework.PageSize)
	return p.Rows, p.Count(), p.Next, err
}

func (s *Server) corrections(r *http.Request, who policy.Subject, q supervisionQuery) (any, casework.Count, string, error) {
	p, err := s.cases.RepeatedCorrections(r.Context(), who, q.SupervisionFilter, casework.PageSize)
	return p.Rows, p.Count(), p.Next, err
}

func (s *Server) late(r *http.Request, who policy.Subject, q supervisionQuery) (any, casework.Count, string, error) {
	p, err := s.cases.Late(r.Context(), who, q.LateFilter, casework.PageSize)
	return p.Rows, p.Count(), p.Next, err
}

func (s *Server) incompleteArchives(r *http.Request, who policy.Subject, q supervisionQuery) (any, casework.Count, string, error) {
	p, err := s.cases.IncompleteArchives(r.Context(), who, q.SupervisionFilter, casework.PageSize)
	return p.Rows, p.Count(), p.Next, err
}

// supervisionExport downloads a filtered supervisors' list as an XLSX
// workbook named name (audited by casework). It is built in memory first,
// so that a refusal is an error page rather than a broken download.
func (s *Server) supervisionExport(name string, write func(*http.Request, supervisionQuery, io.Writer) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		q, err := parseSupervision(r)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := write(r, q, &buf); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name+"-"+calendar.DateOf(s.clock.Now()).String()+".xlsx"))
		w.Header().Set("Cache-Control", "private, no-store")
		_, err = buf.WriteTo(w)
		return err
	}
}

// The workbooks of the supervisors' lists, for supervisionExport.
func (s *Server) lateWorkbook(r *http.Request, q supervisionQuery, w io.Writer) error {
	return s.cases.LateWorkbook(r.Context(), subject(r), meta(r), q.LateFilter, w)
}

func (s *Server) visitsWorkbook(r *http.Request, q supervisionQuery, w io.Writer) error {
	return s.cases.VisitsWorkbook(r.Context(), subject(r), meta(r), q.SupervisionFilter, w)
}

func (s *Server) correctionsWorkbook(r *http.Request, q supervisionQuery, w io.Writer) error {
	return s.cases.CorrectionsWorkbook(r.Context(), subject(r), meta(r), q.SupervisionFilter, w)
}

func (s *Server) archivesWorkbook(r *http.Request, q supervisionQuery, w io.Writer) error {
	return s.cases.ArchivesWorkbook(r.Context(), subject(r), meta(r), q.SupervisionFilter, w)
}
