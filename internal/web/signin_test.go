package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/oidc"
	"github.com/zwfw/zwfw/internal/oidc/oidctest"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func TestStaffSignInAndWhatEachRoleSees(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		site := newTestSite(t, db)
		dept, err := region.NewStore(db).DepartmentBySlug(ctx, db.Read(), "scjgj")
		if err != nil {
			t.Fatal(err)
		}
		mk := func(user string, roles ...policy.Role) string {
			_, otpURL, err := site.identity.CreateStaff(ctx, testAdmin, identity.Meta{}, identity.NewStaff{Username: user, Name: "测试" + user, DepartmentID: dept.ID,
				Roles: roles, Password: "Staff-Pass-2026x"})
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(otpURL)
			return u.Query().Get("secret")
		}
		adminSecret := mk("boss", policy.Admin)
		windowSecret := mk("clerk", policy.Window)

		anon := newBrowser(t, site.handler)
		if ex := anon.get("/workbench"); ex.status != http.StatusSeeOther || ex.header.Get("Location") != "/staff/signin?next=%2Fworkbench" {
			t.Fatalf("anonymous workbench: %d %s", ex.status, ex.header.Get("Location"))
		}
		clerk := newBrowser(t, site.handler)
		if ex := clerk.post("/staff/signin", url.Values{"username": {"clerk"}, "password": {"Staff-Pass-2026x"}}); ex.status != http.StatusUnauthorized || !strings.Contains(ex.body, "动态验证码") {
			t.Fatalf("no TOTP: %d", ex.status)
		}
		if ex := clerk.post("/staff/signin", url.Values{"username": {"clerk"}, "password": {"Staff-Pass-2026x"}, "totp": {totpNow(t, windowSecret, site)}, "next": {"/workbench"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("clerk sign-in: %d %s", ex.status, ex.body)
		}
		if ex := clerk.get("/workbench"); ex.status != 200 || !strings.Contains(ex.body, "窗口人员") || !strings.Contains(ex.body, dept.Name) {
			t.Fatalf("clerk workbench: %d", ex.status)
		}
		// A clerk's admin home holds their department's statistics only
		// (统计分析, issue 10); the other tools stay closed.
		if ex := clerk.get("/admin"); ex.status != 200 || !strings.Contains(ex.body, `href="/admin/stats"`) || strings.Contains(ex.body, "审计日志") {
			t.Errorf("clerk /admin: %d", ex.status)
		}
		for _, p := range []string{"/admin/audit", "/admin/jobs", "/admin/quality"} {
			if ex := clerk.get(p); ex.status != http.StatusForbidden {
				t.Errorf("clerk %s: %d", p, ex.status)
			}
		}
		boss := newBrowser(t, site.handler)
		if ex := boss.post("/staff/signin", url.Values{"username": {"boss"}, "password": {"Staff-Pass-2026x"}, "totp": {totpNow(t, adminSecret, site)}}); ex.status != http.StatusSeeOther {
			t.Fatalf("admin sign-in: %d", ex.status)
		}
		if ex := boss.get("/admin"); !strings.Contains(ex.body, "审计日志") || !strings.Contains(ex.body, "事项质量检查") {
			t.Fatalf("admin tools missing: %d", ex.status)
		}
		audit := boss.get("/admin/audit?action=signin_failed")
		if audit.status != 200 || !strings.Contains(audit.body, "测试clerk") || !strings.Contains(audit.body, "动态验证码错误") {
			t.Fatalf("audit page: %d", audit.status)
		}
		if ex := boss.get("/admin/audit?date=yesterday"); ex.status != 400 {
			t.Errorf("bad date: %d", ex.status)
		}
		// A street's supervisor reads the street's entries only, without
		// addresses: not the district bureau's clerk's failures.
		streets, err := region.NewStore(db).Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
		if err != nil {
			t.Fatal(err)
		}
		_, otpURL, err := site.identity.CreateStaff(ctx, testAdmin, identity.Meta{}, identity.NewStaff{Username: "watcher", Name: "测试watcher", DepartmentID: streets[0].ID,
			Roles: []policy.Role{policy.Supervisor}, Password: "Staff-Pass-2026x"})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(otpURL)
		watcher := newBrowser(t, site.handler)
		if ex := watcher.post("/staff/signin", url.Values{"username": {"watcher"}, "password": {"Staff-Pass-2026x"}, "totp": {totpNow(t, u.Query().Get("secret"), site)}}); ex.status != http.StatusSeeOther {
			t.Fatalf("supervisor sign-in: %d", ex.status)
		}
		scoped := watcher.get("/admin/audit")
		if scoped.status != 200 || strings.Contains(scoped.body, "测试clerk") || !strings.Contains(scoped.body, "测试watcher") {
			t.Fatalf("supervisor's audit page: %d, shows the bureau's clerk: %v", scoped.status, strings.Contains(scoped.body, "测试clerk"))
		}
	})
}

