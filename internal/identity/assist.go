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
	if err := s.accountMobile(ctx, s.db.Read(), idNumber, m); err != nil {
		return err
	}
	ok, end, err := s.throttle.Allow(ctx, fmt.Sprintf("assist-code:%d", who.AccountID), assistCodesPerHour, time.Hour)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.TooMany, fmt.Sprintf("您一小时内发送的授权验证码已达 %d 条，请于 %s 后再试，或改用上传授权委托书。",
			assistCodesPerHour, end.In(chinaTime).Format("15:04")))
	}
	return s.sendCode(ctx, m, s.opt.Keys.Index("mobile", m), PurposeAssist, meta, func(code string) string {
		return fmt.Sprintf("【政务服务】工作人员%s申请为您代办“%s”，验证码是%s，%d分钟内有效。如您同意，请将验证码告诉工作人员；如不同意，请勿告知。",
			who.Name, itemName, code, int(codeTTL.Minutes()))
	})
}

// accountMobile refuses an SMS confirmation from mobile m (normalised)
// for the person with idNumber when their account has another number.
func (s *Service) accountMobile(ctx context.Context, q store.Querier, idNumber, m string) error {
	var onAccount, masked sql.NullString
	err := q.QueryRow(ctx, `SELECT mobile_index, mobile_masked FROM accounts WHERE kind = 'person' AND id_number_index = ?`,
		s.opt.Keys.Index("id_number", idNumber)).Scan(&onAccount, &masked)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if onAccount.String != "" && onAccount.String != s.opt.Keys.Index("mobile", m) {
		return apperr.New(apperr.Invalid, fmt.Sprintf("短信确认须发送到申请人账户登记的手机号码（%s）；如号码已更换，请改用上传授权委托书。", masked.String))
	}
	return nil
}

// AssistedApplicant is CounterApplicant for 帮办代办: it checks the typed
// identity and returns the step that, in the application's transaction,
// finds the person or opens their account. With confirmedBy (the mobile
// an SMS consent came from) it also refuses a person whose account has
// another number — now, and again in the transaction: a code texted to
// some phone confirms no one else's application.
func (s *Service) AssistedApplicant(ctx context.Context, who policy.Subject, p AssistPerson, confirmedBy string, meta Meta) (func(context.Context, *store.Tx) (int64, error), error) {
	if err := mayAssist(who); err != nil {
		return nil, err
	}
	idNumber, _, err := s.checkAssistPerson(p, false)
	if err != nil {
		return nil, err
	}
	var m string
	if confirmedBy != "" {
		if m, err = ident.ParseMobile(confirmedBy); err != nil {
			return nil, apperr.Wrap(apperr.Invalid, err.Error(), err)
		}
		if err := s.accountMobile(ctx, s.db.Read(), idNumber, m); err != nil {
			return nil, err
		}
	}
	account, err := s.applicantFor(who.AccountID, p.Name, p.IDNumber, p.Mobile, "帮办代办时为申请人开设账户", meta)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *store.Tx) (int64, error) {
		if m != "" {
			if err := s.accountMobile(ctx, tx, idNumber, m); err != nil {
				return 0, err
			}
		}
		return account(ctx, tx)
	}, nil
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
