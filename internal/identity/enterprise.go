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
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Enterprise is an enterprise or organisation people act for.
type Enterprise struct {
	ID           int64
	Name         string
	CreditCode   string
	LegalRepName string
	Role         string // the viewer's role in it: legal_rep or agent
}

// RegisterEnterprise records an enterprise with its 统一社会信用代码
// (GB 32100) and makes the registering person its legal representative.
func (s *Service) RegisterEnterprise(ctx context.Context, who policy.Subject, name, creditCode, legalRep string, meta Meta) (Enterprise, error) {
	if who.Kind != policy.Person {
		return Enterprise{}, apperr.New(apperr.Forbidden, "只有个人用户可以登记企业")
	}
	var problems []string
	name, legalRep = strings.TrimSpace(name), strings.TrimSpace(legalRep)
	if n := utf8.RuneCountInString(name); n < 2 || n > 100 {
		problems = append(problems, "企业名称应为2至100个字")
	}
	code, err := ident.ParseCreditCode(creditCode)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if n := utf8.RuneCountInString(legalRep); n < 2 || n > 30 {
		problems = append(problems, "法定代表人姓名应为2至30个字")
	}
	if len(problems) > 0 {
		return Enterprise{}, apperr.New(apperr.Invalid, strings.Join(problems, "；"))
	}
	e := Enterprise{Name: name, CreditCode: code.Code, LegalRepName: legalRep, Role: "legal_rep"}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		now := s.opt.Clock.Now()
		err := tx.QueryRow(ctx, `INSERT INTO enterprises (name, credit_code, legal_rep_name, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			e.Name, e.CreditCode, e.LegalRepName, now).Scan(&e.ID)
		if store.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "该统一社会信用代码已登记；如需代办，请联系该企业的法定代表人添加您为经办人。")
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO enterprise_agents (enterprise_id, account_id, role, added_by, added_at) VALUES (?, ?, 'legal_rep', ?, ?)`,
			e.ID, who.AccountID, who.AccountID, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, who.AccountID, "enterprise_register", fmt.Sprintf("enterprise:%d", e.ID), "登记企业 "+e.Name, meta)
	})
	return e, err
}

// AddAgent lets the legal representative allow another registered person,
// found by mobile number, to act for the enterprise.
func (s *Service) AddAgent(ctx context.Context, who policy.Subject, enterpriseID int64, mobile string, meta Meta) error {
	_, idx, err := s.mobileIndex(mobile)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		var role string
		err := tx.QueryRow(ctx, `SELECT role FROM enterprise_agents WHERE enterprise_id = ? AND account_id = ?`, enterpriseID, who.AccountID).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) || err == nil && role != "legal_rep" {
			return apperr.New(apperr.Forbidden, "只有企业的法定代表人可以添加经办人")
		}
		if err != nil {
			return err
		}
		agent, _, err := personByMobile(ctx, tx, idx)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO enterprise_agents (enterprise_id, account_id, role, added_by, added_at) VALUES (?, ?, 'agent', ?, ?)`,
			enterpriseID, agent, who.AccountID, s.opt.Clock.Now())
		if store.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "此人已是该企业的经办人")
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, who.AccountID, "agent_add", fmt.Sprintf("enterprise:%d", enterpriseID), fmt.Sprintf("添加经办人 account:%d", agent), meta)
	})
}

// Enterprises lists the enterprises a person may act for.
func (s *Service) Enterprises(ctx context.Context, accountID int64) ([]Enterprise, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT e.id, e.name, e.credit_code, e.legal_rep_name, a.role FROM enterprises e
		JOIN enterprise_agents a ON a.enterprise_id = e.id WHERE a.account_id = ? ORDER BY e.name`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Enterprise
	for rows.Next() {
		var e Enterprise
		if err := rows.Scan(&e.ID, &e.Name, &e.CreditCode, &e.LegalRepName, &e.Role); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ActFor switches the session to act for an enterprise (0: for oneself).
// Only an enterprise's legal representative and agents may.
func (s *Service) ActFor(ctx context.Context, token string, who policy.Subject, enterpriseID int64, meta Meta) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		var acting any
		if enterpriseID != 0 {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM enterprise_agents WHERE enterprise_id = ? AND account_id = ?`,
				enterpriseID, who.AccountID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return apperr.New(apperr.Forbidden, "您不是该企业的法定代表人或经办人")
			}
			acting = enterpriseID
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET acting_for = ? WHERE token_hash = ? AND account_id = ?`, acting, tokenHash(token), who.AccountID); err != nil {
			return err
		}
		return s.audit(ctx, tx, who.AccountID, "act_for", fmt.Sprintf("enterprise:%d", enterpriseID), "切换办事身份", meta)
	})
}
