package casework_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// at sets the fixture's clock to 09:00 Beijing time on the day.
func at(f fixture, y int, m time.Month, d int) {
	f.clk.Set(time.Date(y, m, d, 9, 0, 0, 0, clock.China))
}

// accepted makes a case of item, submits and accepts it today.
func accepted(t *testing.T, f fixture, item catalog.Item) casework.Case {
	t.Helper()
	ctx := context.Background()
	c, err := f.svc.CreateDraft(ctx, f.citizen, item.ID, map[string]string{"name": "张三"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = f.svc.Attach(ctx, f.citizen, c.ID, c.Version, 0, pdf, "身份证.pdf", 0); err != nil {
		t.Fatal(err)
	}
	if c, err = f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, ""); err != nil {
		t.Fatal(err)
	}
	if c, err = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""); err != nil {
		t.Fatal(err)
	}
	return c
}

// record is the case as the case pages read it: the case and its events.
func record(t *testing.T, f fixture, id int64) (casework.Case, []casework.Event) {
	t.Helper()
	c, events, err := f.svc.Get(context.Background(), f.reviewer, id)
	if err != nil {
		t.Fatal(err)
	}
	return c, events
}

// A paused case's clock is stopped: while it is paused, across the New Year
// holiday, its deadline is the one it would have if it resumed today, so it
// never turns 超期 because of the pause, in the case page or in the queue.
func TestPausedCaseIsNotLateBecauseOfItsPause(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db) // promised limit: 3 working days
		at(f, 2026, 12, 28)    // Monday
		c := accepted(t, f, f.item)
		if c.DueOn.String() != "2026-12-31" {
			t.Fatalf("due %s, want Thursday 2026-12-31", c.DueOn)
		}
		at(f, 2026, 12, 29)
		c, err := f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Pause, "专家评审")
		if err != nil {
			t.Fatal(err)
		}
		// Tuesday 5 January: 12/30, 12/31, 1/4 and 1/5 were paused (1/1–1/3
		// are the holiday), so the due date moves 4 working days to 1/7, and
		// 2 working days are left, as on the day the clock stopped.
		at(f, 2027, 1, 5)
		c, events := record(t, f, c.ID)
		d, ok := f.svc.DeadlineOf(c, f.item, events)
		if !ok || d.Due.String() != "2027-01-07" || d.Left != 2 || d.Status != calendar.OnTime {
			t.Fatalf("paused deadline %+v, want due 2027-01-07, 2 days left, 正常", d)
		}
		for _, due := range []string{"late", "soon"} {
			if q, err := rows(f.svc.Queue(ctx, f.reviewer, casework.Paused, casework.QueueFilter{Due: due}, 10)); err != nil || len(q) != 0 {
				t.Fatalf("paused queue filtered %q: %+v, %v; want none", due, q, err)
			}
		}
		q, err := rows(f.svc.Queue(ctx, f.reviewer, casework.Paused, casework.QueueFilter{}, 10))
		if err != nil || len(q) != 1 || q[0].DueOn.String() != "2027-01-07" || q[0].Deadline != calendar.OnTime {
			t.Fatalf("paused queue %+v, %v", q, err)
		}
		// Resuming that day fixes the date the page showed.
		if c, err = f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Resume, ""); err != nil || c.DueOn.String() != "2027-01-07" {
			t.Fatalf("resumed: due %s, %v", c.DueOn, err)
		}

		// A case already late when paused stays late.
		at(f, 2027, 1, 11)
		late := accepted(t, f, f.item) // due Thursday 1/14
		at(f, 2027, 1, 15)
		if late, err = f.svc.Act(ctx, f.reviewer, late.ID, late.Version, casework.Pause, "检验检测"); err != nil {
			t.Fatal(err)
		}
		at(f, 2027, 1, 20)
		late, events = record(t, f, late.ID)
		if d, _ := f.svc.DeadlineOf(late, f.item, events); d.Status != calendar.Overdue || d.Left != -1 {
			t.Fatalf("late when paused: %+v, want 超期 by one working day", d)
		}
		if q, err := rows(f.svc.Queue(ctx, f.reviewer, casework.Paused, casework.QueueFilter{Due: "late"}, 10)); err != nil || len(q) != 1 || q[0].ID != late.ID {
			t.Fatalf("late paused queue %+v, %v", q, err)
		}
	})
}

