// Package oidc is the relying-party (client) side of signing citizens in
// through a province's unified identity platform (统一身份认证) with OpenID
// Connect. It is built on github.com/zitadel/oidc/v3/pkg/client/rp.
//
// The flow is the authorization code flow with PKCE (S256) and a nonce:
//
//	state, nonce, verifier, _ := oidc.NewState()
//	// keep the three values in the citizen's session, then redirect to
//	http.Redirect(w, r, p.AuthURL(state, nonce, verifier), http.StatusFound)
//	// ... on the callback, after comparing the returned state:
//	claims, err := p.Exchange(ctx, r.FormValue("code"), verifier, nonce)
//
// Network access: every request the Provider makes (discovery, keys, token,
// userinfo, and any redirect it follows) must go to the configured issuer's
// origin (scheme, host and port); anything else is refused before it leaves
// the process. Only the authorization endpoint, which the citizen's browser
// visits, may live on another host.
package oidc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"
)

// DefaultScopes are requested when Config.Scopes is empty.
var DefaultScopes = []string{"openid", "profile", "phone"}

// DefaultIDNumberClaim is the custom claim that carries the citizen's
// 身份证号码 when Config.IDNumberClaim is empty.
const DefaultIDNumberClaim = "id_number"

// defaultTimeout bounds each request when New is given no http.Client.
const defaultTimeout = 15 * time.Second

// Config is what an administrator configures for the province's platform.
type Config struct {
	Issuer       string // e.g. https://tysfrz.example.gov.cn; must match the discovery document's "issuer" exactly
	ClientID     string
	ClientSecret string
	RedirectURL  string   // absolute URL of zwfw's callback, registered at the platform
	Scopes       []string // default: openid profile phone ("openid" is added when missing)
	// IDNumberClaim names the custom claim carrying the 身份证号码
	// (default "id_number").
	IDNumberClaim string
}

// Validate checks the configuration and reports every problem found, in
// Chinese, joined with errors.Join.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Issuer) == "" {
		errs = append(errs, errors.New("签发者地址（issuer）不能为空"))
	} else if err := validateIssuer(c.Issuer); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(c.ClientID) == "" {
		errs = append(errs, errors.New("客户端标识（client id）不能为空"))
	}
	if strings.TrimSpace(c.ClientSecret) == "" {
		errs = append(errs, errors.New("客户端密钥（client secret）不能为空"))
	}
	if strings.TrimSpace(c.RedirectURL) == "" {
		errs = append(errs, errors.New("回调地址（redirect URL）不能为空"))
	} else if u, err := url.Parse(c.RedirectURL); err != nil || !u.IsAbs() || u.Host == "" ||
		(u.Scheme != "https" && u.Scheme != "http") || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("回调地址（redirect URL）必须是以 http:// 或 https:// 开头的完整地址，且不含 # 片段：%q", c.RedirectURL))
	}
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			errs = append(errs, fmt.Errorf("授权范围（scope）不能为空或含空白：%q", s))
		}
	}
	if c.IDNumberClaim != "" && strings.TrimSpace(c.IDNumberClaim) != c.IDNumberClaim {
		errs = append(errs, fmt.Errorf("身份证号码声明名称不能含首尾空白：%q", c.IDNumberClaim))
	}
	return errors.Join(errs...)
}

func validateIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("签发者地址（issuer）不是有效的完整地址：%q", issuer)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("签发者地址（issuer）不能包含查询参数、片段或用户信息：%q", issuer)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil // tests and local development only
		}
		return fmt.Errorf("签发者地址（issuer）必须使用 https（仅 127.0.0.1 或 localhost 可用 http 测试）：%q", issuer)
	default:
		return fmt.Errorf("签发者地址（issuer）必须使用 https：%q", issuer)
	}
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

func (c Config) scopes() []string {
	s := slices.Clone(c.Scopes)
	if len(s) == 0 {
		return slices.Clone(DefaultScopes)
	}
	if !slices.Contains(s, "openid") {
		s = append([]string{"openid"}, s...)
	}
	return s
}

func (c Config) idNumberClaim() string {
	if c.IDNumberClaim == "" {
		return DefaultIDNumberClaim
	}
	return c.IDNumberClaim
}

