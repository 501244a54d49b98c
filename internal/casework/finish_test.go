package casework_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// A finished case says when it finished and whether in time; it never
// counts down. Delivered cases used to show 还剩 0 个工作日 预警.
func TestFinishedCasesShowWhenNotACountdown(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db) // Wednesday 25 November; 3 working days → due Monday 30th
		licence := filestore.Object{SHA256: strings.Repeat("cd", 32), Size: 99, ContentType: filestore.TypePDF}
		finish := func(c casework.Case) (casework.Finish, bool) {
			t.Helper()
			c, events, err := f.svc.Get(ctx, f.citizen, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			it, _ := f.items.Version(ctx, c.ItemID, c.ItemVersion)
			if _, ok := f.svc.DeadlineOf(c, it, events); ok && c.Status.Finished() {
				t.Errorf("a %s case has a countdown", c.Status.Name())
			}
			return f.svc.FinishOf(c, events)
		}
		handled := func() casework.Case {
			c := submitted(t, f, f.itemID)
			c, _ = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, "")
			if fin, ok := finish(c); ok {
				t.Fatalf("a running case finished: %+v", fin)
			}
			c, _ = f.svc.Decide(ctx, f.head, c.ID, reviewed(t, f, c).Version, true, "准予登记", "")
			return c
		}
		onTime, late := handled(), handled()
		f.clk.Advance(24 * time.Hour) // Thursday 26th
		onTime, err := f.svc.Complete(ctx, f.window, onTime.ID, onTime.Version, licence, "营业执照.pdf")
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(6 * 24 * time.Hour) // Wednesday 2 December: two working days after the due date
		if onTime, err = f.svc.Deliver(ctx, f.window, onTime.ID, onTime.Version, casework.DeliverOnline, ""); err != nil {
			t.Fatal(err)
		}
		if fin, ok := finish(onTime); !ok || fin.Text() != "办结于 2026年11月26日" || fin.Timing() != "按时办结" {
			t.Fatalf("delivered in time: %+v %v %s %s", fin, ok, fin.Text(), fin.Timing())
		}
		if late, err = f.svc.Complete(ctx, f.window, late.ID, late.Version, licence, "营业执照.pdf"); err != nil {
			t.Fatal(err)
		}
		if fin, ok := finish(late); !ok || fin.Text() != "办结于 2026年12月2日" || fin.Timing() != "超期 2 个工作日办结" {
			t.Fatalf("completed late: %+v %v %s", fin, ok, fin.Timing())
		}
		refused := submitted(t, f, f.itemID)
		if refused, err = f.svc.Act(ctx, f.window, refused.ID, refused.Version, casework.Refuse, "不属于本机关职权范围"); err != nil {
			t.Fatal(err)
		}
		if fin, ok := finish(refused); !ok || fin.Timed || fin.Timing() != "" || fin.Text() != "办结于 2026年12月2日" {
			t.Fatalf("refused: %+v %v", fin, ok)
		}
		// The queues of finished cases show the same, not a due date.
		for st, want := range map[casework.Status]string{casework.Delivered: "按时办结", casework.Completed: "超期 2 个工作日办结"} {
			list, err := rows(f.svc.Queue(ctx, f.window, st, casework.QueueFilter{}, 10))
			if err != nil || len(list) != 1 || list[0].Finish.Timing() != want {
				t.Fatalf("%s queue: %+v %v", st.Name(), list, err)
			}
		}
	})
}

// An 即办件 settled at one sitting is one message and one SMS, telling the
// final state; the message centre shows each case's status as it is now.
func TestOneMessagePerSitting(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		workers := river.NewWorkers()
		river.AddWorker(workers, &casework.SMSWorker{Send: func(context.Context, int64, string) error { return nil }})
		q, err := jobs.New(db, workers, jobs.Options{Workers: 1, PollInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.UseQueue(q) // not started: the jobs stay to be counted
		id := variant(t, f, db, "010100100011", func(it *catalog.Item) {
			it.Name, it.CaseKind, it.PromiseLimit = "即办证明", catalog.Immediate, catalog.TimeLimit{Value: 1, Unit: "工作日"}
		})
		c := submitted(t, f, id)
		licence := filestore.Object{SHA256: strings.Repeat("cd", 32), Size: 99, ContentType: filestore.TypePDF}
		if c, err = f.svc.Settle(ctx, f.head, c.ID, c.Version, "符合条件，当场办结", licence, "证明.pdf"); err != nil {
			t.Fatal(err)
		}
		if counts, _ := q.Counts(ctx); counts["available"] != 1 {
			t.Fatalf("jobs after one settlement: %v, want one SMS", counts)
		}
		msgs, err := f.svc.Messages(ctx, f.citizen)
		if err != nil || len(msgs) != 1 || msgs[0].Title != "您的申请已当场办结" || msgs[0].CaseStatus != casework.Completed ||
			strings.Contains(msgs[0].Body, "审查中") {
			t.Fatalf("messages after settling: %+v %v", msgs, err)
		}
		if _, err = f.svc.Deliver(ctx, f.window, c.ID, c.Version, casework.DeliverOnline, ""); err != nil {
			t.Fatal(err)
		}
		msgs, _ = f.svc.Messages(ctx, f.citizen)
		if len(msgs) != 2 {
			t.Fatalf("%d messages", len(msgs))
		}
		for _, m := range msgs {
			if m.CaseStatus != casework.Delivered || m.CaseNumber != c.Number {
				t.Errorf("%s shows %s, the case is %s", m.Title, m.CaseStatus.Name(), casework.Delivered.Name())
			}
		}
	})
}

// BenchmarkFinishedQueue lists a queue of 200 delivered cases, each with
// when it finished (the ending step's event, joined per row).
func BenchmarkFinishedQueue(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db := storetest.SQLite(b)
			if name == "postgres" {
				db = storetest.Postgres(b)
			}
			ctx := context.Background()
			f := newFixture(b, db)
			licence := filestore.Object{SHA256: strings.Repeat("cd", 32), Size: 99, ContentType: filestore.TypePDF}
			for range 200 {
				c, err := f.svc.Apply(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"},
					[]casework.Attachment{{Position: 0, Object: pdf, Filename: "身份证.pdf"}})
				if err != nil {
					b.Fatal(err)
				}
				c, _ = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, "")
				c, _ = f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Review, "建议准予")
				c, _ = f.svc.Decide(ctx, f.head, c.ID, c.Version, true, "准予登记", "")
				c, _ = f.svc.Complete(ctx, f.window, c.ID, c.Version, licence, "营业执照.pdf")
				if _, err := f.svc.Deliver(ctx, f.window, c.ID, c.Version, casework.DeliverOnline, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for range b.N {
				list, err := rows(f.svc.Queue(ctx, f.window, casework.Delivered, casework.QueueFilter{}, 200))
				if err != nil || len(list) != 200 || !list[0].Finished {
					b.Fatalf("%d entries, %v", len(list), err)
				}
			}
		})
	}
}
