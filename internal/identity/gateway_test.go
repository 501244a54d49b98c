package identity_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// gateway is an SMS gateway on a real HTTP listener that can stall (hold
// each request for up to ten seconds), fail (503) or deliver.
type gateway struct {
	mu        sync.Mutex
	mode      string // "stall", "fail" or "ok"
	unstall   chan struct{}
	stalled   chan struct{} // gets a value when a request starts stalling
	failed    int
	delivered map[string][]string // mobile → texts
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m struct{ Mobile, Text string }
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	mode, unstall := g.mode, g.unstall
	g.mu.Unlock()
	if mode == "stall" {
		select {
		case g.stalled <- struct{}{}:
		default:
		}
		select {
		case <-unstall:
		case <-time.After(10 * time.Second):
		}
		mode = "fail"
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if mode == "fail" {
		g.failed++
		http.Error(w, "gateway overloaded", http.StatusServiceUnavailable)
		return
	}
	g.delivered[m.Mobile] = append(g.delivered[m.Mobile], m.Text)
}

func (g *gateway) set(mode string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mode == "stall" && mode != "stall" {
		close(g.unstall)
	}
	g.mode = mode
}

// A stalled, then failing SMS gateway slows no request that sends a code:
// the code's job is queued with it, the request answers at once, and the
// queue retries until the gateway delivers — once — a code that works.
func TestSlowGatewaySlowsNoRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		g := &gateway{mode: "stall", unstall: make(chan struct{}), stalled: make(chan struct{}, 1), delivered: map[string][]string{}}
		srv := httptest.NewServer(g)
		defer srv.Close()
		sender, err := sms.NewHTTP(srv.URL, "test-key", nil)
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
		case <-g.stalled: // the gateway now holds the first code
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

		g.set("fail")
		waitFor(t, "the gateway to refuse a retry", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.failed >= 2 })
		g.set("ok")
		waitFor(t, "both codes to be delivered", func() bool {
			g.mu.Lock()
			defer g.mu.Unlock()
			return len(g.delivered[mobile]) > 0 && len(g.delivered[other]) > 0
		})
		time.Sleep(300 * time.Millisecond) // a duplicate would show by now
		g.mu.Lock()
		texts := g.delivered[mobile]
		g.mu.Unlock()
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
