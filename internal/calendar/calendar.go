// Package calendar tells Chinese working days and counts legal deadlines in
// them.
//
// A day is a working day if it is Monday–Friday and not a declared holiday,
// or if it is a declared make-up workday (调休上班). The State Council's
// holidays and make-up workdays come from github.com/6tail/lunar-go
// (HolidayUtil; v1.4.7 holds 2001-12-29 through 2027). Administrators add
// local days on top as Overrides — a local holiday, or a correction that
// turns a day into a working day or a rest day — and overrides win over both
// the State Council's data and the weekend.
//
// Limits are counted as the law on administrative licensing (行政许可法)
// counts them: in working days, from the day after receipt or acceptance.
// A limit of 20 working days from acceptance on date A ends on
// AddWorkdays(A, 20), the 20th working day after A. A limit in natural days
// (自然日) ends on A + n, moved to the next working day when that is a rest
// day (DueNatural).
//
// All dates are Beijing dates (clock.China); DateOf turns an instant into one.
package calendar

import (
	"maps"
	"sort"
	"sync/atomic"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// Override is a local day set by an administrator on top of the State
// Council's calendar: a local holiday (Work false), or a correction that
// makes a day a working day (Work true) or a rest day (Work false).
type Override struct {
	Date   Date
	Work   bool   // true: working day; false: rest day
	Reason string // shown by Explain, e.g. "区运动会" or "补班（市政府通知）"
}

// Calendar answers whether a day is a working day and counts working days.
// It is safe for concurrent use. The State Council's days are read once, by
// New; the local overrides can be replaced at any time with SetOverrides,
// and every method call sees either the old or the new overrides, never a
// mix: each call works on one snapshot.
type Calendar struct {
	national map[int64]entry // the State Council's days, by day number; never changed after New
	declared []NationalDay   // the same days, sorted by date
	years    map[int]bool    // years for which the State Council data has entries
	first    int             // the first and last of those years (0 if none)
	last     int
	cur      atomic.Pointer[state]
}

// state is one snapshot of the calendar: the State Council's days with the
// local overrides on top. It is built whole and never changed afterwards.
type state struct {
	days  map[int64]entry // declared days (State Council and local), by day number
	local []Override      // normalised copy, one per day, sorted by date
}

type entry struct {
	work  bool
	label string // Explain's text
}

// New returns a calendar of the State Council's holidays and make-up
// workdays, as lunar-go holds them now, with the overrides on top. When two
// overrides name the same day, the later one in the slice wins.
//
// New reads lunar-go's tables; if the process patches them at run time with
// HolidayUtil.Fix, it must do so before calling New and not concurrently
// with it (lunar-go does not synchronise Fix), then build a new Calendar.
// SetOverrides does not read them again.
//
// New costs under a millisecond (it scans lunar-go's table once); build one
// calendar, share it, and call SetOverrides when the local days change.
func New(overrides []Override) *Calendar {
	c := &Calendar{
		national: make(map[int64]entry, 1024),
		years:    make(map[int]bool),
	}
	for y := firstDataYear; y <= lastDataYear; y++ {
		l := HolidayUtil.GetHolidaysByYear(y)
		for e := l.Front(); e != nil; e = e.Next() {
			h, ok := e.Value.(*HolidayUtil.Holiday)
			if !ok || h == nil {
				continue
			}
			d, err := ParseDate(h.GetDay())
			if err != nil {
				continue
			}
			label := "法定节假日：" + h.GetName()
			if h.IsWork() {
				label = "调休上班：" + h.GetName()
			}
			c.national[d.days()] = entry{work: h.IsWork(), label: label}
			c.declared = append(c.declared, NationalDay{Date: d, Work: h.IsWork(), Name: h.GetName()})
			c.years[d.Y] = true
		}
	}
	// One entry per day, the last one read (as in the map).
	sort.SliceStable(c.declared, func(i, j int) bool { return c.declared[i].Date.Before(c.declared[j].Date) })
	uniq := c.declared[:0]
	for i, nd := range c.declared {
		if i+1 < len(c.declared) && c.declared[i+1].Date == nd.Date {
			continue
		}
		uniq = append(uniq, nd)
	}
	c.declared = uniq
	for y := range c.years {
		if c.first == 0 || y < c.first {
			c.first = y
		}
		c.last = max(c.last, y)
	}
	c.SetOverrides(overrides)
	return c
}

// SetOverrides replaces all the local overrides with o, as New would have
// set them (the later of two overrides for one day wins), in one atomic
// step: calls running meanwhile finish on the old overrides, later calls
// see the new ones. It copies o. When several goroutines call it at once,
// the last to finish wins.
func (c *Calendar) SetOverrides(o []Override) {
	s := &state{days: c.national} // shared while there is no override: neither side changes it
	if len(o) > 0 {
		s.days = maps.Clone(c.national)
		if s.days == nil { // the zero Calendar
			s.days = make(map[int64]entry, len(o))
		}
	}
	byDay := make(map[int64]int, len(o))
	for _, v := range o {
		v.Date = v.Date.norm()
		n := v.Date.days()
		if i, ok := byDay[n]; ok {
			s.local[i] = v
		} else {
			byDay[n] = len(s.local)
			s.local = append(s.local, v)
		}
		s.days[n] = entry{work: v.Work, label: localLabel(v)}
	}
	sort.Slice(s.local, func(i, j int) bool { return s.local[i].Date.Before(s.local[j].Date) })
	c.cur.Store(s)
}

// now is the snapshot a method call works on.
func (c *Calendar) now() *state {
	if s := c.cur.Load(); s != nil {
		return s
	}
	return &noDays // the zero Calendar: weekends only
}

var noDays state

// The years searched in lunar-go's table: its data starts on 2001-12-29;
// the upper bound leaves room for future releases and run-time patches.
const (
	firstDataYear = 2001
	lastDataYear  = 2100
)

func localLabel(o Override) string {
	kind := "休息日"
	if o.Work {
		kind = "工作日"
	}
	if o.Reason == "" {
		return "本地调整：" + kind
	}
	return "本地调整：" + o.Reason + "（" + kind + "）"
}

// Covers reports whether the State Council's data in use has any declared
// day in the given year. For a year it does not cover (2028 and later with
// lunar-go v1.4.7), only weekends and local overrides are known, and due
// dates in that year may be too early: upgrade lunar-go or add the year's
// days as overrides.
func (c *Calendar) Covers(year int) bool { return c.years[year] }

// CoveredYears returns the first and the last year that the State Council's
// data in use has declared days for (2001 and 2027 with lunar-go v1.4.7;
// 2001 holds only its last days), or 0, 0 if it has none.
func (c *Calendar) CoveredYears() (first, last int) { return c.first, c.last }

// NationalDay is a day the State Council declared: a holiday (Work false)
// or a make-up workday (Work true, 调休上班), with the holiday's name.
type NationalDay struct {
	Date Date
	Work bool
	Name string // e.g. "国庆节"
}

// NationalDays returns the State Council's declared days in the year, by
// date, without the local overrides (which may replace some of them: see
// Overrides).
func (c *Calendar) NationalDays(year int) []NationalDay {
	i := sort.Search(len(c.declared), func(i int) bool { return c.declared[i].Date.Y >= year })
	j := sort.Search(len(c.declared), func(i int) bool { return c.declared[i].Date.Y > year })
	return append([]NationalDay(nil), c.declared[i:j]...)
}

// Overrides returns a copy of the local overrides, normalised, one per day,
// sorted by date.
func (c *Calendar) Overrides() []Override {
	return append([]Override(nil), c.now().local...)
}

// IsWorkday reports whether d is a working day: an override if there is one;
// else a declared holiday (rest) or make-up workday (work); else Monday–Friday.
func (c *Calendar) IsWorkday(d Date) bool { return c.now().isWork(d.days()) }

func (s *state) isWork(n int64) bool {
	if e, ok := s.days[n]; ok {
		return e.work
	}
	return !isWeekend(n)
}

// Explain says in Chinese why d is or is not a working day: "工作日", "周末",
// "法定节假日：春节", "调休上班：国庆节", or for an override
// "本地调整：<理由>（工作日）" / "本地调整：<理由>（休息日）"
// ("本地调整：工作日" / "本地调整：休息日" when no reason was given).
func (c *Calendar) Explain(d Date) string {
	n := d.days()
	if e, ok := c.now().days[n]; ok {
		return e.label
	}
	if isWeekend(n) {
		return "周末"
	}
	return "工作日"
}

// AddWorkdays returns the due date of a limit of n working days counted from
// the day after start: the n-th working day after start. start itself never
// counts, whether or not it is a working day. n = 0 returns start; n < 0
// returns the |n|-th working day before start (e.g. a reminder date).
func (c *Calendar) AddWorkdays(start Date, n int) Date { return c.now().addWorkdays(start, n) }

func (s *state) addWorkdays(start Date, n int) Date {
	d := start.days()
	if n == 0 {
		return fromDays(d)
	}
	step := int64(1)
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d += step
		if s.isWork(d) {
			n--
		}
	}
	return fromDays(d)
}

// WorkdaysBetween returns the number of working days d with from < d <= to,
// or 0 if to is not after from. WorkdaysBetween(s, AddWorkdays(s, n)) == n
// for n >= 0.
func (c *Calendar) WorkdaysBetween(from, to Date) int { return c.now().workdaysBetween(from, to) }

func (s *state) workdaysBetween(from, to Date) int {
	a, b := from.days(), to.days()
	k := 0
	for d := a + 1; d <= b; d++ {
		if s.isWork(d) {
			k++
		}
	}
	return k
}
