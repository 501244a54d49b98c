package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// Webhooks (issue 12): an administrator subscribes a client on the page,
// sees the secret once, pauses and rotates; bad input keeps what was typed;
// other staff are refused; every change is audited.
func TestAdminManagesWebhooks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		site := newTestSite(t, db)
		client, err := site.integration.CreateClient(ctx, testAdmin, audit.Meta{}, integration.Client{Name: "市场监管业务系统", PerMinute: 60})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := site.integration.IssueKey(ctx, testAdmin, audit.Meta{}, client.ID, "办件推送", []string{policy.ScopeCasesStatus}); err != nil {
			t.Fatal(err)
		}
		admin := signInStaff(t, site, db, "boss", "xzfwzx", policy.Admin)
		clerk := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		if page := admin.get("/admin"); !strings.Contains(page.body, `href="/admin/webhooks"`) {
			t.Error("the admin page has no link to the webhooks")
		}
		if page := clerk.get("/admin/webhooks"); page.status != http.StatusForbidden {
			t.Errorf("a window clerk opens the webhooks: %d", page.status)
		}
		page := admin.get("/admin/webhooks")
		if page.status != 200 || !strings.Contains(page.body, "市场监管业务系统（权限：cases.status）") || !strings.Contains(page.body, "办件已受理") {
			t.Fatalf("webhooks page (%d): %s", page.status, page.body)
		}
		form := url.Values{"client": {strconv.FormatInt(client.ID, 10)}, "url": {"https://oa.example.gov.cn/hook"}, "events": {"case.accepted", "complaint.created"}}
		// Complaint events need a scope the client's key does not have.
		if bad := admin.post("/admin/webhooks", form); bad.status != http.StatusForbidden || !strings.Contains(bad.body, "无权订阅「诉求已登记」") {
			t.Fatalf("complaint events without the scope (%d): %s", bad.status, bad.body)
		}
		form = url.Values{"client": {strconv.FormatInt(client.ID, 10)}, "url": {"http://oa.example.gov.cn/hook"}, "events": {"case.accepted", "case.completed"}}
		bad := admin.post("/admin/webhooks", form)
		if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "https") || !strings.Contains(bad.body, "http://oa.example.gov.cn/hook") ||
			!strings.Contains(bad.body, `value="case.completed" checked`) {
			t.Fatalf("plain http (%d): %s", bad.status, bad.body)
		}
		if ex := clerk.post("/admin/webhooks", form); ex.status != http.StatusForbidden {
			t.Errorf("a window clerk subscribes: %d", ex.status)
		}
		form.Set("url", "https://oa.example.gov.cn/hook")
		made := admin.post("/admin/webhooks", form)
		secret := regexp.MustCompile(`zws_[0-9a-f]{64}`).FindString(made.body)
		if made.status != 200 || secret == "" || !strings.Contains(made.body, "只显示这一次") || !strings.Contains(made.body, "办件已受理、办件已办结") {
			t.Fatalf("subscribed (%d): %s", made.status, made.body)
		}
		id := regexp.MustCompile(`/admin/webhooks/(\d+)/rotate`).FindStringSubmatch(made.body)[1]
		if again := admin.get("/admin/webhooks/" + id); strings.Contains(again.body, secret) || !strings.Contains(again.body, "还没有推送") {
			t.Fatal("the secret is shown again, or the log is missing")
		}
		if ex := admin.post("/admin/webhooks/"+id+"/active", url.Values{"active": {"0"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("pause: %d", ex.status)
		}
		if page := admin.get("/admin/webhooks/" + id + "?done=paused"); !strings.Contains(page.body, "已暂停") || !strings.Contains(page.body, "恢复推送") {
			t.Fatalf("paused page: %s", page.body)
		}
		rotated := admin.post("/admin/webhooks/"+id+"/rotate", nil)
		if s2 := regexp.MustCompile(`zws_[0-9a-f]{64}`).FindString(rotated.body); rotated.status != 200 || s2 == "" || s2 == secret || !strings.Contains(rotated.body, "v2") {
			t.Fatalf("rotate (%d): %s", rotated.status, rotated.body)
		}
		if ex := admin.post("/admin/webhooks/"+id+"/deliveries/999/redeliver", nil); ex.status != http.StatusNotFound {
			t.Fatalf("redeliver of nothing: %d", ex.status)
		}
		// Revoked on the integration page, the client's subscription says it
		// gets nothing, and the client is no longer offered.
		if ex := clerk.post(fmt.Sprintf("/admin/integration/clients/%d/revoke", client.ID), nil); ex.status != http.StatusForbidden {
			t.Errorf("a window clerk revokes a client: %d", ex.status)
		}
		if ex := admin.post(fmt.Sprintf("/admin/integration/clients/%d/revoke", client.ID), nil); ex.status != http.StatusSeeOther {
			t.Fatalf("revoke the client: %d %s", ex.status, ex.body)
		}
		if page := admin.get("/admin/integration?done=client_revoked"); !strings.Contains(page.body, "接入系统及其全部密钥已停用") || !strings.Contains(page.body, "停用</strong>") {
			t.Errorf("the integration page after the revocation: %s", page.body)
		}
		if page := admin.get("/admin/webhooks"); !strings.Contains(page.body, "接入系统已停用") || strings.Contains(page.body, "<option value=\""+strconv.FormatInt(client.ID, 10)) {
			t.Errorf("a revoked client's subscription is not marked: %s", page.body)
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('webhook_create', 'webhook_pause', 'webhook_rotate')
			AND object = ?`, "webhook:"+id).Scan(&n); err != nil || n != 3 {
			t.Fatalf("audit entries: %d %v", n, err)
		}
	})
}
