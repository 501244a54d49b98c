// Package staging makes an application's small files durable together with
// the application. Written to the file store, every file would cost its
// own flushes to disk (or an S3 round trip) before the case could commit;
// staged, a file is a row written in the case's transaction and shares
// its one commit. A background job then moves staged files into the file
// store, each first stored durably there and only then deleted here.
//
// Store wraps the file store: it reads a file from there, or from the
// stage while it waits, so callers never see the difference.
package staging

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/store"
)

// MaxBytes is the largest file staged; larger ones go to the file store
// directly, where their own write dwarfs the flush.
const MaxBytes = 1 << 20

// Store is the file store with the stage in front of it.
type Store struct {
	db    *store.DB
	files filestore.Store
}

var _ filestore.Store = (*Store)(nil)

// New returns files with the stage of db in front of it.
func New(db *store.DB, files filestore.Store) *Store { return &Store{db: db, files: files} }

// Put stores r in the file store directly.
func (s *Store) Put(ctx context.Context, r io.Reader, maxBytes int64) (filestore.Object, error) {
	return s.files.Put(ctx, r, maxBytes)
}

// Open returns a file from the file store, or from the stage.
func (s *Store) Open(ctx context.Context, sum string) (io.ReadCloser, filestore.Object, error) {
	rc, obj, err := s.files.Open(ctx, sum)
	if !errors.Is(err, filestore.ErrNotFound) {
		return rc, obj, err
	}
	var data []byte
	obj = filestore.Object{SHA256: sum}
	qerr := s.db.Read().QueryRow(ctx, `SELECT content_type, size, data FROM staged_files WHERE sha256 = ?`, sum).
		Scan(&obj.ContentType, &obj.Size, &data)
	if errors.Is(qerr, sql.ErrNoRows) {
		// Moved meanwhile: the file store has it now.
		return s.files.Open(ctx, sum)
	}
	if qerr != nil {
		return nil, filestore.Object{}, qerr
	}
	return io.NopCloser(bytes.NewReader(data)), obj, nil
}

// Exists reports whether the file is in the file store or staged.
func (s *Store) Exists(ctx context.Context, sum string) (bool, error) {
	if ok, err := s.files.Exists(ctx, sum); ok || err != nil {
		return ok, err
	}
	var n int
	err := s.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM staged_files WHERE sha256 = ?`, sum).Scan(&n)
	return n > 0, err
}

// File is content to stage, described as filestore.Inspect describes it.
type File struct {
	Object filestore.Object
	Data   []byte
}

// Stage writes files' content in tx, in one statement; they are durable
// when tx commits. The same content staged twice is kept once.
func Stage(ctx context.Context, tx *store.Tx, now time.Time, files ...File) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO staged_files (sha256, content_type, size, data, staged_at) VALUES `)
	var args []any
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f.Object.SHA256] {
			continue
		}
		seen[f.Object.SHA256] = true
		if len(args) > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, f.Object.SHA256, f.Object.ContentType, f.Object.Size, f.Data, now)
	}
	if len(args) == 0 {
		return nil
	}
	q.WriteString(" ON CONFLICT (sha256) DO NOTHING")
	_, err := tx.Exec(ctx, q.String(), args...)
	return err
}

// Drain moves up to limit staged files, the oldest first, into the file
// store and returns how many it moved. Each is stored durably there before
// its row is deleted, so a crash between the two only moves it again.
func (s *Store) Drain(ctx context.Context, limit int) (int, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT sha256, size, data FROM staged_files ORDER BY staged_at LIMIT ?`, limit)
	if err != nil {
		return 0, err
	}
	type staged struct {
		sum  string
		size int64
		data []byte
	}
	var batch []staged
	for rows.Next() {
		var f staged
		if err := rows.Scan(&f.sum, &f.size, &f.data); err != nil {
			rows.Close()
			return 0, err
		}
		batch = append(batch, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var moved []any
	var putErr error
	for _, f := range batch {
		obj, err := s.files.Put(ctx, bytes.NewReader(f.data), f.size)
		if err == nil && obj.SHA256 != f.sum {
			err = fmt.Errorf("staged file %s holds content %s", f.sum, obj.SHA256)
		}
		if err != nil {
			putErr = fmt.Errorf("move staged file %s: %w", f.sum, err)
			break
		}
		moved = append(moved, f.sum)
	}
	if len(moved) > 0 {
		if err := s.db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM staged_files WHERE sha256 IN (?`+strings.Repeat(", ?", len(moved)-1)+`)`, moved...)
			return err
		}); err != nil {
			return 0, errors.Join(putErr, err)
		}
	}
	return len(moved), putErr
}

// Waiting counts the files still staged, for metrics and tests.
func (s *Store) Waiting(ctx context.Context) (int, error) {
	var n int
	err := s.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM staged_files`).Scan(&n)
	return n, err
}

// DrainArgs is the periodic job that moves staged files.
type DrainArgs struct{}

func (DrainArgs) Kind() string { return "staged_files_drain" }

// DrainWorker runs DrainArgs jobs: it moves staged files until none are
// left or its time is up; the next run goes on.
type DrainWorker struct {
	river.WorkerDefaults[DrainArgs]
	Store *Store
	Clock clock.Clock
}

// DrainTimeout bounds one run of the drain. It is within jobs.RescueAfter,
// so that a run left behind by a killed instance is rescued (and the
// periodic drain, unique while one runs, goes on) about that long after
// it began, not after River's default hour.
const DrainTimeout = time.Minute

func (w *DrainWorker) Timeout(*river.Job[DrainArgs]) time.Duration { return DrainTimeout }

// The move is background work: while files are still being staged — a
// burst of applications — it moves a few at a time and rests, leaving the
// machine to the requests; once the stage has been quiet for a moment it
// moves the backlog at full speed. Staged files are durable either way.
const (
	quietAfter = time.Second
	burstBatch = 20
	burstPause = 500 * time.Millisecond
	quietBatch = 200
)

// Work moves staged files in batches.
func (w *DrainWorker) Work(ctx context.Context, _ *river.Job[DrainArgs]) error {
	for {
		newest, err := w.Store.newest(ctx)
		if err != nil {
			return err
		}
		busy := w.Clock.Now().Sub(newest) < quietAfter
		limit := quietBatch
		if busy {
			limit = burstBatch
		}
		n, err := w.Store.Drain(ctx, limit)
		if ctx.Err() != nil {
			return nil // out of time: the next run goes on from where this stopped
		}
		if err != nil || n == 0 {
			return err
		}
		if busy {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(burstPause):
			}
		}
	}
}

// newest is when the most recent file was staged (zero when none is).
func (s *Store) newest(ctx context.Context) (time.Time, error) {
	var t time.Time
	err := s.db.Read().QueryRow(ctx, `SELECT staged_at FROM staged_files ORDER BY staged_at DESC LIMIT 1`).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return t, err
}

// PeriodicDrain schedules the drain every interval; while one runs (it
// may for a minute in a long burst), no second is queued beside it.
func PeriodicDrain(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every), DrainJob, &river.PeriodicJobOpts{RunOnStart: true})
}

// DrainJob is the drain job as PeriodicDrain queues it: unique while one
// waits or runs.
func DrainJob() (river.JobArgs, *river.InsertOpts) {
	return DrainArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled}}}
}
