package identity_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/argon2"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/password"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

const staffPass = "Staff-Pass-2026x"

// staffAccount opens a staff account and returns a function that makes a
// TOTP code for it at a time.
func staffAccount(t *testing.T, f fixture, username string, roles ...policy.Role) func(time.Time) string {
	t.Helper()
	ctx := context.Background()
	depts, err := region.NewStore(f.db).Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
	if err != nil {
		t.Fatal(err)
	}
	_, otpURL, err := f.svc.CreateStaff(ctx, testAdmin, meta, identity.NewStaff{Username: username, Name: "王管理", DepartmentID: depts[0].ID,
		Roles: roles, Password: staffPass})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(otpURL)
	secret := u.Query().Get("secret")
	return func(at time.Time) string {
		code, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
}

func from(ip string) identity.Meta { return identity.Meta{IP: ip, Client: "test"} }

// Failures from one address lock that (account, address) pair for
// growing periods, 1, 2, 4 … minutes; a success clears the pair.
func TestSignInLockGrows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.register(t, mobile, idNumber)
		wrong := func() error {
			_, err := f.svc.SignInWithPassword(ctx, mobile, "wrong-password", meta)
			return err
		}
		right := func() error {
			_, err := f.svc.SignInWithPassword(ctx, mobile, "Zhangsan-2026!", meta)
			return err
		}
		for i := range 4 {
			if err := wrong(); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		if err := wrong(); !apperr.Is(err, apperr.TooMany) || apperr.MessageOf(err) != "登录失败次数过多，请1分钟后再试。" {
			t.Fatalf("fifth failure locks for a minute: %v", err)
		}
		if err := right(); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("a locked pair accepted the right password: %v", err)
		}
		// Someone else, elsewhere, is not locked out.
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "Zhangsan-2026!", from("10.0.0.9")); err != nil {
			t.Fatalf("another address: %v", err)
		}
		f.clk.Advance(time.Minute)
		if err := wrong(); !apperr.Is(err, apperr.TooMany) || apperr.MessageOf(err) != "登录失败次数过多，请2分钟后再试。" {
			t.Fatalf("sixth failure locks for two minutes: %v", err)
		}
		f.clk.Advance(time.Minute)
		if err := right(); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("the two-minute lock ended after one: %v", err)
		}
		f.clk.Advance(time.Minute)
		if err := wrong(); apperr.MessageOf(err) != "登录失败次数过多，请4分钟后再试。" {
			t.Fatalf("seventh failure locks for four minutes: %v", err)
		}
		for _, d := range []int{8, 15, 15} {
			f.clk.Advance(15 * time.Minute)
			if err := wrong(); apperr.MessageOf(err) != fmt.Sprintf("登录失败次数过多，请%d分钟后再试。", d) {
				t.Fatalf("want a %d-minute lock: %v", d, err)
			}
		}
		f.clk.Advance(15 * time.Minute)
		if err := right(); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		// The success cleared the pair: four failures are free again.
		for i := range 4 {
			if err := wrong(); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("failure %d after a success: %v", i+1, err)
			}
		}
	})
}

// An outsider's failures from many addresses do not stop the
// administrator signing in from their own address, and only delay a
// sign-in from a new one.
func TestOutsiderCannotLockAdminOut(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		code := staffAccount(t, f, "admin", policy.Admin)
		office := from("10.0.0.1")
		if _, err := f.svc.SignInStaff(ctx, "admin", staffPass, code(f.clk.Now()), office); err != nil {
			t.Fatal(err)
		}
		// 100 failures from 25 addresses, four each, none of them locked yet.
		for i := range 100 {
			f.svc.SignInStaff(ctx, "admin", fmt.Sprintf("guess-%d", i), "000000", from(fmt.Sprintf("198.51.100.%d", i/4)))
		}
		f.clk.Advance(30 * time.Second)
		if _, err := f.svc.SignInStaff(ctx, "admin", staffPass, code(f.clk.Now()), office); err != nil {
			t.Fatalf("the administrator at their own address: %v", err)
		}
		// A new address is slowed down while the account is attacked, not
		// locked for good: it waits for the window's end.
		f.clk.Advance(30 * time.Second)
		if _, err := f.svc.SignInStaff(ctx, "admin", staffPass, code(f.clk.Now()), from("10.0.0.2")); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("a new address during the attack: %v", err)
		}
		f.clk.Advance(15 * time.Minute)
		if _, err := f.svc.SignInStaff(ctx, "admin", staffPass, code(f.clk.Now()), from("10.0.0.2")); err != nil {
			t.Fatalf("a new address after the window: %v", err)
		}
		// And one address hammering the account locks only itself.
		for range 10 {
			f.svc.SignInStaff(ctx, "admin", "guess", "000000", from("203.0.113.9"))
		}
		f.clk.Advance(30 * time.Second)
		if _, err := f.svc.SignInStaff(ctx, "admin", staffPass, code(f.clk.Now()), office); err != nil {
			t.Fatalf("the administrator after one address's attack: %v", err)
		}
	})
}

