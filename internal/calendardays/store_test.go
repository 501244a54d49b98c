package calendardays_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/calendardays"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

var now = time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China)

// admin opens an account to stand for an administrator; changed_by refers
// to it.
func admin(t *testing.T, db *store.DB, name string) policy.Subject {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', ?, ?, ?) RETURNING id`,
			name, now, now).Scan(&id)
	}); err != nil {
		t.Fatal(err)
	}
	return policy.Subject{AccountID: id, Kind: policy.Staff, Name: name, DepartmentID: 1, RegionCode: "410411000000", Roles: []policy.Role{policy.Admin}}
}

func d(y int, m time.Month, day int) calendar.Date { return calendar.NewDate(y, m, day) }

// state is everything a change may touch.
type state struct {
	days    []calendardays.Day
	version int64
	audit   []audit.Entry
}

func snapshot(t *testing.T, db *store.DB, s *calendardays.Store) state {
	t.Helper()
	ctx := context.Background()
	var st state
	var err error
	if st.days, err = s.List(ctx); err != nil {
		t.Fatal(err)
	}
	if st.version, err = s.Version(ctx); err != nil {
		t.Fatal(err)
	}
	if st.audit, err = audit.Search(ctx, db.Read(), audit.Filter{}); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSetAndRemove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(now)
		s := calendardays.New(db, clk, nil)
		boss := admin(t, db, "管理员甲")
		v0, err := s.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if days, err := s.List(ctx); err != nil || len(days) != 0 {
			t.Fatalf("List on an empty table = %v, %v", days, err)
		}

		// A local holiday on a Monday, given as an unnormalised date (2/37 = 3/9).
		if err := s.Set(ctx, boss, audit.Meta{IP: "10.0.0.1"}, calendar.Date{Y: 2026, M: 2, D: 37}, false, "  区庆  "); err != nil {
			t.Fatal(err)
		}
		days, err := s.List(ctx)
		if err != nil || len(days) != 1 {
			t.Fatalf("List = %v, %v", days, err)
		}
		got := days[0]
		if got.Date != d(2026, 3, 9) || got.Workday || got.Label != "区庆" || got.ChangedBy != boss.AccountID ||
			got.ChangedByName != "管理员甲" || !got.ChangedAt.Equal(now) {
			t.Errorf("stored day = %+v", got)
		}
		cal := calendar.New(nil)
		v, err := s.Load(ctx, cal)
		if err != nil || v != v0+1 {
			t.Fatalf("Load = %d, %v; want version %d", v, err, v0+1)
		}
		if cal.IsWorkday(d(2026, 3, 9)) || cal.Explain(d(2026, 3, 9)) != "本地调整：区庆（休息日）" {
			t.Errorf("calendar after Load: %s", cal.Explain(d(2026, 3, 9)))
		}
		// A limit of 5 working days from Thursday 3/5 ends on 3/13, not 3/12.
		if due := cal.Due(d(2026, 3, 5), calendar.Workdays(5), nil); due != d(2026, 3, 13) {
			t.Errorf("Due = %v, want 2026-03-13", due)
		}

		// Setting the day again replaces it; a later admin is recorded.
		clk.Advance(time.Hour)
		other := admin(t, db, "管理员乙")
		if err := s.Set(ctx, other, audit.Meta{IP: "10.0.0.2"}, d(2026, 3, 9), true, "补班"); err != nil {
			t.Fatal(err)
		}
		if days, _ = s.List(ctx); len(days) != 1 || !days[0].Workday || days[0].Label != "补班" || days[0].ChangedByName != "管理员乙" ||
			!days[0].ChangedAt.Equal(now.Add(time.Hour)) {
			t.Errorf("after the second Set: %+v", days)
		}
		// A national holiday made a working day, by the command line (no account).
		system := policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}
		if err := s.Set(ctx, system, audit.Meta{}, d(2026, 10, 7), true, "市政府通知上班"); err != nil {
			t.Fatal(err)
		}
		if days, _ = s.List(ctx); len(days) != 2 || days[1].Date != d(2026, 10, 7) || days[1].ChangedBy != 0 || days[1].ChangedByName != "" {
			t.Errorf("system's day: %+v", days)
		}

		if err := s.Remove(ctx, boss, audit.Meta{IP: "10.0.0.1"}, d(2026, 3, 9)); err != nil {
			t.Fatal(err)
		}
		if err := s.Remove(ctx, boss, audit.Meta{IP: "10.0.0.1"}, d(2026, 3, 9)); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("removing a day without a setting: %v", err)
		}
		if days, _ = s.List(ctx); len(days) != 1 || days[0].Date != d(2026, 10, 7) {
			t.Errorf("after Remove: %+v", days)
		}
		if v, _ := s.Version(ctx); v != v0+4 {
			t.Errorf("version %d after four changes from %d", v, v0)
		}
		if _, err := s.Load(ctx, cal); err != nil {
			t.Fatal(err)
		}
		if !cal.IsWorkday(d(2026, 3, 9)) || !cal.IsWorkday(d(2026, 10, 7)) || len(cal.Overrides()) != 1 {
			t.Errorf("calendar after the changes: %+v", cal.Overrides())
		}

		// Each change is audited with what it replaced, in an unbroken chain.
		entries, err := audit.Search(ctx, db.Read(), audit.Filter{Object: "calendar:2026-03-09"})
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ action, actor, ip, detail string }{ // newest first
			{calendardays.ActionRemove, "管理员甲", "10.0.0.1", "2026-03-09 取消本地设置；原为：工作日「补班」；恢复为：工作日"},
			{calendardays.ActionSet, "管理员乙", "10.0.0.2", "2026-03-09 设为工作日「补班」；原为：休息日「区庆」"},
			{calendardays.ActionSet, "管理员甲", "10.0.0.1", "2026-03-09 设为休息日「区庆」；原为：无本地设置（工作日）"},
		}
		if len(entries) != len(want) {
			t.Fatalf("%d audit entries for the day, want %d: %+v", len(entries), len(want), entries)
		}
		for i, w := range want {
			e := entries[i]
			if e.Action != w.action || e.Actor != w.actor || e.IP != w.ip || e.Detail != w.detail {
				t.Errorf("audit %d = %s %s %s %q, want %s %s %s %q", i, e.Action, e.Actor, e.IP, e.Detail, w.action, w.actor, w.ip, w.detail)
			}
		}
		if e, _ := audit.Search(ctx, db.Read(), audit.Filter{Object: "calendar:2026-10-07"}); len(e) != 1 || e[0].Actor != "系统" ||
			e[0].Detail != "2026-10-07 设为工作日「市政府通知上班」；原为：无本地设置（法定节假日：国庆节）" {
			t.Errorf("system's audit entry: %+v", e)
		}
		if _, broken, err := audit.Verify(ctx, db.Read(), db.ChainKeys()); err != nil || len(broken) != 0 {
			t.Errorf("audit chain: %v %v", broken, err)
		}
	})
}

func TestRefusedChangesChangeNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := calendardays.New(db, clock.NewManual(now), nil)
		boss := admin(t, db, "管理员甲")
		if err := s.Set(ctx, boss, audit.Meta{}, d(2026, 3, 9), false, "区庆"); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, db, s)
		first, last := s.Years()
		if first != 2001 || last < 2028 {
			t.Fatalf("Years() = %d, %d", first, last)
		}

		staff := func(roles ...policy.Role) policy.Subject {
			return policy.Subject{AccountID: boss.AccountID, Kind: policy.Staff, Name: "工作人员", DepartmentID: 1, RegionCode: "410411000000", Roles: roles}
		}
		refused := []struct {
			name string
			who  policy.Subject
			code apperr.Code
		}{
			{"anonymous", policy.Subject{Kind: policy.Anonymous}, apperr.Unauthorized},
			{"citizen", policy.Subject{AccountID: boss.AccountID, Kind: policy.Person, Name: "张三"}, apperr.Forbidden},
			{"supervisor", staff(policy.Supervisor), apperr.Forbidden},
			{"catalog manager", staff(policy.CatalogManager), apperr.Forbidden},
			{"head", staff(policy.Head, policy.Reviewer, policy.Window), apperr.Forbidden},
		}
		for _, r := range refused {
			if err := s.Set(ctx, r.who, audit.Meta{}, d(2026, 3, 10), false, "区庆"); apperr.CodeOf(err) != r.code {
				t.Errorf("%s: Set: %v, want %s", r.name, err, r.code)
			}
			if err := s.Remove(ctx, r.who, audit.Meta{}, d(2026, 3, 9)); apperr.CodeOf(err) != r.code {
				t.Errorf("%s: Remove: %v, want %s", r.name, err, r.code)
			}
		}

		bad := []struct {
			name  string
			day   calendar.Date
			label string
			msg   string
		}{
			{"no date", calendar.Date{}, "区庆", "请填写日期"},
			{"before the data", d(first-1, 12, 31), "区庆", "只能设置 2001 年至"},
			{"far future", d(last+1, 1, 1), "区庆", "只能设置"},
			{"a typo's year", d(2262, 3, 9), "区庆", "只能设置"},
			{"no label", d(2026, 3, 10), "", "请填写名称"},
			{"blank label", d(2026, 3, 10), "  \t ", "请填写名称"},
			{"long label", d(2026, 3, 10), strings.Repeat("长", calendardays.MaxLabel+1), "名称太长了"},
			{"line break", d(2026, 3, 10), "区庆\n放假", "控制字符"},
			{"bad UTF-8", d(2026, 3, 10), "区庆\xff", "控制字符"},
		}
		for _, b := range bad {
			err := s.Set(ctx, boss, audit.Meta{}, b.day, false, b.label)
			if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), b.msg) {
				t.Errorf("%s: %v, want invalid with %q", b.name, err, b.msg)
			}
		}
		after := snapshot(t, db, s)
		if len(after.days) != len(before.days) || after.days[0] != before.days[0] || after.version != before.version ||
			len(after.audit) != len(before.audit) {
			t.Errorf("a refused change changed something:\nbefore %+v\nafter  %+v", before, after)
		}

		// The edges are allowed: the data's first year, and the year after its last.
		if err := s.Set(ctx, boss, audit.Meta{}, d(last, 12, 31), false, "下一年的安排"); err != nil {
			t.Errorf("the year after the data: %v", err)
		}
		if err := s.Set(ctx, boss, audit.Meta{}, d(first, 12, 31), true, "更正"); err != nil {
			t.Errorf("the data's first year: %v", err)
		}
		if err := s.Set(ctx, boss, audit.Meta{}, d(2026, 3, 11), false, strings.Repeat("长", calendardays.MaxLabel)); err != nil {
			t.Errorf("a label of the greatest length: %v", err)
		}
	})
}