// Error is what New and Exchange return on failure: Message is a Chinese
// sentence fit to show a citizen or an administrator, Err is the cause (for
// logs; reachable with errors.Is / errors.As).
type Error struct {
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return e.Message + "：" + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// UserMessage returns the Chinese, user-facing part of an error from this
// package, without the technical cause.
func UserMessage(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "统一身份认证登录失败，请稍后再试"
}

func fail(msg string, cause error) error { return &Error{Message: msg, Err: cause} }

// Provider is a discovered, ready-to-use connection to the identity platform.
// It is safe for concurrent use.
type Provider struct {
	cfg          Config
	rp           rp.RelyingParty
	idClaim      string
	userinfoURL  string
	authEndpoint string
}

// nonceKey carries the expected nonce to the ID-token verifier.
type nonceKey struct{}

// New checks c, fetches the issuer's discovery document and its signing keys,
// and returns a Provider. httpClient may be nil (a client with a 15 s timeout
// is used); it is never modified: requests go through a copy whose transport
// refuses every origin other than the issuer's.
func New(ctx context.Context, c Config, httpClient *http.Client) (*Provider, error) {
	if err := c.Validate(); err != nil {
		return nil, fail("统一身份认证配置有误", err)
	}
	hc := guardedClient(httpClient, c.Issuer)

	disc, err := client.Discover(ctx, c.Issuer, hc)
	if err != nil {
		if errors.Is(err, zoidc.ErrIssuerInvalid) {
			return nil, fail("统一身份认证平台返回的签发者（issuer）与配置不一致", err)
		}
		return nil, fail("无法获取统一身份认证平台的配置信息", err)
	}
	if err := checkEndpoints(c.Issuer, disc); err != nil {
		return nil, fail("统一身份认证平台的配置信息不可用", err)
	}
	if err := fetchKeys(ctx, hc, disc.JwksURI); err != nil {
		return nil, fail("无法获取统一身份认证平台的签名公钥", err)
	}

	opts := []rp.Option{
		rp.WithHTTPClient(hc),
		rp.WithSigningAlgsFromDiscovery(),
		rp.WithAuthStyle(authStyle(disc.TokenEndpointAuthMethodsSupported)),
		rp.WithVerifierOpts(rp.WithNonce(func(ctx context.Context) string {
			n, _ := ctx.Value(nonceKey{}).(string)
			return n
		})),
	}
	relying, err := rp.NewRelyingPartyOIDC(ctx, c.Issuer, c.ClientID, c.ClientSecret, c.RedirectURL, c.scopes(), opts...)
	if err != nil {
		if errors.Is(err, zoidc.ErrIssuerInvalid) {
			return nil, fail("统一身份认证平台返回的签发者（issuer）与配置不一致", err)
		}
		return nil, fail("无法获取统一身份认证平台的配置信息", err)
	}
	return &Provider{
		cfg:          c,
		rp:           relying,
		idClaim:      c.idNumberClaim(),
		userinfoURL:  relying.UserinfoEndpoint(),
		authEndpoint: disc.AuthorizationEndpoint,
	}, nil
}

// authStyle picks how the client secret is sent, from what the platform
// announces (client_secret_basic is the OIDC default).
func authStyle(methods []zoidc.AuthMethod) oauth2.AuthStyle {
	switch {
	case len(methods) == 0 || slices.Contains(methods, zoidc.AuthMethodBasic):
		return oauth2.AuthStyleInHeader
	case slices.Contains(methods, zoidc.AuthMethodPost):
		return oauth2.AuthStyleInParams
	default:
		return oauth2.AuthStyleAutoDetect
	}
}

// checkEndpoints makes sure the endpoints the server itself calls are on the
// issuer's origin, and that the authorization endpoint is a usable address.
func checkEndpoints(issuer string, d *zoidc.DiscoveryConfiguration) error {
	iss, _ := url.Parse(issuer)
	if d.AuthorizationEndpoint == "" {
		return errors.New("缺少 authorization_endpoint")
	}
	if u, err := url.Parse(d.AuthorizationEndpoint); err != nil || !u.IsAbs() || u.Host == "" ||
		(u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
		return fmt.Errorf("authorization_endpoint 不是有效的 https 地址：%q", d.AuthorizationEndpoint)
	}
	for _, e := range []struct{ name, v string }{
		{"token_endpoint", d.TokenEndpoint},
		{"jwks_uri", d.JwksURI},
		{"userinfo_endpoint", d.UserinfoEndpoint},
	} {
		if e.v == "" {
			if e.name == "userinfo_endpoint" {
				continue // optional
			}
			return fmt.Errorf("缺少 %s", e.name)
		}
		u, err := url.Parse(e.v)
		if err != nil || !sameOrigin(iss, u) {
			return fmt.Errorf("%s 不在签发者地址 %s 之下：%q", e.name, origin(iss), e.v)
		}
	}
	return nil
}

// fetchKeys loads the JWKS once so that a misconfigured platform is noticed
// when the administrator saves the configuration, not at the first login.
// Keys of types go-jose does not know are skipped, as the rp package does.
func fetchKeys(ctx context.Context, hc *http.Client, jwksURI string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURI, nil)
	if err != nil {
		return err
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := httphelper.HttpRequest(hc, req, &raw); err != nil {
		return err
	}
	usable := 0
	for _, k := range raw.Keys {
		var jwk jose.JSONWebKey
		if json.Unmarshal(k, &jwk) == nil && jwk.IsPublic() && (jwk.Use == "" || jwk.Use == "sig") {
			usable++
		}
	}
	if usable == 0 {
		return fmt.Errorf("%s 中没有可用的签名公钥", jwksURI)
	}
	return nil
}

// AuthURL returns the address to send the citizen's browser to. state, nonce
// and codeVerifier come from NewState and must be kept (server side or in a
// protected cookie) until the callback.
func (p *Provider) AuthURL(state, nonce, codeVerifier string) string {
	return rp.AuthURL(state, p.rp,
		rp.WithCodeChallenge(zoidc.NewSHACodeChallenge(codeVerifier)),
		rp.AuthURLOpt(rp.WithURLParam("nonce", nonce)),
	)
}

// NewState returns fresh random values for one sign-in attempt: state
// (compare with the callback's state parameter), nonce (pass to Exchange) and
// the PKCE code verifier (pass to Exchange). Each is 32 random bytes,
// base64url-encoded without padding (43 characters, as RFC 7636 requires).
func NewState() (state, nonce, codeVerifier string, err error) {
	var out [3]string
	for i := range out {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", "", "", fmt.Errorf("生成随机数失败：%w", err)
		}
		out[i] = base64.RawURLEncoding.EncodeToString(b[:])
	}
	return out[0], out[1], out[2], nil
}

