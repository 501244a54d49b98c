package store

import (
	"context"
	"fmt"
	"sync"
)

// maxBatch bounds how many callers share one commit.
const maxBatch = 64

// batcher shares commits between concurrent callers (group commit). A
// durable commit costs one flush to disk however much it carries, so
// callers that arrive while a commit is on its way to the disk wait for
// the next one and share it: each runs in a savepoint of its own inside
// the one transaction, and fails or succeeds alone.
type batcher struct {
	once sync.Once
	reqs chan batchReq
	stop chan struct{}
	done chan struct{}
}

type batchReq struct {
	ctx    context.Context
	fn     func(tx *Tx) error
	result chan error
}

// TxBatched runs fn like Tx — it commits fn's changes, or on error none of
// them — but may commit them together with other callers' in one
// transaction, so that many small writes share one flush to disk. fn runs
// after the work of earlier callers in the batch and must not depend on
// running alone: it sees their changes, as it would had they committed
// just before. When TxBatched returns nil, fn's changes are durable.
//
// Only SQLite batches: it has one writer, so callers queue anyway and the
// queue is what a batch takes. PostgreSQL runs concurrent transactions and
// flushes concurrent commits together by itself; a batch there would only
// put everyone's round trips in one line.
func (db *DB) TxBatched(ctx context.Context, fn func(tx *Tx) error) error {
	if db.Dialect != SQLite {
		return db.Tx(ctx, fn)
	}
	db.batch.once.Do(func() {
		db.batch.reqs = make(chan batchReq)
		db.batch.stop = make(chan struct{})
		db.batch.done = make(chan struct{})
		go db.runBatches()
	})
	req := batchReq{ctx: ctx, fn: fn, result: make(chan error, 1)}
	select {
	case db.batch.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.batch.stop:
		return fmt.Errorf("database closed")
	}
	// Once taken, the work is waited for even if ctx ends: it may commit,
	// and the caller must not report a failure for what was done.
	return <-req.result
}

func (db *DB) runBatches() {
	defer close(db.batch.done)
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

func (db *DB) commitBatch(batch []batchReq) {
	errs := make([]error, len(batch))
	err := db.Tx(context.Background(), func(tx *Tx) error {
		for i, r := range batch {
			if err := r.ctx.Err(); err != nil {
				errs[i] = err
				continue
			}
			errs[i] = runSavepoint(tx, i, r)
			if errs[i] == errBatchBroken {
				return errs[i]
			}
		}
		return nil
	})
	for i, r := range batch {
		if err != nil {
			r.result <- err
		} else {
			r.result <- errs[i]
		}
	}
}

var errBatchBroken = fmt.Errorf("batch transaction failed")

// runSavepoint runs one caller's work in a savepoint, undoing it alone if
// it fails or panics.
func runSavepoint(tx *Tx, i int, r batchReq) (err error) {
	ctx := context.Background()
	name := fmt.Sprintf("batch_%d", i)
	if _, err := tx.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return errBatchBroken
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in batched transaction: %v", p)
		}
		if err != nil {
			if _, rerr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
				err = errBatchBroken
				return
			}
		}
		if _, rerr := tx.Exec(ctx, "RELEASE SAVEPOINT "+name); rerr != nil {
			err = errBatchBroken
		}
	}()
	return r.fn(tx)
}
