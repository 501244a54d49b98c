package identity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// seenEvery is how stale last_seen_at may get before a request refreshes
// it: an idle timeout of minutes does not need a write on every request.
const seenEvery = time.Minute

// newSession starts a session in tx and returns its token for the cookie.
func (s *Service) newSession(ctx context.Context, tx *store.Tx, accountID int64, meta Meta) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.opt.Clock.Now()
	_, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, expires_at, client) VALUES (?, ?, ?, ?, ?, ?)`,
		tokenHash(token), accountID, now, now, now.Add(s.opt.SessionMax), shorten(meta.Client, 200))
	return token, err
}

// Session is a signed-in session as its owner sees it.
type Session struct {
	Subject   policy.Subject
	CreatedAt time.Time
	Client    string
}

var errSignedOut = apperr.New(apperr.Unauthorized, "登录已失效，请重新登录。")

// Authenticate turns a session token into the subject that policy checks.
// Expired, idle, revoked or disabled sessions are refused.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, errSignedOut
	}
	now := s.opt.Clock.Now()
	var sess Session
	var subj policy.Subject
	var actingFor, deptID sql.NullInt64
	var lastSeen, expires time.Time
	var revoked sql.NullTime
	var disabled bool
	// One query for the session, its account and the account's department:
	// every request of a signed-in person asks it.
	err := s.db.Read().QueryRow(ctx, `SELECT s.account_id, s.acting_for, s.created_at, s.last_seen_at, s.expires_at, s.revoked_at, s.client,
		a.kind, a.name, a.department_id, a.disabled, COALESCE(d.kind, ''), COALESCE(d.region_code, '')
		FROM sessions s JOIN accounts a ON a.id = s.account_id LEFT JOIN departments d ON d.id = a.department_id
		WHERE s.token_hash = ?`, tokenHash(token)).
		Scan(&subj.AccountID, &actingFor, &sess.CreatedAt, &lastSeen, &expires, &revoked, &sess.Client,
			&subj.Kind, &subj.Name, &deptID, &disabled, &subj.DepartmentKind, &subj.RegionCode)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, errSignedOut
	}
	if err != nil {
		return Session{}, err
	}
	if deptID.Valid {
		subj.DepartmentID = deptID.Int64
		if subj.Roles, err = roles(ctx, s.db.Read(), subj.AccountID); err != nil {
			return Session{}, err
		}
	}
	idle := s.opt.PersonIdle
	if subj.Kind == policy.Staff {
		idle = s.opt.StaffIdle
	}
	if revoked.Valid || disabled || !now.Before(expires) || now.Sub(lastSeen) > idle {
		return Session{}, errSignedOut
	}
	subj.ActingFor = actingFor.Int64
	sess.Subject = subj
	if now.Sub(lastSeen) > seenEvery {
		if err := s.db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`, now, tokenHash(token))
			return err
		}); err != nil {
			return Session{}, err
		}
	}
	return sess, nil
}

func roles(ctx context.Context, q store.Querier, accountID int64) ([]policy.Role, error) {
	rows, err := q.Query(ctx, `SELECT role FROM staff_roles WHERE account_id = ? ORDER BY role`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []policy.Role
	for rows.Next() {
		var r policy.Role
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SignOut ends one session.
func (s *Service) SignOut(ctx context.Context, token string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL`, s.opt.Clock.Now(), tokenHash(token))
		return err
	})
}

// SignOutEverywhere ends every session of the account but keep (a token,
// or "" for none), and records it.
func (s *Service) SignOutEverywhere(ctx context.Context, accountID int64, keep string, meta Meta) (int64, error) {
	var n int64
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = s.revokeOthers(ctx, tx, accountID, keep)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, accountID, "signout_all", fmt.Sprintf("account:%d", accountID), fmt.Sprintf("结束 %d 个会话", n), meta)
	})
	return n, err
}

func (s *Service) revokeOthers(ctx context.Context, tx *store.Tx, accountID int64, keep string) (int64, error) {
	res, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL AND token_hash <> ?`,
		s.opt.Clock.Now(), accountID, tokenHash(keep))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Sessions lists an account's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, accountID int64) ([]Session, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT created_at, client FROM sessions
		WHERE account_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC`, accountID, s.opt.Clock.Now())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var ss Session
		if err := rows.Scan(&ss.CreatedAt, &ss.Client); err != nil {
			return nil, err
		}
		out = append(out, ss)
	}
	return out, rows.Err()
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
