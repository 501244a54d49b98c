package store

import (
	"context"
	"fmt"
	"sync"
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

type versionsKey struct{}

// versionMemo holds the versions read for one request.
type versionMemo struct {
	mu  sync.Mutex
	v   map[string]int64 // nil until first read
	off bool             // the request changed a version: read afresh from then on
}

// WithVersions returns a context in which CacheVersion reads the versions
// once; the HTTP handler chain gives one to every request.
func WithVersions(ctx context.Context) context.Context {
	return context.WithValue(ctx, versionsKey{}, &versionMemo{})
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
		rows, err := db.Read().Query(ctx, `SELECT name, version FROM cache_versions`)
		if err != nil {
			return 0, fmt.Errorf("cache versions: %w", err)
		}
		defer rows.Close()
		v := map[string]int64{}
		for rows.Next() {
			var n string
			var ver int64
			if err := rows.Scan(&n, &ver); err != nil {
				return 0, fmt.Errorf("cache versions: %w", err)
			}
			v[n] = ver
		}
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("cache versions: %w", err)
		}
		m.v = v
	}
	v, ok := m.v[name]
	if !ok {
		return 0, fmt.Errorf("cache version %q: no such row", name)
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
