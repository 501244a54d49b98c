package calendar

import "testing"

func TestDue(t *testing.T) {
	c := New(nil)
	// Accepted Thu 2026-09-10 with 20 working days: 9/11, 9/14–18, Sun 9/20
	// (make-up), 9/21–24, [9/25 中秋], 9/28–30, [10/1–7], 10/8, 10/9, Sat 10/10
	// (make-up), 10/12, 10/13, 10/14.
	accepted := d(2026, 9, 10)
	tests := []struct {
		name   string
		pauses []Span
		want   Date
	}{
		{"no pause", nil, d(2026, 10, 14)},
		{"expert review across National Day: 9/28–30, 10/8, 10/9 paused",
			[]Span{{d(2026, 9, 25), d(2026, 10, 9)}}, d(2026, 10, 21)},
		{"a pause over holidays only pauses nothing",
			[]Span{{d(2026, 9, 30), d(2026, 10, 7)}}, d(2026, 10, 14)},
		{"overlapping pauses count each day once (7 days)",
			[]Span{{d(2026, 9, 30), d(2026, 10, 12)}, {d(2026, 9, 25), d(2026, 10, 9)}}, d(2026, 10, 23)},
		{"touching pauses (5 + 2 days)",
			[]Span{{d(2026, 9, 25), d(2026, 10, 9)}, {d(2026, 10, 9), d(2026, 10, 12)}}, d(2026, 10, 23)},
		{"a pause begun before acceptance counts from acceptance (9/11, 9/14)",
			[]Span{{d(2026, 9, 1), d(2026, 9, 14)}}, d(2026, 10, 16)},
		{"an empty or reversed span pauses nothing",
			[]Span{{d(2026, 9, 14), d(2026, 9, 14)}, {d(2026, 9, 18), d(2026, 9, 11)}}, d(2026, 10, 14)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Due(accepted, Workdays(20), tt.pauses); got != tt.want {
				t.Errorf("Due = %v, want %v", got, tt.want)
			}
		})
	}
	if got := c.Paused(Span{d(2026, 9, 25), d(2026, 10, 9)}); got != 5 {
		t.Errorf("Paused = %d, want 5", got)
	}
	// The Spring Festival case; a correction (补正) restarts the count from the
	// day the materials were complete.
	if got := c.Due(d(2026, 2, 12), Workdays(20), nil); got != d(2026, 3, 18) {
		t.Errorf("Due before the festival = %v", got)
	}
	if got := c.Due(d(2026, 2, 24), Workdays(20), nil); got != d(2026, 3, 23) {
		t.Errorf("Due after a correction completed on 2/24 = %v", got)
	}
	if got := c.Due(d(2026, 3, 9), Workdays(0), nil); got != d(2026, 3, 9) {
		t.Errorf("Due with limit 0 = %v", got)
	}
}

func TestLeftAndStatus(t *testing.T) {
	c := New(nil)
	tests := []struct {
		name       string
		today, due Date
		left       int
		status     Status
	}{
		// Due Wed 2026-03-18 (20 days from 2/12).
		{"two days left", d(2026, 3, 16), d(2026, 3, 18), 2, OnTime},
		{"one day left", d(2026, 3, 17), d(2026, 3, 18), 1, Warning},
		{"due today", d(2026, 3, 18), d(2026, 3, 18), 0, Warning},
		{"one day late", d(2026, 3, 19), d(2026, 3, 18), -1, Overdue},
		{"three days late over a weekend", d(2026, 3, 23), d(2026, 3, 18), -3, Overdue},
		{"long before", d(2026, 2, 12), d(2026, 3, 18), 20, OnTime},
		// Due Friday 3/20.
		{"Saturday after a Friday due date is late though no working day passed", d(2026, 3, 21), d(2026, 3, 20), 0, Overdue},
		{"Friday before a Monday due date", d(2026, 3, 13), d(2026, 3, 16), 1, Warning},
		{"Thursday before a Monday due date", d(2026, 3, 12), d(2026, 3, 16), 2, OnTime},
		// Due Thu 10/8, right after the golden week.
		{"last day before the golden week", d(2026, 9, 30), d(2026, 10, 8), 1, Warning},
		{"during the golden week", d(2026, 10, 3), d(2026, 10, 8), 1, Warning},
		{"two days before the golden week", d(2026, 9, 29), d(2026, 10, 8), 2, OnTime},
		{"late across the make-up Saturday", d(2026, 10, 12), d(2026, 10, 8), -3, Overdue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Left(tt.today, tt.due); got != tt.left {
				t.Errorf("Left(%v, %v) = %d, want %d", tt.today, tt.due, got, tt.left)
			}
			if got := c.StatusOf(tt.today, tt.due); got != tt.status {
				t.Errorf("StatusOf(%v, %v) = %v, want %v", tt.today, tt.due, got, tt.status)
			}
		})
	}
	if OnTime.String() != "正常" || Warning.String() != "预警" || Overdue.String() != "超期" {
		t.Error("Status names")
	}
}

