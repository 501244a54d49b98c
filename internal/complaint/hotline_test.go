package complaint_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// A 工单 the 12345 system pushed in is told back each status it reaches,
// by a durable job enqueued with the step: routed as it came in, signed,
// replied with the answer. Other complaints tell
// the hotline nothing.
func TestHotlineIsToldTheStatus(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		workers := river.NewWorkers()
		river.AddWorker(workers, &complaint.HotlineWorker{Service: f.svc})
		river.AddWorker(workers, &complaint.SMSWorker{Service: f.svc, Send: func(context.Context, string, string) error { return nil }})
		q, err := jobs.New(db, workers, jobs.Options{Workers: 1, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.UseQueue(q)
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := q.Start(runCtx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(context.Background())
		told := func(want complaint.Status) complaint.HotlineStatus {
			t.Helper()
			select {
			case p := <-f.hotline:
				if p.body.Status != want || p.auth != "Bearer hotline-token" || p.body.WorkOrderID != "GD-2026-0042" {
					t.Fatalf("the hotline was told %+v (%q), want %s", p.body, p.auth, want)
				}
				return p.body
			case <-time.After(20 * time.Second):
				t.Fatalf("the hotline was not told %s", want)
			}
			panic("unreachable")
		}

		// Another channel's complaint tells the hotline nothing.
		other := f.file(t, f.citizen, "general", nanhuan)
		if _, err := f.svc.Bounce(ctx, f.cgj, meta, other.ID, other.Version, "不属于本单位的职责范围"); err != nil {
			t.Fatal(err)
		}

		n := complaint.Filing{CategoryID: f.cats["general"].ID, Title: "路灯不亮", Description: "小区门口的路灯坏了一个多星期。",
			RegionCode: nanhuan, Channel: complaint.Hotline, ExternalID: "GD-2026-0042", Name: "王大爷"}
		c, _, err := f.svc.Create(ctx, f.dispatcher, meta, n)
		if err != nil {
			t.Fatal(err)
		}
		// Routed by the rule as it came in (南环社区's general complaints go
		// to 城管局): the hotline hears where.
		if c.Status != complaint.Dispatched {
			t.Fatalf("filed: %s", c.Status)
		}
		if got := told(complaint.Dispatched); got.Unit == "" {
			t.Errorf("dispatched: %+v", got)
		}
		if c, err = f.svc.Sign(ctx, f.cgj, meta, c.ID, c.Version); err != nil {
			t.Fatal(err)
		}
		if got := told(complaint.Handling); got.Unit == "" || got.Number != c.Number || got.Version != c.Version {
			t.Errorf("signed: %+v", got)
		}
		// A contact changes no state: nothing sent.
		if _, err := f.svc.RecordContact(ctx, f.cgj, meta, c.ID, "电话联系诉求人"); err != nil {
			t.Fatal(err)
		}
		if c, err = f.svc.Reply(ctx, f.cgj, meta, c.ID, c.Version, "已更换路灯灯泡，恢复照明。"); err != nil {
			t.Fatal(err)
		}
		if got := told(complaint.Replied); got.Answer != "已更换路灯灯泡，恢复照明。" {
			t.Errorf("replied: %+v", got)
		}
		select {
		case p := <-f.hotline:
			t.Fatalf("told more: %+v", p.body)
		case <-time.After(300 * time.Millisecond):
		}
	})
}
