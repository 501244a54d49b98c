package app_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/app"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// zwfw keys rotate: accounts sealed under key 1, key 2 made current,
// rotate, key 1 removed: every value still opens, a second run finds
// nothing to do, and the records still verify.
func TestKeysRotateCommand(t *testing.T) {
	t.Parallel()
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := dsn(t)
			env := withKeys(t, map[string]string{"ZWFW_DATABASE_URL": url})
			oldKeys := env["ZWFW_DATA_KEYS"]
			run := func(stdin string, args ...string) (string, error) {
				var out strings.Builder
				err := app.Run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, io.Discard)
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
			chain, err := chainhash.Parse(env["ZWFW_AUDIT_KEYS"])
			if err != nil {
				t.Fatal(err)
			}
			db.SetChainKeys(chain) // the citizen's account is audited as serve would
			quiet := slog.New(slog.DiscardHandler)
			clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
			if _, err := demo.SeedDistrict(ctx, db, clk); err != nil {
				t.Fatal(err)
			}
			if _, err := run("Chief-Pass-2026x\n", "user", "create", "--username", "admin", "--name", "管理员", "--department", "xzfwzx", "--roles", "admin"); err != nil {
				t.Fatal(err)
			}
			keys := func(enc string) *pii.Keys {
				k, err := pii.ParseKeys(enc, env["ZWFW_INDEX_KEY"])
				if err != nil {
					t.Fatal(err)
				}
				return k
			}
			ids := identity.New(db, identity.Options{Keys: keys(oldKeys), SMS: sms.NewDev(quiet, 0), Clock: clk})
			person, err := ids.PersonAtCounter(ctx, 0, "张三", "11010519491231002X", "13800000001", identity.Meta{IP: "test"})
			if err != nil {
				t.Fatal(err)
			}

			newKey, err := pii.GenerateEncryptionKey()
			if err != nil {
				t.Fatal(err)
			}
			env["ZWFW_DATA_KEYS"] = newKey + "," + oldKeys
			out, err := run("", "keys", "rotate")
			// The staff member's authenticator secret, the citizen's number and mobile.
			if err != nil || !strings.Contains(out, "账户个人信息 3 项，办件申请信息 0 项，评价内容 0 项") {
				t.Fatalf("rotate: %v\n%s", err, out)
			}
			if out, err := run("", "keys", "rotate"); err != nil || !strings.Contains(out, "账户个人信息 0 项") {
				t.Fatalf("a second rotation: %v\n%s", err, out)
			}

			env["ZWFW_DATA_KEYS"] = newKey
			current := keys(newKey)
			rows, err := db.Read().Query(ctx, `SELECT COALESCE(id_number_sealed, ''), COALESCE(mobile_sealed, ''), totp_sealed FROM accounts`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			opened := 0
			for rows.Next() {
				var v [3]string
				if err := rows.Scan(&v[0], &v[1], &v[2]); err != nil {
					t.Fatal(err)
				}
				for i, c := range []string{"accounts.id_number", "accounts.mobile", "accounts.totp"} {
					if v[i] == "" {
						continue
					}
					if _, err := current.Open(v[i], c); err != nil {
						t.Errorf("%s does not open under the new key alone: %v", c, err)
					}
					opened++
				}
			}
			if opened != 3 {
				t.Errorf("%d sealed values", opened)
			}
			if ok, err := identity.New(db, identity.Options{Keys: current, SMS: sms.NewDev(quiet, 0), Clock: clk}).
				MobileMatches(ctx, person, "13800000001"); err != nil || !ok {
				t.Fatalf("the citizen's mobile under the new key alone: %v %v", ok, err)
			}
			if out, err := run("", "audit", "verify"); err != nil || !strings.Contains(out, "全部记录完整") {
				t.Fatalf("verify after rotation: %v\n%s", err, out)
			}
			var n int
			db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'keys_rotate'`).Scan(&n)
			if n != 6 {
				t.Errorf("%d audit entries for two rotations, want 6 (accounts, cases and ratings each)", n)
			}
		})
	}
}
