package integration_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

var (
	start = time.Date(2026, 12, 7, 9, 0, 30, 0, clock.China)
	admin = policy.Subject{Kind: policy.Staff, AccountID: 0, Name: "管理员", Roles: []policy.Role{policy.Admin}}
	clerk = policy.Subject{Kind: policy.Staff, AccountID: 0, Name: "窗口", Roles: []policy.Role{policy.Window}}
	meta  = audit.Meta{IP: "127.0.0.1"}
)

type fixture struct {
	db    *store.DB
	clock *clock.Manual
	keys  *apikey.Service
	s     *integration.Service
	c     integration.Client
	key   string
}

func setup(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, clock: clock.NewManual(start)}
	f.keys = apikey.NewService(db, f.clock)
	f.s = integration.New(db, f.clock, f.keys)
	if _, err := f.s.CreateClient(ctx, clerk, meta, integration.Client{Name: "市政务服务平台", PerMinute: 3}); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a clerk registered a client: %v", err)
	}
	if _, err := f.s.CreateClient(ctx, admin, meta, integration.Client{Name: "市政务服务平台", PerMinute: 0}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a limit of 0: %v", err)
	}
	var err error
	if f.c, err = f.s.CreateClient(ctx, admin, meta, integration.Client{Name: "市政务服务平台", PerMinute: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.CreateClient(ctx, admin, meta, integration.Client{Name: "市政务服务平台", PerMinute: 3}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("the same name twice: %v", err)
	}
	if _, f.key, err = f.s.IssueKey(ctx, admin, meta, f.c.ID, "平台主密钥", []string{policy.ScopeResultsRead}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AddGrant(ctx, admin, meta, integration.Grant{ClientID: f.c.ID, Data: integration.DataCases, Purpose: "进度查询"}); err != nil {
		t.Fatal(err)
	}
	return f
}

// A call: key, purpose, scope and the directory, each refusal logged; the
// log is chained and verifies, and an edit behind the application's back
// is found.
func TestCallsAreCheckedAndLogged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		op := "GET /api/v1/integration/cases/{number}"

		if _, err := f.s.Begin(ctx, "zk_nonsense", "查询", op, policy.ScopeResultsRead); err != integration.ErrBadKey {
			t.Fatalf("a bad key: %v", err)
		}
		if _, err := f.s.Begin(ctx, f.key, "  ", op, policy.ScopeResultsRead); !apperr.Is(err, apperr.Invalid) ||
			!strings.Contains(apperr.MessageOf(err), "X-Purpose") {
			t.Fatalf("no purpose: %v", err)
		}
		if _, err := f.s.Begin(ctx, f.key, "查询", "POST /api/v1/integration/cases", policy.ScopeCasesCreate); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a scope the key lacks: %v", err)
		}
		// Percent-encoded purposes are read as UTF-8.
		call, err := f.s.Begin(ctx, f.key, "%E5%8A%9E%E4%BB%B6%E8%BF%9B%E5%BA%A6%E6%9F%A5%E8%AF%A2", op, policy.ScopeResultsRead)
		if err != nil {
			t.Fatal(err)
		}
		if call.Purpose != "办件进度查询" {
			t.Fatalf("purpose %q", call.Purpose)
		}
		if err := call.Allow(ctx, integration.DataCases, 7); err != nil {
			t.Fatalf("a directory entry for every department: %v", err)
		}
		call.Touch(integration.CaseRecord("N1"), integration.AccountRecord(42))
		if err := call.Finish(ctx, 200, nil); err != nil {
			t.Fatal(err)
		}
		// Over the limit of 3 a minute (this window's calls: the refused
		// purpose and scope were not counted, the good one was).
		for i := 0; i < 2; i++ {
			c, err := f.s.Begin(ctx, f.key, "查询", op, policy.ScopeResultsRead)
			if err != nil {
				t.Fatalf("call %d: %v", i+2, err)
			}
			if err := c.Allow(ctx, integration.DataResults, 7); !apperr.Is(err, apperr.Forbidden) || !strings.Contains(apperr.MessageOf(err), "共享目录") {
				t.Fatalf("outside the directory: %v", err)
			}
		}
		_, err = f.s.Begin(ctx, f.key, "查询", op, policy.ScopeResultsRead)
		wait, limited := integration.RetryAfter(err)
		if !apperr.Is(err, apperr.TooMany) || !limited || wait != 30*time.Second {
			t.Fatalf("the 4th call in a minute: %v (retry after %v)", err, wait)
		}
		f.clock.Advance(30 * time.Second)
		if c, err := f.s.Begin(ctx, f.key, "查询", op, policy.ScopeResultsRead); err != nil {
			t.Fatalf("the next minute: %v", err)
		} else if err := c.Finish(ctx, 404, apperr.New(apperr.NotFound, "没有找到。")); err != nil {
			t.Fatal(err)
		}

		log, err := f.s.Search(ctx, admin, integration.Filter{ClientID: f.c.ID})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range log {
			got = append(got, strings.Join([]string{e.Client, e.Purpose, e.Outcome, strings.Join(e.Records, ",")}, "|"))
		}
		want := []string{
			"市政务服务平台|查询|失败：没有找到。|",
			"市政务服务平台|查询|拒绝：「市政务服务平台」调用过于频繁（每分钟限 3 次），请 30 秒后再试。|",
			"市政务服务平台|查询|拒绝：共享目录未向「市政务服务平台」开放该部门的办理结果数据。|",
			"市政务服务平台|查询|拒绝：共享目录未向「市政务服务平台」开放该部门的办理结果数据。|",
			"市政务服务平台|办件进度查询|成功|case:N1,account:42",
			"市政务服务平台|查询|拒绝：该 api_key 无权使用此接口（需要权限 cases.create）。|",
			"市政务服务平台||拒绝：请在请求头 X-Purpose 中说明调用用途（如：企业开办审批核验）。|",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("the log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if byRecord, err := f.s.Search(ctx, admin, integration.Filter{Record: "case:N1"}); err != nil || len(byRecord) != 1 {
			t.Fatalf("by record: %v %v", byRecord, err)
		}
		if _, err := f.s.Search(ctx, clerk, integration.Filter{}); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a clerk read the log: %v", err)
		}
		// The person whose case was read sees who read it, and why.
		uses, err := f.s.UsesOf(ctx, policy.Subject{Kind: policy.Person, AccountID: 42}, 50)
		if err != nil || len(uses) != 1 || uses[0].Client != "市政务服务平台" || uses[0].Purpose != "办件进度查询" {
			t.Fatalf("uses of account 42: %+v %v", uses, err)
		}

		var buf bytes.Buffer
		if err := f.s.Export(ctx, admin, meta, integration.Filter{ClientID: f.c.ID}, &buf); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		sheetRows, _ := x.GetRows("共享调用日志")
		if len(sheetRows) != 1+len(want) || sheetRows[1][2] != "市政务服务平台" {
			t.Fatalf("the export: %v", sheetRows)
		}

		checked, broken, err := integration.Verify(ctx, db.Read(), db.ChainKeys())
		if err != nil || checked != len(want) || len(broken) != 0 {
			t.Fatalf("verify: %d checked, %v, %v", checked, broken, err)
		}
		storetest.DisableAppendOnly(t, db, "sharing_log")
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE sharing_log SET purpose = '另有用途' WHERE purpose = '办件进度查询'`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, broken, _ := integration.Verify(ctx, db.Read(), db.ChainKeys()); len(broken) != 1 {
			t.Fatalf("an edited entry: %v", broken)
		}
	})
}

// Rotation: the new key works at once, the old one until its time; a
// revoked key stops at once.
func TestRotateAndRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		op := "GET /api/v1/integration/cases/{number}"
		old, err := f.keys.Authenticate(ctx, f.key, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.keys.Rotate(ctx, admin, meta, old.Prefix, start.Add(31*24*time.Hour)); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("an overlap over 30 days: %v", err)
		}
		k, raw, err := f.keys.Rotate(ctx, admin, meta, old.Prefix, start.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if k.ClientID != f.c.ID || strings.Join(k.Scopes, " ") != policy.ScopeResultsRead {
			t.Fatalf("the new key: %+v", k)
		}
		for _, key := range []string{f.key, raw} {
			if c, err := f.s.Begin(ctx, key, "查询", op, policy.ScopeResultsRead); err != nil {
				t.Fatalf("during the overlap: %v", err)
			} else {
				c.Finish(ctx, 200, nil)
			}
		}
		f.clock.Advance(time.Hour)
		if _, err := f.s.Begin(ctx, f.key, "查询", op, policy.ScopeResultsRead); err != integration.ErrBadKey {
			t.Fatalf("the old key after the overlap: %v", err)
		}
		if _, err := f.keys.Revoke(ctx, admin, meta, k.Prefix); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Begin(ctx, raw, "查询", op, policy.ScopeResultsRead); err != integration.ErrBadKey {
			t.Fatalf("a revoked key: %v", err)
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('api_client_create', 'api_key_create', 'api_key_rotate', 'api_key_revoke', 'sharing_grant')`).Scan(&n); err != nil || n != 5 {
			t.Fatalf("%d audit entries, want 5 (%v)", n, err)
		}
	})
}

