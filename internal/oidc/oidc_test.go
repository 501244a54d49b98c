package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/zwfw/zwfw/internal/oidc/oidctest"
)

// The tests below run a real OpenID provider (package oidctest: zitadel/oidc's
// op package with its in-memory example storage) on 127.0.0.1, and drive the
// whole authorization code flow against it the way a browser would:
// authorize → login form → callback → Exchange.

const (
	userName     = "zhangsan"
	userPassword = "Zh@ngS4n-pass"
	userID       = "u-1001"
	userPhone    = "+8613800138000"
	userIDNumber = "11010519491231002X"
	userFullName = "张三"

	otherIDNumName = "sfzhm"

	// zwfw's callback. The browser is stopped before it, so nothing has to
	// answer there.
	redirectURL = "https://zwfw.example.gov.cn/auth/oidc/callback"
)

var testUser = oidctest.User{
	Username: userName,
	Password: userPassword,
	Subject:  userID,
	Name:     userFullName,
	Phone:    userPhone,
	IDNumber: userIDNumber,
}

// The provider logs the requests it refuses; keep warnings only.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}

// startOP starts a provider; by default the profile claims come through
// userinfo only (the OIDC default for a client that gets an access token).
func startOP(t *testing.T, opts oidctest.Options) *oidctest.Provider {
	t.Helper()
	return oidctest.StartWith(t, redirectURL, testUser, opts)
}

func config(o *oidctest.Provider) Config {
	return Config{
		Issuer:       o.Issuer,
		ClientID:     o.ClientID,
		ClientSecret: o.ClientSecret,
		RedirectURL:  o.RedirectURL,
	}
}

func newProvider(t *testing.T, c Config, hc *http.Client) *Provider {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := New(ctx, c, hc)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// ---- the browser side ------------------------------------------------------

type flow struct {
	state, nonce, verifier string
	code                   string
}

// signIn plays the citizen's browser: it opens AuthURL, fills in the
// provider's login form, and follows the redirects back to the callback.
func signIn(t *testing.T, o *oidctest.Provider, p *Provider) flow {
	t.Helper()
	var f flow
	var err error
	if f.state, f.nonce, f.verifier, err = NewState(); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	final := o.Login(t, browser, p.AuthURL(f.state, f.nonce, f.verifier))
	if got := final.Scheme + "://" + final.Host + final.Path; got != p.cfg.RedirectURL {
		t.Fatalf("landed on %s, want %s", got, p.cfg.RedirectURL)
	}
	q := final.Query()
	if got := q.Get("state"); got != f.state {
		t.Fatalf("state: got %q want %q", got, f.state)
	}
	if f.code = q.Get("code"); f.code == "" {
		t.Fatalf("no code in %s", final)
	}
	return f
}

func exchange(p *Provider, code, verifier, nonce string) (Claims, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.Exchange(ctx, code, verifier, nonce)
}

var wantClaims = Claims{
	Subject:       userID,
	Name:          userFullName,
	PhoneNumber:   userPhone,
	IDNumber:      userIDNumber,
	PhoneVerified: true,
}

// ---- tests -----------------------------------------------------------------

func TestFlowClaimsFromUserinfo(t *testing.T) {
	o := startOP(t, oidctest.Options{})
	p := newProvider(t, config(o), nil)

	// The authorization request is a code flow with PKCE S256 and a nonce.
	state, nonce, verifier, err := NewState()
	if err != nil {
		t.Fatal(err)
	}
	au, err := url.Parse(p.AuthURL(state, nonce, verifier))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(verifier))
	q := au.Query()
	for k, want := range map[string]string{
		"response_type":         "code",
		"client_id":             o.ClientID,
		"redirect_uri":          redirectURL,
		"scope":                 "openid profile phone",
		"state":                 state,
		"nonce":                 nonce,
		"code_challenge":        base64.RawURLEncoding.EncodeToString(sum[:]),
		"code_challenge_method": "S256",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("auth URL %s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(au.String(), o.Issuer+"/") {
		t.Errorf("auth URL %s not at issuer %s", au, o.Issuer)
	}

	f := signIn(t, o, p)
	got, err := exchange(p, f.code, f.verifier, f.nonce)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if got != wantClaims {
		t.Fatalf("claims:\n got %+v\nwant %+v", got, wantClaims)
	}
	if n := o.Requests("/userinfo"); n != 1 {
		t.Errorf("userinfo called %d times, want 1 (claims are not in this client's ID token)", n)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/keys", "/oauth/token"} {
		if o.Requests(path) == 0 {
			t.Errorf("the provider never served %s", path)
		}
	}

	// The same code cannot be redeemed twice.
	_, err = exchange(p, f.code, f.verifier, f.nonce)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("second Exchange of the same code: got %v, want a token endpoint error", err)
	}
	if msg := UserMessage(err); msg != "授权码无效或已过期，请重新登录" {
		t.Errorf("user message %q", msg)
	}
}

