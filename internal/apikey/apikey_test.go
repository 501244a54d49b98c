package apikey_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

var (
	now   = time.Date(2026, 12, 7, 9, 0, 0, 0, clock.China)
	admin = policy.Subject{Kind: policy.Staff, Name: "命令行开设密钥（系统用户 root）", Roles: []policy.Role{policy.Admin}}
	meta  = audit.Meta{IP: "cli", Client: "zwfw"}
	shape = regexp.MustCompile(`^zk_[a-z2-7]{10}_[a-z2-7]{52}$`)
)

func entries(t *testing.T, db *store.DB) []audit.Entry {
	t.Helper()
	e, err := audit.Search(context.Background(), db.Read(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// rows is every stored column of every key, as text: what someone who
// reads the database sees.
func rows(t *testing.T, db *store.DB) string {
	t.Helper()
	r, err := db.Read().Query(context.Background(), `SELECT id, name, client, prefix, key_hash, scopes, created_by, created_at FROM api_keys ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var b strings.Builder
	for r.Next() {
		var id int64
		var name, client, prefix, hash, scopes, by string
		var at time.Time
		if err := r.Scan(&id, &name, &client, &prefix, &hash, &scopes, &by, &at); err != nil {
			t.Fatal(err)
		}
		b.WriteString(strings.Join([]string{name, client, prefix, hash, scopes, by, at.String()}, "|") + "\n")
	}
	return b.String()
}

func TestCreateAuthenticateRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(now)
		keys := apikey.NewService(db, clk)

		k, raw, err := keys.Create(ctx, admin, meta, apikey.New{Name: " 12345 热线 Open311 接口 ", Client: "市 12345 热线", Scopes: []string{"OPEN311", "open311"}})
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(raw) || !strings.HasPrefix(raw, k.Prefix+"_") {
			t.Fatalf("key %q (prefix %q) has not the documented shape", raw, k.Prefix)
		}
		if k.Name != "12345 热线 Open311 接口" || strings.Join(k.Scopes, ",") != "open311" || k.CreatedBy != admin.Name || !k.CreatedAt.Equal(now) {
			t.Fatalf("created %+v", k)
		}
		// Only the hash is kept: the secret is nowhere in the table or the log.
		sum := sha256.Sum256([]byte(raw))
		stored := rows(t, db)
		if strings.Contains(stored, raw[len(k.Prefix):]) || !strings.Contains(stored, hex.EncodeToString(sum[:])) {
			t.Fatalf("stored row %q: want the key's SHA-256 and not its secret", stored)
		}
		log := entries(t, db)
		if len(log) != 1 || log[0].Action != apikey.ActionCreate || log[0].Object != fmt.Sprintf("api_key:%d", k.ID) ||
			!strings.Contains(log[0].Detail, k.Prefix) || strings.Contains(log[0].Detail, raw) || log[0].IP != "cli" {
			t.Fatalf("audit %+v", log)
		}

		// The key works for its scope, and says who it is to the policy.
		got, err := keys.Authenticate(ctx, raw, policy.ScopeOpen311)
		if err != nil || got.ID != k.ID {
			t.Fatalf("Authenticate = %+v, %v", got, err)
		}
		if s := got.Subject(); s.Kind != policy.Client || s.KeyID != k.ID ||
			policy.Check(s, policy.Create, policy.Resource{Kind: policy.Complaint}) != nil ||
			policy.Check(s, policy.View, policy.Resource{Kind: policy.Complaint}) == nil {
			t.Fatalf("subject %+v", s)
		}
		// A key without the scope asked for is refused with its own message.
		if _, err := keys.Authenticate(ctx, raw, "integration"); apperr.CodeOf(err) != apperr.Forbidden || err == apikey.ErrBadKey {
			t.Fatalf("other scope: %v", err)
		}
		// Another secret under the same prefix, a changed character, a
		// malformed key, and none at all: the same refusal.
		other := k.Prefix + "_" + strings.Repeat("a", 52)
		flipped := raw[:len(raw)-1] + map[bool]string{true: "b", false: "a"}[raw[len(raw)-1] == 'a']
		for _, bad := range []string{other, flipped, strings.ToUpper(raw), raw + "a", "zk_", "", "open311"} {
			if _, err := keys.Authenticate(ctx, bad, policy.ScopeOpen311); err != apikey.ErrBadKey {
				t.Errorf("Authenticate(%q) = %v, want ErrBadKey", bad, err)
			}
		}

		// Revoked, it stops working at once; revoking again is a conflict.
		clk.Advance(time.Hour)
		if _, err := keys.Revoke(ctx, admin, meta, k.Prefix); err != nil {
			t.Fatal(err)
		}
		if _, err := keys.Authenticate(ctx, raw, policy.ScopeOpen311); err != apikey.ErrBadKey {
			t.Fatalf("revoked key: %v", err)
		}
		if _, err := keys.Revoke(ctx, admin, meta, "1"); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("second revoke: %v", err)
		}
		if _, err := keys.Revoke(ctx, admin, meta, "zk_nothere00"); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("unknown key: %v", err)
		}
		list, err := keys.List(ctx, admin)
		if err != nil || len(list) != 1 || !list[0].Revoked() || !list[0].RevokedAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("List = %+v, %v", list, err)
		}
		if log := entries(t, db); len(log) != 2 || log[0].Action != apikey.ActionRevoke {
			t.Fatalf("audit after revoke %+v", log)
		}
	})
}

// last_used_at is written on the first use and then at most once a minute.
func TestLastUsed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(now)
		keys := apikey.NewService(db, clk)
		_, raw, err := keys.Create(ctx, admin, meta, apikey.New{Name: "测试", Client: "测试系统", Scopes: []string{policy.ScopeOpen311}})
		if err != nil {
			t.Fatal(err)
		}
		lastUsed := func() time.Time {
			list, err := keys.List(ctx, admin)
			if err != nil {
				t.Fatal(err)
			}
			return list[0].LastUsedAt
		}
		if !lastUsed().IsZero() {
			t.Fatal("a new key has been used")
		}
		use := func() {
			if _, err := keys.Authenticate(ctx, raw, policy.ScopeOpen311); err != nil {
				t.Fatal(err)
			}
		}
		use()
		if !lastUsed().Equal(now) {
			t.Fatalf("after first use: %v", lastUsed())
		}
		clk.Advance(30 * time.Second)
		use()
		if !lastUsed().Equal(now) {
			t.Fatalf("within the minute it was rewritten: %v", lastUsed())
		}
		clk.Advance(31 * time.Second)
		use()
		if !lastUsed().Equal(now.Add(61 * time.Second)) {
			t.Fatalf("after a minute: %v", lastUsed())
		}
	})
}

// Only administrators manage keys; bad input is refused in Chinese and
// changes nothing.
func TestRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := apikey.NewService(db, clock.NewManual(now))
		good := apikey.New{Name: "热线", Client: "12345", Scopes: []string{policy.ScopeOpen311}}
		supervisor := policy.Subject{Kind: policy.Staff, AccountID: 7, Name: "督查员", RegionCode: "410411000000", Roles: []policy.Role{policy.Supervisor}}
		client := policy.Subject{Kind: policy.Client, Name: "热线", Scopes: []string{policy.ScopeOpen311}}
		for _, who := range []policy.Subject{supervisor, client, {Kind: policy.Anonymous}} {
			if _, _, err := keys.Create(ctx, who, meta, good); err == nil {
				t.Errorf("%s made a key", who.Kind)
			}
			if _, err := keys.List(ctx, who); err == nil {
				t.Errorf("%s listed keys", who.Kind)
			}
		}
		for _, tc := range []struct {
			n    apikey.New
			want string
		}{
			{apikey.New{Client: "12345", Scopes: good.Scopes}, "请填写密钥名称"},
			{apikey.New{Name: "热线", Client: " ", Scopes: good.Scopes}, "请填写使用单位或系统"},
			{apikey.New{Name: strings.Repeat("长", apikey.MaxName+1), Client: "12345", Scopes: good.Scopes}, "不能超过"},
			{apikey.New{Name: "热线\n", Client: "1\t2", Scopes: good.Scopes}, "控制字符"},
			{apikey.New{Name: "热线", Client: "12345"}, "请指定密钥的权限范围"},
			{apikey.New{Name: "热线", Client: "12345", Scopes: []string{"open311", "admin"}}, `"admin" 无效`},
		} {
			_, _, err := keys.Create(ctx, admin, meta, tc.n)
			if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.MessageOf(err), tc.want) {
				t.Errorf("Create(%+v) = %v, want %q", tc.n, err, tc.want)
			}
		}
		if r := rows(t, db); r != "" {
			t.Fatalf("refused requests stored keys: %s", r)
		}
		if e := entries(t, db); len(e) != 0 {
			t.Fatalf("refused requests were audited: %+v", e)
		}
	})
}

// Keys do not repeat (their prefixes are unique in the table too).
func TestKeysDiffer(t *testing.T) {
	db := storetest.SQLite(t)
	keys := apikey.NewService(db, clock.NewManual(now))
	seen := map[string]bool{}
	for range 50 {
		k, raw, err := keys.Create(context.Background(), admin, meta, apikey.New{Name: "n", Client: "c", Scopes: []string{policy.ScopeOpen311}})
		if err != nil {
			t.Fatal(err)
		}
		if seen[raw] || seen[k.Prefix] {
			t.Fatalf("key repeated: %s", raw)
		}
		seen[raw], seen[k.Prefix] = true, true
	}
}

// BenchmarkAuthenticate is the cost of a key on every Open311 POST: a
// read by prefix and a SHA-256 (last_used_at is written once a minute).
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	db := storetest.SQLite(b)
	keys := apikey.NewService(db, clock.NewManual(now))
	_, raw, err := keys.Create(ctx, admin, meta, apikey.New{Name: "n", Client: "c", Scopes: []string{policy.ScopeOpen311}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := keys.Authenticate(ctx, raw, policy.ScopeOpen311); err != nil {
			b.Fatal(err)
		}
	}
}