// Claims is what zwfw learns about the citizen.
type Claims struct {
	Subject       string // "sub": stable identifier at the platform
	Name          string
	PhoneNumber   string // as sent (often E.164, e.g. +8613800138000)
	IDNumber      string // 身份证号码 from the custom claim; not validated here
	PhoneVerified bool
}

// Exchange redeems the authorization code at the token endpoint (with the
// PKCE verifier), verifies the ID token (signature against the issuer's keys,
// issuer, audience, expiry, nonce, at_hash) and returns the citizen's claims.
// Claims missing from the ID token are taken from the userinfo endpoint,
// whose "sub" must equal the ID token's.
func (p *Provider) Exchange(ctx context.Context, code, codeVerifier, nonce string) (Claims, error) {
	if code == "" {
		return Claims{}, fail("统一身份认证平台未返回授权码，请重新登录", errors.New("empty code"))
	}
	if codeVerifier == "" || nonce == "" {
		return Claims{}, fail("登录会话已失效，请重新登录", errors.New("empty code verifier or nonce"))
	}
	ctx = context.WithValue(ctx, nonceKey{}, nonce)

	tokens, err := rp.CodeExchange[*zoidc.IDTokenClaims](ctx, code, p.rp, rp.WithCodeVerifier(codeVerifier))
	if err != nil {
		var re *oauth2.RetrieveError
		switch {
		case errors.As(err, &re):
			return Claims{}, fail("授权码无效或已过期，请重新登录", err)
		case errors.Is(err, rp.ErrMissingIDToken):
			return Claims{}, fail("统一身份认证平台未返回身份令牌", err)
		case isVerificationError(err):
			return Claims{}, fail("身份令牌校验失败，请重新登录", err)
		default:
			return Claims{}, fail("无法连接统一身份认证平台，请稍后再试", err)
		}
	}
	idt := tokens.IDTokenClaims
	out := Claims{
		Subject:       idt.Subject,
		Name:          idt.Name,
		PhoneNumber:   idt.PhoneNumber,
		PhoneVerified: bool(idt.PhoneNumberVerified),
	}
	if out.IDNumber, err = stringClaim(idt.Claims, p.idClaim); err != nil {
		return Claims{}, fail("统一身份认证平台返回的身份证号码格式不正确", err)
	}

	if (out.Name == "" || out.PhoneNumber == "" || out.IDNumber == "") &&
		p.userinfoURL != "" && tokens.AccessToken != "" {
		tokenType := tokens.TokenType
		if tokenType == "" || strings.EqualFold(tokenType, "bearer") {
			tokenType = "Bearer"
		}
		ui, err := rp.Userinfo[*zoidc.UserInfo](ctx, tokens.AccessToken, tokenType, out.Subject, p.rp)
		if err != nil {
			return Claims{}, fail("无法从统一身份认证平台获取用户信息", err)
		}
		if out.Name == "" {
			out.Name = ui.Name
		}
		if out.PhoneNumber == "" {
			out.PhoneNumber = ui.PhoneNumber
			out.PhoneVerified = bool(ui.PhoneNumberVerified)
		}
		if out.IDNumber == "" {
			if out.IDNumber, err = stringClaim(ui.Claims, p.idClaim); err != nil {
				return Claims{}, fail("统一身份认证平台返回的身份证号码格式不正确", err)
			}
		}
	}
	out.Name = strings.TrimSpace(out.Name)
	out.IDNumber = strings.TrimSpace(out.IDNumber)
	return out, nil
}

