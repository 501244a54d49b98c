package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/throttle"
)

// Sign-in limits. Password sign-in, staff's and citizens', is limited
// three ways, all counted in the database (package throttle), so that the
// limits hold across instances:
//
//   - Per account and address: four failures are free; the fifth locks
//     that pair for 1 minute, each one after for twice as long as the one
//     before (2, 4, 8), then 15 minutes each. A success clears the pair;
//     failures are forgotten a day after the last. A guesser at one address
//     thus gets about a hundred tries a day at one account.
//   - Per address, across accounts: 50 failures in a 15-minute window stop
//     password sign-in from that address until the window ends. This is
//     against one address trying many accounts; 50 leaves room for an
//     office behind one NAT address whose staff mistype now and then.
//   - Per account, across addresses: 20 failures in a 15-minute window from
//     addresses that have never signed the account in slow it down: such
//     addresses wait until the window ends. Addresses that have signed it
//     in before (by password or, for citizens, by SMS code) are not slowed,
//     and their own pair lock is theirs alone.
//
// So an outsider, from however many addresses, can slow an account down
// but not lock its owner out of the address they usually sign in from, and
// no lock outlasts 15 minutes; the old rule (five failures lock the account
// for 15 minutes, from anywhere) let anyone lock out any administrator with
// five requests. What remains: someone behind the same address as the
// owner can keep that pair locked 15 minutes at a time; an administrator's
// `zwfw user reset-password` clears the account's locks.
//
// The limits are read before the password is checked and counted after,
// in the sign-in's transaction; attempts that run at the same moment may
// pass a limit by the few that can be hashed at once (package password
// bounds them), which changes nothing that matters.
//
// An account is known to the limits by a keyed hash of its normalised name
// (staff) or the keyed index of its mobile number (citizens), whether or
// not it exists: an unknown name is limited and locked exactly like a
// known one, and the answer — text, status, and no hash when refused —
// does not tell them apart.
var pairBackoff = throttle.Backoff{Free: 4, First: time.Minute, Max: 15 * time.Minute, Forget: 24 * time.Hour}

const (
	addressFailures = 50
	accountFailures = 20
	limitWindow     = 15 * time.Minute
)

// attempt is one sign-in: the account's key and the client's address.
type attempt struct{ key, ip string }

func (a attempt) pair() string    { return pairName(a.key) + a.ip }
func (a attempt) account() string { return "signin-account:" + a.key }
func (a attempt) address() string { return "signin-address:" + a.ip }

// pairName is the start of the names of every pair of an account.
func pairName(key string) string { return "signin:" + key + "|" }

func (s *Service) staffKey(username string) string {
	return "staff:" + s.opt.Keys.Index("signin", normaliseUsername(username))
}

// personKey names a citizen by their mobile number's keyed index.
func personKey(mobileIndex string) string { return "person:" + mobileIndex }

// errThrottled is the one answer of every limit, for every account,
// known or not.
func errThrottled(wait time.Duration) error {
	mins := max(1, int((wait+time.Minute-1)/time.Minute))
	return apperr.New(apperr.TooMany, fmt.Sprintf("登录失败次数过多，请%d分钟后再试。", mins))
}

// admit checks the limits before a password is checked. It returns
// whether the address has signed the account in before, or errThrottled.
func (s *Service) admit(ctx context.Context, q store.Querier, a attempt) (bool, error) {
	now := s.opt.Clock.Now()
	lock, err := s.throttle.Locked(ctx, q, a.pair())
	if err != nil {
		return false, err
	}
	if lock.Until.After(now) {
		return lock.Known, errThrottled(lock.Until.Sub(now))
	}
	n, end, err := s.throttle.Count(ctx, q, a.address(), limitWindow)
	if err != nil {
		return false, err
	}
	if n >= addressFailures {
		return lock.Known, errThrottled(end.Sub(now))
	}
	if !lock.Known {
		n, end, err := s.throttle.Count(ctx, q, a.account(), limitWindow)
		if err != nil {
			return false, err
		}
		if n >= accountFailures {
			return false, errThrottled(end.Sub(now))
		}
	}
	return lock.Known, nil
}

// failure counts a failed attempt against its pair, its address and, from
// an address the account does not know, the account. It returns until
// when the failure locks the pair (zero: it does not).
func (s *Service) failure(ctx context.Context, tx *store.Tx, a attempt, known bool) (time.Time, error) {
	until, err := s.throttle.Fail(ctx, tx, a.pair(), pairBackoff)
	if err != nil {
		return until, err
	}
	if _, _, err := s.throttle.Hit(ctx, tx, a.address(), limitWindow); err != nil {
		return until, err
	}
	if !known {
		_, _, err = s.throttle.Hit(ctx, tx, a.account(), limitWindow)
	}
	return until, err
}

// unlock clears an account's locks and its count across addresses.
func (s *Service) unlock(ctx context.Context, tx *store.Tx, key string) error {
	return s.throttle.Unlock(ctx, tx, pairName(key), attempt{key: key}.account())
}
