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

// Of two instances working the job queue, one is killed (SIGKILL) while
// it delivers webhooks to a slow receiver: the other takes its jobs over,
// every delivery is made, and none is answered twice — but for one whose
// answer came as its sender died, which at-least-once delivery allows
// and X-Zwfw-Webhook-Id lets the receiver spot.
// (TestKilledMidDrainDrainsAfterRestart in internal/app kills the only
// instance and restarts it; here the survivor carries on alone.)
func TestKilledInstanceJobsTakenOver(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresURL(t)
	dir := t.TempDir()
	a := startDemo(t, dir, dsn)
	b := startDemo(t, dir, dsn)
	db := openDB(t, dsn, dir)
	rc := newReceiver(t, 200*time.Millisecond)
	rc.subscribe(t, db)
	ctx := context.Background()

	// A burst of submissions through B, each a delivery both instances
	// take their share of, a fifth of a second each.
	c := loadgen.NewClient(b.URL, 4)
	apps, target := apptest.Submitters(t, c, 0, 4, "")
	res := c.Run(ctx, apps, target, loadgen.Options{Concurrency: 2, Duration: 2 * time.Second, FileSize: 4 << 10})
	if res.Submitted < 20 || res.Failed > 0 {
		t.Fatalf("burst: %d acknowledged, %d failed (%v)", res.Submitted, res.Failed, res.FirstErr)
	}
	var pending int
	db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'`).Scan(&pending)
	if pending < 10 {
		t.Fatalf("only %d deliveries pending after the burst: nothing to kill A in the middle of", pending)
	}

	a.Kill(t)
	killed := time.Now()
	// What A was running stays marked running; B's own jobs end within
	// the receiver's delay. River's rescuer takes a job for stuck once it
	// has run jobs.RescueAfter; the time A's jobs have run is set back in
	// the database rather than waited for.
	time.Sleep(3 * time.Second)
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
	t.Logf("%d deliveries, %d left running by the killed instance; all delivered %v after the kill",
		len(deliveries(t, db)), orphans, time.Since(killed).Round(time.Second))

	rc.mu.Lock()
	defer rc.mu.Unlock()
	twice := 0
	for key, d := range deliveries(t, db) {
		n := rc.answered[key]
		switch {
		case d.State != "delivered":
			t.Errorf("delivery %s: %s", key, d.State)
		case n == 0:
			t.Errorf("delivery %s marked delivered, never answered", key)
		case n == 2 && rc.first[key].Before(killed):
			twice++ // answered to A, which died before recording it
		case n > 1:
			t.Errorf("delivery %s answered %d times", key, n)
		}
	}
	if twice > int(orphans) {
		t.Errorf("%d deliveries answered twice, more than the %d A was running", twice, orphans)
	}
	cut := 0
	for _, n := range rc.cut {
		cut += n
	}
	t.Logf("%d requests cut off by the kill, %d deliveries answered twice", cut, twice)
}
