package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/oidc"
	"github.com/zwfw/zwfw/internal/store"
)

// methodOIDC is the sign-in method recorded for the unified identity
// platform.
const methodOIDC = "oidc"

// maxSubjectLen bounds the platform's "sub" (OpenID Connect allows at most
// 255 ASCII characters).
const maxSubjectLen = 255

var (
	errOIDCSubject   = apperr.New(apperr.Invalid, "统一身份认证未提供有效的用户标识，无法登录。")
	errOIDCIDNumber  = apperr.New(apperr.Invalid, "统一身份认证未提供有效的身份证号码，无法登录。")
	errOIDCName      = apperr.New(apperr.Invalid, "统一身份认证未提供有效的姓名，无法登录。")
	errOIDCDisabled  = apperr.New(apperr.Forbidden, "该账户已停用，请联系管理员。")
	errOIDCNotPerson = apperr.New(apperr.Forbidden, "工作人员账户不能通过统一身份认证登录。")
	errOIDCTaken     = apperr.New(apperr.Conflict, "该身份证号码的账户已关联另一个统一身份认证账号，无法登录，请联系管理员。")
	errOIDCRace      = apperr.New(apperr.Conflict, "账户信息刚刚发生变化，请重新登录。")
)

// SignInWithOIDC signs in a citizen whom the province's unified identity
// platform (统一身份认证) has verified, with the claims oidc.Provider.Exchange
// returned, and returns the session token. The platform has checked the
// person's identity, so the account is 已实名:
//
//  1. the account already linked to c.Subject is signed in;
//  2. otherwise, when c.IDNumber is a valid 身份证号码 and a person's
//     account has it (registered by phone, say), that account is linked to
//     c.Subject, marked 已实名 (and given the platform's name, when it sends
//     a valid one) and signed in;
//  3. otherwise a person's account is opened from the claims: name and ID
//     number are required; the phone number is kept (sealed) only when the
//     platform says it verified it and no other account uses it, since it
//     becomes a way to sign in by SMS code. The account has no password.
//
// A disabled account is refused (apperr.Forbidden) and the attempt
// recorded; missing or invalid claims are refused (apperr.Invalid, in
// Chinese) with nothing written. Every change, the sign-in record (method
// "oidc") and the audit entry are written in one transaction; neither the
// ID number nor the phone number is written in clear anywhere.
func (s *Service) SignInWithOIDC(ctx context.Context, c oidc.Claims, meta Meta) (token string, err error) {
	subject := c.Subject
	if strings.TrimSpace(subject) == "" || len(subject) > maxSubjectLen || !utf8.ValidString(subject) {
		return "", errOIDCSubject
	}
	now := s.opt.Clock.Now()
	card, idErr := ident.ParseIDCard(c.IDNumber, now.In(chinaTime))
	name := strings.TrimSpace(c.Name)
	nameOK := utf8.ValidString(name) && utf8.RuneCountInString(name) >= 2 && utf8.RuneCountInString(name) <= 30

	var failure error
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		token, failure = "", nil
		// 1. Already linked.
		var id int64
		var kind string
		var disabled bool
		err := tx.QueryRow(ctx, `SELECT id, kind, disabled FROM accounts WHERE oidc_subject = ?`, subject).Scan(&id, &kind, &disabled)
		switch {
		case err == nil:
			switch {
			case kind != "person":
				failure = errOIDCNotPerson
				return s.failed(ctx, tx, id, methodOIDC, "非个人账户", meta)
			case disabled:
				failure = errOIDCDisabled
				return s.failed(ctx, tx, id, methodOIDC, "账户已停用", meta)
			}
			if token, err = s.newSession(ctx, tx, id, meta); err != nil {
				return err
			}
			return s.oidcSucceeded(ctx, tx, id, "signin", "通过统一身份认证登录", meta)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}

		if idErr != nil {
			failure = errOIDCIDNumber
			return nil
		}
		idIndex := s.opt.Keys.Index("id_number", card.Number)

		// 2. An account with the same ID number: link it.
		var linked sql.NullString
		var current string
		err = tx.QueryRow(ctx, `SELECT id, kind, name, disabled, oidc_subject FROM accounts WHERE id_number_index = ?`, idIndex).
			Scan(&id, &kind, &current, &disabled, &linked)
		switch {
		case err == nil:
			switch {
			case kind != "person":
				failure = errOIDCNotPerson
				return s.failed(ctx, tx, id, methodOIDC, "非个人账户", meta)
			case linked.Valid:
				failure = errOIDCTaken
				return s.failed(ctx, tx, id, methodOIDC, "已关联其他统一身份认证账号", meta)
			case disabled:
				failure = errOIDCDisabled
				return s.failed(ctx, tx, id, methodOIDC, "账户已停用", meta)
			}
			// The platform's name is the verified one; keep the typed one
			// only when the platform sends none.
			newName := name
			if !nameOK {
				newName = current
			}
			if _, err := tx.Exec(ctx, `UPDATE accounts SET oidc_subject = ?, real_name_status = 'verified', name = ?, updated_at = ?
				WHERE id = ?`, subject, newName, now, id); store.IsUniqueViolation(err) {
				return errOIDCRace
			} else if err != nil {
				return err
			}
			if token, err = s.newSession(ctx, tx, id, meta); err != nil {
				return err
			}
			return s.oidcSucceeded(ctx, tx, id, "signin", "通过统一身份认证登录，关联已有账户并完成实名核验", meta)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}

		// 3. A new account.
		if !nameOK {
			failure = errOIDCName
			return nil
		}
		idSealed, err := s.opt.Keys.Seal(card.Number, ctxIDNumber)
		if err != nil {
			return err
		}
		var mobileSealed, mobileIdx any // NULL without a number
		mobileMasked := ""
		if m, err := ident.ParseMobile(c.PhoneNumber); err == nil && c.PhoneVerified {
			idx := s.opt.Keys.Index("mobile", m)
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE mobile_index = ?`, idx).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				sealed, err := s.opt.Keys.Seal(m, ctxMobile)
				if err != nil {
					return err
				}
				mobileSealed, mobileIdx, mobileMasked = sealed, idx, ident.MaskMobile(m)
			}
		}
		err = tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, id_number_sealed, id_number_index, id_number_masked,
			mobile_sealed, mobile_index, mobile_masked, totp_required, real_name_status, oidc_subject, created_at, updated_at)
			VALUES ('person', ?, ?, ?, ?, ?, ?, ?, ?, 'verified', ?, ?, ?) RETURNING id`,
			name, idSealed, idIndex, ident.MaskIDCard(card.Number), mobileSealed, mobileIdx, mobileMasked,
			false, subject, now, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return errOIDCRace // another sign-in took the subject, number or phone meanwhile
		}
		if err != nil {
			return err
		}
		if token, err = s.newSession(ctx, tx, id, meta); err != nil {
			return err
		}
		return s.oidcSucceeded(ctx, tx, id, "register", "通过统一身份认证开通个人账户（已实名）并登录", meta)
	})
	if err == nil {
		err = failure
	}
	if err != nil {
		token = ""
		if apperr.Is(err, apperr.Invalid) {
			// Which claim was wrong, never its value.
			s.opt.Log.Warn("oidc sign-in refused", "reason", apperr.MessageOf(err),
				"id_number_present", c.IDNumber != "", "name_present", name != "")
		}
	}
	return token, err
}

// oidcSucceeded records a successful sign-in through the platform.
func (s *Service) oidcSucceeded(ctx context.Context, tx *store.Tx, id int64, action, detail string, meta Meta) error {
	if err := s.recordSignIn(ctx, tx, id, methodOIDC, true, "", meta); err != nil {
		return err
	}
	return s.audit(ctx, tx, id, action, fmt.Sprintf("account:%d", id), detail, meta)
}
