package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// A valid identity number (GB 11643's own example) and a mobile number.
const (
	idNumber = "11010519491231002X"
	mobile   = "13812345678"
)

type fixture struct {
	db   *store.DB
	svc  *identity.Service
	clk  *clock.Manual
	sms  *sms.Dev
	keys *pii.Keys
}

var meta = identity.Meta{IP: "127.0.0.1", Client: "test"}

// testAdmin opens and changes staff accounts, as the command line does.
var testAdmin = policy.Subject{Kind: policy.Staff, Name: "测试管理员", Roles: []policy.Role{policy.Admin}}

func newFixture(t testing.TB, db *store.DB) fixture {
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
	dev := sms.NewDev(slog.New(slog.DiscardHandler), 20)
	svc := identity.New(db, identity.Options{Keys: keys, SMS: dev, Clock: clk, RequireTOTP: true})
	return fixture{db, svc, clk, dev, keys}
}

var codePattern = regexp.MustCompile(`验证码是(\d{6})`)

// lastCode reads the code from the newest SMS, as the person would.
func (f fixture) lastCode(t *testing.T) string {
	t.Helper()
	msgs := f.sms.Recent()
	if len(msgs) == 0 {
		t.Fatal("no SMS sent")
	}
	m := codePattern.FindStringSubmatch(msgs[0].Text)
	if m == nil {
		t.Fatalf("no code in %q", msgs[0].Text)
	}
	return m[1]
}

func (f fixture) register(t *testing.T, mob, id string) (identity.Account, string) {
	t.Helper()
	ctx := context.Background()
	if err := f.svc.SendCode(ctx, mob, identity.PurposeRegister, meta); err != nil {
		t.Fatal(err)
	}
	acc, token, err := f.svc.Register(ctx, identity.Registration{Name: "张三", IDNumber: id, Mobile: mob, Code: f.lastCode(t), Password: "Zhangsan-2026!", Consent: identity.PrivacyVersion}, meta)
	if err != nil {
		t.Fatal(err)
	}
	return acc, token
}

func TestRegisterAndSignInWithPhoneCode(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)

		// Bad input is refused in Chinese, before any code is used.
		if err := f.svc.SendCode(ctx, "12345", identity.PurposeRegister, meta); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("bad mobile: %v", err)
		}
		if err := f.svc.SendCode(ctx, mobile, identity.PurposeRegister, meta); err != nil {
			t.Fatal(err)
		}
		code := f.lastCode(t)
		_, _, err := f.svc.Register(ctx, identity.Registration{Name: "张三", IDNumber: "110105194912310021", Mobile: mobile, Code: code, Consent: identity.PrivacyVersion}, meta)
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "校验位") {
			t.Fatalf("bad identity number: %v", err)
		}
		_, _, err = f.svc.Register(ctx, identity.Registration{Name: "张三", IDNumber: idNumber, Mobile: mobile, Code: "000000", Consent: identity.PrivacyVersion}, meta)
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "验证码不正确") {
			t.Fatalf("wrong code: %v", err)
		}
		acc, token, err := f.svc.Register(ctx, identity.Registration{Name: "张三", IDNumber: idNumber, Mobile: mobile, Code: code, Consent: identity.PrivacyVersion}, meta)
		if err != nil {
			t.Fatal(err)
		}
		if acc.IDNumberMasked != "110105********002X" || acc.MobileMasked != "138****5678" || acc.RealName || acc.HasPassword {
			t.Fatalf("account %+v", acc)
		}
		sess, err := f.svc.Authenticate(ctx, token)
		if err != nil || sess.Subject.AccountID != acc.ID || sess.Subject.Kind != policy.Person {
			t.Fatalf("session: %+v %v", sess, err)
		}
		// A code works once.
		if _, _, err := f.svc.Register(ctx, identity.Registration{Name: "李四", IDNumber: "11010519491231002X", Mobile: mobile, Code: code, Consent: identity.PrivacyVersion}, meta); err == nil {
			t.Fatal("a used code worked again")
		}
		// Nothing personal is stored in clear.
		var row string
		db.Read().QueryRow(ctx, `SELECT id_number_sealed || mobile_sealed || id_number_index || mobile_index FROM accounts WHERE id = ?`, acc.ID).Scan(&row)
		if strings.Contains(row, idNumber) || strings.Contains(row, mobile) {
			t.Fatal("identifiers stored in clear")
		}

		// Sign in again with a code; rate limits apply.
		f.clk.Advance(2 * time.Minute)
		if err := f.svc.SendCode(ctx, mobile, identity.PurposeSignIn, meta); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SendCode(ctx, mobile, identity.PurposeSignIn, meta); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("second code within a minute: %v", err)
		}
		signIn := f.lastCode(t)
		f.clk.Advance(6 * time.Minute)
		if _, err := f.svc.SignInWithCode(ctx, mobile, signIn, meta); !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "过期") {
			t.Fatalf("expired code: %v", err)
		}
		if err := f.svc.SendCode(ctx, mobile, identity.PurposeSignIn, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SignInWithCode(ctx, mobile, f.lastCode(t), meta); err != nil {
			t.Fatal(err)
		}
		hist, err := f.svc.History(ctx, acc.ID, 10)
		if err != nil || len(hist) < 2 || !hist[0].Success || hist[1].Success {
			t.Fatalf("history %+v %v", hist, err)
		}
	})
}

func TestCodeLimitsPerNumberAndAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, storetest.SQLite(t))
	for i := 0; i < 5; i++ {
		if err := f.svc.SendCode(ctx, mobile, identity.PurposeSignIn, meta); err != nil {
			t.Fatalf("code %d: %v", i+1, err)
		}
		f.clk.Advance(61 * time.Second)
	}
	if err := f.svc.SendCode(ctx, mobile, identity.PurposeSignIn, meta); !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("sixth code in an hour: %v", err)
	}
	for i := 0; i < 15; i++ {
		mob := "1390000" + string(rune('1'+i%9)) + "00" + string(rune('0'+i/9))
		if err := f.svc.SendCode(ctx, mob, identity.PurposeSignIn, meta); err != nil {
			t.Fatalf("other number %s: %v", mob, err)
		}
	}
	if err := f.svc.SendCode(ctx, "13700000000", identity.PurposeSignIn, meta); !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("21st code from one address: %v", err)
	}
	if err := f.svc.SendCode(ctx, "13700000000", identity.PurposeSignIn, identity.Meta{IP: "10.0.0.9"}); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

func TestPasswordLockout(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.register(t, mobile, idNumber)
		for i := 0; i < 4; i++ {
			if _, err := f.svc.SignInWithPassword(ctx, mobile, "wrong-password", meta); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
		}
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "wrong-password", meta); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("fifth failure should lock: %v", err)
		}
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "Zhangsan-2026!", meta); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("locked account accepted the right password: %v", err)
		}
		// The first lock is for a minute (limits.go); longer ones follow.
		f.clk.Advance(time.Minute)
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "Zhangsan-2026!", meta); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		if _, err := f.svc.SignInWithPassword(ctx, "13900000000", "Zhangsan-2026!", meta); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("unknown number must look like a wrong password: %v", err)
		}
	})
}

func TestStaffSignInWithTOTPAndSessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		depts, err := region.NewStore(db).Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
		if err != nil {
			t.Fatal(err)
		}
		street := depts[0]
		if _, _, err := f.svc.CreateStaff(ctx, testAdmin, meta, identity.NewStaff{Username: "Bad Name", Name: "王", Password: "short"}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("bad staff input: %v", err)
		}
		acc, otpURL, err := f.svc.CreateStaff(ctx, testAdmin, meta, identity.NewStaff{Username: "wangwu", Name: "王五", DepartmentID: street.ID,
			Roles: []policy.Role{policy.Window, policy.Reviewer}, Password: "Staff-Pass-2026x"})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(otpURL)
		secret := u.Query().Get("secret")
		if secret == "" || len(acc.Roles) != 2 {
			t.Fatalf("otp url %q, account %+v", otpURL, acc)
		}
		if _, err := f.svc.SignInStaff(ctx, "wangwu", "Staff-Pass-2026x", "", meta); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("without TOTP: %v", err)
		}
		code, _ := totp.GenerateCode(secret, f.clk.Now())
		token, err := f.svc.SignInStaff(ctx, "wangwu", "Staff-Pass-2026x", code, meta)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := f.svc.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		s := sess.Subject
		if s.Kind != policy.Staff || s.DepartmentID != street.ID || s.DepartmentKind != "street_center" || s.RegionCode != street.RegionCode || !s.Has(policy.Window) {
			t.Fatalf("subject %+v", s)
		}
		// Staff sessions end after 30 idle minutes.
		f.clk.Advance(20 * time.Minute)
		if _, err := f.svc.Authenticate(ctx, token); err != nil {
			t.Fatalf("20 minutes idle: %v", err)
		}
		f.clk.Advance(31 * time.Minute)
		if _, err := f.svc.Authenticate(ctx, token); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("31 minutes idle: %v", err)
		}
		// A password change signs out the other sessions, not this one.
		code, _ = totp.GenerateCode(secret, f.clk.Now())
		a, _ := f.svc.SignInStaff(ctx, "wangwu", "Staff-Pass-2026x", code, meta)
		f.clk.Advance(30 * time.Second)
		code, _ = totp.GenerateCode(secret, f.clk.Now())
		b, _ := f.svc.SignInStaff(ctx, "wangwu", "Staff-Pass-2026x", code, meta)
		if err := f.svc.ChangePassword(ctx, acc.ID, "Staff-Pass-2026x", "Staff-New-2026x!", a, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, a); err != nil {
			t.Fatalf("the session that changed the password: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, b); err == nil {
			t.Fatal("another session survived a password change")
		}
		if err := f.svc.SetRoles(ctx, testAdmin, meta, acc.ID, []policy.Role{policy.Supervisor}); err != nil {
			t.Fatal(err)
		}
		if sess, _ := f.svc.Authenticate(ctx, a); !sess.Subject.Has(policy.Supervisor) || sess.Subject.Has(policy.Window) {
			t.Fatalf("roles after change: %v", sess.Subject.Roles)
		}
		if err := f.svc.ResetPassword(ctx, testAdmin, meta, "wangwu", "Reset-Pass-2026x"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, a); err == nil {
			t.Fatal("a reset password left sessions open")
		}
		// Everything is on the audit record, and the chain holds.
		entries, err := audit.Search(ctx, db.Read(), audit.Filter{Object: "account:" + itoa(acc.ID)})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]bool{}
		for _, e := range entries {
			actions[e.Action] = true
		}
		for _, want := range []string{"staff_create", "signin", "signin_failed", "password_change", "role_change", "password_reset"} {
			if !actions[want] {
				t.Errorf("audit lacks %s: %v", want, actions)
			}
		}
		if _, broken, err := audit.Verify(ctx, db.Read(), db.ChainKeys()); err != nil || len(broken) > 0 {
			t.Fatalf("audit chain: %v %v", broken, err)
		}
	})
}

