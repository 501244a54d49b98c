package calendar

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
	"github.com/zwfw/zwfw/internal/clock"
)

// d is shorthand for a date in the tests.
func d(y int, m time.Month, day int) Date { return Date{y, m, day} }

// The State Council's 2026 arrangement (国务院办公厅关于2026年部分节假日安排的通知),
// checked day by day against lunar-go's data.
func TestStateCouncil2026(t *testing.T) {
	c := New(nil)
	tests := []struct {
		date    Date
		work    bool
		explain string
	}{
		// 元旦: 1月1日至3日放假调休, 1月4日(周日)上班.
		{d(2025, 12, 31), true, "工作日"},
		{d(2026, 1, 1), false, "法定节假日：元旦节"},
		{d(2026, 1, 2), false, "法定节假日：元旦节"},
		{d(2026, 1, 3), false, "法定节假日：元旦节"},
		{d(2026, 1, 4), true, "调休上班：元旦节"},
		// 春节: 2月15日至23日放假调休, 2月14日(周六)、2月28日(周六)上班.
		{d(2026, 2, 13), true, "工作日"},
		{d(2026, 2, 14), true, "调休上班：春节"},
		{d(2026, 2, 15), false, "法定节假日：春节"},
		{d(2026, 2, 16), false, "法定节假日：春节"},
		{d(2026, 2, 17), false, "法定节假日：春节"},
		{d(2026, 2, 18), false, "法定节假日：春节"},
		{d(2026, 2, 19), false, "法定节假日：春节"},
		{d(2026, 2, 20), false, "法定节假日：春节"},
		{d(2026, 2, 21), false, "法定节假日：春节"},
		{d(2026, 2, 22), false, "法定节假日：春节"},
		{d(2026, 2, 23), false, "法定节假日：春节"},
		{d(2026, 2, 24), true, "工作日"},
		{d(2026, 2, 27), true, "工作日"},
		{d(2026, 2, 28), true, "调休上班：春节"},
		{d(2026, 3, 1), false, "周末"},
		{d(2026, 3, 2), true, "工作日"},
		// 清明 4月4日至6日; 劳动节 5月1日至5日, 5月9日(周六)上班; 端午 6月19日至21日.
		{d(2026, 4, 6), false, "法定节假日：清明节"},
		{d(2026, 5, 5), false, "法定节假日：劳动节"},
		{d(2026, 5, 9), true, "调休上班：劳动节"},
		{d(2026, 6, 19), false, "法定节假日：端午节"},
		// 中秋 9月25日至27日; 国庆 10月1日至7日放假调休, 9月20日(周日)、10月10日(周六)上班.
		{d(2026, 9, 19), false, "周末"},
		{d(2026, 9, 20), true, "调休上班：国庆节"},
		{d(2026, 9, 24), true, "工作日"},
		{d(2026, 9, 25), false, "法定节假日：中秋节"},
		{d(2026, 9, 26), false, "法定节假日：中秋节"},
		{d(2026, 9, 27), false, "法定节假日：中秋节"},
		{d(2026, 9, 30), true, "工作日"},
		{d(2026, 10, 1), false, "法定节假日：国庆节"},
		{d(2026, 10, 2), false, "法定节假日：国庆节"},
		{d(2026, 10, 3), false, "法定节假日：国庆节"},
		{d(2026, 10, 4), false, "法定节假日：国庆节"},
		{d(2026, 10, 5), false, "法定节假日：国庆节"},
		{d(2026, 10, 6), false, "法定节假日：国庆节"},
		{d(2026, 10, 7), false, "法定节假日：国庆节"},
		{d(2026, 10, 8), true, "工作日"},
		{d(2026, 10, 9), true, "工作日"},
		{d(2026, 10, 10), true, "调休上班：国庆节"},
		{d(2026, 10, 11), false, "周末"},
		// 2025: 国庆中秋 together.
		{d(2025, 10, 8), false, "法定节假日：国庆中秋"},
		{d(2025, 10, 11), true, "调休上班：国庆中秋"},
	}
	for _, tt := range tests {
		if got := c.IsWorkday(tt.date); got != tt.work {
			t.Errorf("IsWorkday(%v) = %v, want %v", tt.date, got, tt.work)
		}
		if got := c.Explain(tt.date); got != tt.explain {
			t.Errorf("Explain(%v) = %q, want %q", tt.date, got, tt.explain)
		}
	}
}

