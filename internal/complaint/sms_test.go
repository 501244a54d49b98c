package complaint_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The person is texted at the number given with the complaint, by a
// durable job enqueued in the step's transaction; a refused step enqueues
// nothing; a bounce texts nobody.
func TestComplainantIsTexted(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		type sms struct{ to, text string }
		sent := make(chan sms, 10)
		workers := river.NewWorkers()
		river.AddWorker(workers, &complaint.SMSWorker{Service: f.svc, Send: func(_ context.Context, mobile, text string) error {
			sent <- sms{mobile, text}
			return nil
		}})
		q, err := jobs.New(db, workers, jobs.Options{Workers: 1, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.UseQueue(q)
		// Taken by phone for someone without an account.
		c := f.file(t, f.window, "general", nanhuan)
		if _, err := f.svc.Bounce(ctx, f.cgj, meta, c.ID, c.Version, "短"); err == nil {
			t.Fatal("a short reason went through")
		}
		if _, err := f.svc.Bounce(ctx, f.cgj, meta, c.ID, c.Version, "不属于本单位的职责范围"); err != nil {
			t.Fatal(err)
		}
		if counts, _ := q.Counts(ctx); counts["available"] != 1 {
			t.Fatalf("jobs waiting: %v (want the filing's only)", counts)
		}
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := q.Start(runCtx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(context.Background())
		select {
		case m := <-sent:
			if m.to != "13912345678" || !strings.Contains(m.text, "您的诉求已受理") || !strings.Contains(m.text, c.Number) {
				t.Fatalf("SMS %+v", m)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the SMS job did not run")
		}
	})
}
