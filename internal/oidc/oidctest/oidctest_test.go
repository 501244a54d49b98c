package oidctest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/oidc"
	"github.com/zwfw/zwfw/internal/oidc/oidctest"
)

func relyingParty(t *testing.T, p *oidctest.Provider) *oidc.Provider {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rp, err := oidc.New(ctx, oidc.Config{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: p.RedirectURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

// Login stops at the redirect URL: the application is never requested, and
// the caller's client is left as it was.
func TestLoginStopsBeforeTheApplication(t *testing.T) {
	var appHits atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { appHits.Add(1) }))
	defer app.Close()

	p := oidctest.Start(t, app.URL+"/auth/oidc/callback", oidctest.User{
		Name: "李四", Phone: "13900001111", IDNumber: "11010519491231002X"})
	if p.Username == "" || p.Password == "" || p.Subject == "" || p.ClientSecret == "" {
		t.Fatalf("defaults not filled in: %+v", p)
	}
	rp := relyingParty(t, p)
	state, nonce, verifier, _ := oidc.NewState()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	cb := p.Login(t, browser, rp.AuthURL(state, nonce, verifier))
	if cb.Scheme+"://"+cb.Host+cb.Path != p.RedirectURL || cb.Query().Get("state") != state || cb.Query().Get("code") == "" {
		t.Fatalf("callback %s", cb)
	}
	if n := appHits.Load(); n != 0 {
		t.Fatalf("the application was requested %d times", n)
	}
	if browser.CheckRedirect != nil || browser.Jar != jar {
		t.Fatal("Login modified the caller's client")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	claims, err := rp.Exchange(ctx, cb.Query().Get("code"), verifier, nonce)
	if err != nil {
		t.Fatal(err)
	}
	want := oidc.Claims{Subject: p.Subject, Name: "李四", PhoneNumber: "13900001111", IDNumber: "11010519491231002X", PhoneVerified: true}
	if claims != want {
		t.Fatalf("claims\n got %+v\nwant %+v", claims, want)
	}
}

// Claims left empty in User are not released at all.
func TestEmptyClaimsAreLeftOut(t *testing.T) {
	p := oidctest.StartWith(t, "https://zwfw.example.gov.cn/cb", oidctest.User{Username: "wangwu", Password: "pw"},
		oidctest.Options{ClaimsInIDToken: true})
	rp := relyingParty(t, p)
	state, nonce, verifier, _ := oidc.NewState()
	cb := p.Login(t, nil, rp.AuthURL(state, nonce, verifier))
	claims, err := rp.Exchange(context.Background(), cb.Query().Get("code"), verifier, nonce)
	if err != nil {
		t.Fatal(err)
	}
	if claims != (oidc.Claims{Subject: "u-wangwu"}) {
		t.Fatalf("claims %+v", claims)
	}
	if p.Requests("/userinfo") != 1 {
		t.Errorf("userinfo requested %d times; the claims were missing, so it should be asked once", p.Requests("/userinfo"))
	}
}

func TestTryLoginWrongPassword(t *testing.T) {
	p := oidctest.Start(t, "https://zwfw.example.gov.cn/cb", oidctest.User{Name: "张三"})
	rp := relyingParty(t, p)
	state, nonce, verifier, _ := oidc.NewState()
	cb, err := p.TryLogin(nil, rp.AuthURL(state, nonce, verifier), p.Username, "wrong")
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("wrong password: %v, %v", cb, err)
	}
	// A fresh attempt with the right password still works.
	state, nonce, verifier, _ = oidc.NewState()
	if _, err := p.TryLogin(nil, rp.AuthURL(state, nonce, verifier), p.Username, p.Password); err != nil {
		t.Fatal(err)
	}
}

// A redirect URI the client did not register is refused by the provider,
// which then does not send the browser anywhere.
func TestUnregisteredRedirectRefused(t *testing.T) {
	p := oidctest.Start(t, "https://zwfw.example.gov.cn/cb", oidctest.User{})
	rp := relyingParty(t, p)
	state, nonce, verifier, _ := oidc.NewState()
	au := strings.Replace(rp.AuthURL(state, nonce, verifier), "%2Fcb", "%2Fother", 1)
	if _, err := p.TryLogin(nil, au, p.Username, p.Password); err == nil {
		t.Fatal("authorization with an unregistered redirect URI went through")
	}
}

func TestDiscovery(t *testing.T) {
	p := oidctest.Start(t, "https://zwfw.example.gov.cn/cb", oidctest.User{})
	resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Issuer                string   `json:"issuer"`
		CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Issuer != p.Issuer || !strings.HasPrefix(d.AuthorizationEndpoint, p.Issuer+"/") || len(d.CodeChallengeMethods) == 0 {
		t.Fatalf("discovery %+v", d)
	}
	if p.Requests("/.well-known/openid-configuration") != 1 {
		t.Errorf("requests not counted")
	}
}