func TestFlowClaimsInIDTokenCustomClaimName(t *testing.T) {
	o := startOP(t, oidctest.Options{IDNumberClaim: otherIDNumName, ClaimsInIDToken: true})
	c := config(o)
	c.IDNumberClaim = otherIDNumName
	p := newProvider(t, c, nil)

	f := signIn(t, o, p)
	got, err := exchange(p, f.code, f.verifier, f.nonce)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if got != wantClaims {
		t.Fatalf("claims:\n got %+v\nwant %+v", got, wantClaims)
	}
	if n := o.Requests("/userinfo"); n != 0 {
		t.Errorf("userinfo called %d times; everything was in the ID token", n)
	}
}

func TestIDNumberAbsentOrMalformed(t *testing.T) {
	t.Run("claim name not configured", func(t *testing.T) {
		o := startOP(t, oidctest.Options{IDNumberClaim: otherIDNumName, ClaimsInIDToken: true})
		p := newProvider(t, config(o), nil) // looks for "id_number"
		f := signIn(t, o, p)
		got, err := exchange(p, f.code, f.verifier, f.nonce)
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		want := wantClaims
		want.IDNumber = ""
		if got != want {
			t.Fatalf("claims:\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("number instead of string", func(t *testing.T) {
		o := startOP(t, oidctest.Options{IDNumberValue: 110105194912310021, ClaimsInIDToken: true})
		p := newProvider(t, config(o), nil)
		f := signIn(t, o, p)
		_, err := exchange(p, f.code, f.verifier, f.nonce)
		if err == nil || UserMessage(err) != "统一身份认证平台返回的身份证号码格式不正确" {
			t.Fatalf("got %v", err)
		}
	})
}

func TestWrongNonceRefused(t *testing.T) {
	o := startOP(t, oidctest.Options{ClaimsInIDToken: true})
	p := newProvider(t, config(o), nil)
	f := signIn(t, o, p)
	_, _, otherNonce, _ := NewState()
	_, err := exchange(p, f.code, f.verifier, otherNonce)
	if !errors.Is(err, zoidc.ErrNonceInvalid) {
		t.Fatalf("got %v, want nonce error", err)
	}
	if msg := UserMessage(err); msg != "身份令牌校验失败，请重新登录" {
		t.Errorf("user message %q", msg)
	}
	if !strings.Contains(err.Error(), "nonce") {
		t.Errorf("error %q does not name the cause", err)
	}
}

func TestTamperedCodeRefused(t *testing.T) {
	o := startOP(t, oidctest.Options{})
	p := newProvider(t, config(o), nil)
	f := signIn(t, o, p)

	for _, code := range []string{f.code + "x", "x" + f.code[1:], "not-a-code"} {
		_, err := exchange(p, code, f.verifier, f.nonce)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			t.Fatalf("code %q: got %v, want a token endpoint error", code, err)
		}
		if re.ErrorCode != "invalid_grant" {
			t.Errorf("code %q: error code %q, want invalid_grant", code, re.ErrorCode)
		}
	}
	// The untouched code still works: the refusals were about the tampering.
	if _, err := exchange(p, f.code, f.verifier, f.nonce); err != nil {
		t.Fatalf("genuine code after tampered attempts: %v", err)
	}
}

func TestWrongCodeVerifierRefused(t *testing.T) {
	o := startOP(t, oidctest.Options{})
	p := newProvider(t, config(o), nil)
	f := signIn(t, o, p)
	_, _, otherVerifier, _ := NewState()
	_, err := exchange(p, f.code, otherVerifier, f.nonce)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want the provider to refuse the PKCE verifier", err)
	}
}

