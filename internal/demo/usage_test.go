package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/usage"
)

// The demo's usage: every module used in the past weeks but Open311, and
// nothing counted for today, which is the server's to count.
func TestSeedUsage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 10, 0, 0, 0, clock.China)
		n, err := demo.SeedUsage(ctx, db, now)
		if err != nil {
			t.Fatal(err)
		}
		var sum, today int64
		if err := db.Read().QueryRow(ctx, `SELECT COALESCE(SUM(uses), 0), COALESCE(SUM(CASE WHEN day = ? THEN uses END), 0) FROM module_uses`,
			usage.Day(now)).Scan(&sum, &today); err != nil {
			t.Fatal(err)
		}
		if n == 0 || sum != n || today != 0 {
			t.Errorf("seeded %d uses; the table holds %d, %d of them today", n, sum, today)
		}
		rep, err := usage.New(db, clock.NewManual(now), 30).Idle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Rows {
			if r.Idle != (r.Module == usage.Open311) {
				t.Errorf("%s idle = %v (last used %q)", r.Module, r.Idle, r.LastUsed)
			}
		}
	})
}