func stringClaim(m map[string]any, name string) (string, error) {
	v, ok := m[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		// A number would already have lost digits (and the X check
		// character) in JSON; refuse it instead of guessing.
		return "", fmt.Errorf("claim %q is %T, want string", name, v)
	}
	return s, nil
}

// isVerificationError reports whether err comes from ID-token validation.
func isVerificationError(err error) bool {
	for _, target := range []error{
		zoidc.ErrParse, zoidc.ErrIssuerInvalid, zoidc.ErrSubjectMissing, zoidc.ErrAudience,
		zoidc.ErrAzpMissing, zoidc.ErrAzpInvalid, zoidc.ErrSignatureMissing, zoidc.ErrSignatureMultiple,
		zoidc.ErrSignatureUnsupportedAlg, zoidc.ErrSignatureInvalidPayload, zoidc.ErrSignatureInvalid,
		zoidc.ErrExpired, zoidc.ErrIatMissing, zoidc.ErrIatInFuture, zoidc.ErrIatToOld,
		zoidc.ErrNonceInvalid, zoidc.ErrAcrInvalid, zoidc.ErrAuthTimeNotPresent, zoidc.ErrAuthTimeToOld,
		zoidc.ErrAtHash,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// guardedClient returns a copy of base (or a default client) whose transport
// only talks to the issuer's origin.
func guardedClient(base *http.Client, issuer string) *http.Client {
	var hc http.Client
	if base != nil {
		hc = *base
	} else {
		hc.Timeout = defaultTimeout
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	iss, _ := url.Parse(issuer)
	hc.Transport = &originGuard{allowed: iss, next: next}
	return &hc
}

type originGuard struct {
	allowed *url.URL
	next    http.RoundTripper
}

// ErrForeignOrigin is the cause when a request to anything but the issuer's
// origin was refused.
var ErrForeignOrigin = errors.New("refused request outside the issuer's origin")

func (g *originGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if !sameOrigin(g.allowed, req.URL) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%w: %s (issuer %s)", ErrForeignOrigin, origin(req.URL), origin(g.allowed))
	}
	return g.next.RoundTrip(req)
}

func sameOrigin(a, b *url.URL) bool {
	return a != nil && b != nil && strings.EqualFold(a.Scheme, b.Scheme) && hostPort(a) == hostPort(b)
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + u.Host
}
