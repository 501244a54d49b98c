package throttle_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/throttle"
)

func TestCountersInWindowsSharedByInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 10, 0, clock.China))
		// Two instances on one database count together.
		a, b := throttle.New(db, clk), throttle.New(db, clk)
		for i := 1; i <= 6; i++ {
			th := a
			if i%2 == 0 {
				th = b
			}
			ok, end, err := th.Allow(ctx, "lookup:10.0.0.1", 5, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (i <= 5) {
				t.Fatalf("hit %d allowed = %v", i, ok)
			}
			if !end.Equal(time.Date(2026, 11, 25, 9, 1, 0, 0, clock.China)) {
				t.Fatalf("window ends %v", end)
			}
		}
		if ok, _, _ := a.Allow(ctx, "lookup:10.0.0.2", 5, time.Minute); !ok {
			t.Fatal("another name shares the count")
		}
		clk.Advance(time.Minute)
		if ok, _, _ := b.Allow(ctx, "lookup:10.0.0.1", 5, time.Minute); !ok {
			t.Fatal("a new window starts again")
		}
		err := db.Tx(ctx, func(tx *store.Tx) error {
			n, _, err := a.Count(ctx, tx, "lookup:10.0.0.1", time.Minute)
			if n != 1 {
				t.Errorf("count in the new window = %d", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestConcurrentHitsAreCountedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 10, 0, clock.China))
		var mu sync.Mutex
		var got []int
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				th := throttle.New(db, clk)
				err := db.Tx(ctx, func(tx *store.Tx) error {
					n, _, err := th.Hit(ctx, tx, "k", time.Hour)
					mu.Lock()
					got = append(got, n)
					mu.Unlock()
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		slices.Sort(got)
		for i, n := range got {
			if n != i+1 {
				t.Fatalf("counts %v: each hit must see its own count", got)
			}
		}
	})
}

func TestProgressiveLock(t *testing.T) {
	b := throttle.Backoff{Free: 4, First: time.Minute, Max: 15 * time.Minute, Forget: 24 * time.Hour}
	for f, want := range map[int]time.Duration{1: 0, 4: 0, 5: time.Minute, 6: 2 * time.Minute, 7: 4 * time.Minute,
		8: 8 * time.Minute, 9: 15 * time.Minute, 100: 15 * time.Minute} {
		if got := b.For(f); got != want {
			t.Errorf("For(%d) = %v, want %v", f, got, want)
		}
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
		th := throttle.New(db, clk)
		fail := func() time.Time {
			t.Helper()
			var until time.Time
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				var err error
				until, err = th.Fail(ctx, tx, "p", b)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return until
		}
		locked := func() throttle.Lock {
			t.Helper()
			l, err := th.Locked(ctx, db.Read(), "p")
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		for range 4 {
			if u := fail(); !u.IsZero() {
				t.Fatalf("locked early until %v", u)
			}
		}
		for _, d := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
			if u := fail(); !u.Equal(clk.Now().Add(d)) {
				t.Fatalf("locked until %v, want %v later", u, d)
			}
			clk.Advance(d)
			if l := locked(); l.Until.After(clk.Now()) {
				t.Fatalf("still locked after %v", d)
			}
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return th.Succeed(ctx, tx, "p") }); err != nil {
			t.Fatal(err)
		}
		if l := locked(); !l.Known || !l.Until.IsZero() {
			t.Fatalf("after success: %+v", l)
		}
		for range 4 {
			fail()
		}
		if u := fail(); !u.Equal(clk.Now().Add(time.Minute)) {
			t.Fatalf("a success must start the lock from the first step again: %v", u)
		}
		// A day without failures forgets them.
		clk.Advance(25 * time.Hour)
		if u := fail(); !u.IsZero() {
			t.Fatalf("old failures counted: %v", u)
		}
		if l := locked(); !l.Known {
			t.Fatal("the pair is still known")
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return th.Unlock(ctx, tx, "p", "none") }); err != nil {
			t.Fatal(err)
		}
	})
}
