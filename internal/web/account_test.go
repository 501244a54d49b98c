package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func TestCitizenRegistersSignsInAndSeesOnlyTheirOwnPage(t *testing.T) {
	t.Parallel()
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
		// Without agreeing to the privacy notice no account is opened.
		if ex := b.post("/register", form); ex.status != 400 || !strings.Contains(ex.body, "请阅读《个人信息处理告知书》，并勾选同意") {
			t.Fatalf("register without consent: %d", ex.status)
		}
		if ex := b.get("/register"); !strings.Contains(ex.body, `href="/privacy"`) || !strings.Contains(ex.body, `name="consent" value="`+identity.PrivacyVersion+`"`) {
			t.Error("the registration form does not link the privacy notice and ask for consent")
		}
		if ex := b.get("/privacy"); ex.status != 200 || !strings.Contains(ex.body, "敏感个人信息") || !strings.Contains(ex.body, identity.PrivacyVersion) {
			t.Errorf("the privacy notice: %d", ex.status)
		}
		form.Set("consent", identity.PrivacyVersion)
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
