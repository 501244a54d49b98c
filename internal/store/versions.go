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
// change committed before the request began. One query runs at a time:
// the requests that begin while it runs wait for the next, which begins
// when it ends and serves them all, so under load the queries are about
// one per round trip rather than one per request (issue 18.4: with a
// query per request the sharing served 1.0 views per query at 64
// connections).

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
// shared between requests: the newest finished, the one running, and the
// next, which begins when the running one ends.
type versionReads struct {
	mu      sync.Mutex
	last    *versionRead
	running *versionRead
	next    *versionRead
	queries atomic.Int64 // how many were made, for the tests
}

// versionRead is one query of cache_versions, begun at tick began.
type versionRead struct {
	began int64
	ctx   context.Context // the first asker's, without its cancellation: the read serves others too
	done  chan struct{}   // closed when v and err are set
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
	read := r.running
	switch {
	case read != nil && read.began > tick:
		// Running, and begun after the request: it serves it.
	case read != nil:
		// Running, but begun before the request: the next one serves it.
		if r.next == nil {
			r.next = &versionRead{ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
		}
		read = r.next
	default:
		read = &versionRead{began: ticks.Add(1), ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
		r.running = read
		r.mu.Unlock()
		r.run(db, read)
		return read.v, read.err
	}
	r.mu.Unlock()
	select {
	case <-read.done:
		return read.v, read.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run queries for read, then begins the next read if requests wait for
// one; its tick is taken now, after every request that waits for it began.
func (r *versionReads) run(db *DB, read *versionRead) {
	r.queries.Add(1)
	read.v, read.err = db.readVersions(read.ctx)
	r.mu.Lock()
	if read.err == nil && (r.last == nil || r.last.began < read.began) {
		r.last = read
	}
	next := r.next
	r.running, r.next = next, nil
	if next != nil {
		next.began = ticks.Add(1)
	}
	r.mu.Unlock()
	close(read.done)
	if next != nil {
		go r.run(db, next)
	}
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
