package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// A street's supervisor reads the street's audit entries with citizens'
// names masked (张三丰 → 张**), by a citizen or naming one, and cannot
// find them by the name; an administrator reads them in full.
func TestAuditLogMasksCitizensForSupervisors(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		site := newTestSite(t, db)
		streets, err := region.NewStore(db).Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
		if err != nil || len(streets) == 0 {
			t.Fatal(err)
		}
		street := streets[0]
		signIn := func(username string, roles ...policy.Role) *browser {
			t.Helper()
			_, otpURL, err := site.identity.CreateStaff(ctx, testAdmin, identity.Meta{}, identity.NewStaff{Username: username, Name: "测试" + username, DepartmentID: street.ID,
				Roles: roles, Password: "Staff-Pass-2026x"})
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(otpURL)
			b := newBrowser(t, site.handler)
			if ex := b.post("/staff/signin", url.Values{"username": {username}, "password": {"Staff-Pass-2026x"}, "totp": {totpNow(t, u.Query().Get("secret"), site)}}); ex.status != 303 {
				t.Fatalf("%s sign-in: %d", username, ex.status)
			}
			return b
		}
		watcher, boss := signIn("watcher", policy.Supervisor), signIn("boss", policy.Admin)
		var citizen, clerk int64
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			now := site.clock.Now()
			if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', '张三丰', ?, ?) RETURNING id`, now, now).Scan(&citizen); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `SELECT id FROM accounts WHERE username = 'watcher'`).Scan(&clerk)
		}); err != nil {
			t.Fatal(err)
		}
		for _, e := range []audit.Entry{
			{ActorID: citizen, Actor: "张三丰", Action: "signin", Object: fmt.Sprintf("account:%d", citizen), Detail: "登录（短信验证码）"},
			{ActorID: clerk, Actor: "测试watcher（watcher）", Action: "reveal", Object: fmt.Sprintf("account:%d", citizen), Detail: "查看完整手机号码，事由：回访张三丰"},
		} {
			e.At, e.IP, e.RegionCode = site.clock.Now(), "198.51.100.7", street.RegionCode
			if err := audit.Record(ctx, db, e); err != nil {
				t.Fatal(err)
			}
		}
		page := watcher.get("/admin/audit")
		if page.status != 200 || strings.Contains(page.body, "张三丰") || strings.Contains(page.body, "198.51.100.7") ||
			!strings.Contains(page.body, "<td>张**</td>") || !strings.Contains(page.body, "事由：回访张**") || !strings.Contains(page.body, "测试watcher") {
			t.Fatalf("supervisor's audit page: %d\n%s", page.status, page.body)
		}
		if page := watcher.get("/admin/audit?q=" + url.QueryEscape("三丰")); strings.Contains(page.body, "张**") {
			t.Error("a supervisor found entries by a citizen's hidden name")
		}
		page = boss.get("/admin/audit")
		if !strings.Contains(page.body, "<td>张三丰</td>") || !strings.Contains(page.body, "事由：回访张三丰") || !strings.Contains(page.body, "198.51.100.7") {
			t.Fatalf("administrator's audit page: %d\n%s", page.status, page.body)
		}
	})
}
