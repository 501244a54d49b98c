package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// The rows of cache_versions (catalog, regions, calendar, …) tell every
// instance when what it keeps in memory is out of date: each change to
// the cached data bumps its row in the change's transaction, and a reader
// compares the row with the version of its copy. On PostgreSQL each such
// read is a round trip, and one page read it three or four times (the
// district's name in the layout, a department, a region search), so a
// request reads every row once, at its first need, and keeps them for the
// rest of the request (WithVersions). The copy stays as fresh as before:
// a request sees every change committed before it began, on any instance.
//
// Concurrent requests share those reads: a request may take the rows read
// by a query that began after the request did, since that query saw every
// change committed before the request began. Under load one query serves
// every request that arrived while the previous one ran, so the reads no
// longer grow with the requests.

type versionsKey struct{}

// ticks orders the beginnings of requests and of reads of cache_versions.
var ticks atomic.Int64

// versionMemo holds the versions read for one request.
type versionMemo struct {
	mu    sync.Mutex
	began int64            // the request's tick
	v     map[string]int64 // nil until first read
	off   bool             // the request changed a version: read afresh from then on
}

// WithVersions returns a context in which CacheVersion reads the versions
// once; the HTTP handler chain gives one to every request.
func WithVersions(ctx context.Context) context.Context {
	return context.WithValue(ctx, versionsKey{}, &versionMemo{began: ticks.Add(1)})
}

// versionReads are a database's reads of every row of cache_versions,
// shared between requests: the newest finished and the newest running.
type versionReads struct {
	mu      sync.Mutex
	last    *versionRead
	running *versionRead
	queries atomic.Int64 // how many were made, for the tests
}

// versionRead is one query of cache_versions, begun at tick began.
type versionRead struct {
	began int64
	done  chan struct{} // closed when v and err are set
	v     map[string]int64
	err   error
}

// since returns the rows as read by a query begun after tick.
func (r *versionReads) since(ctx context.Context, db *DB, tick int64) (map[string]int64, error) {
	r.mu.Lock()
	if r.last != nil && r.last.began > tick {
		v := r.last.v
		r.mu.Unlock()
		return v, nil
	}
	if run := r.running; run != nil && run.began > tick {
		r.mu.Unlock()
		select {
		case <-run.done:
			return run.v, run.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	run := &versionRead{began: ticks.Add(1), done: make(chan struct{})}
	r.running = run
	r.mu.Unlock()

	r.queries.Add(1)
	// The read serves other requests too: one leaving does not cancel it.
	run.v, run.err = db.readVersions(context.WithoutCancel(ctx))
	r.mu.Lock()
	if r.running == run {
		r.running = nil
	}
	if run.err == nil && (r.last == nil || r.last.began < run.began) {
		r.last = run
	}
	r.mu.Unlock()
	close(run.done)
	return run.v, run.err
}

// CacheVersion returns the version of name in cache_versions, from the
// request's memo when ctx has one (WithVersions).
func (db *DB) CacheVersion(ctx context.Context, name string) (int64, error) {
	m, _ := ctx.Value(versionsKey{}).(*versionMemo)
	if m == nil {
		return db.readVersion(ctx, name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.off {
		return db.readVersion(ctx, name)
	}
	if m.v == nil {
		v, err := db.versions.since(ctx, db, m.began)
		if err != nil {
			return 0, err
		}
		m.v = v
	}
	v, ok := m.v[name]
	if !ok {
		return 0, fmt.Errorf("cache version %q: no such row", name)
	}
	return v, nil
}

// VersionQueries is how many times db has queried every row of
// cache_versions for requests' memos: the tests' and the page
// benchmarks' count of round trips per view.
func (db *DB) VersionQueries() int64 { return db.versions.queries.Load() }

// readVersions reads every row of cache_versions.
func (db *DB) readVersions(ctx context.Context) (map[string]int64, error) {
	rows, err := db.Read().Query(ctx, `SELECT name, version FROM cache_versions`)
	if err != nil {
		return nil, fmt.Errorf("cache versions: %w", err)
	}
	defer rows.Close()
	v := map[string]int64{}
	for rows.Next() {
		var n string
		var ver int64
		if err := rows.Scan(&n, &ver); err != nil {
			return nil, fmt.Errorf("cache versions: %w", err)
		}
		v[n] = ver
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cache versions: %w", err)
	}
	return v, nil
}

func (db *DB) readVersion(ctx context.Context, name string) (int64, error) {
	var v int64
	if err := db.Read().QueryRow(ctx, `SELECT version FROM cache_versions WHERE name = ?`, name).Scan(&v); err != nil {
		return 0, fmt.Errorf("cache version %q: %w", name, err)
	}
	return v, nil
}

// BumpVersion moves name's version in tx, so that every instance reloads
// its copy. The request that does it reads versions afresh from then on:
// its memo predates its own change.
func BumpVersion(ctx context.Context, tx *Tx, name string) error {
	if m, _ := ctx.Value(versionsKey{}).(*versionMemo); m != nil {
		m.mu.Lock()
		m.off = true
		m.mu.Unlock()
	}
	if _, err := tx.Exec(ctx, `UPDATE cache_versions SET version = version + 1 WHERE name = ?`, name); err != nil {
		return fmt.Errorf("bump cache version %q: %w", name, err)
	}
	return nil
}
