package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/calendardays"
	"github.com/zwfw/zwfw/internal/policy"
)

// The administrators' page of local calendar days: the State Council's
// holidays and make-up workdays of a year, the district's own days on top,
// and forms to add and remove them.

var calendarResource = policy.Resource{Kind: policy.Calendar}

type calendarPage struct {
	Year, Prev, Next int  // Prev and Next are 0 outside the years allowed
	Covered          bool // the State Council's data has the year
	National         []nationalDayRow
	Local            []localDayRow
	Min, Max         string // the dates the form accepts
	MaxLabel         int
	Error, Notice    string
	Values           url.Values
}

func (p calendarPage) Get(k string) string { return p.Values.Get(k) }

type nationalDayRow struct {
	Date, Weekday, Kind, Name string
	Local                     string // the local day that replaces it, if any
}

type localDayRow struct {
	Date, Weekday, Kind, Label string
	Nationally                 string // what the day is without the local setting
	By                         string
	At                         time.Time
}

var weekdayNames = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

func dayKind(work bool) string {
	if work {
		return "工作日"
	}
	return "休息日"
}

func (s *Server) calendarAdmin(w http.ResponseWriter, r *http.Request) error {
	year := calendar.DateOf(s.clock.Now()).Y
	if v := r.URL.Query().Get("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil {
			return apperr.New(apperr.Invalid, "年份不正确。")
		}
		year = y
	}
	p := calendarPage{Notice: map[string]string{"saved": "已保存。各服务器约 2 秒内按新日历计算期限。",
		"removed": "已删除。各服务器约 2 秒内按新日历计算期限。"}[r.URL.Query().Get("done")], Values: url.Values{}}
	return s.renderCalendar(w, r, http.StatusOK, year, p)
}

// renderCalendar fills the page for the year and renders it.
func (s *Server) renderCalendar(w http.ResponseWriter, r *http.Request, status, year int, p calendarPage) error {
	first, last := s.days.Years()
	if year < first || year > last {
		return apperr.New(apperr.NotFound, "只能查看 "+strconv.Itoa(first)+" 年至 "+strconv.Itoa(last)+" 年的日历。")
	}
	p.Year, p.Covered, p.MaxLabel = year, s.calendar.Covers(year), calendardays.MaxLabel
	if year > first {
		p.Prev = year - 1
	}
	if year < last {
		p.Next = year + 1
	}
	p.Min, p.Max = calendar.NewDate(first, 1, 1).String(), calendar.NewDate(last, 12, 31).String()
	days, err := s.days.List(r.Context())
	if err != nil {
		return err
	}
	local := map[calendar.Date]calendardays.Day{}
	for _, d := range days {
		if d.Date.Y == year {
			local[d.Date] = d
		}
	}
	national := map[calendar.Date]calendar.NationalDay{}
	for _, nd := range s.calendar.NationalDays(year) {
		national[nd.Date] = nd
		row := nationalDayRow{Date: nd.Date.String(), Weekday: weekdayNames[nd.Date.Weekday()], Kind: "法定节假日", Name: nd.Name}
		if nd.Work {
			row.Kind = "调休上班"
		}
		if l, ok := local[nd.Date]; ok {
			row.Local = "本地设为" + dayKind(l.Workday) + "「" + l.Label + "」"
		}
		p.National = append(p.National, row)
	}
	for _, d := range days {
		if d.Date.Y != year {
			continue
		}
		row := localDayRow{Date: d.Date.String(), Weekday: weekdayNames[d.Date.Weekday()], Kind: dayKind(d.Workday), Label: d.Label,
			By: d.ChangedByName, At: d.ChangedAt}
		switch nd, ok := national[d.Date]; {
		case ok && nd.Work:
			row.Nationally = "调休上班：" + nd.Name
		case ok:
			row.Nationally = "法定节假日：" + nd.Name
		case d.Date.Weekday() == time.Saturday || d.Date.Weekday() == time.Sunday:
			row.Nationally = "周末"
		default:
			row.Nationally = "工作日"
		}
		if row.By == "" {
			row.By = "系统"
		}
		p.Local = append(p.Local, row)
	}
	return s.render(w, r, status, "calendar", "admin", p)
}

// calendarSet adds or replaces a local day. Bad input shows the page again,
// on the year the form was on, with the message and what was typed.
func (s *Server) calendarSet(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	day, work, err := calendarForm(f)
	if err == nil {
		err = s.days.Set(r.Context(), subject(r), meta(r), day, work, f.Get("label"))
	}
	if err != nil {
		if !apperr.Is(err, apperr.Invalid) {
			return err
		}
		year, yerr := strconv.Atoi(f.Get("year"))
		if first, last := s.days.Years(); yerr != nil || year < first || year > last {
			year = calendar.DateOf(s.clock.Now()).Y
		}
		return s.renderCalendar(w, r, http.StatusBadRequest, year, calendarPage{Error: apperr.MessageOf(err), Values: f})
	}
	s.reloadCalendar(r)
	http.Redirect(w, r, "/admin/calendar?year="+strconv.Itoa(day.Y)+"&done=saved", http.StatusSeeOther)
	return nil
}

// calendarForm reads the date and the kind of day; the store checks the rest.
func calendarForm(f url.Values) (day calendar.Date, work bool, err error) {
	if day, err = calendardays.ParseDay(f.Get("day")); err != nil {
		return day, false, err
	}
	switch f.Get("kind") {
	case "work":
		return day, true, nil
	case "rest":
		return day, false, nil
	}
	return day, false, apperr.New(apperr.Invalid, "请选择这一天是休息日还是工作日。")
}

// calendarRemove takes a local day away.
func (s *Server) calendarRemove(w http.ResponseWriter, r *http.Request) error {
	day, err := calendar.ParseDate(r.PathValue("day"))
	if err != nil {
		return apperr.New(apperr.NotFound, "没有这一天的本地设置。")
	}
	if err := s.days.Remove(r.Context(), subject(r), meta(r), day); err != nil {
		return err
	}
	s.reloadCalendar(r)
	http.Redirect(w, r, "/admin/calendar?year="+strconv.Itoa(day.Y)+"&done=removed", http.StatusSeeOther)
	return nil
}

// reloadCalendar brings this instance's calendar up to date at once, so
// that the administrator sees the change here without waiting for the
// watcher, which updates the other instances. A failure is only logged:
// the change is committed, and the watcher loads it at its next poll.
func (s *Server) reloadCalendar(r *http.Request) {
	if _, err := s.days.Load(r.Context(), s.calendar); err != nil && s.log != nil {
		s.log.Warn("calendar reload after a change failed", "err", err)
	}
}
