package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/mail"
	"github.com/zwfw/zwfw/internal/store"
)

// The e-mail address is personal data like the mobile number: sealed in
// the database, shown masked, opened only to send a message.
const ctxEmail = "accounts.email"

// SetEmail records where a person's notifications are also e-mailed, or
// with "" stops them. The change is audited with the masked addresses.
func (s *Service) SetEmail(ctx context.Context, accountID int64, email string, meta Meta) error {
	email = strings.TrimSpace(email)
	sealed := ""
	if email != "" {
		if err := mail.ValidAddress(email); err != nil {
			return err
		}
		var err error
		if sealed, err = s.opt.Keys.Seal(email, ctxEmail); err != nil {
			return err
		}
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE accounts SET email_sealed = ?, updated_at = ? WHERE id = ? AND kind = 'person'`,
			sealed, s.opt.Clock.Now(), accountID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.NotFound, "账户不存在")
		}
		detail := "停止邮件通知"
		if email != "" {
			detail = "设置通知邮箱为 " + mail.Mask(email)
		}
		return s.audit(ctx, tx, accountID, "email_change", fmt.Sprintf("account:%d", accountID), detail, meta)
	})
}

// email opens an account's e-mail address, or "" when it has none.
func (s *Service) email(ctx context.Context, q store.Querier, accountID int64) (string, error) {
	var sealed string
	err := q.QueryRow(ctx, `SELECT email_sealed FROM accounts WHERE id = ?`, accountID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", apperr.New(apperr.NotFound, "账户不存在")
	}
	if err != nil || sealed == "" {
		return "", err
	}
	return s.opt.Keys.Open(sealed, ctxEmail)
}

// HasEmail reports whether an account gets notifications by e-mail.
func HasEmail(ctx context.Context, q store.Querier, accountID int64) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE id = ? AND email_sealed <> ''`, accountID).Scan(&n)
	return n > 0, err
}

// MailToAccount e-mails an account, if it has an address and a mail
// sender is configured; otherwise it does nothing.
func (s *Service) MailToAccount(ctx context.Context, accountID int64, subject, body string) error {
	if s.opt.Mail == nil {
		return nil
	}
	to, err := s.email(ctx, s.db.Read(), accountID)
	if err != nil || to == "" {
		return err
	}
	return s.opt.Mail.Send(ctx, mail.Message{To: to, Subject: subject, Body: body})
}
