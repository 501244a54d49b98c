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
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/zwfw/zwfw/internal/apperr"
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
	// kept says that the drain last kept free space for a burst, to be
	// given back once the stage is quiet.
	kept atomic.Bool
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

// Delete removes a file from the file store and the stage unless a case
// refers to it (Discard).
func (s *Store) Delete(ctx context.Context, sum string) error {
	_, err := s.Discard(ctx, sum)
	return err
}

// List lists the file store's files (not the staged ones).
func (s *Store) List(ctx context.Context, fn func(string, time.Time) error) error {
	return s.files.List(ctx, fn)
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
// its row is deleted, so a crash between the two only moves it again. The
// files are written moveWorkers at a time — each write waits mostly on its
// flush to disk or its round trip to S3, and these overlap — and their
// rows deleted in one transaction; a batch holds at most batchBytes, read
// row by row by the writers so that memory stays within a few files.
func (s *Store) Drain(ctx context.Context, limit int) (int, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT sha256, size FROM staged_files ORDER BY staged_at LIMIT ?`, limit)
	if err != nil {
		return 0, err
	}
	type staged struct {
		sum  string
		size int64
	}
	var batch []staged
	var total int64
	for rows.Next() {
		var f staged
		if err := rows.Scan(&f.sum, &f.size); err != nil {
			rows.Close()
			return 0, err
		}
		if len(batch) > 0 && total+f.size > batchBytes {
			break
		}
		batch = append(batch, f)
		total += f.size
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	done := make([]bool, len(batch))
	errs := make([]error, len(batch))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(moveWorkers, len(batch)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = s.move(ctx, batch[i].sum)
				done[i] = errs[i] == nil
			}
		}()
	}
	for i := range batch {
		next <- i
	}
	close(next)
	wg.Wait()
	var moved []any
	for i, f := range batch {
		if done[i] {
			moved = append(moved, f.sum)
		}
	}
	moveErr := errors.Join(errs...)
	if len(moved) > 0 {
		if err := s.db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM staged_files WHERE sha256 IN (?`+strings.Repeat(", ?", len(moved)-1)+`)`, moved...)
			return err
		}); err != nil {
			return 0, errors.Join(moveErr, err)
		}
	}
	return len(moved), moveErr
}

// A batch of the drain: files written at once, and the most bytes read
// from the stage for one batch.
const (
	moveWorkers = 8
	batchBytes  = 32 << 20
)

// move stores the staged file sum durably in the file store. A file no
// longer staged (discarded meanwhile) is no error: there is nothing to move.
func (s *Store) move(ctx context.Context, sum string) error {
	var data []byte
	err := s.db.Read().QueryRow(ctx, `SELECT data FROM staged_files WHERE sha256 = ?`, sum).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("move staged file %s: %w", sum, err)
	}
	obj, err := s.files.Put(ctx, bytes.NewReader(data), int64(len(data)))
	if err == nil && obj.SHA256 != sum {
		err = fmt.Errorf("holds content %s", obj.SHA256)
	}
	if err != nil {
		return fmt.Errorf("move staged file %s: %w", sum, err)
	}
	return nil
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
	// Pause is the rest between batches during a burst (burstPause when
	// zero; tests make it longer than their run).
	Pause time.Duration
}

// DrainTimeout bounds one run of the drain. It is within jobs.RescueAfter,
// so that a run left behind by a killed instance is rescued (and the
// periodic drain, unique while one runs, goes on) about that long after
// it began, not after River's default hour.
const DrainTimeout = time.Minute

func (w *DrainWorker) Timeout(*river.Job[DrainArgs]) time.Duration { return DrainTimeout }

// The move is background work: while files are still being staged — a
// burst of applications — and the backlog is short, it rests after each
// batch, leaving the machine to the requests. Once the backlog reaches
// restBelow files it stops resting, so that it stays bounded whenever files
// can be moved faster than they arrive; once the stage has been quiet for a
// moment it moves the rest at full speed. Staged files are durable either
// way.
const (
	quietAfter = time.Second
	batchFiles = 64
	restBelow  = 256
	burstPause = 500 * time.Millisecond
)

