package staging_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// While files keep arriving the drain moves a few and rests; once the stage
// is quiet it moves everything.
func TestDrainYieldsToABurst(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	local, err := filestore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := staging.New(db, local)
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		for i := range 50 {
			obj, _ := filestore.Inspect(pdf(i), staging.MaxBytes)
			if err := staging.Stage(ctx, tx, clk.Now(), staging.File{Object: obj, Data: pdf(i)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w := &staging.DrainWorker{Store: s, Clock: clk}
	// Busy: the job's time runs out after the first small batch and rest.
	busy, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := w.Work(busy, &river.Job[staging.DrainArgs]{}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Waiting(ctx); n != 30 {
		t.Fatalf("%d left after a busy run, want 30 (one batch of 20 moved)", n)
	}
	clk.Advance(2 * time.Second)
	if err := w.Work(ctx, &river.Job[staging.DrainArgs]{}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Waiting(ctx); n != 0 {
		t.Fatalf("%d left after a quiet run", n)
	}
}

// A drain left running by an instance that was killed keeps the periodic
// drain (unique while one runs) from being queued again. The next leader
// must rescue it once its time is surely up — jobs.RescueAfter, about
// the drain's timeout — and drain, not wait for River's default hour.
func TestDrainRunsAgainSoonAfterAKilledRun(t *testing.T) {
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
