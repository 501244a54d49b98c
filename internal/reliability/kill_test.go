package reliability_test

import (
	"context"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apptest"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/loadgen"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// Of two instances working the job queue, one is killed (SIGKILL) in the
// middle of webhook deliveries: the other takes its jobs over, every
// delivery is made, and each is answered once.
// (TestKilledMidDrainDrainsAfterRestart, in crash_test.go, kills the only
// instance and restarts it; here the survivor carries on alone.)
func TestKilledInstanceJobsTakenOver(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresURL(t)
	dir := t.TempDir()
	a := startDemo(t, dir, dsn)
	b := startDemo(t, dir, dsn)
	db := openDB(t, dsn, dir)
	rc := newReceiver(t)
	rc.subscribe(t, db)
	ctx := context.Background()

	// The receiver holds every delivery open, so that both instances are
	// in the middle of theirs, whatever the machine's speed, while a
	// burst of submissions through B makes more.
	rc.hold()
	c := loadgen.NewClient(b.URL, 4)
	apps, target := apptest.Submitters(t, c, 0, 4, "")
	res := c.Run(ctx, apps, target, loadgen.Options{Concurrency: 2, Duration: 2 * time.Second, FileSize: 4 << 10})
	if res.Submitted < 10 || res.Failed > 0 {
		t.Fatalf("burst: %d acknowledged, %d failed (%v)", res.Submitted, res.Failed, res.FirstErr)
	}
	for start := time.Now(); rc.held() < 2; time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%d deliveries under way after the burst, want both instances at work", rc.held())
		}
	}
	time.Sleep(500 * time.Millisecond) // the slower instance's fetch

	a.Kill(t)
	killed := time.Now()
	// B's deliveries are answered and it carries on; what A was running
	// stays marked running. River's rescuer takes a job for stuck once it
	// has run jobs.RescueAfter: the time A's jobs have run is set back in
	// the database rather than waited for.
	rc.release()
	time.Sleep(2 * time.Second)
	var orphans int64
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		r, err := tx.Exec(ctx, `UPDATE river_job SET attempted_at = ? WHERE kind = 'webhook_deliver' AND state = 'running' AND attempted_at < ?`,
			time.Now().Add(-jobs.RescueAfter-time.Second).UTC(), killed.UTC())
		if err == nil {
			orphans, err = r.RowsAffected()
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if orphans == 0 {
		t.Fatal("A was running no delivery when it was killed")
	}
	// B leads once A's lease runs out (if A led), and its rescuer hands
	// A's jobs back to the queue.
	waitDeliveries(t, db, 90*time.Second)
	ds := deliveries(t, db)
	t.Logf("%d deliveries, %d left running by the killed instance; all delivered %v after the kill",
		len(ds), orphans, time.Since(killed).Round(time.Second))

	rc.mu.Lock()
	defer rc.mu.Unlock()
	cut := 0
	for _, n := range rc.cut {
		cut += n
	}
	if cut < int(orphans) {
		t.Errorf("%d requests cut off by the kill, fewer than the %d deliveries A was running", cut, orphans)
	}
	for key, d := range ds {
		if n := rc.answered[key]; d.State != "delivered" || n != 1 {
			t.Errorf("delivery %s: %s, answered %d times; want delivered, answered once", key, d.State, n)
		}
	}
	if len(rc.answered) != len(ds) {
		t.Errorf("the receiver answered %d deliveries, the database holds %d", len(rc.answered), len(ds))
	}
}
