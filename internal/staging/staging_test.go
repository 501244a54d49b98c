package staging_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func pdf(n int) []byte { return []byte(fmt.Sprintf("%%PDF-1.7 staged file %d", n)) }

func read(t *testing.T, s filestore.Store, sum string) []byte {
	t.Helper()
	rc, obj, err := s.Open(context.Background(), sum)
	if err != nil {
		t.Fatalf("open %s: %v", sum, err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	if obj.SHA256 != sum || obj.Size != int64(len(b)) || obj.ContentType != filestore.TypePDF {
		t.Fatalf("object %+v for %d bytes", obj, len(b))
	}
	return b
}

// A staged file is durable with its transaction, readable at once through
// the store, and moved into the file store by the drain — stored there
// before its row goes. A rolled-back transaction stages nothing.
func TestStageReadDrain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		local, err := filestore.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s := staging.New(db, local)
		now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		var files []staging.File
		for i := range 3 {
			obj, err := filestore.Inspect(pdf(i), staging.MaxBytes)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, staging.File{Object: obj, Data: pdf(i)})
		}
		// The same content twice in one call, and again later: kept once.
		if err := db.Tx(ctx, func(tx *store.Tx) error { return staging.Stage(ctx, tx, now, files[0], files[1], files[0]) }); err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return staging.Stage(ctx, tx, now, files[0]) }); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := staging.Stage(ctx, tx, now, files[2]); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if n, _ := s.Waiting(ctx); n != 2 {
			t.Fatalf("%d staged, want 2", n)
		}
		if ok, _ := local.Exists(ctx, files[0].Object.SHA256); ok {
			t.Fatal("in the file store before the drain")
		}
		if got := read(t, s, files[1].Object.SHA256); !bytes.Equal(got, pdf(1)) {
			t.Fatalf("staged read %q", got)
		}
		if ok, _ := s.Exists(ctx, files[2].Object.SHA256); ok {
			t.Fatal("the rolled-back file exists")
		}
		if _, _, err := s.Open(ctx, files[2].Object.SHA256); !errors.Is(err, filestore.ErrNotFound) {
			t.Fatalf("rolled-back file: %v", err)
		}

		if n, err := s.Drain(ctx, 1); err != nil || n != 1 {
			t.Fatalf("drain 1: %d %v", n, err)
		}
		if n, err := s.Drain(ctx, 10); err != nil || n != 1 {
			t.Fatalf("drain rest: %d %v", n, err)
		}
		if n, _ := s.Waiting(ctx); n != 0 {
			t.Fatalf("%d still staged", n)
		}
		for i := range 2 {
			if ok, _ := local.Exists(ctx, files[i].Object.SHA256); !ok {
				t.Fatalf("file %d not moved", i)
			}
			if got := read(t, s, files[i].Object.SHA256); !bytes.Equal(got, pdf(i)) {
				t.Fatalf("moved read %q", got)
			}
		}
	})
}

