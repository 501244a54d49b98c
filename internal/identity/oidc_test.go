package identity_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/oidc"
	"github.com/zwfw/zwfw/internal/oidc/oidctest"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// What the province's platform says about 张三 (idNumber and mobile are the
// fixtures' own, so that a phone-registered account can be matched).
var platformClaims = oidc.Claims{
	Subject:       "tysfrz-7f3a91",
	Name:          "张三",
	PhoneNumber:   "+86" + mobile,
	IDNumber:      idNumber,
	PhoneVerified: true,
}

// Another valid identity number (checked in TestOIDCOtherIDNumberIsValid).
const otherIDNumber = "110105198512120014"

// syncBuffer collects the service's log for inspection.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newLoggedFixture is newFixture with the service's log kept (at debug
// level) so that tests can check what it says.
func newLoggedFixture(t *testing.T, db *store.DB) (fixture, *syncBuffer) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
	if _, err := demo.SeedDistrict(context.Background(), db, clk); err != nil {
		t.Fatal(err)
	}
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.ParseKeys(enc, idx)
	if err != nil {
		t.Fatal(err)
	}
	logs := new(syncBuffer)
	dev := sms.NewDev(slog.New(slog.DiscardHandler), 20)
	svc := identity.New(db, identity.Options{Keys: keys, SMS: dev, Clock: clk, RequireTOTP: true,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	return fixture{db, svc, clk, dev, keys}, logs
}

func scalar(t *testing.T, db *store.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Read().QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// signedIn returns the account a session token belongs to.
func (f fixture) signedIn(t *testing.T, token string) identity.Account {
	t.Helper()
	ctx := context.Background()
	sess, err := f.svc.Authenticate(ctx, token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if sess.Subject.Kind != policy.Person {
		t.Fatalf("subject %+v", sess.Subject)
	}
	acc, err := f.svc.Account(ctx, sess.Subject.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func auditEntries(t *testing.T, db *store.DB, accountID int64, action string) []audit.Entry {
	t.Helper()
	entries, err := audit.Search(context.Background(), db.Read(), audit.Filter{Object: "account:" + itoa(accountID), Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func TestOIDCOtherIDNumberIsValid(t *testing.T) {
	t.Parallel()
	if c := checkChar(t, otherIDNumber[:17]); c != otherIDNumber[17:] {
		t.Fatalf("check character %s", c)
	}
}

func TestOIDCCreatesVerifiedPersonAndSignsInAgain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		people := scalar(t, db, `SELECT COUNT(*) FROM accounts WHERE kind = 'person'`)

		token, err := f.svc.SignInWithOIDC(ctx, platformClaims, meta)
		if err != nil {
			t.Fatal(err)
		}
		acc := f.signedIn(t, token)
		if acc.Name != "张三" || !acc.RealName || acc.HasPassword || acc.IDNumberMasked != "110105********002X" ||
			acc.MobileMasked != "138****5678" || acc.Disabled || acc.TOTPRequired {
			t.Fatalf("account %+v", acc)
		}
		if n := scalar(t, db, `SELECT COUNT(*) FROM accounts WHERE kind = 'person'`); n != people+1 {
			t.Fatalf("%d person accounts, want %d", n, people+1)
		}
		hist, err := f.svc.History(ctx, acc.ID, 10)
		if err != nil || len(hist) != 1 || hist[0].Method != "oidc" || !hist[0].Success || hist[0].IP != meta.IP {
			t.Fatalf("history %+v %v", hist, err)
		}
		reg := auditEntries(t, db, acc.ID, "register")
		if len(reg) != 1 || !strings.Contains(reg[0].Detail, "统一身份认证") || reg[0].ActorID != acc.ID {
			t.Fatalf("register audit %+v", reg)
		}

		// The platform's phone number is the account's: it signs in by code.
		f.clk.Advance(time.Minute)
		if err := f.svc.SendCode(ctx, mobile, identity.PurposeSignIn, meta); err != nil {
			t.Fatal(err)
		}
		tok, err := f.svc.SignInWithCode(ctx, mobile, f.lastCode(t), meta)
		if err != nil || f.signedIn(t, tok).ID != acc.ID {
			t.Fatalf("sign in by code: %v", err)
		}

		// The same subject signs in to the same account, even when the
		// platform sends fewer claims this time.
		f.clk.Advance(time.Hour)
		for _, c := range []oidc.Claims{platformClaims, {Subject: platformClaims.Subject}} {
			token2, err := f.svc.SignInWithOIDC(ctx, c, meta)
			if err != nil {
				t.Fatalf("%+v: %v", c, err)
			}
			if token2 == token || f.signedIn(t, token2).ID != acc.ID {
				t.Fatalf("second sign-in with %+v: another session or account", c)
			}
		}
		if n := scalar(t, db, `SELECT COUNT(*) FROM accounts WHERE kind = 'person'`); n != people+1 {
			t.Fatalf("signing in again opened an account: %d", n)
		}
		if in := auditEntries(t, db, acc.ID, "signin"); len(in) != 3 || !strings.Contains(in[0].Detail, "统一身份认证") {
			t.Fatalf("signin audit %+v", in)
		}
		if hist, _ := f.svc.History(ctx, acc.ID, 10); len(hist) != 4 || hist[0].Method != "oidc" {
			t.Fatalf("history %+v", hist)
		}
		// The first session is still valid.
		if _, err := f.svc.Authenticate(ctx, token); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOIDCMobileOnlyWhenVerifiedAndFree(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		other, _ := f.register(t, mobile, otherIDNumber) // someone else already has the number

		tok, err := f.svc.SignInWithOIDC(ctx, platformClaims, meta)
		if err != nil {
			t.Fatal(err)
		}
		acc := f.signedIn(t, tok)
		if acc.ID == other.ID || acc.MobileMasked != "" || !acc.RealName {
			t.Fatalf("account %+v", acc)
		}
		if got, _ := f.svc.Account(ctx, other.ID); got.MobileMasked != "138****5678" || got.RealName {
			t.Fatalf("the other account changed: %+v", got)
		}
		var sealed, idx *string
		if err := db.Read().QueryRow(ctx, `SELECT mobile_sealed, mobile_index FROM accounts WHERE id = ?`, acc.ID).Scan(&sealed, &idx); err != nil {
			t.Fatal(err)
		}
		if sealed != nil || idx != nil {
			t.Fatalf("mobile columns %v %v, want NULL", sealed, idx)
		}

		// A number the platform did not verify, or cannot be a mobile
		// number, is not kept either.
		for i, c := range []oidc.Claims{
			{Subject: "s-unverified", Name: "李四", IDNumber: "11010519900307123" + checkChar(t, "11010519900307123"), PhoneNumber: "13900001111"},
			{Subject: "s-landline", Name: "王五", IDNumber: "11010519800101001" + checkChar(t, "11010519800101001"), PhoneNumber: "010-12345678", PhoneVerified: true},
		} {
			tok, err := f.svc.SignInWithOIDC(ctx, c, meta)
			if err != nil {
				t.Fatalf("%d: %v", i, err)
			}
			if a := f.signedIn(t, tok); a.MobileMasked != "" || a.Name != c.Name || !a.RealName {
				t.Fatalf("%d: account %+v", i, a)
			}
		}
	})
}

func TestOIDCLinksPhoneRegisteredAccount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		reg, _ := f.register(t, mobile, idNumber)
		if reg.RealName {
			t.Fatal("a phone registration is not 实名 without a verifier")
		}
		people := scalar(t, db, `SELECT COUNT(*) FROM accounts WHERE kind = 'person'`)

		c := platformClaims
		c.IDNumber = strings.ToLower(idNumber) // the platform's spelling does not matter
		c.Name = "张三丰"                         // the platform's name replaces the one typed at registration
		c.PhoneNumber = "13900001111"
		tok, err := f.svc.SignInWithOIDC(ctx, c, meta)
		if err != nil {
			t.Fatal(err)
		}
		acc := f.signedIn(t, tok)
		if acc.ID != reg.ID || !acc.RealName || acc.Name != "张三丰" || acc.MobileMasked != "138****5678" || !acc.HasPassword {
			t.Fatalf("linked account %+v (registered %+v)", acc, reg)
		}
		if n := scalar(t, db, `SELECT COUNT(*) FROM accounts WHERE kind = 'person'`); n != people {
			t.Fatalf("linking opened an account")
		}
		in := auditEntries(t, db, reg.ID, "signin")
		if len(in) != 1 || !strings.Contains(in[0].Detail, "统一身份认证") || !strings.Contains(in[0].Detail, "关联") {
			t.Fatalf("signin audit %+v", in)
		}
		// The password still works, and the subject now finds the account.
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "Zhangsan-2026!", meta); err != nil {
			t.Fatal(err)
		}
		tok, err = f.svc.SignInWithOIDC(ctx, oidc.Claims{Subject: c.Subject}, meta)
		if err != nil || f.signedIn(t, tok).ID != reg.ID {
			t.Fatalf("by subject after linking: %v", err)
		}

		// Another platform identity with the same number is not let in.
		before := scalar(t, db, `SELECT COUNT(*) FROM sessions`)
		intruder := c
		intruder.Subject = "tysfrz-other"
		if _, err := f.svc.SignInWithOIDC(ctx, intruder, meta); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("second subject for one number: %v", err)
		}
		if n := scalar(t, db, `SELECT COUNT(*) FROM sessions`); n != before {
			t.Fatal("a session was opened")
		}
		if n := scalar(t, db, `SELECT COUNT(*) FROM accounts WHERE oidc_subject = ?`, intruder.Subject); n != 0 {
			t.Fatal("the second subject was linked")
		}
		if hist, _ := f.svc.History(ctx, reg.ID, 1); len(hist) != 1 || hist[0].Success || hist[0].Method != "oidc" {
			t.Fatalf("refusal not recorded: %+v", hist)
		}
	})
}

func TestOIDCDisabledAccountRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)

		// Linked by subject.
		tok, err := f.svc.SignInWithOIDC(ctx, platformClaims, meta)
		if err != nil {
			t.Fatal(err)
		}
		acc := f.signedIn(t, tok)
		if err := f.svc.SetDisabled(ctx, testAdmin, meta, acc.ID, true); err != nil {
			t.Fatal(err)
		}
		before := scalar(t, db, `SELECT COUNT(*) FROM sessions`)
		if _, err := f.svc.SignInWithOIDC(ctx, platformClaims, meta); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("disabled account by subject: %v", err)
		}
		if n := scalar(t, db, `SELECT COUNT(*) FROM sessions`); n != before {
			t.Fatal("a session was opened for a disabled account")
		}
		if hist, _ := f.svc.History(ctx, acc.ID, 1); len(hist) != 1 || hist[0].Success || hist[0].Reason != "账户已停用" {
			t.Fatalf("history %+v", hist)
		}
		if failed := auditEntries(t, db, acc.ID, "signin_failed"); len(failed) != 1 {
			t.Fatalf("signin_failed audit %+v", failed)
		}

		// Found by ID number: refused, and not linked.
		reg, _ := f.register(t, "13900001111", otherIDNumber)
		if err := f.svc.SetDisabled(ctx, testAdmin, meta, reg.ID, true); err != nil {
			t.Fatal(err)
		}
		c := oidc.Claims{Subject: "tysfrz-disabled", Name: "张三", IDNumber: otherIDNumber}
		if _, err := f.svc.SignInWithOIDC(ctx, c, meta); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("disabled account by number: %v", err)
		}
		if got, _ := f.svc.Account(ctx, reg.ID); got.RealName {
			t.Fatal("a disabled account was marked 实名")
		}
		if n := scalar(t, db, `SELECT COUNT(*) FROM accounts WHERE oidc_subject = ?`, c.Subject); n != 0 {
			t.Fatal("a disabled account was linked")
		}
	})
}

func TestOIDCBadClaimsRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f, logs := newLoggedFixture(t, db)
		with := func(mutate func(*oidc.Claims)) oidc.Claims {
			c := platformClaims
			mutate(&c)
			return c
		}
		const noID = "统一身份认证未提供有效的身份证号码，无法登录。"
		tests := []struct {
			name   string
			claims oidc.Claims
			want   string // the Chinese message, or "" for any
		}{
			{"no subject", with(func(c *oidc.Claims) { c.Subject = "" }), ""},
			{"blank subject", with(func(c *oidc.Claims) { c.Subject = "  " }), ""},
			{"huge subject", with(func(c *oidc.Claims) { c.Subject = strings.Repeat("s", 300) }), ""},
			{"no id number", with(func(c *oidc.Claims) { c.IDNumber = "" }), noID},
			{"bad check character", with(func(c *oidc.Claims) { c.IDNumber = "110105194912310021" }), noID},
			{"15 digits", with(func(c *oidc.Claims) { c.IDNumber = "110105491231002" }), noID},
			{"born tomorrow", with(func(c *oidc.Claims) {
				c.IDNumber = "11010520261126002" + checkChar(t, "11010520261126002")
			}), noID},
			{"no name", with(func(c *oidc.Claims) { c.Name = "" }), "统一身份认证未提供有效的姓名，无法登录。"},
			{"one character", with(func(c *oidc.Claims) { c.Name = "张" }), ""},
			{"31 characters", with(func(c *oidc.Claims) { c.Name = strings.Repeat("张", 31) }), ""},
		}
		counts := func() [4]int64 {
			return [4]int64{
				scalar(t, db, `SELECT COUNT(*) FROM accounts`),
				scalar(t, db, `SELECT COUNT(*) FROM sessions`),
				scalar(t, db, `SELECT COUNT(*) FROM sign_ins`),
				scalar(t, db, `SELECT COUNT(*) FROM audit_log`),
			}
		}
		before := counts()
		for _, tt := range tests {
			tok, err := f.svc.SignInWithOIDC(ctx, tt.claims, meta)
			if !apperr.Is(err, apperr.Invalid) || tok != "" {
				t.Errorf("%s: %q %v", tt.name, tok, err)
				continue
			}
			if msg := apperr.MessageOf(err); !strings.HasPrefix(msg, "统一身份认证未提供") || tt.want != "" && msg != tt.want {
				t.Errorf("%s: message %q", tt.name, msg)
			}
		}
		if after := counts(); after != before {
			t.Fatalf("accounts, sessions, sign-ins, audit entries: %v before, %v after", before, after)
		}
		if strings.Contains(logs.String(), "110105") || strings.Contains(logs.String(), mobile) {
			t.Fatalf("identifiers in the log:\n%s", logs)
		}
	})
}

