package complaint_test

import (
	"context"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func bj(m time.Month, d, h, min int) time.Time {
	return time.Date(2026, m, d, h, min, 0, 0, clock.China)
}

// The limits of a 一般类 complaint received the afternoon before the
// National Day holiday: the dispatch limit (7 working hours) ends on the
// first day back, the feedback limit (7 working days) counts the make-up
// Saturday; the check warns the unit once before each and reports to the
// supervisors once after, and nothing during the holiday.
func TestLimitsAcrossTheHoliday(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.clk.Set(bj(9, 30, 16, 0))
		c := f.file(t, f.citizen, "general", nanhuan) // → 城管局
		if want := bj(10, 8, 16, 0); !c.DispatchDue.Equal(want) {
			t.Errorf("dispatch due %s, want %s", c.DispatchDue.In(clock.China), want)
		}
		if want := bj(10, 15, 17, 30); !c.FeedbackDue.Equal(want) {
			t.Errorf("feedback due %s, want %s", c.FeedbackDue.In(clock.China), want)
		}
		unit, sup := f.messages(t, f.cgj), f.messages(t, f.supervisor)
		check := func(at time.Time, want int) {
			t.Helper()
			f.clk.Set(at)
			n, err := f.svc.CheckLimits(ctx)
			if err != nil || n != want {
				t.Errorf("check at %s: %d entries, want %d (%v)", at.Format("01-02 15:04"), n, want, err)
			}
		}
		check(bj(10, 5, 12, 0), 0)  // the holiday: nothing is due
		check(bj(10, 8, 14, 10), 0) // a quarter left at 14:15
		check(bj(10, 8, 14, 20), 1) // warned
		check(bj(10, 8, 15, 0), 0)  // once
		if f.messages(t, f.cgj) != unit+1 || f.messages(t, f.supervisor) != sup {
			t.Errorf("after the warning: unit %d→%d, supervisor %d→%d", unit, f.messages(t, f.cgj), sup, f.messages(t, f.supervisor))
		}
		check(bj(10, 8, 16, 1), 1) // late: reported
		if f.messages(t, f.supervisor) != sup+1 || f.messages(t, f.otherSup) != 1 {
			t.Errorf("supervisors told %d, %d", f.messages(t, f.supervisor)-sup, f.messages(t, f.otherSup))
		}
		check(bj(10, 8, 17, 0), 0)
		list, _ := f.svc.List(ctx, f.supervisor, complaint.Filter{Overdue: true})
		if len(list) != 1 {
			t.Errorf("overdue list %d", len(list))
		}
		f.clk.Set(bj(10, 9, 9, 0))
		c, _ = getC(t, f, f.cgj, c.ID)
		if _, err := f.svc.Sign(ctx, f.cgj, meta, c.ID, c.Version); err != nil {
			t.Fatal(err)
		}
		// The feedback warning comes at the close of the working day
		// before the limit: Wednesday 14 October 17:30.
		check(bj(10, 14, 17, 0), 0)
		check(bj(10, 14, 17, 31), 1)
		check(bj(10, 15, 17, 31), 1)
		check(bj(10, 16, 9, 0), 0)
		d, _ := f.svc.Get(ctx, f.cgj, c.ID)
		var warns, lates int
		for _, e := range d.Events {
			switch e.Action {
			case complaint.Warn:
				warns++
			case complaint.Late:
				lates++
			}
		}
		if warns != 2 || lates != 2 {
			t.Errorf("log: %d warnings, %d reports", warns, lates)
		}
	})
}

// Limits in natural hours run through the weekend; in working hours they
// wait for Monday.
func TestLimitsOverAWeekend(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.clk.Set(bj(11, 28, 22, 0)) // Saturday night
		e := f.file(t, f.citizen, "emergency", nanhuan)
		if want := bj(11, 28, 23, 0); !e.DispatchDue.Equal(want) {
			t.Errorf("emergency dispatch due %s", e.DispatchDue.In(clock.China))
		}
		heating, err := f.svc.SaveCategory(ctx, f.admin, meta, complaint.Category{Code: "heating", Name: "供暖", Active: true,
			Dispatch: complaint.Limit{Value: 2, Unit: complaint.WorkingHours}, Feedback: complaint.Limit{Value: 1, Unit: complaint.WorkingDays}})
		if err != nil {
			t.Fatal(err)
		}
		f.cats["heating"] = heating
		f.clk.Set(bj(11, 27, 17, 0)) // Friday, half an hour before closing
		h := f.file(t, f.citizen, "heating", nanhuan)
		if want := bj(11, 30, 10, 30); !h.DispatchDue.Equal(want) {
			t.Errorf("heating dispatch due %s, want %s", h.DispatchDue.In(clock.China), want)
		}
		if want := bj(11, 30, 17, 30); !h.FeedbackDue.Equal(want) {
			t.Errorf("heating feedback due %s, want %s", h.FeedbackDue.In(clock.China), want)
		}
		// Over the weekend the emergency is reported, dispatch and feedback
		// (each warned and late at once: the check had not run since it
		// came in); of the heating complaint only the feedback warning,
		// due at the close of Friday, the working day before its limit.
		f.clk.Set(bj(11, 29, 12, 0))
		n, err := f.svc.CheckLimits(ctx)
		if err != nil || n != 3 {
			t.Errorf("Sunday: %d entries, %v", n, err)
		}
		f.clk.Set(bj(11, 30, 10, 31))
		if n, _ := f.svc.CheckLimits(ctx); n != 1 {
			t.Errorf("Monday 10:31: %d entries, want the heating complaint's late dispatch", n)
		}
	})
}

// A reply left unconfirmed closes after the days to reopen, through the
// OnClosed hook.
func TestUnconfirmedReplyCloses(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		c := f.file(t, f.citizen, "general", nanhuan)
		c, _ = f.svc.Sign(ctx, f.cgj, meta, c.ID, c.Version)
		f.svc.RecordContact(ctx, f.cgj, meta, c.ID, "电话联系")
		c, err := f.svc.Reply(ctx, f.cgj, meta, c.ID, c.Version, "已处理完毕，请查看。")
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(7*24*time.Hour - time.Minute)
		f.svc.CheckLimits(ctx)
		if d, _ := f.svc.Get(ctx, f.citizen, c.ID); d.Status != complaint.Replied {
			t.Fatalf("closed early: %s", d.Status)
		}
		f.clk.Advance(2 * time.Minute)
		if _, err := f.svc.CheckLimits(ctx); err != nil {
			t.Fatal(err)
		}
		d, _ := f.svc.Get(ctx, f.citizen, c.ID)
		if d.Status != complaint.Closed || d.Resolved != nil || len(f.closed) != 1 {
			t.Errorf("after 7 days: %s resolved %v, hook %v", d.Status, d.Resolved, f.closed)
		}
		// Nothing left to watch.
		var next *time.Time
		db.Read().QueryRow(ctx, `SELECT next_check_at FROM complaints WHERE id = ?`, c.ID).Scan(&next)
		if next != nil {
			t.Errorf("next check %s", next)
		}
	})
}
