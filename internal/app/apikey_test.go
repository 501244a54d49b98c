package app_test

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/app"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// zwfw apikey create, list and revoke, audited as the command line.
func TestAPIKeyCommands(t *testing.T) {
	t.Parallel()
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := dsn(t)
			env := withKeys(t, map[string]string{"ZWFW_DATABASE_URL": url})
			runIn := func(env map[string]string, args ...string) (string, error) {
				var out strings.Builder
				err := app.Run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, io.Discard)
				return out.String(), err
			}
			if _, err := runIn(env, "migrate"); err != nil {
				t.Fatal(err)
			}
			if _, err := runIn(env, "apikey", "create", "--name", "热线", "--client", "12345"); app.ExitCode(err) != 2 {
				t.Fatalf("without a scope: %v", err)
			}
			if _, err := runIn(env, "apikey", "create", "--name", "热线", "--client", "12345", "--scope", "open311,everything"); err == nil ||
				!strings.Contains(err.Error(), `"everything" 无效`) {
				t.Fatalf("unknown scope: %v", err)
			}
			noAudit := map[string]string{"ZWFW_DATABASE_URL": url}
			if _, err := runIn(noAudit, "apikey", "create", "--name", "热线", "--client", "12345", "--scope", "open311"); app.ExitCode(err) != 2 {
				t.Fatalf("without the audit keys: %v", err)
			}
			out, err := runIn(env, "apikey", "create", "--name", "12345 热线接口", "--client", "市 12345 热线", "--scope", "open311")
			if err != nil {
				t.Fatalf("create: %v\n%s", err, out)
			}
			raw := regexp.MustCompile(`(?m)^zk_[a-z2-7_]+$`).FindString(out)
			if raw == "" || !strings.Contains(out, "只显示这一次") {
				t.Fatalf("create printed no key:\n%s", out)
			}

			db, err := store.Open(ctx, url, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			keys := apikey.NewService(db, clock.System{})
			if _, err := keys.Authenticate(ctx, raw, policy.ScopeOpen311); err != nil {
				t.Fatalf("the printed key does not work: %v", err)
			}
			// The client defaults to the name.
			out, err = runIn(env, "apikey", "create", "--name", "随手拍", "--scope", "open311")
			if err != nil || !strings.Contains(out, "（随手拍，随手拍，权限 open311）") {
				t.Fatalf("create without --client: %v\n%s", err, out)
			}
			out, err = runIn(env, "apikey", "list")
			if err != nil || !strings.Contains(out, raw[:13]) || strings.Contains(out, raw) || !strings.Contains(out, "使用中") || !strings.Contains(out, "共 2 个") {
				t.Fatalf("list: %v\n%s", err, out)
			}
			out, err = runIn(env, "apikey", "revoke", raw[:13])
			if err != nil || !strings.Contains(out, "已停用接口密钥") {
				t.Fatalf("revoke: %v\n%s", err, out)
			}
			if _, err := keys.Authenticate(ctx, raw, policy.ScopeOpen311); err != apikey.ErrBadKey {
				t.Fatalf("revoked key: %v", err)
			}
			if _, err := runIn(env, "apikey", "revoke", "99"); err == nil {
				t.Fatal("revoked an unknown key")
			}
			var n int
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('api_key_create', 'api_key_revoke')
				AND actor LIKE '命令行%' AND ip = 'cli' AND actor_id IS NULL`).Scan(&n); err != nil || n != 3 {
				t.Fatalf("%d audit entries by the command line for two creates and a revoke, want 3 (%v)", n, err)
			}
		})
	}
}
