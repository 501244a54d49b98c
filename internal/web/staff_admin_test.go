package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func TestAdminManagesStaff(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		site := newTestSite(t, db)
		dept, _ := region.NewStore(db).DepartmentBySlug(ctx, db.Read(), "mzj")
		_, otpURL, err := site.identity.CreateStaff(ctx, testAdmin, identity.Meta{}, identity.NewStaff{Username: "boss", Name: "管理员", DepartmentID: dept.ID,
			Roles: []policy.Role{policy.Admin}, Password: "Chief-Pass-2026x"})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(otpURL)
		b := newBrowser(t, site.handler)
		b.post("/staff/signin", url.Values{"username": {"boss"}, "password": {"Chief-Pass-2026x"}, "totp": {totpNow(t, u.Query().Get("secret"), site)}})

		form := url.Values{"username": {"newclerk"}, "name": {"新窗口"}, "department": {itoa(dept.ID)}, "roles": {"window", "reviewer"}, "password": {"short"}}
		if ex := b.post("/admin/staff", form); ex.status != 400 || !strings.Contains(ex.body, "密码") || !strings.Contains(ex.body, `value="newclerk"`) {
			t.Fatalf("weak password: %d", ex.status)
		}
		form.Set("password", "Clerk-Pass-2026x")
		ex := b.post("/admin/staff", form)
		if ex.status != 200 || !strings.Contains(ex.body, "已开设账户 newclerk") || !strings.Contains(ex.body, "<svg") || !strings.Contains(ex.body, "otpauth://totp/") {
			t.Fatalf("create: %d", ex.status)
		}
		staff, _ := site.identity.Staff(ctx, dept.ID)
		var clerk identity.Account
		for _, a := range staff {
			if a.Username == "newclerk" {
				clerk = a
			}
		}
		if len(clerk.Roles) != 2 {
			t.Fatalf("new clerk %+v", clerk)
		}
		if ex := b.post("/admin/staff/"+itoa(clerk.ID), url.Values{"op": {"roles"}, "roles": {"head"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("set roles: %d %s", ex.status, ex.body)
		}
		if ex := b.post("/admin/staff/"+itoa(clerk.ID), url.Values{"op": {"disable"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("disable: %d", ex.status)
		}
		acc, _ := site.identity.Account(ctx, clerk.ID)
		if !acc.Disabled || len(acc.Roles) != 1 || acc.Roles[0] != policy.Head {
			t.Fatalf("after changes: %+v", acc)
		}
		// 帮办代办: the page offers the 帮办代办员 role, which is for a
		// street's or community's staff only; the bureau's clerk is refused it.
		if page := b.get("/admin/staff"); !strings.Contains(page.body, `value="assistant"> 帮办代办员`) {
			t.Error("the staff page does not offer the 帮办代办员 role")
		}
		if ex := b.post("/admin/staff/"+itoa(clerk.ID), url.Values{"op": {"roles"}, "roles": {"assistant"}}); ex.status != http.StatusBadRequest ||
			!strings.Contains(ex.body, "帮办代办员须为街道便民服务中心或社区便民服务站的工作人员") {
			t.Errorf("the role for a bureau's clerk: %d", ex.status)
		}
		page := b.get("/admin/audit")
		for _, want := range []string{"开设工作人员账户", "变更角色", "停用账户"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("audit lacks %s", want)
			}
		}
		// Nobody but an administrator manages staff.
		citizen := newBrowser(t, site.handler)
		if ex := citizen.post("/admin/staff", form); ex.status != http.StatusSeeOther {
			t.Errorf("anonymous create: %d", ex.status)
		}
	})
}
