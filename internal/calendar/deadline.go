package calendar

import (
	"slices"
	"sort"
)

// Deadline helpers for cases (办件). They are pure functions of the calendar
// and their arguments; the case store keeps the dates.
//
// Acceptance and corrections: a limit counts from the day after acceptance,
// and acceptance counts from the day the materials are complete. When an
// applicant is told to correct materials (补正告知), the count restarts:
// pass the date the materials became complete as accepted, not the date
// of the first submission.

// Span is a pause of the clock (hearing, inspection, testing, quarantine,
// expert review…): From is the day the clock stopped, To the day it resumed.
// Like a limit, a pause counts from the day after it starts: the paused
// working days are those d with From < d <= To, i.e. WorkdaysBetween(From,
// To). The day the pause began still counts toward the limit, and counting
// resumes on the day after To. For a pause still running, pass To = today:
// the clock counts as stopped up to today, so the due date is the one the
// case would have if it resumed today.
type Span struct {
	From, To Date
}

// Paused returns the number of working days in the span: WorkdaysBetween(From, To).
func (c *Calendar) Paused(s Span) int { return c.WorkdaysBetween(s.From, s.To) }

// PausedDays returns the number of natural days in the span: To − From, or 0
// if To is not after From.
func PausedDays(s Span) int { return max(0, int(s.To.days()-s.From.days())) }

// FirstWorkday returns d if it is a working day, else the first working day
// after it. It is how a period counted in natural days ends: 民法典 第二百零三条
// (and the practice under 行政许可法) — when the last day of a period is a
// statutory holiday or rest day, the period ends on the first working day
// after it. Make-up workdays count as working days, local overrides apply.
func (c *Calendar) FirstWorkday(d Date) Date { return c.now().firstWorkday(d) }

func (s *state) firstWorkday(d Date) Date {
	n := d.days()
	for !s.isWork(n) {
		n++
	}
	return fromDays(n)
}

// Unit is the unit of a time limit (时限) as the catalog states it.
type Unit string

const (
	WorkingDays Unit = "工作日"
	NaturalDays Unit = "自然日"
	Hours       Unit = "小时"
)

// Units are the units a limit may be given in.
var Units = []Unit{WorkingDays, NaturalDays, Hours}

// Valid reports whether u is one of Units.
func (u Unit) Valid() bool { return slices.Contains(Units, u) }

// Limit is a time limit: a number of units.
type Limit struct {
	Value int
	Unit  Unit
}

// Workdays is a limit of n working days.
func Workdays(n int) Limit { return Limit{n, WorkingDays} }

// natural returns the limit in natural days, and false for a limit in
// working days (or an unknown unit, which counts as working days, the
// stricter reading). Hours count as natural days rounded up to whole days,
// since a due date is a date.
func (l Limit) natural() (int, bool) {
	switch l.Unit {
	case NaturalDays:
		return l.Value, true
	case Hours:
		return (l.Value + 23) / 24, true
	}
	return 0, false
}

// Due returns the due date under l of a case accepted on accepted, pushed
// by the pauses since (pass them all, a running one with To = today).
//
// In working days: AddWorkdays(accepted, limit + the working days paused).
//
// In natural days (and hours): the period's last day is accepted + days +
// the natural days paused, and when that is a rest day the period ends on
// the first working day after it (FirstWorkday). A pause over a holiday
// pushes by the holiday too, as the period it stops runs over holidays.
// The rest-day rule applies to the end of the whole period only, so
// pushing a due date that had been moved off a weekend starts again from
// the period's own last day.
//
// Either way only paused days after accepted count (a span starting
// earlier is cut at accepted), a day covered by several overlapping spans
// counts once, and spans with To not after From pause nothing.
func (c *Calendar) Due(accepted Date, l Limit, pauses []Span) Date {
	s := c.now()
	if days, natural := l.natural(); natural {
		paused := s.pausedAfter(accepted, pauses, func(from, to Date) int { return PausedDays(Span{from, to}) })
		return s.firstWorkday(accepted.AddDays(days + paused))
	}
	return s.addWorkdays(accepted, l.Value+s.pausedAfter(accepted, pauses, s.workdaysBetween))
}

// pausedAfter counts, with count (working or natural days between two
// dates), the days in the union of the spans' (From, To] intervals,
// restricted to days after start.
func (s *state) pausedAfter(start Date, pauses []Span, count func(from, to Date) int) int {
	if len(pauses) == 0 {
		return 0
	}
	s0 := start.days()
	type iv struct{ a, b int64 } // days a < d <= b
	ivs := make([]iv, 0, len(pauses))
	for _, p := range pauses {
		a, b := max(p.From.days(), s0), p.To.days()
		if b > a {
			ivs = append(ivs, iv{a, b})
		}
	}
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].a < ivs[j].a })
	total := 0
	var cur iv
	for i, v := range ivs {
		if i > 0 && v.a <= cur.b { // overlaps or touches: (a,b] ∪ (a',b'] with a' <= b
			cur.b = max(cur.b, v.b)
			continue
		}
		if i > 0 {
			total += count(fromDays(cur.a), fromDays(cur.b))
		}
		cur = v
	}
	if len(ivs) > 0 {
		total += count(fromDays(cur.a), fromDays(cur.b))
	}
	return total
}

// Left returns the working days left until due as seen on today: the
// working days d with today < d <= due, so 0 on the due date itself. When
// today is after due it is negative: -WorkdaysBetween(due, today), the
// working days late. On rest days right after the due date Left is still 0
// (no working day has passed); use StatusOf to tell late from due today.
func (c *Calendar) Left(today, due Date) int { return c.now().left(today, due) }

func (s *state) left(today, due Date) int {
	if today.After(due) {
		return -s.workdaysBetween(due, today)
	}
	return s.workdaysBetween(today, due)
}

// Status is where a case stands against its due date.
type Status int

const (
	// OnTime: more than one working day left.
	OnTime Status = iota
	// Warning: the due date is today or the next working day (Left is 0 or 1).
	Warning
	// Overdue: today is after the due date.
	Overdue
)

// String returns the Chinese name shown to staff: 正常, 预警, 超期.
func (s Status) String() string {
	switch s {
	case OnTime:
		return "正常"
	case Warning:
		return "预警"
	case Overdue:
		return "超期"
	}
	return "未知"
}

// StatusOf returns OnTime, Warning (at most one working day left, counting
// the due date as the last day: Left <= 1) or Overdue (today after due,
// even on a rest day).
func (c *Calendar) StatusOf(today, due Date) Status {
	switch {
	case today.After(due):
		return Overdue
	case c.now().left(today, due) <= 1:
		return Warning
	}
	return OnTime
}
