package identity

import (
	"context"
	"database/sql"
	"errors"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/store"
)

// Known is what the platform knows of an applicant, to fill their forms
// with: the person's name, identity and mobile numbers, and the
// enterprise's name and credit code when they act for one.
type Known struct {
	Name, IDNumber, Mobile string
	OrgName, CreditCode    string
}

// Known reads, in q (a case's transaction, where the account may have
// just been opened at the counter), what an applicant's forms are filled
// with. The numbers are opened only for the applicant's own forms.
func (s *Service) Known(ctx context.Context, q store.Querier, accountID, enterpriseID int64) (Known, error) {
	var k Known
	var idSealed, mobileSealed sql.NullString
	err := q.QueryRow(ctx, `SELECT name, id_number_sealed, mobile_sealed FROM accounts WHERE id = ? AND kind = 'person'`, accountID).
		Scan(&k.Name, &idSealed, &mobileSealed)
	if errors.Is(err, sql.ErrNoRows) {
		return k, apperr.New(apperr.NotFound, "申请人账户不存在。")
	}
	if err != nil {
		return k, err
	}
	if idSealed.String != "" {
		if k.IDNumber, err = s.opt.Keys.Open(idSealed.String, ctxIDNumber); err != nil {
			return k, err
		}
	}
	if mobileSealed.String != "" {
		if k.Mobile, err = s.opt.Keys.Open(mobileSealed.String, ctxMobile); err != nil {
			return k, err
		}
	}
	if enterpriseID != 0 {
		err := q.QueryRow(ctx, `SELECT name, credit_code FROM enterprises WHERE id = ?`, enterpriseID).Scan(&k.OrgName, &k.CreditCode)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return k, err
		}
	}
	return k, nil
}
