package demo_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
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