// Nothing the platform sends about a person's numbers is written in clear:
// not in the audit log, the sign-in history, the service's log, nor any
// account column but the sealed ones.
func TestOIDCNoPlaintextIdentifiers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f, logs := newLoggedFixture(t, db)
		f.register(t, "13900001111", otherIDNumber)
		// Create, sign in again, link, and be refused: every path writes.
		if _, err := f.svc.SignInWithOIDC(ctx, platformClaims, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SignInWithOIDC(ctx, platformClaims, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SignInWithOIDC(ctx, oidc.Claims{Subject: "s-2", Name: "李四", IDNumber: otherIDNumber, PhoneNumber: "+8613900001111", PhoneVerified: true}, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SignInWithOIDC(ctx, oidc.Claims{Subject: "s-3", Name: "李四", IDNumber: otherIDNumber}, meta); err == nil {
			t.Fatal("second subject accepted")
		}
		if _, err := f.svc.SignInWithOIDC(ctx, oidc.Claims{Subject: "s-4", Name: "王五", IDNumber: "110105194912310021"}, meta); err == nil {
			t.Fatal("bad number accepted")
		}

		secrets := []string{idNumber, strings.ToLower(idNumber), otherIDNumber, mobile, "13900001111", "1949123", "1985121"}
		var dump strings.Builder
		for _, q := range []string{
			`SELECT actor || '|' || action || '|' || object || '|' || detail || '|' || ip FROM audit_log`,
			`SELECT method || '|' || reason || '|' || ip || '|' || client FROM sign_ins`,
			`SELECT name || '|' || COALESCE(id_number_index, '') || '|' || id_number_masked || '|' || COALESCE(mobile_index, '') || '|' ||
				mobile_masked || '|' || COALESCE(oidc_subject, '') FROM accounts`,
		} {
			rows, err := db.Read().Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				dump.WriteString(s + "\n")
			}
			rows.Close()
		}
		dump.WriteString(logs.String())
		for _, s := range secrets {
			if strings.Contains(dump.String(), s) {
				t.Errorf("%q written in clear:\n%s", s, dump.String())
			}
		}
		if !strings.Contains(dump.String(), "统一身份认证") {
			t.Errorf("no audit entry mentions 统一身份认证:\n%s", dump.String())
		}
		if _, broken, err := audit.Verify(ctx, db.Read(), db.ChainKeys()); err != nil || len(broken) > 0 {
			t.Fatalf("audit chain: %v %v", broken, err)
		}
	})
}