func TestEnterpriseAgentsAndReveal(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		owner, ownerToken := f.register(t, mobile, idNumber)
		f.clk.Advance(2 * time.Minute)
		agent, agentToken := f.register(t, "13900001111", "110105199003071234"[:17]+checkChar(t, "11010519900307123"))
		outsider, outsiderToken := f.register(t, "13700002222", "110105198512120012"[:17]+checkChar(t, "11010519851212001"))
		ownerSess, _ := f.svc.Authenticate(ctx, ownerToken)
		if _, err := f.svc.RegisterEnterprise(ctx, ownerSess.Subject, "平顶山示例商贸有限公司", "91350100M000100Y4X", "张三", meta); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("bad credit code: %v", err)
		}
		e, err := f.svc.RegisterEnterprise(ctx, ownerSess.Subject, "平顶山示例商贸有限公司", "91350100M000100Y43", "张三", meta)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddAgent(ctx, ownerSess.Subject, e.ID, "13900001111", meta); err != nil {
			t.Fatal(err)
		}
		outsiderSess, _ := f.svc.Authenticate(ctx, outsiderToken)
		if err := f.svc.AddAgent(ctx, outsiderSess.Subject, e.ID, "13700002222", meta); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("outsider adding an agent: %v", err)
		}
		if err := f.svc.ActFor(ctx, outsiderToken, outsiderSess.Subject, e.ID, meta); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("outsider acting for the firm: %v", err)
		}
		agentSess, _ := f.svc.Authenticate(ctx, agentToken)
		if err := f.svc.ActFor(ctx, agentToken, agentSess.Subject, e.ID, meta); err != nil {
			t.Fatal(err)
		}
		agentSess, _ = f.svc.Authenticate(ctx, agentToken)
		firmCase := policy.Resource{Kind: policy.Case, OwnerID: owner.ID, EnterpriseID: e.ID, DepartmentID: 1, RegionCode: "410411000000"}
		if err := policy.Check(agentSess.Subject, policy.View, firmCase); err != nil {
			t.Fatalf("agent acting for the firm cannot see its case: %v", err)
		}
		outsiderSess, _ = f.svc.Authenticate(ctx, outsiderToken)
		if err := policy.Check(outsiderSess.Subject, policy.View, firmCase); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("outsider sees the firm's case: %v", err)
		}
		list, _ := f.svc.Enterprises(ctx, agent.ID)
		if len(list) != 1 || list[0].Role != "agent" {
			t.Fatalf("agent's enterprises %+v", list)
		}

		// Revealing a number takes staff who may reveal data on a case of
		// the account holder's, and a reason; it leaves a record.
		reviewer := policy.Subject{AccountID: outsider.ID, Kind: policy.Staff, DepartmentID: 1, Roles: []policy.Role{policy.Reviewer}}
		ownCase := identity.Grounds{Resource: policy.Resource{Kind: policy.Case, OwnerID: owner.ID, DepartmentID: 1, RegionCode: "410411000000"},
			Name: "办件 410411202611250000001"}
		if _, err := f.svc.Reveal(ctx, reviewer, owner.ID, "id_number", "", ownCase, meta); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("reveal without reason: %v", err)
		}
		window := reviewer
		window.Roles = []policy.Role{policy.Window}
		otherDept := reviewer
		otherDept.DepartmentID = 2
		for name, who := range map[string]policy.Subject{"a window clerk": window, "another department": otherDept, "the citizen": agentSess.Subject} {
			if _, err := f.svc.Reveal(ctx, who, owner.ID, "id_number", "核对", ownCase, meta); err == nil {
				t.Errorf("%s revealed the number", name)
			}
		}
		if _, err := f.svc.Reveal(ctx, reviewer, agent.ID, "id_number", "核对", ownCase, meta); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a case's grounds revealed someone else's number: %v", err)
		}
		got, err := f.svc.Reveal(ctx, reviewer, owner.ID, "id_number", "核对申请人身份", ownCase, meta)
		if err != nil || got != idNumber {
			t.Fatalf("reveal: %q %v", got, err)
		}
		entries, _ := audit.Search(ctx, db.Read(), audit.Filter{Action: "reveal"})
		if len(entries) != 1 || !strings.Contains(entries[0].Detail, "核对申请人身份") || !strings.Contains(entries[0].Detail, ownCase.Name) ||
			strings.Contains(entries[0].Detail, idNumber) {
			t.Fatalf("reveal audit: %+v", entries)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func checkChar(t *testing.T, first17 string) string {
	t.Helper()
	c, err := ident.IDCardCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	return string(c)
}

func TestRealNameVerification(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var down bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in struct {
				Name     string `json:"name"`
				IDNumber string `json:"id_number"`
			}
			json.NewDecoder(r.Body).Decode(&in)
			switch {
			case down:
				w.WriteHeader(http.StatusBadGateway)
			case r.Header.Get("Authorization") != "Bearer s3cret":
				w.WriteHeader(http.StatusUnauthorized)
			default:
				fmt.Fprintf(w, `{"match": %v}`, in.Name == "张三" && in.IDNumber == idNumber)
			}
		}))
		defer srv.Close()
		v, err := identity.NewHTTPVerifier(srv.URL, "s3cret", nil)
		if err != nil {
			t.Fatal(err)
		}
		f := newFixture(t, db)
		f.svc = identity.New(db, identity.Options{Keys: f.keys, SMS: f.sms, Clock: f.clk, RequireTOTP: true, Verifier: v})
		reg := func(name string) (identity.Account, error) {
			f.clk.Advance(2 * time.Minute)
			if err := f.svc.SendCode(ctx, mobile, identity.PurposeRegister, meta); err != nil {
				t.Fatal(err)
			}
			acc, _, err := f.svc.Register(ctx, identity.Registration{Name: name, IDNumber: idNumber, Mobile: mobile, Code: f.lastCode(t), Consent: identity.PrivacyVersion}, meta)
			return acc, err
		}
		if _, err := reg("李四"); !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "实名核验未通过") {
			t.Fatalf("mismatch: %v", err)
		}
		down = true
		if _, err := reg("张三"); !apperr.Is(err, apperr.Unavailable) {
			t.Fatalf("service down: %v", err)
		}
		var n int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n)
		if n != 0 {
			t.Fatalf("refused registrations stored %d accounts", n)
		}
		down = false
		acc, err := reg("张三")
		if err != nil || !acc.RealName {
			t.Fatalf("verified registration: %+v %v", acc, err)
		}
		if _, err := identity.NewHTTPVerifier("ftp://x", "k", nil); err == nil {
			t.Error("bad verifier URL accepted")
		}
	})
}

