package app_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/app"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func run(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut strings.Builder
	err := app.Run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestCatalogCommands(t *testing.T) {
	t.Parallel()
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url := dsn(t)
			env := map[string]string{"ZWFW_DATABASE_URL": url}
			if _, _, err := run(t, env, "migrate"); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			db, err := store.Open(ctx, url, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			sum, err := demo.Seed(ctx, db, clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China)))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			versions := func() int {
				var n int
				db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM item_versions`).Scan(&n)
				return n
			}

			// Export in each format; the positional file may come before or after the flags.
			for _, f := range []string{"catalog.json", "catalog.csv", "catalog.xlsx"} {
				out, _, err := run(t, nil, "catalog", "export", filepath.Join(dir, f), "--db", url)
				if err != nil || !strings.Contains(out, "已导出") {
					t.Fatalf("export %s: %v %s", f, err, out)
				}
			}
			// Importing the export back makes one new version of every item.
			before := versions()
			out, progress, err := run(t, env, "catalog", "import", filepath.Join(dir, "catalog.xlsx"))
			if err != nil || !strings.Contains(out, "更新") {
				t.Fatalf("import: %v\n%s", err, out)
			}
			if !strings.Contains(progress, "100%") || !strings.Contains(progress, "[###") {
				t.Errorf("no progress bar on stderr: %q", progress)
			}
			if after := versions(); after != before+sum.Items {
				t.Fatalf("versions %d → %d, want +%d", before, after, sum.Items)
			}

			// A file with one bad row changes nothing and names the row.
			raw, err := os.ReadFile(filepath.Join(dir, "catalog.json"))
			if err != nil {
				t.Fatal(err)
			}
			var file map[string]any
			if err := json.Unmarshal(raw, &file); err != nil {
				t.Fatal(err)
			}
			items := file["items"].([]any)
			items[2].(map[string]any)["complaint_phone"] = items[2].(map[string]any)["consult_phone"]
			bad, _ := json.Marshal(file)
			badPath := filepath.Join(dir, "bad.json")
			os.WriteFile(badPath, bad, 0o644)
			before = versions()
			_, report, err := run(t, env, "catalog", "import", badPath)
			if err == nil || !strings.Contains(err.Error(), "未作任何更改") || !strings.Contains(report, "第3条记录 监督投诉电话") || !strings.Contains(report, "监督投诉电话") {
				t.Fatalf("bad import: %v\n%s", err, report)
			}
			if after := versions(); after != before {
				t.Fatalf("a refused import changed the catalog: %d → %d versions", before, after)
			}

			out, _, err = run(t, env, "catalog", "check")
			if err != nil || !strings.Contains(out, "共 0 项事项未通过质量检查") {
				t.Fatalf("check: %v\n%s", err, out)
			}
			if _, _, err := run(t, env, "catalog", "import", filepath.Join(dir, "catalog.txt")); err == nil || app.ExitCode(err) != 2 {
				t.Fatalf("unknown format: %v", err)
			}
			if _, _, err := run(t, env, "catalog", "import"); err == nil || app.ExitCode(err) != 2 {
				t.Fatalf("missing file argument: %v", err)
			}
		})
	}
}
