package calendar

import (
	"fmt"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
)

// Working hours. Some limits (a complaint's dispatch and feedback, 接诉即办)
// are counted in hours of the office day rather than in days: an hour
// counts only when it falls in an office period of a working day, so a
// limit of 2 working hours given at 17:00 on a Friday ends at 09:30 on
// the Monday (or on the make-up Saturday, when there is one).

// Period is one stretch of an office day, from Start to End, in minutes
// after midnight Beijing time.
type Period struct {
	Start, End int
}

// OfficeDay is when the offices work on a working day: its periods, in
// order, not overlapping.
type OfficeDay struct {
	Periods []Period
}

// DefaultOfficeDay is 09:00–12:00 and 13:30–17:30, Beijing time: seven
// hours.
var DefaultOfficeDay = OfficeDay{Periods: []Period{{9 * 60, 12 * 60}, {13*60 + 30, 17*60 + 30}}}

// ParseOfficeDay reads an office day written as the operator writes it:
// periods "HH:MM-HH:MM" separated by commas ("09:00-12:00,13:30-17:30").
func ParseOfficeDay(s string) (OfficeDay, error) {
	var o OfficeDay
	minute := func(v string) (int, error) {
		t, err := time.Parse("15:04", strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("calendar: %q is not a time of day (HH:MM)", v)
		}
		return t.Hour()*60 + t.Minute(), nil
	}
	for _, part := range strings.Split(s, ",") {
		from, to, ok := strings.Cut(part, "-")
		if !ok {
			return OfficeDay{}, fmt.Errorf("calendar: %q is not a period (HH:MM-HH:MM)", part)
		}
		start, err := minute(from)
		if err != nil {
			return OfficeDay{}, err
		}
		end, err := minute(to)
		if err != nil {
			return OfficeDay{}, err
		}
		o.Periods = append(o.Periods, Period{start, end})
	}
	return o, o.Validate()
}

// Validate checks that the periods lie within the day, each ends after it
// starts, and each starts after the one before ends.
func (o OfficeDay) Validate() error {
	if len(o.Periods) == 0 {
		return fmt.Errorf("calendar: an office day needs at least one period")
	}
	prev := 0
	for i, p := range o.Periods {
		if p.Start < prev || p.End <= p.Start || p.End > 24*60 || i > 0 && p.Start == prev {
			return fmt.Errorf("calendar: office period %d (%d–%d) is out of order", i+1, p.Start, p.End)
		}
		prev = p.End
	}
	return nil
}

// Minutes is the length of the office day.
func (o OfficeDay) Minutes() int {
	n := 0
	for _, p := range o.Periods {
		n += p.End - p.Start
	}
	return n
}

// Close is the end of the office day on date d (the end of its last period).
func (o OfficeDay) Close(d Date) time.Time {
	return at(d, o.Periods[len(o.Periods)-1].End)
}

func at(d Date, minute int) time.Time { return d.Time().Add(time.Duration(minute) * time.Minute) }

// AddWorkingHours returns the moment h working hours after t on the office
// day o: only the office periods of working days count (weekends and
// holidays do not, make-up workdays do). A t outside office hours starts
// counting at the next office period. h = 0 returns t.
func (c *Calendar) AddWorkingHours(t time.Time, h int, o OfficeDay) time.Time {
	return c.AddWorkingTime(t, time.Duration(h)*time.Hour, o)
}

// AddWorkingTime is AddWorkingHours for any duration, counted to the minute
// (seconds of t are kept as they fall).
func (c *Calendar) AddWorkingTime(t time.Time, d time.Duration, o OfficeDay) time.Time {
	if d <= 0 {
		return t
	}
	s := c.now()
	t = t.In(clock.China)
	left := d
	day := DateOf(t)
	// A year of days without an office hour means a calendar of nothing
	// but rest days: give up rather than loop for ever.
	for range 3660 {
		if s.isWork(day.days()) {
			for _, p := range o.Periods {
				start, end := at(day, p.Start), at(day, p.End)
				if t.After(start) {
					start = t
				}
				if !start.Before(end) {
					continue
				}
				avail := end.Sub(start)
				if left <= avail {
					return start.Add(left)
				}
				left -= avail
			}
		}
		day = day.AddDays(1)
	}
	return t.Add(d)
}

// WorkingTimeBetween is the office time between from and to: how much of
// the span falls in office periods of working days (0 when to is not after
// from).
func (c *Calendar) WorkingTimeBetween(from, to time.Time, o OfficeDay) time.Duration {
	if !to.After(from) {
		return 0
	}
	s := c.now()
	from, to = from.In(clock.China), to.In(clock.China)
	var sum time.Duration
	for day := DateOf(from); !day.After(DateOf(to)); day = day.AddDays(1) {
		if !s.isWork(day.days()) {
			continue
		}
		for _, p := range o.Periods {
			start, end := at(day, p.Start), at(day, p.End)
			if from.After(start) {
				start = from
			}
			if to.Before(end) {
				end = to
			}
			if end.After(start) {
				sum += end.Sub(start)
			}
		}
	}
	return sum
}