func totpNow(t *testing.T, secret string, site testSite) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, site.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// A citizen signs in through the province's platform — a real OpenID
// provider started here — and lands on their page, real-name verified.
func TestSignInThroughUnifiedIdentity(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		op := oidctest.Start(t, "https://zwfw.example.gov.cn/signin/oidc/callback",
			oidctest.User{Name: "李四", IDNumber: "11010519491231002X", Phone: "13900002222"})
		provider, err := oidc.New(ctx, oidc.Config{Issuer: op.Issuer, ClientID: op.ClientID, ClientSecret: op.ClientSecret,
			RedirectURL: op.RedirectURL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		site := newTestSiteWith(t, db, provider)
		b := newBrowser(t, site.handler)
		if ex := b.get("/signin"); !strings.Contains(ex.body, "/signin/oidc") {
			t.Fatal("the sign-in page offers no unified identity sign-in")
		}
		start := b.get("/signin/oidc")
		if start.status != http.StatusSeeOther || !strings.HasPrefix(start.header.Get("Location"), op.Issuer) {
			t.Fatalf("start: %d %s", start.status, start.header.Get("Location"))
		}
		callback := op.Login(t, nil, start.header.Get("Location"))

		// A callback whose state does not match this browser's is refused.
		other := newBrowser(t, site.handler)
		if ex := other.get("/signin/oidc/callback?" + callback.RawQuery); ex.status != 400 {
			t.Fatalf("foreign callback: %d", ex.status)
		}
		ex := b.get("/signin/oidc/callback?" + callback.RawQuery)
		if ex.status != http.StatusSeeOther || ex.header.Get("Location") != "/me" {
			t.Fatalf("callback: %d %s\n%s", ex.status, ex.header.Get("Location"), ex.body)
		}
		me := b.get("/me")
		for _, want := range []string{"李四", "110105********002X", "已实名核验", "统一身份认证"} {
			if !strings.Contains(me.body, want) {
				t.Errorf("/me lacks %q", want)
			}
		}
		// The state is used once.
		if ex := b.get("/signin/oidc/callback?" + callback.RawQuery); ex.status != 400 {
			t.Errorf("replayed callback: %d", ex.status)
		}
	})
}

// 忘记密码 through the pages: a code to the mobile number and a new
// password; the old one no longer signs in. A sign-in code for a number
// with no account, once verified, leads straight to registration with the
// same code (issue 17.16).
func TestForgottenPasswordAndRegisterAfterSignInCode(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		b := newBrowser(t, site.handler)
		if ex := b.get("/signin"); !strings.Contains(ex.body, `href="/signin/forgot"`) {
			t.Error("the sign-in page has no 忘记密码")
		}
		site.clock.Advance(2 * time.Minute)
		if ex := b.post("/signin/forgot/code", url.Values{"mobile": {"13800000001"}}); ex.status != 200 || !strings.Contains(ex.body, "验证码已发送") {
			t.Fatalf("reset code: %d", ex.status)
		}
		code := smsCode.FindStringSubmatch(b.get("/demo/sms").body)[1]
		if ex := b.post("/signin/forgot", url.Values{"mobile": {"13800000001"}, "code": {code}, "password": {"Zhangsan-Reset-27!"}}); ex.status != 200 ||
			!strings.Contains(ex.body, "密码已重设") {
			t.Fatalf("reset: %d %s", ex.status, ex.body)
		}
		if ex := b.post("/signin/password", url.Values{"mobile": {"13800000001"}, "password": {"Zhangsan-Reset-27!"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("the new password: %d", ex.status)
		}

		// An unregistered number: the code first, then the offer.
		n := newBrowser(t, site.handler)
		if ex := n.post("/signin/code/send", url.Values{"mobile": {"13900001111"}}); ex.status != 200 || !strings.Contains(ex.body, "验证码已发送") {
			t.Fatalf("code for an unregistered number: %d", ex.status)
		}
		code = smsCode.FindStringSubmatch(n.get("/demo/sms").body)[1]
		ex := n.post("/signin/code", url.Values{"mobile": {"13900001111"}, "code": {code}})
		if ex.status != 200 || !strings.Contains(ex.body, "验证码已核验") || !strings.Contains(ex.body, `name="code" value="`+code+`"`) ||
			!strings.Contains(ex.body, `name="mobile" type="tel" value="13900001111" readonly`) {
			t.Fatalf("verified, unregistered: %d\n%s", ex.status, ex.body)
		}
		reg := url.Values{"name": {"李四"}, "id_number": {"110105199003071239"}, "mobile": {"13900001111"}, "code": {code}, "verified": {"yes"},
			"consent": {identity.PrivacyVersion}}
		if ex := n.post("/register", reg); ex.status != http.StatusSeeOther {
			t.Fatalf("registering with the sign-in code: %d %s", ex.status, ex.body)
		}
		if me := n.get("/me"); !strings.Contains(me.body, "李四") {
			t.Error("not signed in after registering")
		}
	})
}