func TestDueInNaturalDays(t *testing.T) {
	c := New(nil)
	tests := []struct {
		name     string
		accepted Date
		days     int
		pauses   []Span
		want     Date
	}{
		{"ends on a working day", d(2026, 9, 14), 3, nil, d(2026, 9, 17)},
		{"ends on a Saturday: the next working day", d(2026, 9, 21), 5, nil, d(2026, 9, 28)},
		{"ends on a Saturday before a make-up Sunday: that Sunday", d(2026, 9, 14), 5, nil, d(2026, 9, 20)},
		{"ends in the golden week: the day after it", d(2026, 9, 21), 10, nil, d(2026, 10, 8)},
		{"ends on the make-up Saturday 10/10: that day", d(2026, 9, 28), 12, nil, d(2026, 10, 10)},
		{"limit 0", d(2026, 10, 3), 0, nil, d(2026, 10, 8)},
		{"a pause over the holidays pushes by every natural day (13)",
			d(2026, 9, 21), 10, []Span{{d(2026, 9, 25), d(2026, 10, 8)}}, d(2026, 10, 14)},
		{"a pause pushes the period's own last day (Sun 9/27), not the Monday it was moved to",
			d(2026, 9, 21), 5, []Span{{d(2026, 9, 22), d(2026, 9, 23)}}, d(2026, 9, 28)},
		{"two days paused: Monday 9/28 itself",
			d(2026, 9, 21), 5, []Span{{d(2026, 9, 22), d(2026, 9, 24)}}, d(2026, 9, 28)},
		{"overlapping pauses count each day once, a pause begun before acceptance from acceptance: 3 + 2 days, so 10/1, so 10/8",
			d(2026, 9, 21), 5, []Span{{d(2026, 9, 1), d(2026, 9, 24)}, {d(2026, 9, 22), d(2026, 9, 23)}, {d(2026, 9, 29), d(2026, 10, 1)}}, d(2026, 10, 8)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Due(tt.accepted, Limit{tt.days, NaturalDays}, tt.pauses); got != tt.want {
				t.Errorf("Due in natural days = %v, want %v", got, tt.want)
			}
		})
	}
	if got := PausedDays(Span{d(2026, 9, 25), d(2026, 10, 8)}); got != 13 {
		t.Errorf("PausedDays = %d, want 13", got)
	}
	if got := PausedDays(Span{d(2026, 9, 25), d(2026, 9, 20)}); got != 0 {
		t.Errorf("PausedDays of a reversed span = %d", got)
	}
	// A local rest day is skipped too.
	local := New([]Override{{Date: d(2026, 9, 17), Work: false, Reason: "区运动会"}})
	if got := local.Due(d(2026, 9, 14), Limit{3, NaturalDays}, nil); got != d(2026, 9, 18) {
		t.Errorf("Due in natural days over a local rest day = %v, want 2026-09-18", got)
	}
	// Hours count as natural days, rounded up.
	for hours, want := range map[int]Date{48: d(2026, 9, 16), 49: d(2026, 9, 17), 1: d(2026, 9, 15)} {
		if got := c.Due(d(2026, 9, 14), Limit{hours, Hours}, nil); got != want {
			t.Errorf("Due in %d hours = %v, want %v", hours, got, want)
		}
	}
	if !Hours.Valid() || Unit("周").Valid() {
		t.Error("Unit.Valid")
	}
	if got := c.FirstWorkday(d(2026, 10, 1)); got != d(2026, 10, 8) {
		t.Errorf("FirstWorkday(10/1) = %v", got)
	}
	if got := c.FirstWorkday(d(2026, 9, 30)); got != d(2026, 9, 30) {
		t.Errorf("FirstWorkday(9/30) = %v", got)
	}
}