// An unknown user name is limited and locked like a known one, with the
// same answers; so is an unregistered mobile number.
func TestLimitsAnswerAlikeForUnknownAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		staffAccount(t, f, "sunqi", policy.Window)
		f.register(t, mobile, idNumber)
		answers := func(signIn func() error) []string {
			var out []string
			for range 7 {
				err := signIn()
				out = append(out, fmt.Sprintf("%s %s", apperr.CodeOf(err), apperr.MessageOf(err)))
				f.clk.Advance(10 * time.Second)
			}
			return out
		}
		known := answers(func() error {
			_, err := f.svc.SignInStaff(ctx, "sunqi", "Wrong-Pass-2026x", "123456", meta)
			return err
		})
		unknown := answers(func() error {
			_, err := f.svc.SignInStaff(ctx, " NoBody ", "Wrong-Pass-2026x", "123456", meta)
			return err
		})
		person := answers(func() error {
			_, err := f.svc.SignInWithPassword(ctx, mobile, "wrong-password", meta)
			return err
		})
		nobody := answers(func() error {
			_, err := f.svc.SignInWithPassword(ctx, "13900000000", "wrong-password", meta)
			return err
		})
		for i := range known {
			if known[i] != unknown[i] || person[i] != nobody[i] {
				t.Fatalf("attempt %d: staff %q / unknown %q; citizen %q / unregistered %q", i+1, known[i], unknown[i], person[i], nobody[i])
			}
		}
		if known[4] != "too_many 登录失败次数过多，请1分钟后再试。" || known[6] != known[5] {
			t.Fatalf("answers %q", known)
		}
		// The name is normalised: another spelling shares the lock.
		if _, err := f.svc.SignInStaff(ctx, "nobody", "x", "", meta); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("another spelling of a locked name: %v", err)
		}
	})
}

// One address trying many accounts is stopped after 50 failures, whether
// the accounts exist or not.
func TestSignInLimitPerAddress(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.register(t, mobile, idNumber)
		for i := range 50 {
			f.svc.SignInStaff(ctx, fmt.Sprintf("user%d", i), "guess", "", from("203.0.113.1"))
		}
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "Zhangsan-2026!", from("203.0.113.1")); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("51st attempt from one address: %v", err)
		}
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "Zhangsan-2026!", from("203.0.113.2")); err != nil {
			t.Fatalf("another address: %v", err)
		}
	})
}

// The limits are in the database: two instances on one database share
// them, and an administrator's password reset clears them.
func TestSignInLimitsSharedByInstances(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		code := staffAccount(t, f, "zhaoliu", policy.Window)
		other := identity.New(db, identity.Options{Keys: f.keys, SMS: f.sms, Clock: f.clk, RequireTOTP: true})
		for i := range 5 {
			svc := f.svc
			if i%2 == 1 {
				svc = other
			}
			svc.SignInStaff(ctx, "zhaoliu", "Wrong-Pass-2026x", "000000", meta)
		}
		for _, svc := range []*identity.Service{f.svc, other} {
			if _, err := svc.SignInStaff(ctx, "zhaoliu", staffPass, code(f.clk.Now()), meta); !apperr.Is(err, apperr.TooMany) {
				t.Fatalf("five failures over two instances: %v", err)
			}
		}
		if err := other.ResetPassword(ctx, testAdmin, meta, "zhaoliu", "Staff-Pass-2027y"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SignInStaff(ctx, "zhaoliu", "Staff-Pass-2027y", code(f.clk.Now()), meta); err != nil {
			t.Fatalf("after a password reset: %v", err)
		}
	})
}

// A password hashed with other parameters than today's is hashed again
// when its owner signs in.
func TestRehashOnSignIn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		acc, _ := f.register(t, mobile, idNumber)
		salt := make([]byte, 16)
		rand.Read(salt)
		b64 := base64.RawStdEncoding
		// The parameters before issue 18: stronger, and dearer for every sign-in.
		weak := fmt.Sprintf("$argon2id$v=19$m=65536,t=2,p=2$%s$%s", b64.EncodeToString(salt),
			b64.EncodeToString(argon2.IDKey([]byte("Zhangsan-2026!"), salt, 2, 65536, 2, 32)))
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ?`, weak, acc.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		hash := func() string {
			var h string
			if err := db.Read().QueryRow(ctx, `SELECT password_hash FROM accounts WHERE id = ?`, acc.ID).Scan(&h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "wrong-password", meta); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatal(err)
		}
		if hash() != weak {
			t.Fatal("a failed sign-in rehashed the password")
		}
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "Zhangsan-2026!", meta); err != nil {
			t.Fatal(err)
		}
		h := hash()
		if h == weak || password.NeedsRehash(h) {
			t.Fatalf("not rehashed: %s", h)
		}
		if ok, err := password.Verify(h, "Zhangsan-2026!"); !ok || err != nil {
			t.Fatalf("the new hash does not verify: %v", err)
		}
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "Zhangsan-2026!", meta); err != nil {
			t.Fatal(err)
		}
		if hash() != h {
			t.Fatal("a current hash was replaced")
		}
	})
}

// A sign-in by SMS code proves the number is the person's: it clears the
// lock their mistyped passwords put on their address.
func TestCodeSignInClearsThePair(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.register(t, mobile, idNumber)
		for range 5 {
			f.svc.SignInWithPassword(ctx, mobile, "wrong-password", meta)
		}
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "Zhangsan-2026!", meta); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("locked: %v", err)
		}
		f.clk.Advance(time.Minute)
		if err := f.svc.SendCode(ctx, mobile, identity.PurposeSignIn, meta); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SignInWithCode(ctx, mobile, f.lastCode(t), meta); err != nil {
			t.Fatal(err)
		}
		// Cleared: the next failure is the first of four free ones again.
		if _, err := f.svc.SignInWithPassword(ctx, mobile, "wrong-password", meta); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("after a code sign-in: %v", err)
		}
	})
}
