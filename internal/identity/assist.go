package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// 帮办代办 (assisted applications): a street or community worker applies
// for a person, who confirms their consent with a code texted to them
// (or signs a 授权委托书; casework records either).

// PurposeAssist is the code that confirms a person's consent to an
// application made for them; it works for nothing else.
const PurposeAssist = "assist"

// assistCodesPerHour bounds the consent codes one worker sends in an hour,
// on top of every code's limits per number and per address: a worker's
// account cannot text numbers in bulk.
const assistCodesPerHour = 20

// AssistPerson is the person a worker applies for, as the worker typed them.
type AssistPerson struct {
	Name, IDNumber, Mobile string
}

// check validates the typed identity: the 身份证号码 and, when given (or
// required), the mobile number. It returns the card's normalised number
// and the normalised mobile.
func (s *Service) checkAssistPerson(p AssistPerson, needMobile bool) (string, string, error) {
	if n := utf8.RuneCountInString(strings.TrimSpace(p.Name)); n < 2 || n > 30 {
		return "", "", apperr.New(apperr.Invalid, "请填写申请人姓名（2至30个字）。")
	}
	card, err := ident.ParseIDCard(p.IDNumber, s.opt.Clock.Now().In(chinaTime))
	if err != nil {
		return "", "", apperr.Wrap(apperr.Invalid, err.Error(), err)
	}
	if strings.TrimSpace(p.Mobile) == "" && !needMobile {
		return card.Number, "", nil
	}
	m, err := ident.ParseMobile(p.Mobile)
	if err != nil {
		return "", "", apperr.Wrap(apperr.Invalid, err.Error(), err)
	}
	return card.Number, m, nil
}

// mayAssist refuses anyone but a 帮办代办员 of a street or community.
func mayAssist(who policy.Subject) error {
	if !who.Has(policy.Assistant) || !policy.AssistantDepartment(who.DepartmentKind) {
		return apperr.New(apperr.Forbidden, "帮办代办须由街道或社区的帮办代办员办理。")
	}
	return nil
}

// SendAssistCode texts the person a worker applies for a code that
// confirms their consent, telling them who asks and for what. The code
// goes to the number on the person's account if they have one (a worker
// cannot confirm with a phone of their own choosing), else to the number
// the worker typed, which the new account then keeps. Limits: every
// code's, per number and per address, and assistCodesPerHour per worker.
func (s *Service) SendAssistCode(ctx context.Context, who policy.Subject, p AssistPerson, itemName string, meta Meta) error {
	if err := mayAssist(who); err != nil {
		return err
	}
	idNumber, m, err := s.checkAssistPerson(p, true)
	if err != nil {
		return err
	}
	idx := s.opt.Keys.Index("mobile", m)
	var onAccount, masked sql.NullString
	err = s.db.Read().QueryRow(ctx, `SELECT mobile_index, mobile_masked FROM accounts WHERE kind = 'person' AND id_number_index = ?`,
		s.opt.Keys.Index("id_number", idNumber)).Scan(&onAccount, &masked)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if onAccount.String != "" && onAccount.String != idx {
		return apperr.New(apperr.Invalid, fmt.Sprintf("短信确认须发送到申请人账户登记的手机号码（%s）；如号码已更换，请改用上传授权委托书。", masked.String))
	}
	ok, end, err := s.throttle.Allow(ctx, fmt.Sprintf("assist-code:%d", who.AccountID), assistCodesPerHour, time.Hour)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.TooMany, fmt.Sprintf("您一小时内发送的授权验证码已达 %d 条，请于 %s 后再试，或改用上传授权委托书。",
			assistCodesPerHour, end.In(chinaTime).Format("15:04")))
	}
	return s.sendCode(ctx, m, idx, PurposeAssist, meta, func(code string) string {
		return fmt.Sprintf("【政务服务】工作人员%s申请为您代办“%s”，验证码是%s，%d分钟内有效。如您同意，请将验证码告诉工作人员；如不同意，请勿告知。",
			who.Name, itemName, code, int(codeTTL.Minutes()))
	})
}

// AssistedApplicant is CounterApplicant for 帮办代办: it checks the typed
// identity and returns the step that, in the application's transaction,
// finds the person or opens their account.
func (s *Service) AssistedApplicant(who policy.Subject, p AssistPerson, meta Meta) (func(context.Context, *store.Tx) (int64, error), error) {
	if err := mayAssist(who); err != nil {
		return nil, err
	}
	if _, _, err := s.checkAssistPerson(p, false); err != nil {
		return nil, err
	}
	return s.applicantFor(who.AccountID, p.Name, p.IDNumber, p.Mobile, "帮办代办时为申请人开设账户", meta)
}

// checkAssistantDepartment refuses the 帮办代办员 role to staff of a
// department that is not a street's centre or a community's station: the
// policy would give it nothing there, and the page should say so.
func checkAssistantDepartment(ctx context.Context, q store.Querier, departmentID int64, roles []policy.Role) error {
	if !slices.Contains(roles, policy.Assistant) {
		return nil
	}
	var kind string
	err := q.QueryRow(ctx, `SELECT kind FROM departments WHERE id = ?`, departmentID).Scan(&kind)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if !policy.AssistantDepartment(kind) {
		return apperr.New(apperr.Invalid, "帮办代办员须为街道便民服务中心或社区便民服务站的工作人员。")
	}
	return nil
}
