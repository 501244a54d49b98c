package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// maxBatch bounds how many callers share one commit.
const maxBatch = 64

// batcher shares commits between concurrent callers (group commit). A
// durable commit costs a flush to disk and, on PostgreSQL, round trips and
// work of its own, however much it carries; so callers that arrive while a
// commit is on its way share the next one.
//
// Batches are optimistic: the callers' work runs one after another in one
// transaction, with nothing between them. If any of it fails — rare, as
// callers check their input before — the whole transaction is rolled back
// and each caller's work runs again alone, so that each fails or succeeds
// on its own.
type batcher struct {
	once sync.Once
	reqs chan batchReq
	stop chan struct{}
	done sync.WaitGroup
}

type batchReq struct {
	ctx    context.Context
	fn     func(tx *Tx) error
	result chan error
}

// batchers is how many batches run at once: SQLite has one writer, so
// one; PostgreSQL takes concurrent transactions, and several batches
// keep its connections and the CPU busy while one waits on a flush.
func (db *DB) batchers() int {
	if db.Dialect == SQLite {
		return 1
	}
	return 4
}

// TxBatched runs fn like Tx — it commits fn's changes, or on error none of
// them — but may commit them together with other callers' in one
// transaction, so that many small writes share one commit. fn may run
// twice (in a batch that failed because of another caller's work, then
// alone), so it must do nothing outside tx but set its own results; it
// sees the changes of the callers before it in the batch, as it would
// had they committed just before. When TxBatched returns nil, fn's
// changes are durable.
func (db *DB) TxBatched(ctx context.Context, fn func(tx *Tx) error) error {
	db.batch.once.Do(func() {
		db.batch.reqs = make(chan batchReq)
		db.batch.stop = make(chan struct{})
		for range db.batchers() {
			db.batch.done.Add(1)
			go db.runBatches()
		}
	})
	req := batchReq{ctx: ctx, fn: fn, result: make(chan error, 1)}
	select {
	case db.batch.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.batch.stop:
		return errors.New("database closed")
	}
	// Once taken, the work is waited for even if ctx ends: it may commit,
	// and the caller must not report a failure for what was done.
	return <-req.result
}

func (db *DB) runBatches() {
	defer db.batch.done.Done()
	for {
		var first batchReq
		select {
		case first = <-db.batch.reqs:
		case <-db.batch.stop:
			return
		}
		batch := []batchReq{first}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-db.batch.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		db.commitBatch(batch)
	}
}

// errMember marks a batch that failed because one of its callers' work did.
var errMember = errors.New("a batched caller failed")

func (db *DB) commitBatch(batch []batchReq) {
	var live []batchReq
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.result <- err
		} else {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	if len(live) > 1 {
		err := db.Tx(context.Background(), func(tx *Tx) error {
			for _, r := range live {
				if err := run(tx, r.fn); err != nil {
					return errMember
				}
			}
			return nil
		})
		if err == nil {
			for _, r := range live {
				r.result <- nil
			}
			return
		}
	}
	// Alone, each caller's work fails or succeeds on its own.
	for _, r := range live {
		r.result <- db.Tx(r.ctx, func(tx *Tx) error { return run(tx, r.fn) })
	}
}

// run calls fn, turning a panic into an error so that one caller's bug
// fails that caller, not the batch's goroutine.
func run(tx *Tx, fn func(tx *Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in batched transaction: %v", p)
		}
	}()
	return fn(tx)
}