// The whole chain against a real OpenID provider: authorization URL, the
// provider's login form, the code exchange with PKCE and nonce, then the
// identity service's sign-in and the session it opens.
func TestOIDCEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		f := newFixture(t, db)
		reg, _ := f.register(t, mobile, idNumber) // to be linked by the ID number

		op := oidctest.Start(t, "https://zwfw.example.gov.cn/auth/oidc/callback", oidctest.User{
			Name: "张三", Phone: "+86 138-1234-5678", IDNumber: idNumber})
		rp, err := oidc.New(ctx, oidc.Config{Issuer: op.Issuer, ClientID: op.ClientID, ClientSecret: op.ClientSecret,
			RedirectURL: op.RedirectURL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}

		signIn := func() identity.Account {
			t.Helper()
			state, nonce, verifier, err := oidc.NewState()
			if err != nil {
				t.Fatal(err)
			}
			cb := op.Login(t, browser, rp.AuthURL(state, nonce, verifier))
			if cb.Query().Get("state") != state {
				t.Fatalf("state %q, want %q", cb.Query().Get("state"), state)
			}
			claims, err := rp.Exchange(ctx, cb.Query().Get("code"), verifier, nonce)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if claims.Subject != op.Subject || claims.IDNumber != idNumber || claims.Name != "张三" {
				t.Fatalf("claims %+v", claims)
			}
			token, err := f.svc.SignInWithOIDC(ctx, claims, meta)
			if err != nil {
				t.Fatalf("SignInWithOIDC: %v", err)
			}
			return f.signedIn(t, token)
		}

		acc := signIn()
		if acc.ID != reg.ID || !acc.RealName {
			t.Fatalf("first sign-in: %+v, want the registered account %d, 实名", acc, reg.ID)
		}
		f.clk.Advance(time.Hour)
		if again := signIn(); again.ID != reg.ID {
			t.Fatalf("second sign-in reached account %d", again.ID)
		}
		var subject string
		if err := db.Read().QueryRow(ctx, `SELECT oidc_subject FROM accounts WHERE id = ?`, reg.ID).Scan(&subject); err != nil || subject != op.Subject {
			t.Fatalf("oidc_subject %q %v", subject, err)
		}
		hist, _ := f.svc.History(ctx, reg.ID, 10)
		if len(hist) < 2 || hist[0].Method != "oidc" || hist[1].Method != "oidc" || !hist[0].Success {
			t.Fatalf("history %+v", hist)
		}
		if op.Requests("/oauth/token") != 2 {
			t.Errorf("token endpoint used %d times, want 2", op.Requests("/oauth/token"))
		}
	})
}
