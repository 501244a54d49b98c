// Package oidctest runs a real OpenID provider for tests: zitadel/oidc's op
// package with its in-memory example storage, on an httptest server at
// 127.0.0.1, playing the province's unified identity platform (统一身份认证).
// It serves discovery, authorize, a login form, token, keys and userinfo,
// signs ID tokens with a fresh RSA key, and knows one confidential client
// and one user, whose 身份证号码 it releases in a custom claim with the
// "profile" scope.
//
//	p := oidctest.Start(t, "http://127.0.0.1:8080/auth/oidc/callback", oidctest.User{
//		Name: "张三", Phone: "+8613800138000", IDNumber: "11010519491231002X"})
//	rp, _ := oidc.New(ctx, oidc.Config{Issuer: p.Issuer, ClientID: p.ClientID,
//		ClientSecret: p.ClientSecret, RedirectURL: p.RedirectURL}, nil)
//	cb := p.Login(t, browser, rp.AuthURL(state, nonce, verifier))
//	claims, _ := rp.Exchange(ctx, cb.Query().Get("code"), verifier, nonce)
//
// The package is for tests only. It does not import package oidc, so that
// package's own (internal) tests can use it without an import cycle.
package oidctest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// DefaultIDNumberClaim is the claim that carries User.IDNumber when
// Options.IDNumberClaim is empty; it is the relying party's default too
// (oidc.DefaultIDNumberClaim).
const DefaultIDNumberClaim = "id_number"

// DefaultClientID is the registered client's identifier.
const DefaultClientID = "zwfw"

// User is the one person the provider knows.
type User struct {
	Username string // default "zhangsan"
	Password string // default "Zh@ngS4n-pass"
	Subject  string // the "sub" claim; default "u-" + Username

	// Released with the "profile" scope ("name" and the ID number claim)
	// and the "phone" scope ("phone_number", verified). Empty values are
	// not released, so a test can leave a claim out.
	Name     string
	Phone    string
	IDNumber string
}

// Options change how the provider behaves; the zero value is a platform
// that releases profile claims through userinfo only (the OIDC default).
type Options struct {
	// IDNumberClaim names the custom claim carrying User.IDNumber
	// (default DefaultIDNumberClaim).
	IDNumberClaim string
	// IDNumberValue, when not nil, is released as the claim's value instead
	// of User.IDNumber: a number, say, to test that it is refused.
	IDNumberValue any
	// ClaimsInIDToken also puts the profile and phone claims into the ID
	// token, as many platforms do.
	ClaimsInIDToken bool
}

// Provider is a running OpenID provider. Its fields are what a relying
// party is configured with, and what a person types into the login form.
type Provider struct {
	Issuer        string // http://127.0.0.1:port, no trailing slash
	ClientID      string
	ClientSecret  string // random per provider
	RedirectURL   string // the one redirect URI registered for ClientID
	IDNumberClaim string

	Username, Password string
	Subject            string

	redirect *url.URL
	hits     sync.Map // path → *atomic.Int64
}

