package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func TestChainAppendSearchVerify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 11, 25, 9, 0, 0, 123456789, time.UTC)
		for i, action := range []string{"signin", "signin_failed", "role_grant", "reveal", "export"} {
			e := audit.Entry{At: at.Add(time.Duration(i) * time.Minute), ActorID: int64(i % 2), Actor: fmt.Sprintf("用户%d", i),
				Action: action, Object: fmt.Sprintf("account:%d", i), Detail: "详情", IP: "127.0.0.1"}
			if err := audit.Record(ctx, db, e); err != nil {
				t.Fatal(err)
			}
		}
		n, broken, err := audit.Verify(ctx, db.Read(), db.ChainKeys())
		if err != nil || n != 5 || len(broken) != 0 {
			t.Fatalf("verify: %d checked, broken %v, %v", n, broken, err)
		}
		got, err := audit.Search(ctx, db.Read(), audit.Filter{Action: "reveal"})
		if err != nil || len(got) != 1 || got[0].Object != "account:3" || !got[0].At.Equal(at.Add(3*time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("search by action: %+v %v", got, err)
		}
		got, _ = audit.Search(ctx, db.Read(), audit.Filter{Text: "用户4"})
		if len(got) != 1 || got[0].Action != "export" {
			t.Fatalf("search by text: %+v", got)
		}
		got, _ = audit.Search(ctx, db.Read(), audit.Filter{Limit: 2})
		if len(got) != 2 || got[0].ID < got[1].ID {
			t.Fatalf("newest first, limited: %+v", got)
		}
		got, _ = audit.Search(ctx, db.Read(), audit.Filter{Before: got[1].ID})
		if len(got) != 3 {
			t.Fatalf("paging back: %d", len(got))
		}

		// Nobody can edit or delete through SQL: the triggers refuse.
		for _, stmt := range []string{`UPDATE audit_log SET actor = 'x' WHERE id = 2`, `DELETE FROM audit_log WHERE id = 2`} {
			err := db.Tx(ctx, func(tx *store.Tx) error { _, err := tx.Exec(ctx, stmt); return err })
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want a refusal", stmt, err)
			}
		}
		// An edit made by someone who first disables the protection is caught.
		storetest.DisableAppendOnly(t, db, "audit_log")
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE audit_log SET detail = '改过' WHERE id = (SELECT MIN(id) + 2 FROM audit_log)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, broken, err = audit.Verify(ctx, db.Read(), db.ChainKeys())
		if err != nil || len(broken) != 1 || !strings.Contains(broken[0].Reason, "被修改") {
			t.Fatalf("tampering not caught: %+v %v", broken, err)
		}
	})
}

// With a chain key, someone who can write to the database but has not the
// key cannot rewrite an entry and recompute its hash: neither as plain
// SHA-256 nor under a key of their own. Entries from before the key
// (unkeyed) still verify.
func TestKeyedChainCannotBeRecomputed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		record := func(i int) {
			t.Helper()
			e := audit.Entry{At: at.Add(time.Duration(i) * time.Minute), Actor: "管理员", Action: "export", Object: fmt.Sprintf("case:%d", i)}
			if err := audit.Record(ctx, db, e); err != nil {
				t.Fatal(err)
			}
		}
		record(0) // written before the key was set
		keys := mustKeys(t)
		db.SetChainKeys(keys)
		for i := 1; i <= 3; i++ {
			record(i)
		}
		if n, broken, err := audit.Verify(ctx, db.Read(), keys); err != nil || n != 4 || len(broken) != 0 {
			t.Fatalf("verify: %d checked, broken %v, %v", n, broken, err)
		}
		storetest.DisableAppendOnly(t, db, "audit_log")
		// Rewrite entry 3 under a key of one's own and entry 4 (the last)
		// as plain SHA-256, each chained to the one before as forged.
		other := mustKeys(t)
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for _, f := range []struct {
				keys *chainhash.Keys
				i    int
			}{{other, 2}, {nil, 3}} {
				var prev string
				if err := tx.QueryRow(ctx, `SELECT hash FROM audit_log WHERE id = ?`, f.i).Scan(&prev); err != nil {
					return err
				}
				hash := f.keys.Sum(prev, at.Add(time.Duration(f.i)*time.Minute).Format(time.RFC3339Nano), "0", "管理员", "export",
					fmt.Sprintf("case:%d", f.i), "改过", "")
				if _, err := tx.Exec(ctx, `UPDATE audit_log SET detail = '改过', prev_hash = ?, hash = ? WHERE id = ?`, prev, hash, f.i+1); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		_, broken, err := audit.Verify(ctx, db.Read(), keys)
		if err != nil || len(broken) != 2 || broken[0].ID != 3 || !strings.Contains(broken[0].Reason, "被修改") ||
			broken[1].ID != 4 || !strings.Contains(broken[1].Reason, "未经完整性密钥签署") {
			t.Fatalf("forged entries: broken %+v, %v", broken, err)
		}
	})
}