func TestWrongClientSecretRefused(t *testing.T) {
	o := startOP(t, oidctest.Options{})
	c := config(o)
	c.ClientSecret = "wrong"
	p := newProvider(t, c, nil) // discovery does not need the secret
	f := signIn(t, o, p)
	_, err := exchange(p, f.code, f.verifier, f.nonce)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want the token endpoint to refuse the client", err)
	}
}

// tamperIDToken rewrites the "sub" inside the ID token of the provider's real
// token response without re-signing it, as an attacker between zwfw and the
// platform would.
type tamperIDToken struct{ next http.RoundTripper }

func (tt tamperIDToken) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := tt.next.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/oauth/token") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var tok map[string]any
	if err := json.Unmarshal(body, &tok); err != nil {
		return nil, err
	}
	parts := strings.Split(tok["id_token"].(string), ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, err
	}
	claims["sub"] = "attacker"
	payload, _ = json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	tok["id_token"] = strings.Join(parts, ".")
	body, _ = json.Marshal(tok)
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func TestTamperedIDTokenRefused(t *testing.T) {
	o := startOP(t, oidctest.Options{ClaimsInIDToken: true})
	hc := &http.Client{Transport: tamperIDToken{http.DefaultTransport}, Timeout: 5 * time.Second}
	p := newProvider(t, config(o), hc)
	f := signIn(t, o, p)
	_, err := exchange(p, f.code, f.verifier, f.nonce)
	if !errors.Is(err, zoidc.ErrSignatureInvalid) {
		t.Fatalf("got %v, want a signature error", err)
	}
	if msg := UserMessage(err); msg != "身份令牌校验失败，请重新登录" {
		t.Errorf("user message %q", msg)
	}
}

func TestIssuerMismatchRefused(t *testing.T) {
	o := startOP(t, oidctest.Options{})
	port := strings.TrimPrefix(o.Issuer, "http://127.0.0.1:")
	for _, issuer := range []string{
		"http://localhost:" + port, // same server, but not the issuer it names
		o.Issuer + "/",             // issuers compare exactly
	} {
		c := config(o)
		c.Issuer = issuer
		_, err := New(context.Background(), c, nil)
		if !errors.Is(err, zoidc.ErrIssuerInvalid) {
			t.Errorf("issuer %s: got %v, want issuer mismatch", issuer, err)
			continue
		}
		if msg := UserMessage(err); msg != "统一身份认证平台返回的签发者（issuer）与配置不一致" {
			t.Errorf("user message %q", msg)
		}
	}
}

func TestUnreachableIssuer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler()) // not an OpenID provider
	defer srv.Close()
	c := Config{Issuer: srv.URL, ClientID: "a", ClientSecret: "b", RedirectURL: "https://zwfw.example/cb"}
	_, err := New(context.Background(), c, nil)
	if err == nil || UserMessage(err) != "无法获取统一身份认证平台的配置信息" {
		t.Fatalf("got %v", err)
	}
}

