package app_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/app"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/usage"
)

// A server counts each module's use in memory and saves the counts when
// it stops (and every minute before): the pages a visitor opened are in
// today's module_uses once it has shut down, on both databases (the
// demo's own usage is of the days before).
func TestModuleUsesSavedOnShutdown(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			demo := copyDemo(t, name)
			db := demo.DSN
			s := start(t, nil, demo.Args...)
			today := usage.Day(time.Now())
			for _, path := range []string{"/", "/items", "/search?q=社保", "/no/such/page"} {
				req, _ := http.NewRequest("GET", s.URL+path, nil)
				req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			s.stop()
			select {
			case err := <-s.done:
				if err != nil {
					t.Fatalf("zwfw stopped with error: %v", err)
				}
				s.done <- nil // for start's clean-up
			case <-time.After(30 * time.Second):
				t.Fatal("zwfw did not stop within 30s")
			}
			conn, err := store.Open(context.Background(), db, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			got := map[string]int64{}
			rows, err := conn.Read().Query(context.Background(), `SELECT module, uses FROM module_uses WHERE day = ?`, today)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var m string
				var n int64
				rows.Scan(&m, &n)
				got[m] = n
			}
			rows.Close()
			var before int64
			if err := conn.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM module_uses WHERE day < ?`, today).Scan(&before); err != nil || before == 0 {
				t.Errorf("the demo's usage of the days before: %d rows, %v", before, err)
			}
			if got["portal"] != 1 || got["guides"] != 1 || got["search"] != 1 || got["mobile"] != 3 || len(got) != 4 {
				t.Errorf("module uses after shutdown: %v, want portal, guides and search once, mobile 3 times", got)
			}
		})
	}
}

// An indicator system file that does not add up is refused with the
// setting's name and the reason, before anything is done.
func TestBadEvaluationFileIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "zwfw.db")
	noEnv := func(string) string { return "" }
	if err := app.Run(context.Background(), []string{"migrate", "--db", db}, noEnv, strings.NewReader(""), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "indicators.json")
	os.WriteFile(bad, []byte(`{"name": "测试", "bands": [{"grade": "合格", "min": 0}],
		"indicators": [{"code": "A", "name": "产出", "weight": 90, "source": "hand", "rule": {"kind": "score"}}]}`), 0o600)
	var out strings.Builder
	err := app.Run(context.Background(), []string{"evidence", "export", "--period", "2026", "--out", filepath.Join(dir, "pack"), "--db", db,
		"--audit-keys", "k1:" + strings.Repeat("A", 43) + "=", "--evaluation-file", bad}, noEnv, strings.NewReader(""), &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ZWFW_EVALUATION_FILE") || !strings.Contains(err.Error(), "应为 100") {
		t.Errorf("a system of 90 points: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pack")); !os.IsNotExist(err) {
		t.Errorf("the refused export made its folder: %v", err)
	}
}
