package loadgen

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
)

// Baseline is what the database and the file store can do for a
// submission's writes without any of the domain's work: per "submission"
// the rows an application writes — a case-sized row, two material rows,
// three event rows with their hashes — and its two files staged, in
// scratch tables, through the same group commit (store.TxBatched) and the
// same stage, whose files are then moved into the file store by the same
// drain. No HTTP, session, form check, numbering, sealing or chain. A
// submission rate is reported as a share of it.
type Baseline struct {
	db    *store.DB
	files *staging.Store
	seq   atomic.Int64
}

// NewBaseline makes the scratch tables on db; Close drops them. files is
// the stage over the server's file store, to drain into.
func NewBaseline(ctx context.Context, db *store.DB, files *staging.Store) (*Baseline, error) {
	err := db.Tx(ctx, func(tx *store.Tx) error {
		for _, q := range []string{
			`CREATE TABLE loadgen_cases (id BIGINT PRIMARY KEY, number TEXT NOT NULL, form_data TEXT NOT NULL, status TEXT NOT NULL,
				created_at TIMESTAMP NOT NULL)`,
			`CREATE TABLE loadgen_materials (case_id BIGINT NOT NULL, position INTEGER NOT NULL, sha256 TEXT NOT NULL, filename TEXT NOT NULL,
				PRIMARY KEY (case_id, position))`,
			`CREATE TABLE loadgen_events (case_id BIGINT NOT NULL, seq INTEGER NOT NULL, action TEXT NOT NULL, prev_hash TEXT NOT NULL,
				state_hash TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (case_id, seq))`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	return &Baseline{db: db, files: files}, err
}

// Close drops the scratch tables.
func (b *Baseline) Close(ctx context.Context) error {
	return b.db.Tx(ctx, func(tx *store.Tx) error {
		for _, t := range []string{"loadgen_cases", "loadgen_materials", "loadgen_events"} {
			if _, err := tx.Exec(ctx, `DROP TABLE `+t); err != nil {
				return err
			}
		}
		return nil
	})
}

// Run writes as many "submissions" as workers callers can for d, each
// acknowledged once durable, and returns how many.
func (b *Baseline) Run(ctx context.Context, workers int, d time.Duration, fileSize int) (int, error) {
	var n atomic.Int64
	var firstErr error
	var once sync.Once
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	form := `{"name":"` + strings.Repeat("演示", 40) + `"}`
	hash := strings.Repeat("0123456789abcdef", 4)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) && ctx.Err() == nil {
				id := b.seq.Add(1)
				files := []staging.File{stagedFile(id*2, fileSize), stagedFile(id*2+1, fileSize)}
				err := b.db.TxBatched(ctx, func(tx *store.Tx) error {
					now := time.Now()
					if _, err := tx.Exec(ctx, `INSERT INTO loadgen_cases (id, number, form_data, status, created_at) VALUES (?, ?, ?, ?, ?)`,
						id, fmt.Sprintf("410411%014d", id), form, "submitted", now); err != nil {
						return err
					}
					if err := staging.Stage(ctx, tx, now, files...); err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, `INSERT INTO loadgen_materials (case_id, position, sha256, filename) VALUES (?, 0, ?, ?), (?, 1, ?, ?)`,
						id, files[0].Object.SHA256, "申请书.pdf", id, files[1].Object.SHA256, "身份证明.pdf"); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, `INSERT INTO loadgen_events (case_id, seq, action, prev_hash, state_hash, hash) VALUES
						(?, 1, 'create', ?, ?, ?), (?, 2, 'upload', ?, ?, ?), (?, 3, 'submit', ?, ?, ?)`,
						id, hash, hash, hash, id, hash, hash, hash, id, hash, hash, hash)
					return err
				})
				if err != nil {
					once.Do(func() { firstErr = err })
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(n.Load()), firstErr
}

// Drain moves every staged file into the file store, through the stage's
// own drain, and returns how long it took.
func Drain(ctx context.Context, files *staging.Store) (time.Duration, error) {
	start := time.Now()
	for {
		moved, err := files.Drain(ctx, 200)
		if err != nil {
			return time.Since(start), err
		}
		if moved == 0 {
			// The server's drain may hold the last ones: wait for the stage to be empty.
			left, err := files.Waiting(ctx)
			if err != nil || left == 0 {
				return time.Since(start), err
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// stagedFile is a fresh PDF of size bytes, described for the stage.
func stagedFile(seed int64, size int) staging.File {
	data := SmallPDF(int(seed)|1<<40, size)
	return staging.File{Object: filestore.Object{SHA256: Checksum(data), Size: int64(len(data)), ContentType: "application/pdf"}, Data: data}
}
