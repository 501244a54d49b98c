package demo_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

// seedDemo makes the demo district and its catalog, which most tests here
// start from: once per database kind (storetest.EachSeeded), on the
// morning of 25 November 2026, before any of the tests' own clocks.
func seedDemo(ctx context.Context, db *store.DB) error {
	_, err := demo.Seed(ctx, db, clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China)))
	return err
}

// casesNow is when the district with cases is seeded (seedDemoWithCases).
var casesNow = time.Date(2026, 11, 25, 10, 0, 0, 0, clock.China)

// seededCases is how many cases seedDemoWithCases makes.
const seededCases = 400

// demoKeys are the personal-data keys the district with cases is sealed
// with; the tests that start from it read and add with them.
var demoKeys = sync.OnceValues(func() (*pii.Keys, error) {
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		return nil, err
	}
	return pii.ParseKeys(enc, idx)
})

// testKeys is demoKeys for a test.
func testKeys(t *testing.T) *pii.Keys {
	t.Helper()
	keys, err := demoKeys()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// demoIdentity is the identity service on db with demoKeys and clk, its
// messages kept, not sent.
func demoIdentity(db *store.DB, keys *pii.Keys, clk clock.Clock) *identity.Service {
	return identity.New(db, identity.Options{Keys: keys, SMS: sms.NewDev(slog.New(slog.DiscardHandler), 10), Clock: clk})
}

// seedDemoWithCases is seedDemo, then the demo's staff and its cases made
// through the workflow over the weeks before casesNow, each finished case
// inviting its rating as app.Build wires it: what
// TestSeedCasesCoverEveryState checks and TestSeedBoardsAndSurvey builds
// on, seeded once per database kind for both. The materials' files are
// not kept: no test reads them.
func seedDemoWithCases(ctx context.Context, db *store.DB) error {
	if err := seedDemo(ctx, db); err != nil {
		return err
	}
	keys, err := demoKeys()
	if err != nil {
		return err
	}
	ids := demoIdentity(db, keys, clock.NewManual(casesNow))
	if _, err := demo.SeedStaff(ctx, db, ids); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "zwfw-demo-files-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	files, err := filestore.NewLocal(dir)
	if err != nil {
		return err
	}
	// The cases are made on a clock of their own, which SeedCases moves.
	past, cal := clock.NewManual(casesNow), calendar.New(nil)
	seeder := casework.New(db, catalog.NewStore(db, region.NewStore(db), past), past, cal)
	seeder.UseKeys(keys)
	ratings := rating.New(db, catalog.NewStore(db, region.NewStore(db), past), past, cal, rating.Options{Keys: keys})
	seeder.OnFinished(ratings.InviteCase) // as app.Build wires it
	made, err := demo.SeedCases(ctx, db, ids, seeder, past, cal, files, seededCases)
	if err == nil && made != seededCases {
		err = fmt.Errorf("made %d of %d cases", made, seededCases)
	}
	return err
}
