// Package throttle limits attempts — sign-ins, public lookups — with
// counters held in the database rather than in the instance, so that a
// limit holds however many instances share the database and whichever of
// them a load balancer picks. Each hit is one atomic upsert (INSERT … ON
// CONFLICT DO UPDATE … RETURNING, on SQLite and PostgreSQL alike), so two
// instances counting the same name at once never both see the old count.
//
// Two kinds of state: a Counter of hits per name in fixed windows, and a
// progressive lock per name (Fail, Lock, Succeed) whose lock grows with
// consecutive failures. What the names and numbers are is the caller's
// rule; see identity's sign-in for the main one.
//
// Every method takes the store.Querier to run on, so that a count is
// taken in the same transaction as what it guards (the sign-in record,
// the audit entry) and is rolled back with it.
package throttle

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/store"
)

// Throttle counts in one database.
type Throttle struct {
	db    *store.DB
	clock clock.Clock
	mu    sync.Mutex
	swept time.Time // when this instance last deleted expired rows
}

// New returns a throttle on db that takes time from clk.
func New(db *store.DB, clk clock.Clock) *Throttle {
	return &Throttle{db: db, clock: clk}
}

// Allow counts a hit for name in its own transaction and reports whether
// it is within limit hits per window of length per, and when the window
// ends (for "try again in …").
func (t *Throttle) Allow(ctx context.Context, name string, limit int, per time.Duration) (bool, time.Time, error) {
	var hits int
	var end time.Time
	err := t.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		hits, end, err = t.Hit(ctx, tx, name, per)
		return err
	})
	return err == nil && hits <= limit, end, err
}

// sweepEvery is how often an instance deletes expired rows, on a hit.
const sweepEvery = 10 * time.Minute

// Window is where a hit falls: its window's number and end.
func window(now time.Time, per time.Duration) (int64, time.Time) {
	secs := int64(per / time.Second)
	n := now.Unix() / secs
	return n, time.Unix((n+1)*secs, 0)
}

// Hit counts one hit for name in the current window of length per and
// returns the count in that window, this hit included, and when the
// window ends. A name must always be counted with the same per.
func (t *Throttle) Hit(ctx context.Context, q store.Querier, name string, per time.Duration) (int, time.Time, error) {
	now := t.clock.Now()
	if err := t.sweep(ctx, q, now); err != nil {
		return 0, time.Time{}, err
	}
	n, end := window(now, per)
	var hits int
	err := q.QueryRow(ctx, `INSERT INTO throttle_counters (name, window_no, hits, expires) VALUES (?, ?, 1, ?)
		ON CONFLICT (name) DO UPDATE SET
			hits = CASE WHEN throttle_counters.window_no = excluded.window_no THEN throttle_counters.hits + 1 ELSE 1 END,
			window_no = excluded.window_no, expires = excluded.expires
		RETURNING hits`, name, n, end.Unix()).Scan(&hits)
	return hits, end, err
}

// Count returns the hits counted for name in the current window of
// length per, without counting one, and when the window ends.
func (t *Throttle) Count(ctx context.Context, q store.Querier, name string, per time.Duration) (int, time.Time, error) {
	n, end := window(t.clock.Now(), per)
	var hits int
	err := q.QueryRow(ctx, `SELECT hits FROM throttle_counters WHERE name = ? AND window_no = ?`, name, n).Scan(&hits)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return hits, end, err
}

// Backoff is a progressive lock: the first Free consecutive failures lock
// nothing, the next locks for First, each one after for twice as long as
// the one before, up to Max. Failures are forgotten Forget after the last.
type Backoff struct {
	Free       int
	First, Max time.Duration
	Forget     time.Duration
}