func mustKeys(t *testing.T) *chainhash.Keys {
	t.Helper()
	s, err := chainhash.Generate()
	if err != nil {
		t.Fatal(err)
	}
	k, err := chainhash.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A search scoped to a region's subtree returns only that subtree's
// entries, and none without a region (citizens', the system's).
func TestSearchScopedToRegion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		for i, code := range []string{"410411001000", "410411001002", "410411002000", "410411000000", ""} {
			if err := audit.Record(ctx, db, audit.Entry{At: at, Actor: fmt.Sprintf("用户%d", i), Action: "signin", IP: "10.0.0.1", RegionCode: code}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := audit.Search(ctx, db.Read(), audit.Filter{RegionPrefix: "410411001"})
		if err != nil || len(got) != 2 || got[0].RegionCode != "410411001002" || got[1].RegionCode != "410411001000" {
			t.Fatalf("street subtree: %+v %v", got, err)
		}
		if got, _ := audit.Search(ctx, db.Read(), audit.Filter{}); len(got) != 5 {
			t.Fatalf("unscoped: %d entries", len(got))
		}
		// Moving an entry into another region, or out of any, breaks its hash.
		storetest.DisableAppendOnly(t, db, "audit_log")
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE audit_log SET region_code = CASE WHEN region_code = '' THEN '410411001000' ELSE '' END WHERE id IN (1, 5)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, broken, err := audit.Verify(ctx, db.Read(), nil)
		if err != nil || len(broken) != 2 || broken[0].ID != 1 || broken[1].ID != 5 {
			t.Fatalf("regions changed behind the log's back: broken %+v, %v", broken, err)
		}
	})
}

// For a supervisor (Masked) the names of the citizens an entry is by or
// about are masked, in its actor and its detail, and a search by a hidden
// name finds nothing; staff names stay, and administrators see all.
func TestSearchMasksCitizens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		account := func(kind, name string) (id int64) {
			t.Helper()
			username := any(nil)
			if kind == "staff" {
				username = "clerk"
			}
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				var dept any
				if kind == "staff" {
					if _, err := tx.Exec(ctx, `INSERT INTO regions (code, name, level, kind) VALUES ('410411000000', '湛河区', 1, '区')`); err != nil {
						return err
					}
					if err := tx.QueryRow(ctx, `INSERT INTO departments (slug, name, short_name, kind, region_code, created_at, updated_at)
						VALUES ('mzj', '区民政局', '民政局', 'bureau', '410411000000', ?, ?) RETURNING id`, at, at).Scan(&dept); err != nil {
						return err
					}
				}
				return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
					kind, name, username, dept, at, at).Scan(&id)
			}); err != nil {
				t.Fatal(err)
			}
			return id
		}
		citizen, clerk := account("person", "张三丰"), account("staff", "李四")
		for _, e := range []audit.Entry{
			{ActorID: citizen, Actor: "张三丰", Action: "signin", Object: fmt.Sprintf("account:%d", citizen), Detail: "登录（短信）"},
			{ActorID: clerk, Actor: "李四（clerk）", Action: "reveal", Object: fmt.Sprintf("account:%d", citizen), Detail: "查看完整身份证号码，事由：核对张三丰身份"},
			{ActorID: clerk, Actor: "李四（clerk）", Action: "export", Object: "item:1", Detail: "导出事项目录"},
		} {
			e.At, e.IP, e.RegionCode = at, "10.0.0.9", "410411000000"
			if err := audit.Record(ctx, db, e); err != nil {
				t.Fatal(err)
			}
		}
		show := func(f audit.Filter) string {
			t.Helper()
			got, err := audit.Search(ctx, db.Read(), f)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, e := range got {
				fmt.Fprintf(&b, "%s|%s|%s\n", e.Actor, e.Detail, e.IP)
			}
			return b.String()
		}
		masked := show(audit.Filter{Masked: true})
		want := "李四（clerk）|导出事项目录|\n李四（clerk）|查看完整身份证号码，事由：核对张**身份|\n张**|登录（短信）|\n"
		if masked != want {
			t.Errorf("masked:\n%s want\n%s", masked, want)
		}
		if full := show(audit.Filter{}); !strings.Contains(full, "张三丰|登录") || !strings.Contains(full, "核对张三丰身份|10.0.0.9") {
			t.Errorf("unmasked:\n%s", full)
		}
		if got := show(audit.Filter{Masked: true, Text: "三丰"}); got != "" {
			t.Errorf("a search by a hidden name found:\n%s", got)
		}
		if got := show(audit.Filter{Masked: true, Text: "李四"}); strings.Count(got, "\n") != 2 {
			t.Errorf("a search by a staff name:\n%s", got)
		}
		// Paging: what a hidden name matched is skipped, and the page is
		// filled from older entries.
		if got := show(audit.Filter{Masked: true, Text: "身份", Limit: 1}); got != "李四（clerk）|查看完整身份证号码，事由：核对张**身份|\n" {
			t.Errorf("limited: %s", got)
		}
	})
}
