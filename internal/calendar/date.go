package calendar

import (
	"fmt"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
)

// Date is a civil date in Beijing time (clock.China), with no time of day.
//
// Construct dates with NewDate, DateOf or ParseDate, which normalise them
// (NewDate(2026, 2, 30) is 2026-03-02). A literal such as Date{2026, 2, 30}
// is accepted by every function here and treated as its normalised date, but
// == between two literals compares fields, not days; use Equal.
type Date struct {
	Y int
	M time.Month
	D int
}

// NewDate returns the normalised date y-m-d.
func NewDate(y int, m time.Month, d int) Date {
	return fromDays(Date{y, m, d}.days())
}

// DateOf returns the Beijing date of the instant t.
func DateOf(t time.Time) Date {
	y, m, d := t.In(clock.China).Date()
	return Date{y, m, d}
}

// ParseDate parses "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, clock.China)
	if err != nil {
		return Date{}, fmt.Errorf("calendar: bad date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// String formats the date as "2026-10-08".
func (d Date) String() string {
	n := d.norm()
	return fmt.Sprintf("%04d-%02d-%02d", n.Y, int(n.M), n.D)
}

// Time returns 00:00 of the date in Beijing time.
func (d Date) Time() time.Time {
	return time.Date(d.Y, d.M, d.D, 0, 0, 0, 0, clock.China)
}

// IsZero reports whether d is the zero Date (no date set).
func (d Date) IsZero() bool { return d == Date{} }

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday { return weekday(d.days()) }

// AddDays returns the date n calendar days after d (before it if n < 0).
func (d Date) AddDays(n int) Date { return fromDays(d.days() + int64(n)) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	a, b := d.days(), e.days()
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.days() < e.days() }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.days() > e.days() }

// Equal reports whether d and e are the same day.
func (d Date) Equal(e Date) bool { return d.days() == e.days() }

// MarshalText encodes the date as "2026-10-08" (JSON, form values).
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes "2026-10-08".
func (d *Date) UnmarshalText(b []byte) error {
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// days is the number of days since 1970-01-01 (negative before it). It is the
// package's internal representation: maps are keyed by it and loops step it.
func (d Date) days() int64 {
	// Midnight UTC is an exact multiple of 86400 seconds, so the division is
	// exact for dates before 1970 too.
	return time.Date(d.Y, d.M, d.D, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func (d Date) norm() Date { return fromDays(d.days()) }

func fromDays(n int64) Date {
	y, m, d := time.Unix(n*86400, 0).UTC().Date()
	return Date{y, m, d}
}

// weekday of a day number; 1970-01-01 was a Thursday.
func weekday(n int64) time.Weekday {
	return time.Weekday(((n % 7) + 7 + 4) % 7)
}

func isWeekend(n int64) bool {
	w := weekday(n)
	return w == time.Saturday || w == time.Sunday
}