func TestChangeMobile(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		acc, _ := f.register(t, mobile, idNumber)
		f.clk.Advance(2 * time.Minute)
		f.register(t, "13900001111", "110105199003071234"[:17]+checkChar(t, "11010519900307123"))
		if err := f.svc.SendCode(ctx, "13700001234", identity.PurposeChangeMobile, meta); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ChangeMobile(ctx, acc.ID, "13700001234", "000000", meta); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("wrong code: %v", err)
		}
		if err := f.svc.ChangeMobile(ctx, acc.ID, "13700001234", f.lastCode(t), meta); err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.Account(ctx, acc.ID)
		if got.MobileMasked != "137****1234" {
			t.Fatalf("mobile %s", got.MobileMasked)
		}
		if _, err := f.svc.SignInWithPassword(ctx, "13700001234", "Zhangsan-2026!", meta); err != nil {
			t.Fatalf("sign in with the new number: %v", err)
		}
		f.clk.Advance(2 * time.Minute)
		if err := f.svc.SendCode(ctx, "13900001111", identity.PurposeChangeMobile, meta); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ChangeMobile(ctx, acc.ID, "13900001111", f.lastCode(t), meta); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("taking another's number: %v", err)
		}
	})
}

// A TOTP code signs in once; after it, neither it nor the previous
// window's code works again, while the next window's does.
func TestTOTPReplayRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		depts, err := region.NewStore(db).Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
		if err != nil {
			t.Fatal(err)
		}
		_, otpURL, err := f.svc.CreateStaff(ctx, testAdmin, meta, identity.NewStaff{Username: "zhaoliu", Name: "赵六", DepartmentID: depts[0].ID,
			Roles: []policy.Role{policy.Window}, Password: "Staff-Pass-2026x"})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(otpURL)
		secret := u.Query().Get("secret")
		signIn := func(at time.Time) error {
			code, _ := totp.GenerateCode(secret, at)
			_, err := f.svc.SignInStaff(ctx, "zhaoliu", "Staff-Pass-2026x", code, meta)
			return err
		}
		now := f.clk.Now()
		if err := signIn(now); err != nil {
			t.Fatal(err)
		}
		if err := signIn(now); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("the same code twice: %v", err)
		}
		if err := signIn(now.Add(-30 * time.Second)); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("the previous window's code after a newer one: %v", err)
		}
		if err := signIn(now.Add(30 * time.Second)); err != nil {
			t.Fatalf("the next window's code: %v", err)
		}
	})
}

