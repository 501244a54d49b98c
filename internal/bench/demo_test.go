package bench_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/app"
	"github.com/zwfw/zwfw/internal/bench"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// TestBenchAgainstDemo runs `zwfw bench` for a few seconds at a low rate
// against a real demo (in this process, on SQLite and, when
// ZWFW_TEST_POSTGRES is set, PostgreSQL): every operation of the mix is
// done and answered without error, the percentiles are in order and
// within the run, and the rate is held (as many requests as rate ×
// duration, sent on schedule).
func TestBenchAgainstDemo(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			var dbArgs []string
			if db == "postgres" {
				if os.Getenv(storetest.PostgresEnv) == "" {
					t.Skip(storetest.PostgresEnv + " is not set")
				}
				dbArgs = []string{"--db", storetest.PostgresURL(t)}
			}
			url := startDemo(t, dbArgs...)
			const rate, seconds = 20, 4
			var out, progress bytes.Buffer
			err := app.Run(context.Background(), []string{"bench", "--url", url, "--rate", "20", "--duration", "4s", "--applicants", "3",
				"--file-size", "4096", "--mix", bench.DefaultMix + ",queue=5", "--json"}, noEnv, nil, &out, &progress)
			if err != nil {
				t.Fatalf("zwfw bench: %v\n%s", err, progress.String())
			}
			var res bench.Result
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("the JSON report: %v\n%s", err, out.String())
			}
			if res.Issued != rate*seconds {
				t.Errorf("issued %d operations, want %d (%d/s for %d s)", res.Issued, rate*seconds, rate, seconds)
			}
			if res.IssueSpan > seconds*time.Second+time.Second {
				t.Errorf("issuing took %v for a %d s schedule", res.IssueSpan, seconds)
			}
			if res.Errors != 0 {
				t.Errorf("%d errors:\n%s", res.Errors, out.String())
			}
			answered := 0
			for _, op := range []bench.Op{bench.Guide, bench.Search, bench.Apply, bench.Staff, bench.Queue, bench.MyCase, bench.Lookup, bench.Baseline} {
				s := res.Op(op)
				if s == nil || s.Count == 0 {
					t.Errorf("%s: not done (%+v)", op, s)
					continue
				}
				if op != bench.Baseline {
					answered += s.Count + s.Errors
					if s.RatioP50 <= 0 || s.RatioP99 <= 0 {
						t.Errorf("%s: no ratio to the baseline (%v, %v)", op, s.RatioP50, s.RatioP99)
					}
				}
				if s.P50 <= 0 || s.P50 > s.P90 || s.P90 > s.P99 || s.P99 > s.Max || s.Max > res.Elapsed {
					t.Errorf("%s: p50 %v p90 %v p99 %v max %v (run %v): not in order", op, s.P50, s.P90, s.P99, s.Max, res.Elapsed)
				}
			}
			if answered != res.Issued {
				t.Errorf("%d operations answered or failed, %d issued", answered, res.Issued)
			}
			if b := res.Op(bench.Baseline); b != nil && b.Count != 5*seconds {
				t.Errorf("%d baseline requests, want %d (5/s)", b.Count, 5*seconds)
			}
		})
	}
}

var started = regexp.MustCompile(`已启动：(http://\S+)`)

func noEnv(string) string { return "" }

// startDemo runs `zwfw demo` in this process, without the generated
// cases, until the test ends, and returns its address.
func startDemo(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		env := func(k string) string {
			if k == "ZWFW_DEMO_CASES" {
				return "0"
			}
			return ""
		}
		done <- app.Run(ctx, append([]string{"demo", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "error"}, args...), env, nil, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("zwfw demo: %v", err)
		}
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := started.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case u := <-urls:
		return u
	case err := <-done:
		done <- err
		t.Fatalf("zwfw demo stopped before listening: %v", err)
	case <-time.After(90 * time.Second):
		t.Fatal("zwfw demo did not start within 90 s")
	}
	return ""
}