// The make-up days of 2026 are exactly these, and the year has 248 working
// days: 261 weekdays − 19 weekday holidays + 6 make-up days.
func TestYear2026(t *testing.T) {
	c := New(nil)
	var makeup []Date
	l := HolidayUtil.GetHolidaysByYear(2026)
	for e := l.Front(); e != nil; e = e.Next() {
		if h := e.Value.(*HolidayUtil.Holiday); h.IsWork() {
			p, err := ParseDate(h.GetDay())
			if err != nil {
				t.Fatal(err)
			}
			makeup = append(makeup, p)
		}
	}
	want := []Date{d(2026, 1, 4), d(2026, 2, 14), d(2026, 2, 28), d(2026, 5, 9), d(2026, 9, 20), d(2026, 10, 10)}
	if len(makeup) != len(want) {
		t.Fatalf("make-up days %v, want %v", makeup, want)
	}
	for i := range want {
		if !makeup[i].Equal(want[i]) {
			t.Errorf("make-up day %d = %v, want %v", i, makeup[i], want[i])
		}
	}
	if got := c.WorkdaysBetween(d(2025, 12, 31), d(2026, 12, 31)); got != 248 {
		t.Errorf("working days in 2026 = %d, want 248", got)
	}
	if !c.Covers(2026) || !c.Covers(2027) || c.Covers(2028) {
		t.Errorf("Covers 2026/2027/2028 = %v/%v/%v, want true/true/false", c.Covers(2026), c.Covers(2027), c.Covers(2028))
	}
}

func TestAddWorkdays(t *testing.T) {
	c := New(nil)
	tests := []struct {
		name  string
		start Date
		n     int
		want  Date
	}{
		{"n=0 returns start", d(2026, 2, 14), 0, d(2026, 2, 14)},
		{"n=0 on a rest day returns it", d(2026, 3, 7), 0, d(2026, 3, 7)},
		{"Friday +1 skips the weekend", d(2026, 3, 6), 1, d(2026, 3, 9)},
		{"Friday +5", d(2026, 3, 6), 5, d(2026, 3, 13)},
		{"Saturday +1", d(2026, 3, 7), 1, d(2026, 3, 9)},
		{"Sunday +1", d(2026, 3, 8), 1, d(2026, 3, 9)},
		{"Monday +1", d(2026, 3, 9), 1, d(2026, 3, 10)},

		// Spring Festival 2026: rest 2/15–2/23, work Sat 2/14 and Sat 2/28.
		{"Fri before the festival +1 is the make-up Saturday", d(2026, 2, 13), 1, d(2026, 2, 14)},
		{"make-up Saturday +1 jumps the festival", d(2026, 2, 14), 1, d(2026, 2, 24)},
		{"Fri 2/27 +1 is the make-up Saturday", d(2026, 2, 27), 1, d(2026, 2, 28)},
		{"Fri 2/27 +2", d(2026, 2, 27), 2, d(2026, 3, 2)},
		{"20 days accepted Thu 2/12", d(2026, 2, 12), 20, d(2026, 3, 18)},
		{"20 days accepted Fri 2/13", d(2026, 2, 13), 20, d(2026, 3, 19)},
		{"20 days accepted on make-up Sat 2/14", d(2026, 2, 14), 20, d(2026, 3, 20)},
		{"20 days accepted during the festival", d(2026, 2, 18), 20, d(2026, 3, 20)},

		// National Day 2026: rest 9/25–27 (中秋) and 10/1–7, work Sun 9/20 and Sat 10/10.
		{"Fri 9/18 +1 is the make-up Sunday", d(2026, 9, 18), 1, d(2026, 9, 20)},
		{"Fri 9/18 +5", d(2026, 9, 18), 5, d(2026, 9, 24)},
		{"Fri 9/18 +10", d(2026, 9, 18), 10, d(2026, 10, 9)},
		{"Fri 9/18 +11 is the make-up Saturday", d(2026, 9, 18), 11, d(2026, 10, 10)},
		{"Fri 9/18 +12", d(2026, 9, 18), 12, d(2026, 10, 12)},
		{"Fri 9/18 +20", d(2026, 9, 18), 20, d(2026, 10, 22)},
		{"Wed 9/30 +1 jumps the golden week", d(2026, 9, 30), 1, d(2026, 10, 8)},
		{"Wed 9/30 +3", d(2026, 9, 30), 3, d(2026, 10, 10)},

		// Year boundaries.
		{"2025-12-31 +1 is the make-up Sunday 2026-01-04", d(2025, 12, 31), 1, d(2026, 1, 4)},
		{"2025-12-31 +2", d(2025, 12, 31), 2, d(2026, 1, 5)},
		{"2025-12-31 +5", d(2025, 12, 31), 5, d(2026, 1, 8)},
		{"2025-12-29 +3", d(2025, 12, 29), 3, d(2026, 1, 4)},
		{"2026-12-31 +1 skips 元旦 2027", d(2026, 12, 31), 1, d(2027, 1, 4)},

		// Counting backwards.
		{"Mon 2/24 -1", d(2026, 2, 24), -1, d(2026, 2, 14)},
		{"Mon 10/12 -2", d(2026, 10, 12), -2, d(2026, 10, 9)},
		{"2026-01-05 -2 crosses the year", d(2026, 1, 5), -2, d(2025, 12, 31)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.AddWorkdays(tt.start, tt.n)
			if got != tt.want {
				t.Fatalf("AddWorkdays(%v, %d) = %v (%s), want %v", tt.start, tt.n, got, c.Explain(got), tt.want)
			}
			if tt.n > 0 {
				if k := c.WorkdaysBetween(tt.start, got); k != tt.n {
					t.Errorf("WorkdaysBetween(%v, %v) = %d, want %d", tt.start, got, k, tt.n)
				}
			}
		})
	}
}