func TestParseDay(t *testing.T) {
	for in, want := range map[string]calendar.Date{"2026-10-08": d(2026, 10, 8), " 2026-03-09 ": d(2026, 3, 9)} {
		if got, err := calendardays.ParseDay(in); err != nil || got != want {
			t.Errorf("ParseDay(%q) = %v, %v", in, got, err)
		}
	}
	for in, msg := range map[string]string{"": "请填写日期", "2026-02-30": "日期格式不正确", "2026/10/08": "日期格式不正确",
		"2026-1-5": "日期格式不正确", "明天": "日期格式不正确"} {
		if _, err := calendardays.ParseDay(in); !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), msg) {
			t.Errorf("ParseDay(%q) = %v, want invalid with %q", in, err, msg)
		}
	}
}

// Two instances — each its own connection pool, store and calendar — watch
// one database; a change made through either reaches both.
func TestInstancesConverge(t *testing.T) {
	run := func(t *testing.T, dsn string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		open := func() *store.DB {
			db, err := store.Open(ctx, dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			return db
		}
		db1, db2 := open(), open()
		boss := admin(t, db1, "管理员甲")
		s1 := calendardays.New(db1, clock.NewManual(now), nil)
		s2 := calendardays.New(db2, clock.NewManual(now), nil)
		// A day set before the instances start is loaded at start.
		if err := s1.Set(ctx, boss, audit.Meta{}, d(2026, 3, 9), false, "区庆"); err != nil {
			t.Fatal(err)
		}
		cal1, cal2 := calendar.New(nil), calendar.New(nil)
		done := make(chan struct{}, 2)
		for _, w := range []struct {
			s   *calendardays.Store
			cal *calendar.Calendar
		}{{s1, cal1}, {s2, cal2}} {
			go func() { w.s.Watch(ctx, w.cal, 10*time.Millisecond); done <- struct{}{} }()
		}
		waitFor := func(what string, ok func(c *calendar.Calendar) bool) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for !ok(cal1) || !ok(cal2) {
				if time.Now().After(deadline) {
					t.Fatalf("%s: calendars did not converge: %v / %v", what, cal1.Overrides(), cal2.Overrides())
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		waitFor("at start", func(c *calendar.Calendar) bool { return !c.IsWorkday(d(2026, 3, 9)) })

		// A change through the second instance reaches the first, and back.
		if err := s2.Set(ctx, boss, audit.Meta{}, d(2026, 3, 10), false, "区庆第二天"); err != nil {
			t.Fatal(err)
		}
		waitFor("after Set", func(c *calendar.Calendar) bool {
			return !c.IsWorkday(d(2026, 3, 10)) && c.Due(d(2026, 3, 5), calendar.Workdays(5), nil) == d(2026, 3, 16)
		})
		if err := s1.Remove(ctx, boss, audit.Meta{}, d(2026, 3, 9)); err != nil {
			t.Fatal(err)
		}
		waitFor("after Remove", func(c *calendar.Calendar) bool {
			return c.IsWorkday(d(2026, 3, 9)) && len(c.Overrides()) == 1 && c.Due(d(2026, 3, 5), calendar.Workdays(5), nil) == d(2026, 3, 13)
		})

		cancel()
		for range 2 {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Watch did not stop when its context ended")
			}
		}
	}
	t.Run("sqlite", func(t *testing.T) { run(t, storetest.SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { run(t, storetest.PostgresURL(t)) })
}