// Space that moved files leave in the database is given back (Reclaim)
// every reclaimEvery files moved and when the stage empties; while a
// burst lasts, keepFree bytes of it stay for the files still arriving,
// until a run finds the stage quiet.
const (
	reclaimEvery = 256
	keepFree     = 32 << 20
)

// Work moves staged files in batches.
func (w *DrainWorker) Work(ctx context.Context, _ *river.Job[DrainArgs]) error {
	unreclaimed := 0
	for {
		newest, err := w.Store.newest(ctx)
		if err != nil {
			return err
		}
		n, err := w.Store.Drain(ctx, batchFiles)
		if ctx.Err() != nil {
			return nil // out of time: the next run goes on from where this stopped
		}
		if err != nil {
			return err
		}
		left, err := w.Store.Waiting(ctx)
		if err != nil {
			return err
		}
		busy := w.Clock.Now().Sub(newest) < quietAfter
		unreclaimed += n
		if unreclaimed > 0 && (left == 0 || unreclaimed >= reclaimEvery) || !busy && w.Store.kept.Load() {
			keep := int64(0)
			if busy {
				keep = keepFree
			}
			if err := w.Store.db.Reclaim(ctx, "staged_files", keep); err != nil {
				return err
			}
			w.Store.kept.Store(busy)
			unreclaimed = 0
		}
		if n == 0 || left == 0 {
			return nil
		}
		if busy && left < restBelow {
			pause := w.Pause
			if pause == 0 {
				pause = burstPause
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(pause):
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

// Files are shared by content: a file a refused request stored, or one
// nothing has referred to for a while, may be the very file another
// request has just stored too (Put finds it there and does nothing) and is
// about to record. So a deletion and the recording of a reference take,
// in their transactions, the same lock on the file (PostgreSQL: an
// advisory lock keyed by the digest; SQLite: the write transaction already
// excludes every other): the deletion checks that nothing refers to the
// file and deletes it; the recording (Hold) checks that the file is still
// there, and refuses the request — asking to upload again — when it was
// deleted first.

// lockFile takes the lock on file sum in tx until tx ends.
func (s *Store) lockFile(ctx context.Context, tx *store.Tx, sum string) error {
	if s.db.Dialect != store.Postgres {
		return nil
	}
	key, err := strconv.ParseInt(sum[:15], 16, 64)
	if err != nil {
		return fmt.Errorf("lock file %q: %w", sum, err)
	}
	_, err = tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, key)
	return err
}

// ErrGone refuses a request whose file was deleted, as unreferenced,
// between its upload and its recording.
var ErrGone = apperr.New(apperr.Conflict, "上传的文件已失效，请重新上传。")

// Hold is called in the transaction that records references to files
// already in the file store: it locks them and checks that they are still
// stored (ErrGone otherwise), so that no deletion takes them until tx ends
// — by then, the references are there.
func (s *Store) Hold(ctx context.Context, tx *store.Tx, sums ...string) error {
	sums = slices.Clone(sums)
	slices.Sort(sums) // one order of locks, so that two holders cannot deadlock
	for i, sum := range sums {
		if i > 0 && sums[i-1] == sum {
			continue
		}
		if !filestore.ValidSHA256(sum) {
			return fmt.Errorf("hold file %q: not a digest", sum)
		}
		if err := s.lockFile(ctx, tx, sum); err != nil {
			return err
		}
		ok, err := s.files.Exists(ctx, sum)
		if err == nil && !ok {
			var n int
			err = tx.QueryRow(ctx, `SELECT COUNT(*) FROM staged_files WHERE sha256 = ?`, sum).Scan(&n)
			ok = n > 0
		}
		if err != nil {
			return err
		}
		if !ok {
			return ErrGone
		}
	}
	return nil
}

// Discard deletes files that nothing refers to — no case's material,
// result or signed consent (帮办代办), no complaint's photo, no
// self-evaluation's evidence, no e-licence's QR code — from the stage and the file store; a file still referred to is
// kept. A refused request discards the files it stored; the sweeper those
// that were left behind.
func (s *Store) Discard(ctx context.Context, sums ...string) (int, error) {
	deleted := 0
	var errs []error
	for _, sum := range sums {
		if !filestore.ValidSHA256(sum) {
			continue
		}
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			if err := s.lockFile(ctx, tx, sum); err != nil {
				return err
			}
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM case_materials WHERE sha256 = ?
				UNION ALL SELECT 1 FROM cases WHERE result_sha256 = ?
				UNION ALL SELECT 1 FROM complaint_files WHERE sha256 = ?
				UNION ALL SELECT 1 FROM evaluation_entries WHERE file_sha256 = ?
				UNION ALL SELECT 1 FROM case_consents WHERE file_sha256 = ?
				UNION ALL SELECT 1 FROM licences WHERE file_sha256 = ? LIMIT 1`, sum, sum, sum, sum, sum, sum).Scan(&one)
			if err == nil {
				return nil // referred to: kept
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM staged_files WHERE sha256 = ?`, sum); err != nil {
				return err
			}
			// Deleted under the lock, before the commit: a request that
			// recorded the file after this would find it gone (Hold).
			if err := s.files.Delete(ctx, sum); err != nil {
				return err
			}
			deleted++
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("discard file %s: %w", sum, err))
		}
	}
	return deleted, errors.Join(errs...)
}

