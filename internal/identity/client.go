package identity

import (
	"context"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// ClientApplicant is CounterApplicant for another system that took an
// application for a person (integration, issue 12): a client with the
// cases.create scope names the applicant by 身份证号码 and name, and the
// step finds them or opens their account in the case's transaction, the
// account's audit entry naming the client.
func (s *Service) ClientApplicant(who policy.Subject, name, idNumber, mobile string, meta Meta) (func(context.Context, *store.Tx) (int64, error), error) {
	if err := policy.Check(who, policy.Create, policy.Resource{Kind: policy.Case}); err != nil || who.Kind != policy.Client {
		return nil, apperr.New(apperr.Forbidden, "代为申请须由有权限的接入系统提交。")
	}
	find, err := s.applicantFor(0, name, idNumber, mobile, who.Name+"代为申请时为申请人开设账户", meta)
	if err != nil {
		return nil, err
	}
	// Another system's word is checked: the number and the name must be
	// the same person's (a clerk sees the card; a client's message could
	// pair a number with anyone's name).
	return func(ctx context.Context, tx *store.Tx) (int64, error) {
		id, err := find(ctx, tx)
		if err != nil {
			return 0, err
		}
		var stored string
		if err := tx.QueryRow(ctx, `SELECT name FROM accounts WHERE id = ?`, id).Scan(&stored); err != nil {
			return 0, err
		}
		if stored != strings.TrimSpace(name) {
			return 0, apperr.New(apperr.Invalid, "申请人的身份证号码与姓名不符。")
		}
		return id, nil
	}, nil
}
