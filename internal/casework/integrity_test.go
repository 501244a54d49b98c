package casework_test

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// On a live site steps commit while the chains are verified. Each case's
// events and its state are read from one snapshot, so a step committed
// in between is never taken for tampering (it was, when the state was
// read case by case after the events). Verification runs over and over
// while real steps take cases through their whole life.
func TestVerifyChainsWhileCasesAreHandled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		keys, err := chainhash.Parse("a1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))))
		if err != nil {
			t.Fatal(err)
		}
		db.SetChainKeys(keys)
		casework.SmallVerifyBatches(t, 7) // batches, and steps between them
		for range 20 {
			completedCase(t, f)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var runs, alarms int
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, broken, err := casework.VerifyChains(ctx, db, keys)
				if err != nil {
					t.Error(err)
					return
				}
				runs++
				if len(broken) > 0 {
					if alarms == 0 {
						t.Errorf("false alarm while cases were handled: %+v", broken)
					}
					alarms++
				}
			}
		}()
		handled := 0
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); handled++ {
			completedCase(t, f)
		}
		close(stop)
		wg.Wait()
		t.Logf("%d verifications while %d cases were handled, %d false alarms", runs, handled, alarms)
		if runs < 5 {
			t.Fatalf("only %d verifications ran", runs)
		}
		n, broken, err := casework.VerifyChains(ctx, db, keys)
		if err != nil || n != 20+handled || len(broken) != 0 {
			t.Fatalf("after: %d cases of %d, broken %+v, %v", n, 20+handled, broken, err)
		}
	})
}

// BenchmarkVerifyChains verifies 3,200 submitted cases (three events, a
// material each) per operation; the figures are in docs/PERFORMANCE.md.
//
//	go test -run '^$' -bench BenchmarkVerifyChains -benchtime 10x ./internal/casework/
func BenchmarkVerifyChains(b *testing.B) {
	const callers, each = 16, 200
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var db *store.DB
			if name == "sqlite" {
				db = storetest.SQLite(b)
			} else {
				db = storetest.Postgres(b)
			}
			keys, err := chainhash.Parse("a1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))))
			if err != nil {
				b.Fatal(err)
			}
			db.SetChainKeys(keys)
			f := newFixture(b, db)
			ctx := context.Background()
			files := []casework.Attachment{{Position: 0, Object: pdf, Filename: "a.pdf"}}
			var wg sync.WaitGroup
			for range callers { // in parallel, so that submissions share commits
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range each {
						if _, err := f.svc.Apply(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"}, files); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ResetTimer()
			for range b.N {
				n, broken, err := casework.VerifyChains(ctx, db, keys)
				if err != nil || n != callers*each || len(broken) != 0 {
					b.Fatalf("%d cases, broken %v, %v", n, broken, err)
				}
			}
			b.ReportMetric(float64(callers*each*b.N)/b.Elapsed().Seconds(), "cases/s")
		})
	}
}