// Start runs a provider until the end of t. It registers one confidential
// client (ClientID, ClientSecret, client_secret_basic or _post, PKCE S256)
// whose only redirect URI is redirectURL, and the one user.
func Start(t testing.TB, redirectURL string, user User) *Provider {
	t.Helper()
	return StartWith(t, redirectURL, user, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, redirectURL string, user User, opt Options) *Provider {
	t.Helper()
	ru, err := url.Parse(redirectURL)
	if err != nil || !ru.IsAbs() || ru.Host == "" {
		t.Fatalf("oidctest: redirect URL %q is not an absolute URL", redirectURL)
	}
	if user.Username == "" {
		user.Username = "zhangsan"
	}
	if user.Password == "" {
		user.Password = "Zh@ngS4n-pass"
	}
	if user.Subject == "" {
		user.Subject = "u-" + user.Username
	}
	if opt.IDNumberClaim == "" {
		opt.IDNumberClaim = DefaultIDNumberClaim
	}

	srv := httptest.NewUnstartedServer(nil) // already listening on 127.0.0.1:0
	p := &Provider{
		Issuer:        "http://" + srv.Listener.Addr().String(),
		ClientID:      DefaultClientID,
		ClientSecret:  randomString(t),
		RedirectURL:   redirectURL,
		IDNumberClaim: opt.IDNumberClaim,
		Username:      user.Username,
		Password:      user.Password,
		Subject:       user.Subject,
		redirect:      ru,
	}

	st := &opStorage{
		Storage: storage.NewStorageWithClients( // generates an RSA-2048 signing key
			users{user.Subject: {
				ID:                user.Subject,
				Username:          user.Username,
				Password:          user.Password,
				Phone:             user.Phone,
				PhoneVerified:     user.Phone != "",
				PreferredLanguage: language.Chinese,
			}},
			map[string]*storage.Client{p.ClientID: storage.WebClient(p.ClientID, p.ClientSecret, redirectURL)},
		),
		subject:  user.Subject,
		name:     user.Name,
		idClaim:  opt.IDNumberClaim,
		idNumber: opt.IDNumberValue,
		inToken:  opt.ClaimsInIDToken,
	}
	if st.idNumber == nil && user.IDNumber != "" {
		st.idNumber = user.IDNumber
	}

	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		t.Fatal(err)
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:                key,
		CryptoKeyId:              "oidctest",
		DefaultLogoutRedirectURI: "/logged-out",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		SupportedUILocales:       []language.Tag{language.Chinese},
	}, st, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}

	mux := http.NewServeMux()
	// The example storage sends the browser to /login/username?authRequestID=…
	l := &loginUI{storage: st, callback: op.AuthCallbackURL(provider)}
	mux.Handle("/login/username", op.NewIssuerInterceptor(provider.IssuerFromRequest).HandlerFunc(l.serve))
	mux.Handle("/", provider)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := p.hits.LoadOrStore(r.URL.Path, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		mux.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// Requests reports how many requests the provider has served at path, e.g.
// "/userinfo", "/oauth/token", "/keys", "/.well-known/openid-configuration".
func (p *Provider) Requests(path string) int64 {
	if v, ok := p.hits.Load(path); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// Login plays the person's browser from authURL (a relying party's
// authorization URL) to the redirect URL: it opens the provider's login
// page, submits Username and Password, and follows the provider's
// redirects. It stops when the next address is the registered redirect URL
// (scheme, host and path), without requesting it, and returns that address
// with its code and state. The test fails unless it carries a code.
//
// client keeps its cookie jar, transport and timeout; it is not modified
// (a copy with a redirect check is used). A nil client, or one without a
// jar, gets a fresh jar.
func (p *Provider) Login(t testing.TB, client *http.Client, authURL string) (callbackURL *url.URL) {
	t.Helper()
	cb, err := p.TryLogin(client, authURL, p.Username, p.Password)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	if cb.Query().Get("code") == "" {
		t.Fatalf("oidctest: the provider returned to %s without a code", cb.Redacted())
	}
	return cb
}

// TryLogin is Login with any user name and password, for tests of what goes
// wrong. It returns the redirect URL as soon as the provider sends the
// browser there, whatever it carries (a code, or error=… when the provider
// refuses the authorization request before the login form). A refused
// password, a missing login form, or never reaching the redirect URL is an
// error.
func (p *Provider) TryLogin(client *http.Client, authURL, username, password string) (*url.URL, error) {
	b := p.browser(client)

	resp, err := b.Get(authURL)
	if err != nil {
		return nil, fmt.Errorf("GET authorization URL: %w", err)
	}
	page, err := readBody(resp)
	if err != nil {
		return nil, err
	}
	if cb := p.callback(resp); cb != nil {
		return cb, nil
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/login/") {
		return nil, fmt.Errorf("expected the provider's login page, got %d at %s: %s", resp.StatusCode, resp.Request.URL, excerpt(page))
	}
	m := formActionRE.FindStringSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("no login form at %s: %s", resp.Request.URL, excerpt(page))
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return nil, fmt.Errorf("login form action: %w", err)
	}
	form := url.Values{}
	for _, h := range hiddenRE.FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	form.Set("username", username)
	form.Set("password", password)

	resp, err = b.PostForm(action.String(), form)
	if err != nil {
		return nil, fmt.Errorf("POST login form: %w", err)
	}
	page, err = readBody(resp)
	if err != nil {
		return nil, err
	}
	if cb := p.callback(resp); cb != nil {
		return cb, nil
	}
	if m := loginErrorRE.FindStringSubmatch(page); m != nil && strings.TrimSpace(m[1]) != "" {
		return nil, fmt.Errorf("the provider refused the sign-in: %s", html.UnescapeString(strings.TrimSpace(m[1])))
	}
	return nil, fmt.Errorf("expected a redirect to %s, got %d at %s: %s", p.RedirectURL, resp.StatusCode, resp.Request.URL, excerpt(page))
}

// browser returns a copy of client that stops before the redirect URL.
func (p *Provider) browser(client *http.Client) *http.Client {
	var b http.Client
	if client != nil {
		b = *client
	} else {
		b.Timeout = 10 * time.Second
	}
	if b.Jar == nil {
		b.Jar, _ = cookiejar.New(nil)
	}
	next := b.CheckRedirect
	b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if p.isRedirectURL(req.URL) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &b
}

// callback returns the redirect URL resp sends the browser to, if it does.
func (p *Provider) callback(resp *http.Response) *url.URL {
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil
	}
	loc, err := resp.Location()
	if err != nil || !p.isRedirectURL(loc) {
		return nil
	}
	return loc
}

