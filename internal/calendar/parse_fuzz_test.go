package calendar

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// A hall's office hours are typed by its administrator: what parses is a
// valid day (periods in order, within the day) that reads back the same
// when written as HH:MM-HH:MM,….
func FuzzParseOfficeDay(f *testing.F) {
	f.Add("09:00-12:00,13:30-17:30")
	f.Add(" 8:30 - 11:30 ")
	f.Add("13:30-17:30,09:00-12:00")
	f.Add("00:00-23:59")
	f.Add("24:00-25:00")
	f.Add("09:00-09:00,")
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOfficeDay(s)
		if err != nil {
			return
		}
		if o.Validate() != nil || o.Minutes() <= 0 || o.Minutes() > 24*60 {
			t.Fatalf("ParseOfficeDay(%q) = %+v", s, o)
		}
		parts := make([]string, len(o.Periods))
		for i, p := range o.Periods {
			parts[i] = fmt.Sprintf("%02d:%02d-%02d:%02d", p.Start/60, p.Start%60, p.End/60, p.End%60)
		}
		again, err := ParseOfficeDay(strings.Join(parts, ","))
		if err != nil || !reflect.DeepEqual(again, o) {
			t.Fatalf("%q read as %+v, written %q, read back %+v, %v", s, o, strings.Join(parts, ","), again, err)
		}
	})
}

// A date in a form or a query (a hall's day, a local calendar day) reads
// back as written: ParseDate takes "2006-01-02" only.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-10-08", "2026-02-29", "2028-02-29", "0000-01-01", "9999-12-31", "2026-1-8", " 2026-10-08"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if d.String() != s || DateOf(d.Time()) != d {
			t.Fatalf("ParseDate(%q) = %v, written %q", s, d, d.String())
		}
	})
}
