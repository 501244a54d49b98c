package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// A request reads the versions once and keeps them; a change made
// elsewhere meanwhile is seen by the next request, and one made by the
// request itself at once.
func TestCacheVersionsOncePerRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		bump := func(ctx context.Context, name string) {
			t.Helper()
			if err := db.Tx(ctx, func(tx *store.Tx) error { return store.BumpVersion(ctx, tx, name) }); err != nil {
				t.Fatal(err)
			}
		}
		version := func(ctx context.Context, name string) int64 {
			t.Helper()
			v, err := db.CacheVersion(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		start := version(ctx, "regions")

		req := store.WithVersions(ctx)
		if v := version(req, "regions"); v != start {
			t.Fatalf("first read in the request: %d, want %d", v, start)
		}
		bump(ctx, "regions") // another instance's change, during the request
		if v := version(req, "regions"); v != start {
			t.Fatalf("the request read %d again, want its memo's %d", v, start)
		}
		if v := version(ctx, "regions"); v != start+1 {
			t.Fatalf("without a memo: %d, want %d", v, start+1)
		}
		if v := version(store.WithVersions(ctx), "regions"); v != start+1 {
			t.Fatalf("the next request: %d, want %d", v, start+1)
		}

		// The request's own change: read afresh from then on.
		cat := version(req, "catalog")
		bump(req, "catalog")
		if v := version(req, "catalog"); v != cat+1 {
			t.Fatalf("after its own change the request reads %d, want %d", v, cat+1)
		}
		if _, err := db.CacheVersion(store.WithVersions(ctx), "nothing"); err == nil {
			t.Fatal("a version that does not exist was read")
		}
	})
}

// Requests that begin together share one read of the versions: it began
// after all of them, so it saw every change committed before any did. A
// request that begins after the read reads again.
func TestCacheVersionsSharedBetweenRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const requests = 100
		reqs := make([]context.Context, requests)
		for i := range reqs {
			reqs[i] = store.WithVersions(ctx)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return store.BumpVersion(ctx, tx, "regions") }); err != nil {
			t.Fatal(err)
		}
		want, err := db.CacheVersion(ctx, "regions")
		if err != nil {
			t.Fatal(err)
		}
		before := db.VersionQueries()
		var wg sync.WaitGroup
		for _, req := range reqs {
			wg.Go(func() {
				if v, err := db.CacheVersion(req, "regions"); err != nil || v != want {
					t.Errorf("a request read %d (%v), want %d: the change committed before it", v, err, want)
				}
			})
		}
		wg.Wait()
		if n := db.VersionQueries() - before; n != 1 {
			t.Errorf("%d requests begun together made %d queries, want 1", requests, n)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return store.BumpVersion(ctx, tx, "regions") }); err != nil {
			t.Fatal(err)
		}
		if v, err := db.CacheVersion(store.WithVersions(ctx), "regions"); err != nil || v != want+1 {
			t.Errorf("a later request read %d (%v), want %d", v, err, want+1)
		}
		if n := db.VersionQueries() - before; n != 2 {
			t.Errorf("the later request did not read again (%d queries)", n)
		}
	})
}

// Under load, requests begin while a read runs: they share the next one,
// which begins when it ends, and each still sees every change committed
// before it began (here: bumps committed by another caller meanwhile).
func TestCacheVersionsSharedUnderLoad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var committed atomic.Int64 // the newest version whose bump has committed
		stop := make(chan struct{})
		var bumps sync.WaitGroup
		bumps.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var v int64
				if err := db.Tx(ctx, func(tx *store.Tx) error {
					if err := store.BumpVersion(ctx, tx, "regions"); err != nil {
						return err
					}
					return tx.QueryRow(ctx, `SELECT version FROM cache_versions WHERE name = 'regions'`).Scan(&v)
				}); err != nil {
					t.Error(err)
					return
				}
				committed.Store(v)
			}
		})
		const callers, each = 32, 50
		before := db.VersionQueries()
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				for range each {
					c := committed.Load()
					if v, err := db.CacheVersion(store.WithVersions(ctx), "regions"); err != nil || v < c {
						t.Errorf("a request read %d (%v), but %d was committed before it began", v, err, c)
						return
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		bumps.Wait()
		// On PostgreSQL a read is a round trip, during which the others
		// begin theirs: they share the next. On SQLite it is a few
		// microseconds in this process, seldom overlapped on two cores.
		n := db.VersionQueries() - before
		if db.Dialect == store.Postgres && n*4 > callers*each {
			t.Errorf("%d requests, %d at a time, made %d queries: they are not shared", callers*each, callers, n)
		}
		t.Logf("%d requests, %d queries", callers*each, n)
	})
}
