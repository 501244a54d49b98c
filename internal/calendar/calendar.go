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
// AddWorkdays(A, 20), the 20th working day after A.
//
// All dates are Beijing dates (clock.China); DateOf turns an instant into one.
package calendar

import (
	"sort"

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
// It is immutable after New and safe for concurrent use. Build a new one when
// the overrides change.
type Calendar struct {
	days  map[int64]entry // declared days (State Council and local), by day number
	years map[int]bool    // years for which the State Council data has entries
	local []Override      // normalised copy, sorted by date
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
//
// New costs under a millisecond (it scans lunar-go's table once); build one
// calendar, share it, and rebuild it when the overrides change.
func New(overrides []Override) *Calendar {
	c := &Calendar{
		days:  make(map[int64]entry, 1024+len(overrides)),
		years: make(map[int]bool),
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
			c.days[d.days()] = entry{work: h.IsWork(), label: label}
			c.years[d.Y] = true
		}
	}
	byDay := make(map[int64]int, len(overrides))
	for _, o := range overrides {
		o.Date = o.Date.norm()
		n := o.Date.days()
		if i, ok := byDay[n]; ok {
			c.local[i] = o
		} else {
			byDay[n] = len(c.local)
			c.local = append(c.local, o)
		}
		c.days[n] = entry{work: o.Work, label: localLabel(o)}
	}
	sort.Slice(c.local, func(i, j int) bool { return c.local[i].Date.Before(c.local[j].Date) })
	return c
}

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

// Overrides returns a copy of the local overrides, normalised, one per day,
// sorted by date.
func (c *Calendar) Overrides() []Override {
	return append([]Override(nil), c.local...)
}

// IsWorkday reports whether d is a working day: an override if there is one;
// else a declared holiday (rest) or make-up workday (work); else Monday–Friday.
func (c *Calendar) IsWorkday(d Date) bool { return c.isWork(d.days()) }

func (c *Calendar) isWork(n int64) bool {
	if e, ok := c.days[n]; ok {
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
	if e, ok := c.days[n]; ok {
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
func (c *Calendar) AddWorkdays(start Date, n int) Date {
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
		if c.isWork(d) {
			n--
		}
	}
	return fromDays(d)
}

// WorkdaysBetween returns the number of working days d with from < d <= to,
// or 0 if to is not after from. WorkdaysBetween(s, AddWorkdays(s, n)) == n
// for n >= 0.
func (c *Calendar) WorkdaysBetween(from, to Date) int {
	a, b := from.days(), to.days()
	k := 0
	for d := a + 1; d <= b; d++ {
		if c.isWork(d) {
			k++
		}
	}
	return k
}