// For is how long the failures-th consecutive failure locks for (0: not).
func (b Backoff) For(failures int) time.Duration {
	if failures <= b.Free {
		return 0
	}
	d := b.First
	for i := b.Free + 1; i < failures && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// keepKnown is how long a name that succeeded is remembered as known.
const keepKnown = 90 * 24 * time.Hour

// Lock is the state of a progressive lock.
type Lock struct {
	Until time.Time // zero, or in the past, when not locked
	Known bool      // Succeed was called for the name (and it has not expired)
}

// Locked returns the lock of name.
func (t *Throttle) Locked(ctx context.Context, q store.Querier, name string) (Lock, error) {
	var until int64
	var known bool
	err := q.QueryRow(ctx, `SELECT locked_until, known FROM throttle_locks WHERE name = ? AND expires > ?`,
		name, t.clock.Now().Unix()).Scan(&until, &known)
	if errors.Is(err, sql.ErrNoRows) {
		return Lock{}, nil
	}
	if err != nil || until == 0 {
		return Lock{Known: known}, err
	}
	return Lock{Until: time.Unix(until, 0), Known: known}, err
}

// Fail counts a failure for name and locks it as b says; it returns until
// when it is now locked (zero if it is not).
func (t *Throttle) Fail(ctx context.Context, q store.Querier, name string, b Backoff) (time.Time, error) {
	now := t.clock.Now()
	var failures int
	if err := q.QueryRow(ctx, `INSERT INTO throttle_locks (name, failures, last_failure, locked_until, known, expires) VALUES (?, 1, ?, 0, ?, ?)
		ON CONFLICT (name) DO UPDATE SET
			failures = CASE WHEN throttle_locks.last_failure < ? OR throttle_locks.expires <= ? THEN 1 ELSE throttle_locks.failures + 1 END,
			last_failure = excluded.last_failure,
			known = CASE WHEN throttle_locks.expires <= ? THEN excluded.known ELSE throttle_locks.known END,
			expires = CASE WHEN throttle_locks.expires > excluded.expires THEN throttle_locks.expires ELSE excluded.expires END
		RETURNING failures`, name, now.Unix(), false, now.Add(b.Forget).Unix(),
		now.Add(-b.Forget).Unix(), now.Unix(), now.Unix()).Scan(&failures); err != nil {
		return time.Time{}, err
	}
	d := b.For(failures)
	if d == 0 {
		return time.Time{}, nil
	}
	until := now.Add(d)
	_, err := q.Exec(ctx, `UPDATE throttle_locks SET locked_until = ? WHERE name = ?`, until.Unix(), name)
	return until, err
}

// Succeed clears name's failures and lock and remembers it as known.
func (t *Throttle) Succeed(ctx context.Context, q store.Querier, name string) error {
	now := t.clock.Now()
	_, err := q.Exec(ctx, `INSERT INTO throttle_locks (name, failures, last_failure, locked_until, known, expires) VALUES (?, 0, 0, 0, ?, ?)
		ON CONFLICT (name) DO UPDATE SET failures = 0, locked_until = 0, known = excluded.known, expires = excluded.expires`,
		name, true, now.Add(keepKnown).Unix())
	return err
}

// Unlock clears the failures and locks of every name that starts with
// prefix, and the counter named counter: an administrator's reset.
func (t *Throttle) Unlock(ctx context.Context, q store.Querier, prefix, counter string) error {
	if _, err := q.Exec(ctx, `UPDATE throttle_locks SET failures = 0, locked_until = 0 WHERE name LIKE ? ESCAPE '\'`, likePrefix(prefix)); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `DELETE FROM throttle_counters WHERE name = ?`, counter)
	return err
}

// likePrefix is a LIKE pattern for names starting with p, its own % and _
// escaped with a backslash (the query names it as the escape).
func likePrefix(p string) string {
	out := make([]byte, 0, len(p)+1)
	for i := 0; i < len(p); i++ {
		if p[i] == '%' || p[i] == '_' || p[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, p[i])
	}
	return string(out) + "%"
}

// sweep deletes expired rows now and then, so that names seen once (an
// address that looked one case up) do not stay for ever.
func (t *Throttle) sweep(ctx context.Context, q store.Querier, now time.Time) error {
	t.mu.Lock()
	due := now.Sub(t.swept) >= sweepEvery
	if due {
		t.swept = now
	}
	t.mu.Unlock()
	if !due {
		return nil
	}
	if _, err := q.Exec(ctx, `DELETE FROM throttle_counters WHERE expires <= ?`, now.Unix()); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `DELETE FROM throttle_locks WHERE expires <= ?`, now.Unix())
	return err
}
