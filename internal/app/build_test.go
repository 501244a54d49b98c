package app_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/app"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/config"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// A command's graph is the server's domain on the caller's clock: its case
// service counts with the local days (the commands' own case service used
// to count on the national calendar alone), and it has no queue, files or
// handlers, so a command sends nothing.
func TestBuildGivesCommandsTheLocalDaysAndTheirClock(t *testing.T) {
	t.Parallel()
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := dsn(t)
			getenv := func(k string) string { return map[string]string{"ZWFW_DATABASE_URL": url}[k] }
			if err := app.Run(ctx, []string{"migrate"}, getenv, strings.NewReader(""), io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 12, 3, 9, 0, 0, 0, clock.China)
			db, err := store.Open(ctx, url, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// Monday 7 December 2026 is a working day nationally; the district rests.
			err = db.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO calendar_days (day, workday, label, changed_at) VALUES (?, ?, ?, ?)`, "2026-12-07", false, "区庆", now)
				return err
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			monday := calendar.NewDate(2026, 12, 7)
			if !calendar.New(nil).IsWorkday(monday) {
				t.Fatal("the test needs a national working day")
			}

			clk := clock.NewManual(now)
			g, err := app.Build(ctx, config.Config{DatabaseURL: url}, app.Options{Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if g.Calendar.IsWorkday(monday) {
				t.Error("a command's calendar ignores the local days")
			}
			if g.Clock != clock.Clock(clk) || g.Cases == nil || g.Identity == nil || g.Catalog == nil {
				t.Errorf("graph: clock %v, cases %v, identity %v, catalog %v", g.Clock, g.Cases, g.Identity, g.Catalog)
			}
			if g.Queue != nil || g.Files != nil || g.Handler != nil || g.Searcher != nil {
				t.Error("a command's graph has a server's parts")
			}
		})
	}
}
