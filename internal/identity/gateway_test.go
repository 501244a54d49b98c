package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/testfixture"
)

// A stalled, then failing SMS gateway slows no request that sends a code:
// the code's job is queued with it, the request answers at once, and the
// queue retries until the gateway delivers — once — a code that works.
func TestSlowGatewaySlowsNoRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		g, url := testfixture.StartSMS(t, testfixture.Stall)
		sender, err := sms.NewHTTP(url, "test-key", nil)
		if err != nil {
			t.Fatal(err)
		}
		svc := identity.New(db, identity.Options{Keys: f.keys, SMS: sender, Clock: f.clk, RequireTOTP: true})
		workers := river.NewWorkers()
		river.AddWorker(workers, &identity.CodeWorker{Service: svc})
		q, err := jobs.New(db, workers, jobs.Options{Workers: 2, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		svc.UseQueue(q)
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := q.Start(runCtx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(context.Background())

		const other = "13912345678"
		if err := svc.SendCode(ctx, mobile, identity.PurposeRegister, meta); err != nil {
			t.Fatal(err)
		}
		select {
		case <-g.Stalled: // the gateway now holds the first code
		case <-time.After(10 * time.Second):
			t.Fatal("the code's job never reached the gateway")
		}
		start := time.Now()
		if err := svc.SendCode(ctx, other, identity.PurposeRegister, meta); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("a code requested while the gateway stalls: answered in %v", took)
		if took > time.Second {
			t.Fatalf("requesting a code took %v while the gateway stalled", took)
		}

		g.Set(testfixture.Fail)
		waitFor(t, "the gateway to refuse a retry", func() bool { return g.Failed() >= 2 })
		g.Set(testfixture.OK)
		waitFor(t, "both codes to be delivered", func() bool {
			d := g.Delivered()
			return len(d[mobile]) > 0 && len(d[other]) > 0
		})
		time.Sleep(300 * time.Millisecond) // a duplicate would show by now
		texts := g.Delivered()[mobile]
		if len(texts) != 1 {
			t.Fatalf("delivered %d times: %q", len(texts), texts)
		}
		m := codePattern.FindStringSubmatch(texts[0])
		if m == nil {
			t.Fatalf("no code in %q", texts[0])
		}
		if _, _, err := svc.Register(ctx, identity.Registration{Name: "张三", IDNumber: idNumber, Mobile: mobile, Code: m[1],
			Password: "Zhangsan-2026!", Consent: identity.PrivacyVersion}, meta); err != nil {
			t.Fatalf("registering with the delivered code: %v", err)
		}
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
