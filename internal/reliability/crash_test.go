package reliability_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apptest"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/loadgen"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The server is killed (SIGKILL, no chance to clean up) in the middle of a
// burst of online submissions and started again on the same data: every
// submission it acknowledged is there with its files, and no case is
// half-written — each has its whole record, and every file a case names
// is in the file store with the checksum the case holds.
func TestKilledMidBurstLosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	eachDatabaseUnderLoad(t, 16, func(t *testing.T, d *demoUnderLoad) {
		ctx := context.Background()
		// Killed mid-burst, once enough are in, however loaded the
		// machine is.
		for deadline := time.Now().Add(time.Minute); d.acknowledged.Load() < 20; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("only %d submissions acknowledged in a minute", d.acknowledged.Load())
			}
		}
		res := d.kill(t)
		if res.Submitted < 20 {
			t.Fatalf("only %d submissions acknowledged before the kill (first error: %v)", res.Submitted, res.FirstErr)
		}
		t.Logf("%d acknowledged before SIGKILL", res.Submitted)

		// Started again on the same data, it serves every acknowledged case.
		p := d.restart(t)
		c := loadgen.NewClient(p.URL, 16)
		for _, r := range res.Receipts {
			apptest.CheckReceipt(t, c, d.applicants[r.Applicant], r)
		}

		// Behind the server: every case whole.
		db, err := store.Open(ctx, d.dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetChainKeys(apptest.DemoChainKeys(t, d.dir))
		local, err := filestore.NewLocal(filepath.Join(d.dir, "files"))
		if err != nil {
			t.Fatal(err)
		}
		// Small files may still wait in the stage, or be in the store.
		apptest.CheckNothingHalfWritten(t, db, staging.New(db, local), len(res.Receipts))
	})
}

// demoUnderLoad is a demo process on a fresh database, to which the
// callers of a load client keep submitting online applications (four
// citizens, an item with two materials, 4 KB files) until it is killed.
type demoUnderLoad struct {
	dir, dsn     string   // its data folder and database
	env, args    []string // to start it again on the same data
	p            *apptest.Process
	applicants   []loadgen.Applicant
	acknowledged atomic.Int64 // submissions acknowledged so far
	results      chan loadgen.Result
	cancel       context.CancelFunc
}

// eachDatabaseUnderLoad runs fn as a subtest on SQLite and on PostgreSQL,
// each with a demo under load from callers.
func eachDatabaseUnderLoad(t *testing.T, callers int, fn func(t *testing.T, d *demoUnderLoad)) {
	for _, dbName := range []string{"sqlite", "postgres"} {
		t.Run(dbName, func(t *testing.T) {
			d := &demoUnderLoad{dir: t.TempDir(), env: []string{"ZWFW_DEMO_CASES=0"}, results: make(chan loadgen.Result, 1)}
			d.args = []string{"demo", "--data", d.dir, "--addr", "127.0.0.1:0"}
			d.dsn = filepath.Join(d.dir, "zwfw.db")
			if dbName == "postgres" {
				d.dsn = storetest.PostgresURL(t)
				d.args = append(d.args, "--db", d.dsn)
			}
			d.p = apptest.Start(t, d.env, d.args...)
			c := loadgen.NewClient(d.p.URL, callers)
			var target loadgen.Target
			d.applicants, target = apptest.Submitters(t, c, 0, 4, "")
			runCtx, cancel := context.WithCancel(context.Background())
			d.cancel = cancel
			t.Cleanup(cancel)
			go func() {
				d.results <- c.Run(runCtx, d.applicants, target, loadgen.Options{Concurrency: callers, Duration: time.Minute, FileSize: 4 << 10,
					Acknowledged: &d.acknowledged})
			}()
			fn(t, d)
		})
	}
}

// kill kills the process (SIGKILL: no chance to clean up), stops the load
// and returns what was acknowledged before.
func (d *demoUnderLoad) kill(t *testing.T) loadgen.Result {
	t.Helper()
	d.p.Kill(t)
	d.cancel()
	return <-d.results
}

// restart starts the demo again on the same data.
func (d *demoUnderLoad) restart(t *testing.T) *apptest.Process {
	t.Helper()
	return apptest.Start(t, d.env, d.args...)
}

// The server is killed while it moves staged files, and started again: its
// drain job stays marked running, and the periodic drain is unique while
// one runs. The new instance must rescue it once it has run
// jobs.RescueAfter — the drain's timeout and a margin — and move the rest,
// not wait for River's default hour. (The time the killed job has run is
// set back in the database rather than waited for.)
func TestKilledMidDrainDrainsAfterRestart(t *testing.T) {
	t.Parallel()
	eachDatabaseUnderLoad(t, 8, func(t *testing.T, d *demoUnderLoad) {
		ctx := context.Background()
		db, err := store.Open(ctx, d.dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// Killed once a drain runs with files still staged.
		var running, staged int
		for deadline := time.Now().Add(15 * time.Second); running != 1 || staged < 100; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no drain ran with files staged (%d running, %d staged)", running, staged)
			}
			db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = ? AND state = 'running'`, staging.DrainArgs{}.Kind()).Scan(&running)
			db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM staged_files`).Scan(&staged)
		}
		d.kill(t)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = ? AND state = 'running'`, staging.DrainArgs{}.Kind()).Scan(&running)
		if running != 1 {
			t.Fatalf("%d drains left running by the killed instance, want 1", running)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE river_job SET attempted_at = ? WHERE state = 'running'`,
				time.Now().Add(-jobs.RescueAfter-time.Second).UTC())
			return err
		}); err != nil {
			t.Fatal(err)
		}

		start := time.Now()
		d.restart(t)
		// The dead leader's lease runs out (15 s), the new leader's
		// rescuer runs at once, and the drain goes on.
		for {
			db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM staged_files`).Scan(&staged)
			if staged == 0 {
				break
			}
			if time.Since(start) > 40*time.Second {
				t.Fatalf("%d files still staged %v after the restart", staged, time.Since(start).Round(time.Second))
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("drained %v after the restart", time.Since(start).Round(time.Second))
	})
}