func TestWorkdaysBetween(t *testing.T) {
	c := New(nil)
	tests := []struct {
		from, to Date
		want     int
	}{
		{d(2026, 3, 9), d(2026, 3, 9), 0},
		{d(2026, 3, 13), d(2026, 3, 9), 0}, // to before from
		{d(2026, 3, 6), d(2026, 3, 9), 1},  // Sat, Sun don't count; Mon does
		{d(2026, 3, 9), d(2026, 3, 13), 4}, // Tue–Fri: from itself is not counted
		{d(2026, 2, 13), d(2026, 2, 28), 6},
		{d(2026, 2, 14), d(2026, 2, 23), 0}, // the whole festival
		{d(2026, 9, 30), d(2026, 10, 10), 3},
		{d(2025, 12, 31), d(2026, 1, 5), 2},
	}
	for _, tt := range tests {
		if got := c.WorkdaysBetween(tt.from, tt.to); got != tt.want {
			t.Errorf("WorkdaysBetween(%v, %v) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestOverrides(t *testing.T) {
	base := New(nil)
	tests := []struct {
		name      string
		overrides []Override
		start     Date
		n         int
		want      Date
		explain   map[Date]string
	}{
		{
			name:  "no override",
			start: d(2026, 3, 5), n: 5, want: d(2026, 3, 12),
		},
		{
			name:      "a local holiday pushes the due date",
			overrides: []Override{{Date: d(2026, 3, 9), Work: false, Reason: "区庆"}},
			start:     d(2026, 3, 5), n: 5, want: d(2026, 3, 13),
			explain: map[Date]string{d(2026, 3, 9): "本地调整：区庆（休息日）", d(2026, 3, 10): "工作日"},
		},
		{
			name:      "a Saturday made a workday",
			overrides: []Override{{Date: d(2026, 3, 7), Work: true, Reason: "补班"}},
			start:     d(2026, 3, 5), n: 5, want: d(2026, 3, 11),
			explain: map[Date]string{d(2026, 3, 7): "本地调整：补班（工作日）", d(2026, 3, 8): "周末"},
		},
		{
			name:      "a make-up workday cancelled locally",
			overrides: []Override{{Date: d(2026, 2, 28), Work: false}},
			start:     d(2026, 2, 27), n: 1, want: d(2026, 3, 2),
			explain: map[Date]string{d(2026, 2, 28): "本地调整：休息日"},
		},
		{
			name:      "a statutory holiday made a workday",
			overrides: []Override{{Date: d(2026, 10, 7), Work: true}},
			start:     d(2026, 9, 30), n: 1, want: d(2026, 10, 7),
			explain: map[Date]string{d(2026, 10, 7): "本地调整：工作日", d(2026, 10, 6): "法定节假日：国庆节"},
		},
		{
			name: "the later of two overrides for a day wins",
			overrides: []Override{
				{Date: d(2026, 3, 9), Work: false, Reason: "区庆"},
				{Date: d(2026, 3, 9), Work: true, Reason: "撤销"},
			},
			start: d(2026, 3, 5), n: 5, want: d(2026, 3, 12),
			explain: map[Date]string{d(2026, 3, 9): "本地调整：撤销（工作日）"},
		},
		{
			name:      "an unnormalised date is its normalised day",
			overrides: []Override{{Date: Date{2026, 2, 37}, Work: false, Reason: "区庆"}}, // = 3/9
			start:     d(2026, 3, 5), n: 5, want: d(2026, 3, 13),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.overrides)
			if got := c.AddWorkdays(tt.start, tt.n); got != tt.want {
				t.Errorf("AddWorkdays(%v, %d) = %v, want %v", tt.start, tt.n, got, tt.want)
			}
			for day, want := range tt.explain {
				if got := c.Explain(day); got != want {
					t.Errorf("Explain(%v) = %q, want %q", day, got, want)
				}
			}
		})
	}
	// New copies the overrides; the base calendar is untouched.
	ov := []Override{{Date: d(2026, 3, 9), Work: false, Reason: "区庆"}}
	c := New(ov)
	ov[0].Work = true
	if c.IsWorkday(d(2026, 3, 9)) || !base.IsWorkday(d(2026, 3, 9)) {
		t.Error("calendar not independent of its input or of other calendars")
	}
	got := New([]Override{
		{Date: d(2026, 3, 9), Reason: "b"}, {Date: d(2026, 3, 7), Work: true}, {Date: d(2026, 3, 9), Reason: "c"},
	}).Overrides()
	if len(got) != 2 || got[0].Date != d(2026, 3, 7) || got[1].Reason != "c" {
		t.Errorf("Overrides() = %+v", got)
	}
}

func TestDate(t *testing.T) {
	if got := NewDate(2026, 2, 30); got != d(2026, 3, 2) {
		t.Errorf("NewDate(2026, 2, 30) = %v", got)
	}
	if got := (Date{2026, 10, 8}).String(); got != "2026-10-08" {
		t.Errorf("String = %q", got)
	}
	if got := (Date{2026, 1, 0}).String(); got != "2025-12-31" {
		t.Errorf("String of unnormalised = %q", got)
	}
	// 16:30 UTC on 7 October is 00:30 on 8 October in Beijing.
	if got := DateOf(time.Date(2026, 10, 7, 16, 30, 0, 0, time.UTC)); got != d(2026, 10, 8) {
		t.Errorf("DateOf = %v", got)
	}
	if got := DateOf(time.Date(2026, 10, 7, 15, 59, 59, 0, time.UTC)); got != d(2026, 10, 7) {
		t.Errorf("DateOf = %v", got)
	}
	if tm := d(2026, 10, 8).Time(); !tm.Equal(time.Date(2026, 10, 8, 0, 0, 0, 0, clock.China)) || DateOf(tm) != d(2026, 10, 8) {
		t.Errorf("Time = %v", tm)
	}
	if p, err := ParseDate("2026-02-14"); err != nil || p != d(2026, 2, 14) {
		t.Errorf("ParseDate = %v, %v", p, err)
	}
	if _, err := ParseDate("2026-02-30"); err == nil {
		t.Error("ParseDate accepted 2026-02-30")
	}
	if got := d(2026, 12, 31).AddDays(1); got != d(2027, 1, 1) {
		t.Errorf("AddDays = %v", got)
	}
	if got := d(2026, 3, 1).AddDays(-1); got != d(2026, 2, 28) {
		t.Errorf("AddDays(-1) = %v", got)
	}
	if d(2026, 2, 14).Weekday() != time.Saturday || d(2026, 9, 20).Weekday() != time.Sunday ||
		d(1969, 12, 31).Weekday() != time.Wednesday || d(1900, 1, 1).Weekday() != time.Monday {
		t.Error("Weekday wrong")
	}
	a, b := d(2025, 12, 31), d(2026, 1, 1)
	if !a.Before(b) || a.After(b) || !b.After(a) || a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Error("ordering wrong")
	}
	if !(Date{2026, 2, 29}).Equal(d(2026, 3, 1)) {
		t.Error("Equal does not normalise")
	}
	if !(Date{}).IsZero() || a.IsZero() {
		t.Error("IsZero wrong")
	}
	var v struct{ Due Date }
	if err := json.Unmarshal([]byte(`{"Due":"2026-10-08"}`), &v); err != nil || v.Due != d(2026, 10, 8) {
		t.Fatalf("unmarshal: %v %v", v, err)
	}
	out, _ := json.Marshal(v)
	if string(out) != `{"Due":"2026-10-08"}` {
		t.Errorf("marshal = %s", out)
	}
}

