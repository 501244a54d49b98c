package identity

import (
	"context"
	"fmt"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/password"
	"github.com/zwfw/zwfw/internal/store"
)

// ResetPasswordByCode sets a new password for the citizen whose mobile number
// receives code (忘记密码). It is limited as password sign-in is (limits.go:
// a wrong code counts as a wrong password, per number and address), and
// answers alike for registered and unknown numbers until the code is
// verified; only someone who received it learns that the number has no
// account. A reset signs the account out everywhere and clears its
// sign-in locks; it goes to the audit log.
func (s *Service) ResetPasswordByCode(ctx context.Context, mobile, code, next string, meta Meta) error {
	m, idx, err := s.mobileIndex(mobile)
	if err != nil {
		return err
	}
	// What can be checked without the account is checked first, alike
	// for every number.
	if err := s.opt.Policy.Check(next, m); err != nil {
		return apperr.Wrap(apperr.Invalid, err.Error(), err)
	}
	hash, err := password.Hash(next)
	if err != nil {
		return err
	}
	try := attempt{key: personKey(idx), ip: meta.IP}
	var failure error
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		id, disabled, unknown := personByMobile(ctx, tx, idx)
		if unknown != nil && !apperr.Is(unknown, apperr.NotFound) {
			return unknown
		}
		known, err := s.admit(ctx, tx, try)
		if apperr.Is(err, apperr.TooMany) {
			failure = err
			return s.refused(ctx, tx, id, "reset", "重设密码受限（失败次数过多）", meta)
		}
		if err != nil {
			return err
		}
		if err := s.consumeCode(ctx, tx, idx, PurposeResetPassword, code); err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				return err
			}
			failure = err
			if until, err := s.failure(ctx, tx, try, known); err != nil {
				return err
			} else if !until.IsZero() {
				failure = errThrottled(until.Sub(s.opt.Clock.Now()))
			}
			return s.refused(ctx, tx, id, "reset", "重设密码："+apperr.MessageOf(err), meta)
		}
		if unknown != nil {
			failure = apperr.New(apperr.NotFound, "该手机号尚未注册，请先注册。")
			return nil
		}
		if disabled {
			failure = apperr.New(apperr.Forbidden, "该账户已停用，请联系管理员。")
			return nil
		}
		// The identity number is known only now: a password made of it
		// is refused, and the code is not spent (the transaction is undone).
		k, err := s.Known(ctx, tx, id, 0)
		if err != nil {
			return err
		}
		if err := s.opt.Policy.Check(next, m, k.IDNumber); err != nil {
			return apperr.Wrap(apperr.Invalid, err.Error(), err)
		}
		now := s.opt.Clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?`, hash, now, now, id); err != nil {
			return err
		}
		if _, err := s.revokeOthers(ctx, tx, id, ""); err != nil {
			return err
		}
		if err := s.unlock(ctx, tx, try.key); err != nil {
			return err
		}
		return s.audit(ctx, tx, id, "password_reset", fmt.Sprintf("account:%d", id), "凭短信验证码重设密码，已退出所有设备", meta)
	})
	if err == nil {
		err = failure
	}
	return err
}