// A write call's entry is written in its change's transaction: rolled
// back with it (and then logged as a failure by Finish), kept with it,
// and written once however many times the change's hook runs.
func TestWriteEntryGoesWithItsTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		op := "POST /api/v1/integration/cases/{number}/steps"
		count := func() (n int) {
			t.Helper()
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM sharing_log WHERE outcome = '成功'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		call, err := f.s.Begin(ctx, f.key, "受理", op, policy.ScopeResultsRead)
		if err != nil {
			t.Fatal(err)
		}
		failed := apperr.New(apperr.Conflict, "办件刚被他人处理过")
		err = db.Tx(ctx, func(tx *store.Tx) error {
			if err := integration.Changed(call.Context(ctx), tx, integration.CaseRecord("N2")); err != nil {
				return err
			}
			return failed
		})
		if err != failed || count() != 0 {
			t.Fatalf("a rolled-back change kept its entry: %v, %d", err, count())
		}
		if err := call.Finish(ctx, 409, failed); err != nil {
			t.Fatal(err)
		}
		log, _ := f.s.Search(ctx, admin, integration.Filter{})
		if len(log) != 1 || log[0].Outcome != "失败：办件刚被他人处理过" || log[0].Status != 409 {
			t.Fatalf("the failure: %+v", log)
		}

		call, err = f.s.Begin(ctx, f.key, "受理", op, policy.ScopeResultsRead)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for range 3 { // a step of several changes
				if err := integration.Changed(call.Context(ctx), tx, integration.CaseRecord("N2"), integration.AccountRecord(7)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := call.Finish(ctx, 200, nil); err != nil {
			t.Fatal(err)
		}
		if count() != 1 {
			t.Fatalf("%d successful entries, want 1", count())
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return integration.Changed(ctx, tx, "case:N3") }); err != nil || count() != 1 {
			t.Fatalf("a change made by no call was logged: %v", err)
		}
	})
}
