package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// 我的数据被谁使用: a citizen sees which system read their data, when and
// why; another citizen does not; the administrators' log finds the call
// by the person's record.
func TestMyDataUses(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		site := newTestSite(t, db)
		b := registerCitizen(t, site, "周数据", "110101199003071671", "13800138222")
		other := registerCitizen(t, site, "吴其他", "110101199003074514", "13800138333")
		var account int64
		if err := db.Read().QueryRow(ctx, `SELECT id FROM accounts WHERE name = '周数据'`).Scan(&account); err != nil {
			t.Fatal(err)
		}
		c, err := site.integration.CreateClient(ctx, testAdmin, audit.Meta{}, integration.Client{Name: "市政务服务平台", PerMinute: 60})
		if err != nil {
			t.Fatal(err)
		}
		_, key, err := site.integration.IssueKey(ctx, testAdmin, audit.Meta{}, c.ID, "平台密钥", []string{policy.ScopeResultsRead})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := site.integration.AddGrant(ctx, testAdmin, audit.Meta{}, integration.Grant{ClientID: c.ID, Data: integration.DataCases, Purpose: "进度查询"}); err != nil {
			t.Fatal(err)
		}
		call, err := site.integration.Begin(ctx, key, "核验办件进度", "GET /api/v1/integration/cases/{number}", policy.ScopeResultsRead)
		if err != nil {
			t.Fatal(err)
		}
		if err := call.Allow(ctx, integration.DataCases, 1); err != nil {
			t.Fatal(err)
		}
		call.Touch(integration.CaseRecord("410411202612070001"), integration.AccountRecord(account))
		if err := call.Finish(ctx, http.StatusOK, nil); err != nil {
			t.Fatal(err)
		}

		me := b.get("/me")
		if me.status != http.StatusOK || !strings.Contains(me.body, "我的数据被谁使用") || !strings.Contains(me.body, "市政务服务平台") ||
			!strings.Contains(me.body, "核验办件进度") || !strings.Contains(me.body, "410411202612070001") {
			t.Fatalf("我的 of the person read: %d\n%s", me.status, me.body)
		}
		if ex := other.get("/me"); strings.Contains(ex.body, "核验办件进度") || !strings.Contains(ex.body, "还没有其他系统使用过您的数据") {
			t.Fatalf("another person sees the use:\n%s", ex.body)
		}

		// The administrators find it by the person's record, and the
		// directory page shows the client; an export is audited.
		admin := signInStaff(t, site, db, "admin1", "zwfwj", policy.Admin)
		if ex := admin.get("/admin/integration/log?record=" + url.QueryEscape(integration.AccountRecord(account))); ex.status != http.StatusOK ||
			!strings.Contains(ex.body, "核验办件进度") || !strings.Contains(ex.body, "case:410411202612070001") {
			t.Fatalf("the log by record: %d\n%s", ex.status, ex.body)
		}
		if ex := admin.get("/admin/integration"); ex.status != http.StatusOK || !strings.Contains(ex.body, "市政务服务平台") || !strings.Contains(ex.body, "进度查询") {
			t.Fatalf("the directory page: %d\n%s", ex.status, ex.body)
		}
		if ex := admin.post("/admin/integration/clients/"+itoa(c.ID)+"/limit", url.Values{"per_minute": {"0"}}); ex.status != http.StatusBadRequest ||
			!strings.Contains(ex.body, "每分钟调用次数须在 1 到") {
			t.Fatalf("a limit of 0: %d", ex.status)
		}
		if ex := admin.get("/admin/integration/log.xlsx?client=" + itoa(c.ID)); ex.status != http.StatusOK {
			t.Fatalf("export: %d", ex.status)
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'sharing_log_export'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d export entries (%v)", n, err)
		}
	})
}