// A Calendar is shared by request handlers; run with -race.
func TestConcurrent(t *testing.T) {
	c := New([]Override{{Date: d(2026, 3, 9), Reason: "区庆"}})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				s := d(2026, 1, 1).AddDays(i*40 + j)
				due := c.AddWorkdays(s, 20)
				if c.WorkdaysBetween(s, due) != 20 {
					t.Errorf("inconsistent at %v", s)
				}
				_ = c.Explain(due)
			}
			_ = New(nil) // New only reads lunar-go's tables
		})
	}
	wg.Wait()
}

// fuzzCal has local days of both kinds, including over statutory days.
var fuzzCal = New([]Override{
	{Date: d(2026, 3, 9), Work: false, Reason: "区庆"},
	{Date: d(2026, 3, 7), Work: true, Reason: "补班"},
	{Date: d(2026, 10, 7), Work: true},
	{Date: d(2026, 2, 28), Work: false},
	{Date: d(2030, 6, 3), Work: false},
})

func FuzzAddWorkdays(f *testing.F) {
	f.Add(int64(0), 20)
	f.Add(int64(20496), 20) // 2026-02-12
	f.Add(int64(20711), 1)  // 2026-09-15
	f.Add(int64(20453), 5)  // 2025-12-31
	f.Add(int64(20500), -7)
	f.Fuzz(func(t *testing.T, off int64, n int) {
		// Dates 1970–2109, limits up to ±1000 working days.
		start := fromDays(((off % 51000) + 51000) % 51000)
		n %= 1000
		got := fuzzCal.AddWorkdays(start, n)
		switch {
		case n == 0:
			if got != start {
				t.Fatalf("AddWorkdays(%v, 0) = %v", start, got)
			}
		case n > 0:
			if !got.After(start) || !fuzzCal.IsWorkday(got) {
				t.Fatalf("AddWorkdays(%v, %d) = %v (%s)", start, n, got, fuzzCal.Explain(got))
			}
			if k := fuzzCal.WorkdaysBetween(start, got); k != n {
				t.Fatalf("WorkdaysBetween(%v, AddWorkdays(…, %d) = %v) = %d", start, n, got, k)
			}
			if k := fuzzCal.WorkdaysBetween(start, got.AddDays(-1)); k != n-1 {
				t.Fatalf("%v is not the first day with %d working days after %v", got, n, start)
			}
		default:
			if !got.Before(start) || !fuzzCal.IsWorkday(got) {
				t.Fatalf("AddWorkdays(%v, %d) = %v (%s)", start, n, got, fuzzCal.Explain(got))
			}
			// got is the |n|-th working day before start: |n| working days in [got, start).
			if k := fuzzCal.WorkdaysBetween(got.AddDays(-1), start.AddDays(-1)); k != -n {
				t.Fatalf("AddWorkdays(%v, %d) = %v spans %d working days", start, n, got, k)
			}
		}
	})
}