// SweepGrace is how long a file nothing refers to is kept before the
// sweeper deletes it: long past any request that could still record it
// (a request that does is safe anyway, see Hold), and long enough for an
// administrator to notice a mistake.
const SweepGrace = 24 * time.Hour

// Sweep discards the files stored or staged before cutoff that no case
// refers to: those of requests that failed in a way that left them (a
// crash between storing and recording) and materials replaced since.
// It returns how many it deleted.
func (s *Store) Sweep(ctx context.Context, cutoff time.Time) (int, error) {
	refs := map[string]bool{}
	rows, err := s.db.Read().Query(ctx, `SELECT sha256 FROM case_materials UNION SELECT result_sha256 FROM cases WHERE result_sha256 <> ''
		UNION SELECT sha256 FROM complaint_files UNION SELECT file_sha256 FROM evaluation_entries
		UNION SELECT file_sha256 FROM case_consents WHERE file_sha256 <> ''
		UNION SELECT file_sha256 FROM licences`)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var sum string
		if err := rows.Scan(&sum); err != nil {
			rows.Close()
			return 0, err
		}
		refs[sum] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var orphans []string
	if err := s.files.List(ctx, func(sum string, stored time.Time) error {
		if stored.Before(cutoff) && !refs[sum] {
			orphans = append(orphans, sum)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	staged, err := s.db.Read().Query(ctx, `SELECT sha256 FROM staged_files WHERE staged_at < ?`, cutoff)
	if err != nil {
		return 0, err
	}
	for staged.Next() {
		var sum string
		if err := staged.Scan(&sum); err != nil {
			staged.Close()
			return 0, err
		}
		if !refs[sum] {
			orphans = append(orphans, sum)
		}
	}
	staged.Close()
	if err := staged.Err(); err != nil {
		return 0, err
	}
	// Each is checked again under its lock before it goes.
	return s.Discard(ctx, orphans...)
}

// SweepArgs is the periodic job that deletes unreferenced files.
type SweepArgs struct{}

func (SweepArgs) Kind() string { return "files_sweep" }

// SweepWorker runs SweepArgs jobs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Store *Store
	Clock clock.Clock
	Log   *slog.Logger
}

// Work sweeps once; a sweep cut short by its timeout goes on next time.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	n, err := w.Store.Sweep(ctx, w.Clock.Now().Add(-SweepGrace))
	if n > 0 && w.Log != nil {
		w.Log.InfoContext(ctx, "unreferenced files deleted", "files", n)
	}
	return err
}

// PeriodicSweep schedules the sweep every interval, one at a time.
func PeriodicSweep(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
		return SweepArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled}}}
	}, nil)
}
