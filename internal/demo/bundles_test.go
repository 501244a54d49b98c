package demo_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The demo's four bundles are published, and its applications to them
// are in every state: just applied, a part waiting, a part in correction,
// all completed, ended by a refused part.
func TestSeedBundles(t *testing.T) {
	t.Parallel()
	storetest.EachSeeded(t, "demo", seedDemo, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 15, 0, 0, 0, clock.China)
		clk := clock.NewManual(now)
		enc, idx, err := pii.GenerateKeys()
		if err != nil {
			t.Fatal(err)
		}
		keys, err := pii.ParseKeys(enc, idx)
		if err != nil {
			t.Fatal(err)
		}
		ids := identity.New(db, identity.Options{Keys: keys, SMS: sms.NewDev(slog.New(slog.DiscardHandler), 10), Clock: clk})
		files, err := filestore.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		regions := region.NewStore(db)
		items := catalog.NewStore(db, regions, clk)
		cal := calendar.New(nil)
		cases := casework.New(db, items, clk, cal)
		cases.UseKeys(keys)
		svc := bundle.New(db, items, regions, cases, clk)
		if n, err := demo.SeedBundles(ctx, db, svc); err != nil || n != 4 {
			t.Fatalf("bundles %d, %v", n, err)
		}
		for _, b := range []string{"出生一件事", "开办餐饮店", "退休一件事", "身后一件事"} {
			var id int64
			if err := db.Read().QueryRow(ctx, `SELECT id FROM bundles WHERE name = ? AND status = 'published'`, b).Scan(&id); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if _, err := svc.Guide(ctx, id); err != nil {
				t.Errorf("%s: %v", b, err)
			}
		}
		n, err := demo.SeedBundleCases(ctx, db, ids, svc, cases, clk, cal, files)
		if err != nil || n != 5 {
			t.Fatalf("applications %d, %v", n, err)
		}
		if !clk.Now().Equal(now) {
			t.Errorf("clock left at %s", clk.Now())
		}
		statuses := map[casework.Status]int{}
		outcomes := map[string]int{}
		rows, err := db.Read().Query(ctx, `SELECT c.status, b.name FROM bundle_parts p JOIN cases c ON c.id = p.case_id
			JOIN bundle_cases x ON x.id = p.bundle_case_id JOIN bundles b ON b.id = x.bundle_id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var st casework.Status
			var name string
			if err := rows.Scan(&st, &name); err != nil {
				t.Fatal(err)
			}
			statuses[st]++
			outcomes[name]++
		}
		rows.Close()
		for _, st := range []casework.Status{casework.Submitted, casework.Waiting, casework.Correction, casework.Completed, casework.Rejected, casework.Closed, casework.Reviewing} {
			if statuses[st] == 0 {
				t.Errorf("no demo bundle part is %s (%v)", st, statuses)
			}
		}
		if _, broken, err := casework.VerifyChains(ctx, db, nil); err != nil || len(broken) > 0 {
			t.Errorf("chains: %v %v", broken, err)
		}
	})
}