// Staff roles are for staff accounts: an administrator cannot give them
// to a citizen's account, and nothing changes.
func TestSetRolesRefusesCitizens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		acc, _ := f.register(t, mobile, idNumber)
		err := f.svc.SetRoles(ctx, testAdmin, meta, acc.ID, []policy.Role{policy.Admin})
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "工作人员账户") {
			t.Fatalf("roles for a citizen: %v", err)
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM staff_roles WHERE account_id = ?`, acc.ID).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d roles stored for a citizen, %v", n, err)
		}
	})
}

// Signing in by code does not say whether a number is registered to
// someone who has not received the code: an unknown number and a known
// one without a valid code get the same answer.
func TestSignInWithCodeDoesNotRevealRegistration(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.register(t, mobile, idNumber)
		_, known := f.svc.SignInWithCode(ctx, mobile, "123456", meta)
		_, unknown := f.svc.SignInWithCode(ctx, "13900000000", "123456", meta)
		if !apperr.Is(unknown, apperr.Invalid) || apperr.MessageOf(unknown) != apperr.MessageOf(known) {
			t.Fatalf("unknown number: %v; known number: %v", unknown, known)
		}
		// Whoever received the code for an unregistered number is told.
		if err := f.svc.SendCode(ctx, "13900000000", identity.PurposeSignIn, meta); err != nil {
			t.Fatal(err)
		}
		code := f.lastCode(t)
		if _, err := f.svc.SignInWithCode(ctx, "13900000000", code, meta); !errors.Is(err, identity.ErrUnregistered) {
			t.Fatalf("right code, unregistered number: %v", err)
		}
		// They register at once with the same code, proven theirs; the
		// code does not sign in again, nor register twice.
		if _, err := f.svc.SignInWithCode(ctx, "13900000000", code, meta); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("the code signs in again: %v", err)
		}
		acc, _, err := f.svc.Register(ctx, identity.Registration{Name: "李四", IDNumber: "110105199003071239", Mobile: "13900000000", Code: code,
			Consent: identity.PrivacyVersion}, meta)
		if err != nil || acc.MobileMasked != "139****0000" {
			t.Fatalf("registering with the sign-in code: %+v %v", acc, err)
		}
		if _, _, err := f.svc.Register(ctx, identity.Registration{Name: "王五", IDNumber: "410411198506152014", Mobile: "13900000000", Code: code,
			Consent: identity.PrivacyVersion}, meta); err == nil {
			t.Fatal("the code registered twice")
		}
	})
}

// No account is opened without consent to the privacy notice of the
// current version; the consent is kept with the account and on the
// audit log (个人信息保护法 第十四条、第二十九条).
func TestRegistrationRecordsConsent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if err := f.svc.SendCode(ctx, mobile, identity.PurposeRegister, meta); err != nil {
			t.Fatal(err)
		}
		code := f.lastCode(t)
		for consent, want := range map[string]string{"": "请阅读《个人信息处理告知书》", "2020-01-01": "已更新"} {
			_, _, err := f.svc.Register(ctx, identity.Registration{Name: "张三", IDNumber: idNumber, Mobile: mobile, Code: code, Consent: consent}, meta)
			if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), want) {
				t.Fatalf("consent %q: %v", consent, err)
			}
		}
		// The refused tries did not spend the code.
		acc, _, err := f.svc.Register(ctx, identity.Registration{Name: "张三", IDNumber: idNumber, Mobile: mobile, Code: code, Consent: identity.PrivacyVersion}, meta)
		if err != nil {
			t.Fatal(err)
		}
		var version string
		var at time.Time
		if err := db.Read().QueryRow(ctx, `SELECT privacy_version, privacy_consented_at FROM accounts WHERE id = ?`, acc.ID).Scan(&version, &at); err != nil ||
			version != identity.PrivacyVersion || !at.Equal(f.clk.Now()) {
			t.Fatalf("consent kept: %q at %v, %v", version, at, err)
		}
		entries, err := audit.Search(ctx, db.Read(), audit.Filter{Action: "privacy_consent", Object: "account:" + itoa(acc.ID)})
		if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Detail, identity.PrivacyVersion) || !strings.Contains(entries[0].Detail, "身份证号码") {
			t.Fatalf("consent audit: %+v %v", entries, err)
		}
	})
}

// 忘记密码: a code to the mobile number sets a new password, signs the
// account out everywhere and is audited. Until the code is verified the
// answers are the same for a registered and an unknown number, and wrong
// codes are limited as wrong passwords are.
func TestResetPasswordByCode(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		acc, token := f.register(t, mobile, idNumber)
		const next = "Lisi-Reset-2027!"
		// Before the code: a registered and an unknown number, alike.
		known := f.svc.ResetPasswordByCode(ctx, mobile, "123456", next, meta)
		unknown := f.svc.ResetPasswordByCode(ctx, "13900000000", "123456", next, meta)
		if !apperr.Is(unknown, apperr.Invalid) || apperr.MessageOf(unknown) != apperr.MessageOf(known) {
			t.Fatalf("unknown number: %v; known number: %v", unknown, known)
		}
		f.clk.Advance(2 * time.Minute) // a code a minute at most
		if err := f.svc.SendCode(ctx, mobile, identity.PurposeResetPassword, meta); err != nil {
			t.Fatal(err)
		}
		code := f.lastCode(t)
		// A weak password, or one made of the identity number, is refused
		// and does not spend the code.
		if err := f.svc.ResetPasswordByCode(ctx, mobile, code, "short", meta); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("weak password: %v", err)
		}
		if err := f.svc.ResetPasswordByCode(ctx, mobile, code, "Id-"+idNumber+"!", meta); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a password of the identity number: %v", err)
		}
		if err := f.svc.ResetPasswordByCode(ctx, mobile, code, next, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, token); err == nil {
			t.Error("the old session outlived the reset")
		}
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "Zhangsan-2026!", meta); err == nil {
			t.Error("the old password still works")
		}
		if _, err := f.svc.SignInWithPassword(ctx, mobile, next, meta); err != nil {
			t.Fatalf("the new password: %v", err)
		}
		if err := f.svc.ResetPasswordByCode(ctx, mobile, code, "Other-Reset-2027!", meta); err == nil {
			t.Fatal("a code reset twice")
		}
		entries, err := audit.Search(ctx, db.Read(), audit.Filter{Action: "password_reset", Object: "account:" + itoa(acc.ID)})
		if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Detail, "短信验证码") {
			t.Fatalf("reset audit: %+v %v", entries, err)
		}
		// An unknown number is told only with the code it received.
		if err := f.svc.SendCode(ctx, "13900000000", identity.PurposeResetPassword, meta); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ResetPasswordByCode(ctx, "13900000000", f.lastCode(t), next, meta); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("right code, unknown number: %v", err)
		}
		// Wrong codes count as wrong passwords: the fifth locks the pair.
		f.clk.Advance(2 * time.Minute)
		if err := f.svc.SendCode(ctx, mobile, identity.PurposeResetPassword, meta); err != nil {
			t.Fatal(err)
		}
		code = f.lastCode(t)
		var last error
		for range 5 {
			last = f.svc.ResetPasswordByCode(ctx, mobile, "000000", next, meta)
		}
		if !apperr.Is(last, apperr.TooMany) {
			t.Fatalf("the fifth wrong code: %v", last)
		}
		if err := f.svc.ResetPasswordByCode(ctx, mobile, code, next, meta); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("locked, the right code: %v", err)
		}
	})
}

// Staff sign-in answers alike, in about the same time, for an unknown
// user name, a wrong password and a right password with a wrong code.
func TestStaffSignInAnswersAlike(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		depts, err := region.NewStore(db).Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.CreateStaff(ctx, testAdmin, meta, identity.NewStaff{Username: "sunqi", Name: "孙七", DepartmentID: depts[0].ID,
			Roles: []policy.Role{policy.Window}, Password: "Staff-Pass-2026x"}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, unknown := f.svc.SignInStaff(ctx, "nobody", "Staff-Pass-2026x", "123456", meta)
		unknownTook := time.Since(start)
		_, wrongPass := f.svc.SignInStaff(ctx, "sunqi", "Wrong-Pass-2026x", "123456", meta)
		_, wrongCode := f.svc.SignInStaff(ctx, "sunqi", "Staff-Pass-2026x", "000000", meta)
		for _, err := range []error{unknown, wrongPass, wrongCode} {
			if !apperr.Is(err, apperr.Unauthorized) || apperr.MessageOf(err) != apperr.MessageOf(wrongPass) {
				t.Fatalf("unknown user: %v; wrong password: %v; wrong code: %v", unknown, wrongPass, wrongCode)
			}
		}
		// An unknown user name costs an argon2id hash too (tens of ms, not
		// the few of one query).
		if unknownTook < 20*time.Millisecond {
			t.Fatalf("unknown user refused in %v: no password hash was computed", unknownTook)
		}
	})
}

// The account methods check the policy themselves: a page or an API that
// forgot to would still not let a staff member without the administrator
// role change roles, stop an account or reset a password — their own
// included — and what an administrator does is audited with the request's
// address, under their name.
func TestAccountChangesNeedAnAdministrator(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		depts, err := region.NewStore(db).Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
		if err != nil {
			t.Fatal(err)
		}
		open := func(username string, roles ...policy.Role) (identity.Account, policy.Subject) {
			acc, _, err := f.svc.CreateStaff(ctx, testAdmin, meta, identity.NewStaff{Username: username, Name: "测试" + username,
				DepartmentID: depts[0].ID, Roles: roles, Password: "Staff-Pass-2026x"})
			if err != nil {
				t.Fatal(err)
			}
			return acc, policy.Subject{AccountID: acc.ID, Kind: policy.Staff, Name: acc.Name, DepartmentID: depts[0].ID,
				RegionCode: depts[0].RegionCode, Roles: roles}
		}
		target, _ := open("target", policy.Window)
		reviewerAcc, reviewer := open("reviewer", policy.Reviewer)
		_, boss := open("boss", policy.Admin)
		citizen := policy.Subject{AccountID: 999, Kind: policy.Person, Name: "张三"}
		for _, who := range []policy.Subject{reviewer, citizen, {Kind: policy.Anonymous}} {
			want := apperr.Forbidden
			if who.Kind == policy.Anonymous {
				want = apperr.Unauthorized
			} else if who.Kind == policy.Person {
				want = apperr.NotFound
			}
			for name, err := range map[string]error{
				"set roles":      f.svc.SetRoles(ctx, who, meta, target.ID, []policy.Role{policy.Admin}),
				"own roles":      f.svc.SetRoles(ctx, who, meta, who.AccountID, []policy.Role{policy.Admin}),
				"disable":        f.svc.SetDisabled(ctx, who, meta, target.ID, true),
				"reset password": f.svc.ResetPassword(ctx, who, meta, "target", "Other-Pass-2026x"),
			} {
				if apperr.CodeOf(err) != want {
					t.Errorf("%s %s: %v, want %s", who.Kind, name, err, want)
				}
			}
			if _, _, err := f.svc.CreateStaff(ctx, who, meta, identity.NewStaff{Username: "intruder", Name: "入侵者",
				DepartmentID: depts[0].ID, Roles: []policy.Role{policy.Admin}, Password: "Staff-Pass-2026x"}); apperr.CodeOf(err) != want {
				t.Errorf("%s create staff: %v, want %s", who.Kind, err, want)
			}
		}
		if acc, err := f.svc.Account(ctx, reviewerAcc.ID); err != nil || len(acc.Roles) != 1 || acc.Roles[0] != policy.Reviewer {
			t.Fatalf("the reviewer's roles after refusals: %+v, %v", acc.Roles, err)
		}
		if err := f.svc.SetDisabled(ctx, boss, meta, boss.AccountID, true); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("an administrator stopping their own account: %v", err)
		}
		at := identity.Meta{IP: "10.1.2.3", Client: "test"}
		if err := f.svc.SetRoles(ctx, boss, at, target.ID, []policy.Role{policy.Reviewer}); err != nil {
			t.Fatal(err)
		}
		entries, err := audit.Search(ctx, db.Read(), audit.Filter{Action: "role_change", Object: "account:" + itoa(target.ID)})
		if err != nil || len(entries) != 1 {
			t.Fatalf("role change entries: %+v, %v", entries, err)
		}
		if e := entries[0]; e.ActorID != boss.AccountID || e.Actor != "测试boss（boss）" || e.IP != "10.1.2.3" || e.RegionCode != depts[0].RegionCode {
			t.Fatalf("role change entry: %+v", e)
		}
		// The command line has no account: it is named as itself.
		cli := policy.Subject{Kind: policy.Staff, Name: "命令行重置密码（系统用户 root）", Roles: []policy.Role{policy.Admin}}
		if err := f.svc.ResetPassword(ctx, cli, identity.Meta{IP: "cli"}, "target", "Other-Pass-2026x"); err != nil {
			t.Fatal(err)
		}
		entries, err = audit.Search(ctx, db.Read(), audit.Filter{Action: "password_reset", Object: "account:" + itoa(target.ID)})
		if err != nil || len(entries) != 1 || entries[0].Actor != cli.Name || entries[0].ActorID != 0 || entries[0].IP != "cli" {
			t.Fatalf("password reset entries: %+v, %v", entries, err)
		}
	})
}

// A complaint filed without an account proves its mobile number with a
// code of its own purpose: a register code does not do, a wrong try is
// counted, a code works once.
func TestVerifyCodeForAComplaint(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if err := f.svc.SendCode(ctx, mobile, identity.PurposeRegister, meta); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.VerifyCode(ctx, mobile, identity.PurposeComplaint, f.lastCode(t)); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("a register code for a complaint: %v", err)
		}
		f.clk.Advance(2 * time.Minute)
		if err := f.svc.SendCode(ctx, mobile, identity.PurposeComplaint, meta); err != nil {
			t.Fatal(err)
		}
		code := f.lastCode(t)
		if err := f.svc.VerifyCode(ctx, mobile, identity.PurposeComplaint, "000000"); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("wrong code: %v", err)
		}
		var attempts int
		db.Read().QueryRow(ctx, `SELECT attempts FROM otp_codes WHERE purpose = ?`, identity.PurposeComplaint).Scan(&attempts)
		if attempts != 1 {
			t.Errorf("wrong try counted %d times", attempts)
		}
		if err := f.svc.VerifyCode(ctx, mobile, identity.PurposeComplaint, code); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.VerifyCode(ctx, mobile, identity.PurposeComplaint, code); err == nil {
			t.Error("a code worked twice")
		}
	})
}
