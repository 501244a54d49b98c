package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/store"
)

// Purposes of one-time codes; a code sent for one does not work for another.
const (
	PurposeRegister      = "register"
	PurposeSignIn        = "signin"
	PurposeChangeMobile  = "change_mobile"
	PurposeResetPassword = "reset_password"
	// PurposeComplaint verifies the mobile number of a complaint filed
	// without an account (有诉即应).
	PurposeComplaint = "complaint"
)

// Limits on one-time codes.
const (
	codeTTL         = 5 * time.Minute
	codeResendAfter = time.Minute // per number
	codesPerHour    = 5           // per number
	codesPerHourIP  = 20          // per address
	codeMaxAttempts = 5
	codeDigits      = 6
)

// mobileIndex validates a mobile number and returns it normalised with its
// keyed index.
func (s *Service) mobileIndex(mobile string) (string, string, error) {
	m, err := ident.ParseMobile(mobile)
	if err != nil {
		return "", "", apperr.Wrap(apperr.Invalid, err.Error(), err)
	}
	return m, s.opt.Keys.Index("mobile", m), nil
}

// SendCode sends a one-time code by SMS, within the rate limits per number
// and per address. The code is stored only as a keyed hash.
func (s *Service) SendCode(ctx context.Context, mobile, purpose string, meta Meta) error {
	if purpose != PurposeRegister && purpose != PurposeSignIn && purpose != PurposeChangeMobile && purpose != PurposeResetPassword && purpose != PurposeComplaint {
		return apperr.New(apperr.Invalid, "验证码用途无效")
	}
	m, idx, err := s.mobileIndex(mobile)
	if err != nil {
		return err
	}
	return s.sendCode(ctx, m, idx, purpose, meta, func(code string) string {
		return fmt.Sprintf("【政务服务】您的验证码是%s，%d分钟内有效。请勿告诉他人。", code, int(codeTTL.Minutes()))
	})
}

// sendCode stores a new code for the normalised number m (index idx) and
// texts it, in the words of text, within the limits per number and address.
func (s *Service) sendCode(ctx context.Context, m, idx, purpose string, meta Meta, text func(code string) string) error {
	now := s.opt.Clock.Now()
	code, err := randomDigits(codeDigits)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var last sql.NullTime
		var perHour, perIP int
		// One code a minute for each purpose: a person who has just
		// confirmed an application made for them (帮办代办) signs in at
		// once to see it. The hourly limit counts every purpose.
		err := tx.QueryRow(ctx, `SELECT created_at FROM otp_codes WHERE mobile_index = ? AND purpose = ? ORDER BY id DESC LIMIT 1`, idx, purpose).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM otp_codes WHERE mobile_index = ? AND created_at > ?`,
			idx, now.Add(-time.Hour)).Scan(&perHour); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM otp_codes WHERE ip = ? AND created_at > ?`, meta.IP, now.Add(-time.Hour)).Scan(&perIP); err != nil {
			return err
		}
		switch {
		case last.Valid && now.Sub(last.Time) < codeResendAfter:
			return apperr.New(apperr.TooMany, "验证码发送过于频繁，请一分钟后再试。")
		case perHour >= codesPerHour:
			return apperr.New(apperr.TooMany, "该手机号一小时内获取验证码次数过多，请稍后再试。")
		case meta.IP != "" && perIP >= codesPerHourIP:
			return apperr.New(apperr.TooMany, "您所在网络获取验证码次数过多，请稍后再试。")
		}
		_, err = tx.Exec(ctx, `INSERT INTO otp_codes (mobile_index, purpose, code_hash, ip, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			idx, purpose, s.codeHash(idx, purpose, code), meta.IP, now, now.Add(codeTTL))
		if err != nil || s.queue == nil {
			return err
		}
		return s.queueCode(ctx, tx, m, text(code), now.Add(codeTTL))
	})
	if err != nil || s.queue != nil {
		return err
	}
	if err := s.opt.SMS.Send(ctx, m, text(code)); err != nil {
		s.opt.Log.Error("sms send failed", "err", err)
		return apperr.Wrap(apperr.Unavailable, "短信发送失败，请稍后再试。", err)
	}
	return nil
}

// VerifyCode checks and uses up a code sent to mobile for purpose (a
// complaint filed without an account): nil when it is right. A wrong try
// is counted against the code, as at sign-in.
func (s *Service) VerifyCode(ctx context.Context, mobile, purpose, code string) error {
	_, idx, err := s.mobileIndex(mobile)
	if err != nil {
		return err
	}
	var wrong error
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		err := s.consumeCode(ctx, tx, idx, purpose, code)
		if err == errWrongCode {
			wrong = err // commit the counted attempt, then refuse
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return wrong
}

func (s *Service) codeHash(mobileIndex, purpose, code string) string {
	return s.opt.Keys.Index("otp", mobileIndex+"\x00"+purpose+"\x00"+code)
}

// consumeCode checks a code in tx and marks it used. Each wrong try counts
// against the newest code; after five the code is dead.
func (s *Service) consumeCode(ctx context.Context, tx *store.Tx, mobileIndex, purpose, code string) error {
	now := s.opt.Clock.Now()
	var id int64
	var hash string
	var attempts int
	err := tx.QueryRow(ctx, `SELECT id, code_hash, attempts FROM otp_codes
		WHERE mobile_index = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
		ORDER BY id DESC LIMIT 1`, mobileIndex, purpose, now).Scan(&id, &hash, &attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.Invalid, "验证码已过期或未获取，请重新获取。")
	}
	if err != nil {
		return err
	}
	if attempts >= codeMaxAttempts {
		return apperr.New(apperr.Invalid, "验证码错误次数过多，请重新获取。")
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(s.codeHash(mobileIndex, purpose, code))) != 1 {
		if _, err := tx.Exec(ctx, `UPDATE otp_codes SET attempts = attempts + 1 WHERE id = ?`, id); err != nil {
			return err
		}
		return errWrongCode
	}
	_, err = tx.Exec(ctx, `UPDATE otp_codes SET used_at = ? WHERE id = ?`, now, id)
	return err
}

// errWrongCode is returned from inside a transaction that must still
// commit (the attempt is counted); callers commit, then report it.
// Every other refusal of a code is an apperr.Invalid too.
var errWrongCode = apperr.New(apperr.Invalid, "验证码不正确。")

func randomDigits(n int) (string, error) {
	max := big.NewInt(1)
	for range n {
		max.Mul(max, big.NewInt(10))
	}
	v, err := rand.Int(rand.Reader, max)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%0*d", n, v), nil
}