func (p *Provider) isRedirectURL(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, p.redirect.Scheme) && strings.EqualFold(u.Host, p.redirect.Host) &&
		u.Path == p.redirect.Path
}

var (
	formActionRE = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	hiddenRE     = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)
	loginErrorRE = regexp.MustCompile(`(?s)<p class="error">(.*?)</p>`)
)

func readBody(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", resp.Request.URL, err)
	}
	return string(b), nil
}

func excerpt(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}

func randomString(t testing.TB) string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ---- the provider's storage -------------------------------------------------

// users is the example storage's UserStore with one user.
type users map[string]*storage.User

func (u users) GetUserByID(id string) *storage.User { return u[id] }
func (u users) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u users) ExampleClientID() string { return "service" }

// opStorage is the library's in-memory example storage with what a
// provincial platform adds: a Chinese full name and the 身份证号码 in a
// custom claim, both released with the "profile" scope.
type opStorage struct {
	*storage.Storage
	subject  string
	name     string
	idClaim  string
	idNumber any // nil: not released
	inToken  bool
}

// assertingClient puts the profile and phone claims into the ID token even
// though an access token is issued.
type assertingClient struct{ op.Client }

func (assertingClient) IDTokenUserinfoClaimsAssertion() bool { return true }

func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil || !s.inToken {
		return c, err
	}
	return assertingClient{c}, nil
}

func (s *opStorage) addProvincialClaims(ui *zoidc.UserInfo) {
	// The example storage sets Name (to "first last") only for "profile".
	if ui.Subject != s.subject || ui.Name == "" {
		return
	}
	ui.Name, ui.GivenName, ui.FamilyName = s.name, "", ""
	if s.idNumber != nil {
		ui.AppendClaims(s.idClaim, s.idNumber)
	}
}

func (s *opStorage) SetUserinfoFromRequest(ctx context.Context, ui *zoidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, req, scopes); err != nil {
		return err
	}
	s.addProvincialClaims(ui)
	return nil
}

func (s *opStorage) SetUserinfoFromToken(ctx context.Context, ui *zoidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	s.addProvincialClaims(ui)
	return nil
}

// ---- the login page ----------------------------------------------------------

type loginUI struct {
	storage  *opStorage
	callback func(context.Context, string) string
}

var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="UTF-8"><title>统一身份认证 · 登录</title></head>
<body>
<form method="POST" action="/login/username">
<input type="hidden" name="id" value="{{.ID}}">
<label>用户名 <input name="username" autocomplete="username"></label>
<label>密码 <input name="password" type="password" autocomplete="current-password"></label>
<p class="error">{{.Error}}</p>
<button type="submit">登录</button>
</form>
</body>
</html>
`))

func (l *loginUI) serve(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		l.render(w, http.StatusOK, r.URL.Query().Get("authRequestID"), "")
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id := r.PostForm.Get("id")
		if err := l.storage.CheckUsernamePassword(r.PostForm.Get("username"), r.PostForm.Get("password"), id); err != nil {
			l.render(w, http.StatusUnauthorized, id, "用户名或密码错误（"+err.Error()+"）")
			return
		}
		http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (l *loginUI) render(w http.ResponseWriter, status int, id, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	loginPage.Execute(w, struct{ ID, Error string }{id, msg})
}