// The Provider's HTTP client talks to the issuer's origin and nowhere else.
func TestOnlyIssuerOriginIsContacted(t *testing.T) {
	var hit atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit.Add(1) }))
	defer other.Close()
	issuer := httptest.NewServer(http.RedirectHandler(other.URL+"/elsewhere", http.StatusFound))
	defer issuer.Close()

	hc := guardedClient(nil, issuer.URL)
	if _, err := hc.Get(other.URL + "/keys"); !errors.Is(err, ErrForeignOrigin) {
		t.Errorf("direct request elsewhere: got %v", err)
	}
	if _, err := hc.Get(issuer.URL + "/redirects"); !errors.Is(err, ErrForeignOrigin) {
		t.Errorf("redirect elsewhere: got %v", err)
	}
	if hit.Load() != 0 {
		t.Errorf("the other server was contacted %d times", hit.Load())
	}

	// Discovery documents that send the server elsewhere are refused up front.
	iss, _ := url.Parse("https://idp.example.gov.cn")
	good := &zoidc.DiscoveryConfiguration{
		AuthorizationEndpoint: "https://login.example.gov.cn/authorize", // browser only: may differ
		TokenEndpoint:         "https://idp.example.gov.cn:443/token",
		JwksURI:               "https://IDP.example.gov.cn/keys",
	}
	if err := checkEndpoints(iss.String(), good); err != nil {
		t.Errorf("good endpoints refused: %v", err)
	}
	for name, mutate := range map[string]func(*zoidc.DiscoveryConfiguration){
		"token elsewhere":    func(d *zoidc.DiscoveryConfiguration) { d.TokenEndpoint = "https://evil.example/token" },
		"keys over http":     func(d *zoidc.DiscoveryConfiguration) { d.JwksURI = "http://idp.example.gov.cn/keys" },
		"keys other port":    func(d *zoidc.DiscoveryConfiguration) { d.JwksURI = "https://idp.example.gov.cn:8443/keys" },
		"userinfo elsewhere": func(d *zoidc.DiscoveryConfiguration) { d.UserinfoEndpoint = "https://evil.example/ui" },
		"no token endpoint":  func(d *zoidc.DiscoveryConfiguration) { d.TokenEndpoint = "" },
		"auth over http":     func(d *zoidc.DiscoveryConfiguration) { d.AuthorizationEndpoint = "http://login.example.gov.cn/a" },
	} {
		d := *good
		mutate(&d)
		if err := checkEndpoints(iss.String(), &d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Config{
		Issuer:       "https://tysfrz.example.gov.cn",
		ClientID:     "zwfw",
		ClientSecret: "secret",
		RedirectURL:  "https://zwfw.example.gov.cn/auth/oidc/callback",
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // substring of the error; "" means valid
	}{
		{"valid", func(*Config) {}, ""},
		{"issuer with path", func(c *Config) { c.Issuer = "https://idp.example.gov.cn/realms/gov" }, ""},
		{"http localhost", func(c *Config) { c.Issuer = "http://localhost:8080" }, ""},
		{"http 127.0.0.1", func(c *Config) { c.Issuer = "http://127.0.0.1:9000" }, ""},
		{"http ipv6 loopback", func(c *Config) { c.Issuer = "http://[::1]:9000" }, ""},
		{"scopes given", func(c *Config) { c.Scopes = []string{"openid", "profile", "idcard"} }, ""},
		{"custom id claim", func(c *Config) { c.IDNumberClaim = "sfzh" }, ""},
		{"http redirect allowed", func(c *Config) { c.RedirectURL = "http://127.0.0.1:8080/cb" }, ""},
		{"empty issuer", func(c *Config) { c.Issuer = "" }, "签发者地址（issuer）不能为空"},
		{"blank issuer", func(c *Config) { c.Issuer = "  " }, "签发者地址（issuer）不能为空"},
		{"http public issuer", func(c *Config) { c.Issuer = "http://idp.example.gov.cn" }, "必须使用 https"},
		{"http lookalike", func(c *Config) { c.Issuer = "http://localhost.example.com" }, "必须使用 https"},
		{"ftp issuer", func(c *Config) { c.Issuer = "ftp://idp.example.gov.cn" }, "必须使用 https"},
		{"relative issuer", func(c *Config) { c.Issuer = "idp.example.gov.cn" }, "不是有效的完整地址"},
		{"issuer with query", func(c *Config) { c.Issuer = "https://idp.example.gov.cn?x=1" }, "不能包含查询参数"},
		{"issuer with userinfo", func(c *Config) { c.Issuer = "https://u:p@idp.example.gov.cn" }, "不能包含查询参数"},
		{"no client id", func(c *Config) { c.ClientID = "" }, "客户端标识（client id）不能为空"},
		{"no client secret", func(c *Config) { c.ClientSecret = " " }, "客户端密钥（client secret）不能为空"},
		{"no redirect", func(c *Config) { c.RedirectURL = "" }, "回调地址（redirect URL）不能为空"},
		{"relative redirect", func(c *Config) { c.RedirectURL = "/auth/oidc/callback" }, "必须是以 http:// 或 https:// 开头的完整地址"},
		{"redirect no host", func(c *Config) { c.RedirectURL = "https:///cb" }, "完整地址"},
		{"redirect javascript", func(c *Config) { c.RedirectURL = "javascript:alert(1)" }, "完整地址"},
		{"redirect fragment", func(c *Config) { c.RedirectURL = "https://zwfw.example.gov.cn/cb#x" }, "不含 # 片段"},
		{"scope with space", func(c *Config) { c.Scopes = []string{"openid profile"} }, "授权范围（scope）"},
		{"empty scope", func(c *Config) { c.Scopes = []string{"openid", ""} }, "授权范围（scope）"},
		{"id claim blank edge", func(c *Config) { c.IDNumberClaim = " sfzh" }, "身份证号码声明名称"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mutate(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("accepted, want error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}

	// All problems are reported at once.
	err := Config{}.Validate()
	for _, want := range []string{"issuer", "client id", "client secret", "redirect URL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("empty config: %v lacks %q", err, want)
		}
	}
	// New refuses an invalid config without any network access.
	if _, err := New(context.Background(), Config{Issuer: "http://idp.example.gov.cn"}, nil); err == nil ||
		UserMessage(err) != "统一身份认证配置有误" {
		t.Errorf("New with invalid config: %v", err)
	}
}

func TestScopesDefaultAndOpenID(t *testing.T) {
	if got := fmt.Sprint(Config{}.scopes()); got != "[openid profile phone]" {
		t.Errorf("default scopes %s", got)
	}
	if got := fmt.Sprint(Config{Scopes: []string{"profile", "idcard"}}.scopes()); got != "[openid profile idcard]" {
		t.Errorf("scopes without openid %s", got)
	}
	c := Config{}
	c.scopes()[0] = "mutated"
	if DefaultScopes[0] != "openid" {
		t.Error("DefaultScopes was aliased")
	}
}

func TestNewState(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		s, n, v, err := NewState()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range []string{s, n, v} {
			if len(x) != 43 {
				t.Fatalf("%q: length %d, want 43", x, len(x))
			}
			if _, err := base64.RawURLEncoding.DecodeString(x); err != nil {
				t.Fatalf("%q is not base64url: %v", x, err)
			}
			if seen[x] {
				t.Fatalf("%q repeated", x)
			}
			seen[x] = true
		}
	}
}

func TestExchangeRefusesMissingInputs(t *testing.T) {
	p := &Provider{} // never reached: refused before any request
	for _, in := range [][3]string{{"", "v", "n"}, {"c", "", "n"}, {"c", "v", ""}} {
		if _, err := p.Exchange(context.Background(), in[0], in[1], in[2]); err == nil {
			t.Errorf("Exchange%q accepted", in)
		}
	}
}
