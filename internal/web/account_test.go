package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/oidc"
	"github.com/zwfw/zwfw/internal/oidc/oidctest"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// browser keeps cookies between requests, as a browser would.
type browser struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]*http.Cookie
}

func newBrowser(t *testing.T, h http.Handler) *browser {
	return &browser{t: t, h: h, cookies: map[string]*http.Cookie{}}
}

func (b *browser) do(req *http.Request) exchange {
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	ex := do(b.h, req)
	for _, c := range (&http.Response{Header: ex.header}).Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return ex
}

func (b *browser) get(path string) exchange { return b.do(httptest.NewRequest("GET", path, nil)) }

func (b *browser) post(path string, form url.Values) exchange {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

var smsCode = regexp.MustCompile(`验证码是(\d{6})`)

func TestCitizenRegistersSignsInAndSeesOnlyTheirOwnPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		b := newBrowser(t, site.handler)
		if ex := b.get("/me"); ex.status != http.StatusSeeOther || !strings.HasPrefix(ex.header.Get("Location"), "/signin") {
			t.Fatalf("/me anonymous: %d %s", ex.status, ex.header.Get("Location"))
		}
		form := url.Values{"name": {"张三"}, "id_number": {"11010519491231002X"}, "mobile": {"13800000001"}}
		ex := b.post("/register/code", form)
		if ex.status != 200 || !strings.Contains(ex.body, "验证码已发送") || !strings.Contains(ex.body, `value="11010519491231002X"`) {
			t.Fatalf("send code: %d", ex.status)
		}
		sms := b.get("/demo/sms")
		m := smsCode.FindStringSubmatch(sms.body)
		if m == nil {
			t.Fatalf("no code on the demo SMS page")
		}
		// A bad identity number is refused in Chinese, keeping what was typed.
		bad := url.Values{"name": {"张三"}, "id_number": {"110105194912310021"}, "mobile": {"13800000001"}, "code": {m[1]}, "password": {"Zhangsan-2026!"}}
		if ex := b.post("/register", bad); ex.status != 400 || !strings.Contains(ex.body, "校验位") || strings.Contains(ex.body, "Zhangsan-2026!") {
			t.Fatalf("bad id: %d", ex.status)
		}
		form.Set("code", m[1])
		form.Set("password", "Zhangsan-2026!")
		if ex := b.post("/register", form); ex.status != http.StatusSeeOther || ex.header.Get("Location") != "/me" {
			t.Fatalf("register: %d %s\n%s", ex.status, ex.header.Get("Location"), ex.body)
		}
		me := b.get("/me")
		for _, want := range []string{"张三", "110105********002X", "138****0001", "未实名核验", "我的（张三）"} {
			if !strings.Contains(me.body, want) {
				t.Errorf("/me lacks %q", want)
			}
		}
		if strings.Contains(me.body, "11010519491231002X") {
			t.Error("/me shows the identity number unmasked")
		}
		// A citizen has no workbench and no administration.
		if ex := b.get("/workbench"); ex.status != http.StatusForbidden {
			t.Errorf("citizen workbench: %d", ex.status)
		}
		if ex := b.get("/admin/audit"); ex.status != http.StatusForbidden {
			t.Errorf("citizen audit log: %d", ex.status)
		}
		// Enterprise registration and acting for it.
		if ex := b.post("/me/enterprises", url.Values{"name": {"示例商贸有限公司"}, "credit_code": {"91350100M000100Y43"}, "legal_rep": {"张三"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("register enterprise: %d %s", ex.status, ex.body)
		}
		if ex := b.post("/me/enterprises", url.Values{"name": {"另一家"}, "credit_code": {"91350100M000100Y44"}, "legal_rep": {"张三"}}); ex.status != 400 || !strings.Contains(ex.body, "校验位") {
			t.Fatalf("bad credit code: %d", ex.status)
		}
		// Sign out, then in again with the password.
		if ex := b.post("/signout", nil); ex.status != http.StatusSeeOther {
			t.Fatalf("signout: %d", ex.status)
		}
		if ex := b.get("/me"); ex.status != http.StatusSeeOther {
			t.Fatalf("still signed in after signing out: %d", ex.status)
		}
		if ex := b.post("/signin/password", url.Values{"mobile": {"13800000001"}, "password": {"wrong"}}); ex.status != http.StatusUnauthorized || !strings.Contains(ex.body, "账号或密码不正确") {
			t.Fatalf("wrong password: %d", ex.status)
		}
		if ex := b.post("/signin/password", url.Values{"mobile": {"13800000001"}, "password": {"Zhangsan-2026!"}, "next": {"/items"}}); ex.status != http.StatusSeeOther || ex.header.Get("Location") != "/items" {
			t.Fatalf("password sign-in: %d %s", ex.status, ex.header.Get("Location"))
		}
		if ex := b.get("/me"); !strings.Contains(ex.body, "示例商贸有限公司") || !strings.Contains(ex.body, "失败：密码错误") {
			t.Error("/me lacks the enterprise or the failed sign-in in the history")
		}
	})
}

func TestStaffSignInAndWhatEachRoleSees(t *testing.T) {
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
		for _, p := range []string{"/admin", "/admin/audit", "/admin/jobs", "/admin/quality"} {
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

func TestAdminManagesStaff(t *testing.T) {
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

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A citizen signs in through the province's platform — a real OpenID
// provider started here — and lands on their page, real-name verified.
func TestSignInThroughUnifiedIdentity(t *testing.T) {
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
