package app_test

import (
	"context"
	"io"
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

func TestUserCommands(t *testing.T) {
	t.Parallel()
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := dsn(t)
			env := withKeys(t, map[string]string{"ZWFW_DATABASE_URL": url})
			getenv := func(k string) string { return env[k] }
			runIn := func(stdin string, args ...string) (string, error) {
				var out strings.Builder
				err := app.Run(ctx, args, getenv, strings.NewReader(stdin), &out, io.Discard)
				return out.String(), err
			}
			if _, err := runIn("", "migrate"); err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(ctx, url, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := demo.SeedDistrict(ctx, db, clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))); err != nil {
				t.Fatal(err)
			}
			create := []string{"user", "create", "--username", "admin", "--name", "管理员", "--department", "xzfwzx", "--roles", "admin,supervisor"}
			if _, err := runIn("", create...); err == nil || app.ExitCode(err) != 2 {
				t.Fatalf("no password on stdin: %v", err)
			}
			if _, err := runIn("short\n", create...); err == nil || !strings.Contains(err.Error(), "密码") {
				t.Fatalf("weak password: %v", err)
			}
			out, err := runIn("Chief-Pass-2026x\n", create...)
			if err != nil || !strings.Contains(out, "otpauth://totp/") || !strings.Contains(out, "已开设工作人员账户 admin") {
				t.Fatalf("create: %v\n%s", err, out)
			}
			if _, err := runIn("Chief-Pass-2026x\n", create...); err == nil || !strings.Contains(err.Error(), "已被使用") {
				t.Fatalf("duplicate: %v", err)
			}
			if _, err := runIn("Chief-Pass-2026x\n", "user", "create", "--username", "x1", "--name", "某某", "--department", "xzfwzx", "--roles", "king"); app.ExitCode(err) != 2 {
				t.Fatalf("bad role: %v", err)
			}
			out, err = runIn("Another-Pass-2026\n", "user", "reset-password", "--username", "admin")
			if err != nil || !strings.Contains(out, "已重置") {
				t.Fatalf("reset: %v %s", err, out)
			}
			if _, err := runIn("Another-Pass-2026\n", "user", "reset-password", "--username", "nobody"); err == nil {
				t.Fatal("reset of an unknown user succeeded")
			}
			var n int
			// The command line is named as itself, not as an anonymous actor.
			db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('staff_create', 'password_reset')
				AND actor LIKE '命令行%' AND ip = 'cli' AND actor_id IS NULL`).Scan(&n)
			if n != 2 {
				t.Fatalf("%d audit entries by the command line for create and reset, want 2", n)
			}
			out, err = runIn("", "keys")
			if err != nil || !strings.Contains(out, "ZWFW_DATA_KEYS=") || !strings.Contains(out, "ZWFW_INDEX_KEY=") || !strings.Contains(out, "ZWFW_AUDIT_KEYS=") {
				t.Fatalf("keys: %v %s", err, out)
			}
		})
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := storetest.SQLiteURL(t)
	env := withKeys(t, map[string]string{"ZWFW_DATABASE_URL": url})
	getenv := func(k string) string { return env[k] }
	run := func(stdin string, args ...string) (string, error) {
		var out strings.Builder
		err := app.Run(ctx, args, getenv, strings.NewReader(stdin), &out, io.Discard)
		return out.String(), err
	}
	if _, err := run("", "migrate"); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := demo.SeedDistrict(ctx, db, clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"a.one", "b.two"} {
		if _, err := run("Chief-Pass-2026x\n", "user", "create", "--username", u, "--name", "某某", "--department", "xzfwzx", "--roles", "window"); err != nil {
			t.Fatal(err)
		}
	}
	checkpoint := filepath.Join(t.TempDir(), "checkpoint.json")
	out, err := run("", "audit", "verify", "--checkpoint", checkpoint)
	if err != nil || !strings.Contains(out, "全部记录完整") || !strings.Contains(out, "已更新检查点") {
		t.Fatalf("clean log: %v\n%s", err, out)
	}
	// The last entry deleted leaves an intact chain; the checkpoint shows it.
	storetest.DisableAppendOnly(t, db, "audit_log")
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	out, err = run("", "audit", "verify", "--checkpoint", checkpoint)
	if err == nil || !strings.Contains(out, "已不存在：记录被删除") {
		t.Fatalf("deleted last entry not caught: %v\n%s", err, out)
	}
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE audit_log SET actor = '别人' WHERE id = (SELECT MIN(id) FROM audit_log)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	out, err = run("", "audit", "verify")
	if err == nil || !strings.Contains(out, "被修改") {
		t.Fatalf("tampered log not caught: %v\n%s", err, out)
	}
}

// The README's first deployment, from an empty database: migrate, import
// the district's regions and departments, open the first administrator.
func TestFirstDeployment(t *testing.T) {
	t.Parallel()
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			env := withKeys(t, map[string]string{"ZWFW_DATABASE_URL": dsn(t)})
			getenv := func(k string) string { return env[k] }
			run := func(stdin string, args ...string) (string, error) {
				var out strings.Builder
				err := app.Run(ctx, args, getenv, strings.NewReader(stdin), &out, io.Discard)
				return out.String(), err
			}
			if _, err := run("", "migrate"); err != nil {
				t.Fatal(err)
			}
			create := []string{"user", "create", "--username", "admin", "--name", "管理员", "--department", "xzfwzx", "--roles", "admin"}
			if _, err := run("Chief-Pass-2026x\n", create...); err == nil || !strings.Contains(err.Error(), "xzfwzx") {
				t.Fatalf("user create before the import: %v", err)
			}
			file := "../demo/data/zhanhe.json"
			out, err := run("", "region", "import", file)
			if err != nil || !strings.Contains(out, "已导入区划") {
				t.Fatalf("region import: %v\n%s", err, out)
			}
			if _, err := run("", "region", "import", file); err == nil || !strings.Contains(err.Error(), "已有区划") {
				t.Fatalf("a second import: %v", err)
			}
			out, err = run("Chief-Pass-2026x\n", create...)
			if err != nil || !strings.Contains(out, "已开设工作人员账户 admin") {
				t.Fatalf("user create after the import: %v\n%s", err, out)
			}
			out, err = run("", "audit", "verify")
			if err != nil || !strings.Contains(out, "全部记录完整") {
				t.Fatalf("audit: %v\n%s", err, out)
			}
		})
	}
}
