package backup_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/app"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// zwfw backup and zwfw restore as an operator runs them: no keys in the
// archive unless --with-keys, the restored database passes zwfw audit
// verify, a second restore onto it is refused without --force.
func TestCommands(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	db := storetest.SQLite(t)
	var seq int
	var name, dsn string
	if err := db.Read().QueryRow(ctx, `PRAGMA database_list`).Scan(&seq, &name, &dsn); err != nil {
		t.Fatal(err)
	}
	chain, _ := chainhash.Parse(chainKey)
	db.SetChainKeys(chain)
	for i := range 3 {
		if err := audit.Record(ctx, db, audit.Entry{At: time.Now(), Actor: "命令行", Action: "config", Detail: strings.Repeat("设", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filestore.NewLocal(filepath.Join(data, "files"))
	if _, err := files.Put(ctx, strings.NewReader("%PDF-1.7 命令行"), 1<<20); err != nil {
		t.Fatal(err)
	}
	enc, idx, _ := pii.GenerateKeys()
	env := map[string]string{"ZWFW_AUDIT_KEYS": chainKey}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := app.Run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &out)
		return out.String(), err
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.tar")
	if out, err := run("backup", "--db", dsn, "--data", data, plain); err != nil || !strings.Contains(out, "不含密钥") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if out, err := run("backup", "--db", dsn, "--data", data, "--with-keys", filepath.Join(dir, "nokeys.tar")); err == nil || !strings.Contains(err.Error(), "未配置密钥") {
		t.Errorf("--with-keys without keys: %v\n%s", err, out)
	}
	env["ZWFW_DATA_KEYS"], env["ZWFW_INDEX_KEY"] = enc, idx
	withKeys := filepath.Join(dir, "keys.tar")
	if out, err := run("backup", "--db", dsn, "--data", data, "--with-keys", withKeys); err != nil || !strings.Contains(out, "含密钥") {
		t.Fatalf("backup --with-keys: %v\n%s", err, out)
	}
	if has := members(t, plain); has["keys.json"] || !has["manifest.json"] || !has["database/zwfw.db"] {
		t.Errorf("the plain backup holds %v", has)
	}
	if has := members(t, withKeys); !has["keys.json"] {
		t.Errorf("the backup --with-keys holds %v", has)
	}

	// Restore into a new data folder, then zwfw audit verify on it.
	to := t.TempDir()
	restored := filepath.Join(to, "zwfw.db")
	out, err := run("restore", "--db", restored, "--data", to, plain)
	if err != nil || !strings.Contains(out, "全部记录完整") || !strings.Contains(out, "文件 1 个") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if out, err := run("audit", "verify", "--db", restored); err != nil || !strings.Contains(out, "已核对审计日志 3 条") {
		t.Errorf("audit verify after restore: %v\n%s", err, out)
	}
	if _, err := run("restore", "--db", restored, "--data", to, plain); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("a second restore: %v", err)
	}
	// With its keys: they go to the data folder's keys.json.
	if out, err := run("restore", "--db", restored, "--data", to, "--force", withKeys); err != nil || !strings.Contains(out, "keys.json") {
		t.Fatalf("restore --force of a backup with keys: %v\n%s", err, out)
	}
	var k struct {
		DataKeys string `json:"data_keys"`
	}
	if b, err := os.ReadFile(filepath.Join(to, "keys.json")); err != nil || json.Unmarshal(b, &k) != nil || k.DataKeys != enc {
		t.Errorf("keys.json after restore: %v", err)
	}
}

func members(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	has := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return has
		}
		if err != nil {
			t.Fatal(err)
		}
		has[h.Name] = true
	}
}