func BenchmarkAddWorkdays(b *testing.B) {
	c := New(nil)
	start := d(2026, 2, 12)
	for i := 0; b.Loop(); i++ {
		_ = c.AddWorkdays(start.AddDays(i%300), 20)
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		_ = New(nil)
	}
}

func TestSetOverrides(t *testing.T) {
	ov := []Override{
		{Date: d(2026, 3, 9), Work: false, Reason: "区庆"},
		{Date: d(2026, 3, 7), Work: true, Reason: "补班"},
		{Date: d(2026, 10, 7), Work: true},
		{Date: Date{2026, 2, 29}, Reason: "b"}, // = 3/1, a Sunday
		{Date: d(2026, 3, 1), Work: true, Reason: "c"},
	}
	c := New(nil)
	c.SetOverrides(ov)
	want := New(ov)
	// The same calendar as New would have built, day by day.
	for day := d(2025, 12, 1); day.Before(d(2027, 2, 1)); day = day.AddDays(1) {
		if c.IsWorkday(day) != want.IsWorkday(day) || c.Explain(day) != want.Explain(day) {
			t.Fatalf("%v: %v %q, want %v %q", day, c.IsWorkday(day), c.Explain(day), want.IsWorkday(day), want.Explain(day))
		}
	}
	got, exp := c.Overrides(), want.Overrides()
	if len(got) != 4 || len(got) != len(exp) {
		t.Fatalf("Overrides() = %+v, want %+v", got, exp)
	}
	for i := range got {
		if got[i] != exp[i] {
			t.Errorf("Overrides()[%d] = %+v, want %+v", i, got[i], exp[i])
		}
	}
	if got[0].Date != d(2026, 3, 1) || got[0].Reason != "c" {
		t.Errorf("the later override of a day does not win: %+v", got[0])
	}
	if due := c.Due(d(2026, 3, 5), Workdays(5), nil); due != d(2026, 3, 12) { // 3/7 works, 3/9 rests
		t.Errorf("Due = %v", due)
	}

	// SetOverrides copies its input.
	ov[0].Work = true
	if c.IsWorkday(d(2026, 3, 9)) {
		t.Error("calendar changed with its input slice")
	}
	// Replacing drops the old overrides; nil leaves the State Council's days.
	c.SetOverrides([]Override{{Date: d(2026, 3, 10), Reason: "新"}})
	if !c.IsWorkday(d(2026, 3, 9)) || c.IsWorkday(d(2026, 3, 10)) || c.IsWorkday(d(2026, 3, 7)) || len(c.Overrides()) != 1 {
		t.Error("old overrides kept")
	}
	c.SetOverrides(nil)
	if len(c.Overrides()) != 0 || !c.IsWorkday(d(2026, 3, 10)) || c.IsWorkday(d(2026, 10, 7)) ||
		c.Explain(d(2026, 10, 7)) != "法定节假日：国庆节" || !c.IsWorkday(d(2026, 10, 10)) {
		t.Error("SetOverrides(nil) did not return to the State Council's calendar")
	}
	// Another calendar is not touched.
	if !want.IsWorkday(d(2026, 3, 7)) {
		t.Error("another calendar changed")
	}
}

