package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/app"
)

// zwfw generate fills the demo's data folder; with its keys, audit verify
// finds every record whole, after a second run on the same database too.
func TestGenerateCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	run := func(env map[string]string, args ...string) (string, error) {
		var out strings.Builder
		err := app.Run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, io.Discard)
		return out.String(), err
	}
	if out, err := run(nil, "generate", "--data", dir, "--cases", "300", "--seed", "3"); err != nil || !strings.Contains(out, "已生成 300 件办件") {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		DataKeys  string `json:"data_keys"`
		IndexKey  string `json:"index_key"`
		AuditKeys string `json:"audit_keys"`
	}
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ZWFW_DATABASE_URL": filepath.Join(dir, "zwfw.db"), "ZWFW_DATA_DIR": dir,
		"ZWFW_DATA_KEYS": k.DataKeys, "ZWFW_INDEX_KEY": k.IndexKey, "ZWFW_AUDIT_KEYS": k.AuditKeys}
	if out, err := run(env, "audit", "verify"); err != nil || !strings.Contains(out, "办件 300 件") || !strings.Contains(out, "全部记录完整") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	if out, err := run(env, "generate", "--cases", "100", "--seed", "4"); err != nil {
		t.Fatalf("a second run on the same database: %v\n%s", err, out)
	}
	if out, err := run(env, "audit", "verify"); err != nil || !strings.Contains(out, "办件 400 件") {
		t.Fatalf("audit verify after a second run: %v\n%s", err, out)
	}
	// generate counted its cases into the statistics; a recount finds the
	// same (the drafts, a twentieth of the mix, count nothing).
	out, err := run(env, "stats", "recount")
	if err != nil || !strings.Contains(out, "已重新统计") {
		t.Fatalf("stats recount: %v\n%s", err, out)
	}
	var after, before int
	if _, err := fmt.Sscanf(out, "已重新统计：计入办件 %d 件（此前统计数为 %d 件）", &after, &before); err != nil || after != before || after == 0 || after >= 400 {
		t.Fatalf("stats recount: %d after, %d before (%v)\n%s", after, before, err, out)
	}
}