// While files keep arriving and the backlog is short, the drain moves a
// batch and rests; a longer backlog it moves without resting, so that it
// cannot grow without bound; once the stage is quiet it moves everything.
func TestDrainYieldsToABurst(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	local, err := filestore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := staging.New(db, local)
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	// Two batches above the backlog at which the drain rests.
	const files = 256 + 64
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		for i := range files {
			obj, _ := filestore.Inspect(pdf(i), staging.MaxBytes)
			if err := staging.Stage(ctx, tx, clk.Now(), staging.File{Object: obj, Data: pdf(i)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w := &staging.DrainWorker{Store: s, Clock: clk, Pause: time.Hour}
	// Busy: a batch without rest (256 left is not short), a second, then
	// a rest that outlasts the job's time.
	busy, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := w.Work(busy, &river.Job[staging.DrainArgs]{}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Waiting(ctx); n != files-128 {
		t.Fatalf("%d left after a busy run, want %d (two batches of 64 moved)", n, files-128)
	}
	clk.Advance(2 * time.Second)
	if err := w.Work(ctx, &river.Job[staging.DrainArgs]{}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Waiting(ctx); n != 0 {
		t.Fatalf("%d left after a quiet run", n)
	}
}

// One drain moves a whole batch — files of different sizes up to the
// largest staged — and leaves no staged row; every file reads back from
// the file store itself with the content its digest names.
func TestDrainBatch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		local, err := filestore.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s := staging.New(db, local)
		sizes := []int{10, 4 << 10, 200 << 10, staging.MaxBytes}
		var sums []string
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for i := range 40 {
				data := noisyPDF(uint64(i), sizes[i%len(sizes)])
				obj := mustInspect(t, data)
				sums = append(sums, obj.SHA256)
				if err := staging.Stage(ctx, tx, time.Now(), staging.File{Object: obj, Data: data}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Drain(ctx, 100); err != nil || n != 40 {
			t.Fatalf("drain: %d moved, %v; want 40", n, err)
		}
		if n, _ := s.Waiting(ctx); n != 0 {
			t.Fatalf("%d rows left", n)
		}
		for i, sum := range sums {
			b := read(t, local, sum)
			if got := sha(b); got != sum || len(b) != sizes[i%len(sizes)] {
				t.Fatalf("file %d: %d bytes with digest %s, want %s", i, len(b), got, sum)
			}
		}
	})
}

// crashing is a file store that stores each file and then, once it has
// stored them all, takes the process down (cancels the drain's context)
// before the drain can delete their rows.
type crashing struct {
	filestore.Store
	after  int
	crash  context.CancelFunc
	stored atomic.Int32
}

func (c *crashing) Put(ctx context.Context, r io.Reader, maxBytes int64) (filestore.Object, error) {
	obj, err := c.Store.Put(ctx, r, maxBytes)
	if err == nil && int(c.stored.Add(1)) == c.after {
		c.crash()
	}
	return obj, err
}

// A crash after the files are written and before their rows are deleted
// loses nothing: the rows stay, every file reads through the stage, and
// the next drain finishes the move.
func TestDrainCrashBetweenWriteAndDelete(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		local, err := filestore.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var sums []string
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for i := range 20 {
				data := noisyPDF(uint64(i), 50<<10)
				obj := mustInspect(t, data)
				sums = append(sums, obj.SHA256)
				if err := staging.Stage(ctx, tx, time.Now(), staging.File{Object: obj, Data: data}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		dying, crash := context.WithCancel(ctx)
		defer crash()
		cs := &crashing{Store: local, after: 20, crash: crash}
		if n, err := staging.New(db, cs).Drain(dying, 100); err == nil || n != 0 {
			t.Fatalf("drain that crashed: %d moved, %v; want 0 and an error", n, err)
		}
		if got := cs.stored.Load(); got != 20 {
			t.Fatalf("%d files written before the crash, want 20", got)
		}
		s := staging.New(db, local)
		if n, _ := s.Waiting(ctx); n != 20 {
			t.Fatalf("%d rows left after the crash, want all 20", n)
		}
		if n, err := s.Drain(ctx, 100); err != nil || n != 20 {
			t.Fatalf("next drain: %d moved, %v; want 20", n, err)
		}
		if n, _ := s.Waiting(ctx); n != 0 {
			t.Fatalf("%d rows left after the next drain", n)
		}
		for _, sum := range sums {
			if got := sha(read(t, local, sum)); got != sum {
				t.Fatalf("file %s reads as %s", sum, got)
			}
		}
	})
}

// The space a large drain frees goes back to the system: the SQLite file
// shrinks (auto_vacuum=INCREMENTAL) — while files still arrive down to
// the free space kept for them, then all the way — and PostgreSQL's
// table, vacuumed, shrinks too once it is empty.
func TestDrainGivesSpaceBack(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite, "postgres": storetest.Postgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			local, err := filestore.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			s := staging.New(db, local)
			size := func() int64 {
				if db.Dialect == store.Postgres {
					var n int64
					if err := db.Read().QueryRow(ctx, `SELECT pg_total_relation_size('staged_files')`).Scan(&n); err != nil {
						t.Fatal(err)
					}
					return n
				}
				if err := db.Optimize(ctx); err != nil { // a checkpoint: the file shrinks then
					t.Fatal(err)
				}
				var n int64
				if err := db.Read().QueryRow(ctx, `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			empty := size()
			stage(t, db, 0, 200, 200<<10)
			full := size()
			if full < empty+30<<20 {
				t.Fatalf("%d bytes with 40 MB staged, %d empty", full, empty)
			}
			// Drained while files still arrive: SQLite keeps 32 MB free for
			// them.
			clk := clock.NewManual(time.Now())
			w := &staging.DrainWorker{Store: s, Clock: clk, Pause: time.Millisecond}
			if err := w.Work(ctx, &river.Job[staging.DrainArgs]{}); err != nil {
				t.Fatal(err)
			}
			if n, _ := s.Waiting(ctx); n != 0 {
				t.Fatalf("%d left", n)
			}
			busy := size()
			if db.Dialect == store.SQLite && (busy < empty+30<<20 || busy > empty+40<<20) {
				t.Fatalf("%d bytes after a drain during a burst: %d empty, want 32 MB more", busy, empty)
			}
			// The next run finds the stage quiet and gives the rest back.
			clk.Advance(time.Minute)
			if err := w.Work(ctx, &river.Job[staging.DrainArgs]{}); err != nil {
				t.Fatal(err)
			}
			if got := size(); got > empty+4<<20 {
				t.Fatalf("%d bytes once quiet: %d empty, %d with 40 MB staged, %d after the drain", got, empty, full, busy)
			}
		})
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// A drain left running by an instance that was killed keeps the periodic
// drain (unique while one runs) from being queued again. The next leader
// must rescue it once its time is surely up — jobs.RescueAfter, about
// the drain's timeout — and drain, not wait for River's default hour.
func TestDrainRunsAgainSoonAfterAKilledRun(t *testing.T) {
	t.Parallel()
	if staging.DrainTimeout >= jobs.RescueAfter {
		t.Fatalf("drain timeout %v is not within the rescue time %v", staging.DrainTimeout, jobs.RescueAfter)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		local, err := filestore.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s := staging.New(db, local)
		// The killed instance staged files and had begun moving them
		// just over the rescue time ago; its job is still marked running.
		dead, err := jobs.New(db, nil, jobs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for i := range 3 {
				obj, _ := filestore.Inspect(pdf(i), staging.MaxBytes)
				if err := staging.Stage(ctx, tx, time.Now(), staging.File{Object: obj, Data: pdf(i)}); err != nil {
					return err
				}
			}
			args, opts := staging.DrainJob()
			return dead.Enqueue(ctx, tx, args, opts)
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = ? WHERE kind = ?`,
				time.Now().Add(-jobs.RescueAfter-time.Second).UTC(), staging.DrainArgs{}.Kind())
			return err
		}); err != nil {
			t.Fatal(err)
		}

		workers := river.NewWorkers()
		river.AddWorker(workers, &staging.DrainWorker{Store: s, Clock: clock.System{}})
		q, err := jobs.New(db, workers, jobs.Options{Workers: 2, PollInterval: 100 * time.Millisecond,
			Periodic: []*river.PeriodicJob{staging.PeriodicDrain(200 * time.Millisecond)}})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(ctx)
		deadline := time.Now().Add(20 * time.Second)
		for {
			n, err := s.Waiting(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d files still staged 20 s after the restart: the killed run was not rescued", n)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if b := read(t, local, mustInspect(t, pdf(2)).SHA256); !bytes.Equal(b, pdf(2)) {
			t.Fatal("moved file differs")
		}
	})
}

func mustInspect(t *testing.T, b []byte) filestore.Object {
	t.Helper()
	obj, err := filestore.Inspect(b, staging.MaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}