func TestZeroCalendar(t *testing.T) {
	var c Calendar
	if !c.IsWorkday(d(2026, 10, 1)) || c.IsWorkday(d(2026, 10, 3)) || c.Explain(d(2026, 10, 1)) != "工作日" {
		t.Error("the zero Calendar is not weekends only")
	}
	c.SetOverrides([]Override{{Date: d(2026, 10, 1), Reason: "国庆"}})
	if c.IsWorkday(d(2026, 10, 1)) {
		t.Error("override on the zero Calendar ignored")
	}
}

func TestCoveredYears(t *testing.T) {
	first, last := New(nil).CoveredYears()
	if first != 2001 || last < 2027 {
		t.Errorf("CoveredYears() = %d, %d", first, last)
	}
	for _, y := range []int{first, last, 2026} {
		if !New(nil).Covers(y) {
			t.Errorf("Covers(%d) false", y)
		}
	}
}

// Readers never see a half-made change: while a writer switches the
// overrides back and forth, every call answers as one of the two calendars
// would. Run with -race.
func TestSetOverridesConcurrent(t *testing.T) {
	// a: two local holidays in one week, and a Saturday made a working day.
	a := []Override{
		{Date: d(2026, 3, 9), Reason: "区庆"},
		{Date: d(2026, 3, 10), Reason: "区庆"},
		{Date: d(2026, 3, 14), Work: true, Reason: "补班"},
	}
	ca, cb := New(a), New(nil)
	c := New(nil)
	start, pauses := d(2026, 3, 5), []Span{{From: d(2026, 3, 11), To: d(2026, 3, 13)}}
	wantDue := map[Date]bool{ca.Due(start, Workdays(10), pauses): true, cb.Due(start, Workdays(10), pauses): true}
	wantLeft := map[int]bool{ca.Left(start, d(2026, 3, 20)): true, cb.Left(start, d(2026, 3, 20)): true}
	if len(wantDue) != 2 || len(wantLeft) != 2 {
		t.Fatal("the two calendars must answer differently for the test to mean anything")
	}
	stop := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				c.SetOverrides(a)
			} else {
				c.SetOverrides(nil)
			}
		}
	})
	var readers sync.WaitGroup
	for range 8 {
		readers.Go(func() {
			for range 500 {
				if due := c.Due(start, Workdays(10), pauses); !wantDue[due] {
					t.Errorf("Due = %v, neither calendar's", due)
				}
				if left := c.Left(start, d(2026, 3, 20)); !wantLeft[left] {
					t.Errorf("Left = %d, neither calendar's", left)
				}
				if n := len(c.Overrides()); n != 0 && n != 3 {
					t.Errorf("%d overrides", n)
				}
				if e := c.Explain(d(2026, 3, 9)); e != "工作日" && e != "本地调整：区庆（休息日）" {
					t.Errorf("Explain = %q", e)
				}
				_ = c.StatusOf(start, d(2026, 3, 10))
				_ = c.IsWorkday(d(2026, 3, 14))
			}
		})
	}
	readers.Wait()
	close(stop)
	writer.Wait()
}

