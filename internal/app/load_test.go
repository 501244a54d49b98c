package app_test

import (
	"context"
	"database/sql"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/loadgen"
	"github.com/zwfw/zwfw/internal/store"
)

// TestSubmissionLoad is the submission benchmark of docs/PERFORMANCE.md:
// the real binary serves, this process submits (form + two materials per
// request) with many callers for a while, then measures the database's raw
// single-row durable insert rate on the same database in the same run. It
// runs only when asked, being a measurement rather than a check:
//
//	ZWFW_LOAD=1 [ZWFW_LOAD_POSTGRES=postgres://…] go test -run TestSubmissionLoad -v ./internal/app/
//
// ZWFW_LOAD_POSTGRES should name a server with fsync on (tools/load.sh
// starts one), an empty database the demo may fill.
func TestSubmissionLoad(t *testing.T) {
	if os.Getenv("ZWFW_LOAD") == "" {
		t.Skip("a load run: set ZWFW_LOAD=1 (docs/PERFORMANCE.md)")
	}
	seconds, _ := strconv.Atoi(os.Getenv("ZWFW_LOAD_SECONDS"))
	if seconds == 0 {
		seconds = 10
	}
	concurrency, _ := strconv.Atoi(os.Getenv("ZWFW_LOAD_CONCURRENCY"))
	if concurrency == 0 {
		concurrency = 32
	}
	targets := map[string]string{"sqlite": ""}
	if pg := os.Getenv("ZWFW_LOAD_POSTGRES"); pg != "" {
		targets["postgres"] = pg
	}
	for name, dsn := range targets {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"demo", "--data", dir, "--addr", "127.0.0.1:0", "--log-level", "warn"}
			if dsn != "" {
				dsn = freshDatabase(t, dsn)
				args = append(args, "--db", dsn)
			} else {
				dsn = filepath.Join(dir, "zwfw.db")
			}
			p := startProcess(t, []string{"ZWFW_DEMO_CASES=0"}, args...)
			ctx := context.Background()
			c := loadgen.NewClient(p.URL, concurrency)
			applicants, target := submitters(t, c, 8)
			// A short warm-up fills connection pools and caches.
			c.Run(ctx, applicants, target, loadgen.Options{Concurrency: concurrency, Duration: time.Second, FileSize: 8 << 10})
			res := c.Run(ctx, applicants, target, loadgen.Options{Concurrency: concurrency, Duration: time.Duration(seconds) * time.Second, FileSize: 8 << 10})
			if res.Failed > 0 {
				t.Errorf("%d submissions failed; first: %v", res.Failed, res.FirstErr)
			}
			db, err := store.Open(ctx, dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			serial, err := loadgen.RawInsertRate(ctx, db, 1, 3*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			parallel, err := loadgen.RawInsertRate(ctx, db, concurrency, 3*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d submissions in %.1fs = %.0f/s with %d callers; latency p50 %v p90 %v p99 %v max %v",
				name, res.Submitted, res.Elapsed.Seconds(), res.PerSecond(), concurrency,
				res.Percentile(50).Round(time.Microsecond*100), res.Percentile(90).Round(time.Microsecond*100),
				res.Percentile(99).Round(time.Microsecond*100), res.Percentile(100).Round(time.Millisecond))
			t.Logf("%s: raw single-row durable inserts %.0f/s serial, %.0f/s with %d callers; submissions are %.0f%% of the serial rate, %.0f%% of the parallel",
				name, serial, parallel, concurrency, 100*res.PerSecond()/serial, 100*res.PerSecond()/parallel)
		})
	}
}

// freshDatabase creates an empty database on the server at url for one
// run, dropped afterwards, and returns its URL.
func freshDatabase(t *testing.T, url string) string {
	t.Helper()
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("zwfw_load_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if admin, err := sql.Open("pgx", url); err == nil {
			admin.Exec("DROP DATABASE " + name + " WITH (FORCE)")
			admin.Close()
		}
	})
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