// A limit in natural days ends on a working day: one whose last day is a
// rest day ends on the first working day after it. A pause pushes the
// period's own last day by the natural days paused.
func TestDeadlineInNaturalDays(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		item := f.item
		item.ID, item.Version, item.BaseCode, item.ImplCode = 0, 0, "010100100002", ""
		item.Name = "户外广告设置许可"
		item.LegalLimit = catalog.TimeLimit{Value: 20, Unit: "自然日"}
		item.PromiseLimit = catalog.TimeLimit{Value: 5, Unit: "自然日"}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return f.items.Load(ctx, tx, &item, "测试")
		}); err != nil {
			t.Fatal(err)
		}
		at(f, 2026, 12, 28) // Monday
		c := accepted(t, f, item)
		// 12/28 + 5 is Saturday 1/2, in the New Year holiday: Monday 1/4.
		if c.DueOn.String() != "2027-01-04" {
			t.Fatalf("due %s, want 2027-01-04", c.DueOn)
		}
		docs, err := casework.Documents(ctx, db.Read(), c.ID)
		if err != nil || len(docs) == 0 || !strings.Contains(docs[len(docs)-1].Body, "2027年1月4日前（自受理之日起5日内）") {
			t.Fatalf("acceptance notice %+v, %v: want the due date and the limit in natural days", docs, err)
		}
		at(f, 2026, 12, 29)
		c, err = f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Pause, "听证")
		if err != nil {
			t.Fatal(err)
		}
		// Monday 1/4, still paused: 6 natural days paused, so the period's
		// last day is 1/2 + 6 = Friday 1/8 (not 1/4 + 6, nor 1/4 pushed by
		// the 3 working days paused).
		at(f, 2027, 1, 4)
		c, events := record(t, f, c.ID)
		if d, _ := f.svc.DeadlineOf(c, item, events); d.Due.String() != "2027-01-08" || d.Status != calendar.OnTime {
			t.Fatalf("paused deadline %+v, want due 2027-01-08, 正常", d)
		}
		if c, err = f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Resume, ""); err != nil || c.DueOn.String() != "2027-01-08" {
			t.Fatalf("resumed: due %s, %v; want 2027-01-08", c.DueOn, err)
		}
		// A second pause counts from the period's own end with both pauses:
		// 1/5–1/7 (2 days) makes it Sunday 1/10, so Monday 1/11.
		at(f, 2027, 1, 5)
		if c, err = f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Pause, "现场核查"); err != nil {
			t.Fatal(err)
		}
		at(f, 2027, 1, 7)
		if c, err = f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Resume, ""); err != nil || c.DueOn.String() != "2027-01-11" {
			t.Fatalf("resumed again: due %s, %v; want 2027-01-11", c.DueOn, err)
		}
	})
}

// A resumed working-day deadline is counted again from acceptance with the
// case's pauses, so a local rest day declared after acceptance counts for
// it, as for any due date computed after the change.
func TestResumedDeadlineCountsWithTodaysCalendar(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db) // promised limit: 3 working days
		at(f, 2026, 12, 7)     // Monday
		c := accepted(t, f, f.item)
		if c.DueOn.String() != "2026-12-10" {
			t.Fatalf("due %s, want Thursday 2026-12-10", c.DueOn)
		}
		at(f, 2026, 12, 8)
		c, err := f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Pause, "专家评审")
		if err != nil {
			t.Fatal(err)
		}
		// The district declares Tuesday 12/8 a rest day; 12/9 and 12/10 are
		// paused, so the three working days are 12/11, 12/14 and 12/15.
		f.cal.SetOverrides([]calendar.Override{{Date: calendar.NewDate(2026, 12, 8), Work: false, Reason: "区运动会"}})
		at(f, 2026, 12, 10)
		if c, err = f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Resume, ""); err != nil || c.DueOn.String() != "2026-12-15" {
			t.Fatalf("resumed: due %s, %v; want 2026-12-15", c.DueOn, err)
		}
	})
}