func TestNationalDays(t *testing.T) {
	c := New([]Override{{Date: d(2026, 10, 7), Work: true}})
	days := c.NationalDays(2026)
	var work, rest int
	for i, nd := range days {
		if nd.Date.Y != 2026 || i > 0 && !days[i-1].Date.Before(nd.Date) {
			t.Fatalf("day %d: %v out of order or year", i, nd.Date)
		}
		if nd.Work {
			work++
		} else {
			rest++
		}
		// The State Council's word, not the local override.
		if nd.Date == d(2026, 10, 7) && (nd.Work || nd.Name != "国庆节") {
			t.Errorf("10/7 = %+v", nd)
		}
	}
	if work != 6 || days[0].Date != d(2026, 1, 1) || days[0].Name != "元旦节" || days[len(days)-1].Date != d(2026, 10, 10) {
		t.Errorf("2026: %d make-up days, first %+v, last %+v", work, days[0], days[len(days)-1])
	}
	if rest < 25 {
		t.Errorf("2026: only %d holidays", rest)
	}
	if len(c.NationalDays(1999)) != 0 || len(c.NationalDays(2100)) != 0 {
		t.Error("days for a year without data")
	}
	days[0].Name = "x"
	if c.NationalDays(2026)[0].Name != "元旦节" {
		t.Error("NationalDays shares its slice")
	}
}

func BenchmarkSetOverrides(b *testing.B) {
	c := New(nil)
	ov := []Override{{Date: d(2026, 3, 9), Reason: "区庆"}, {Date: d(2026, 3, 7), Work: true, Reason: "补班"}}
	for b.Loop() {
		c.SetOverrides(ov)
	}
}
