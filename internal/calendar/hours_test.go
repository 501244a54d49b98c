package calendar

import (
	"reflect"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
)

func bj(y int, m time.Month, day, h, min int) time.Time {
	return time.Date(y, m, day, h, min, 0, 0, clock.China)
}

func TestAddWorkingHours(t *testing.T) {
	c := New([]Override{{Date: d(2026, 11, 18), Work: false, Reason: "区运动会"}})
	o := DefaultOfficeDay
	tests := []struct {
		name  string
		from  time.Time
		hours int
		want  time.Time
	}{
		{"within the morning", bj(2026, 11, 23, 9, 0), 2, bj(2026, 11, 23, 11, 0)},
		{"ends at noon exactly", bj(2026, 11, 23, 11, 0), 1, bj(2026, 11, 23, 12, 0)},
		{"over lunch", bj(2026, 11, 23, 11, 30), 1, bj(2026, 11, 23, 14, 0)},
		{"given at lunch", bj(2026, 11, 23, 12, 40), 1, bj(2026, 11, 23, 14, 30)},
		{"before opening", bj(2026, 11, 23, 7, 0), 1, bj(2026, 11, 23, 10, 0)},
		{"after closing", bj(2026, 11, 23, 18, 0), 1, bj(2026, 11, 24, 10, 0)},
		{"a whole office day", bj(2026, 11, 23, 10, 0), 7, bj(2026, 11, 24, 10, 0)},
		{"over a weekend", bj(2026, 11, 27, 16, 30), 2, bj(2026, 11, 30, 10, 0)},
		{"given on a Sunday", bj(2026, 11, 29, 10, 0), 1, bj(2026, 11, 30, 10, 0)},
		{"over the national day holiday", bj(2026, 9, 30, 17, 0), 1, bj(2026, 10, 8, 9, 30)},
		{"into a make-up Saturday", bj(2026, 10, 9, 17, 0), 1, bj(2026, 10, 10, 9, 30)},
		{"into a make-up Sunday", bj(2026, 9, 18, 17, 0), 2, bj(2026, 9, 20, 10, 30)},
		{"over a local holiday", bj(2026, 11, 17, 17, 0), 1, bj(2026, 11, 19, 9, 30)},
		{"zero", bj(2026, 11, 28, 3, 0), 0, bj(2026, 11, 28, 3, 0)},
		{"24 hours are three and a bit days", bj(2026, 11, 23, 9, 0), 24, bj(2026, 11, 26, 12, 0)},
	}
	for _, tt := range tests {
		got := c.AddWorkingHours(tt.from, tt.hours, o)
		if !got.Equal(tt.want) {
			t.Errorf("%s: AddWorkingHours(%s, %d) = %s, want %s", tt.name, tt.from.Format("01-02 15:04 Mon"), tt.hours,
				got.In(clock.China).Format("01-02 15:04 Mon"), tt.want.Format("01-02 15:04 Mon"))
		}
		// From an office moment, the time between is what was added.
		if tt.hours > 0 && c.WorkingTimeBetween(tt.from, got, o) != time.Duration(tt.hours)*time.Hour {
			t.Errorf("%s: WorkingTimeBetween = %s, want %dh", tt.name, c.WorkingTimeBetween(tt.from, got, o), tt.hours)
		}
	}
	// An instant given in another zone counts in Beijing time.
	if got := c.AddWorkingHours(bj(2026, 11, 23, 9, 0).UTC(), 1, o); !got.Equal(bj(2026, 11, 23, 10, 0)) {
		t.Errorf("UTC input: %s", got)
	}
	// Minutes count too.
	if got := c.AddWorkingTime(bj(2026, 11, 23, 11, 45), 30*time.Minute, o); !got.Equal(bj(2026, 11, 23, 13, 45)) {
		t.Errorf("AddWorkingTime 30m over lunch = %s", got)
	}
}

func TestWorkingTimeBetween(t *testing.T) {
	c := New(nil)
	o := DefaultOfficeDay
	if got := c.WorkingTimeBetween(bj(2026, 9, 30, 8, 0), bj(2026, 10, 8, 23, 0), o); got != 14*time.Hour {
		t.Errorf("30 Sep to 8 Oct: %s, want 14h (the holiday does not count)", got)
	}
	if got := c.WorkingTimeBetween(bj(2026, 11, 23, 10, 0), bj(2026, 11, 23, 9, 0), o); got != 0 {
		t.Errorf("backwards: %s", got)
	}
}

func TestOfficeDay(t *testing.T) {
	if err := DefaultOfficeDay.Validate(); err != nil || DefaultOfficeDay.Minutes() != 7*60 {
		t.Fatalf("default: %v, %d minutes", err, DefaultOfficeDay.Minutes())
	}
	if got := DefaultOfficeDay.Close(d(2026, 11, 23)); !got.Equal(bj(2026, 11, 23, 17, 30)) {
		t.Errorf("Close = %s", got)
	}
	for _, bad := range []OfficeDay{{}, {Periods: []Period{{600, 500}}}, {Periods: []Period{{540, 720}, {700, 800}}}, {Periods: []Period{{540, 1500}}}} {
		if bad.Validate() == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	// A custom day: one stretch 08:30–16:30.
	c := New(nil)
	o := OfficeDay{Periods: []Period{{8*60 + 30, 16*60 + 30}}}
	if got := c.AddWorkingHours(bj(2026, 11, 27, 16, 0), 1, o); !got.Equal(bj(2026, 11, 30, 9, 0)) {
		t.Errorf("custom day over a weekend: %s", got)
	}
}

func TestParseOfficeDay(t *testing.T) {
	o, err := ParseOfficeDay("09:00-12:00, 13:30-17:30")
	if err != nil || !reflect.DeepEqual(o, DefaultOfficeDay) {
		t.Fatalf("the default: %+v %v", o, err)
	}
	if o, err := ParseOfficeDay("08:30-17:00"); err != nil || o.Minutes() != 510 {
		t.Fatalf("one period: %+v %v", o, err)
	}
	for _, bad := range []string{"", "9点-12点", "09:00", "12:00-09:00", "09:00-12:00,11:00-17:00", "09:00-25:00"} {
		if _, err := ParseOfficeDay(bad); err == nil {
			t.Errorf("%q was taken", bad)
		}
	}
}
