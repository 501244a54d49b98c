package casework

import (
	"context"
	"fmt"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// ApplyFor creates and submits an application that another system took
// from a person (integration, issue 12): a client with the cases.create
// scope sends the form and the materials with the applicant's identity,
// and the applicant's account is found or opened in the case's own
// transaction (as at the counter), so a refused application leaves no
// account. The case's channel is online — the person applied through an
// online system, not at a window — and its record names the client as the
// one who took each step.
func (s *Service) ApplyFor(ctx context.Context, who policy.Subject, itemID int64, applicant Applicant, answers map[string]string, files []Attachment) (Case, error) {
	if who.Kind != policy.Client {
		return Case{}, apperr.New(apperr.Forbidden, "代为申请须由接入系统提交。")
	}
	it, err := s.catalog.PublishedRecent(ctx, itemID)
	if err != nil {
		return Case{}, err
	}
	if err := applicable(it); err != nil {
		return Case{}, err
	}
	now := s.clock.Now()
	form, problems := CheckForm(it, answers, now)
	if len(problems) > 0 {
		return Case{}, &apperr.Error{Code: apperr.Invalid, Message: fmt.Sprintf("申请表有 %d 处需要修改。", len(problems)), Fields: problems}
	}
	mats, err := handedIn(it, files, -1, now)
	if err != nil {
		return Case{}, err
	}
	app := application{it: it, mats: mats, wait: -1, c: Case{ItemID: it.ID, ItemVersion: it.Version, DepartmentID: it.DepartmentID,
		RegionCode: it.RegionCode, Status: Submitted, Channel: "online", Form: form, Version: 1}}
	if err := policy.Check(who, policy.Create, app.c.Resource()); err != nil {
		return Case{}, err
	}
	if app.body, err = s.open(ctx, &app.c, it, now); err != nil {
		return Case{}, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if app.c.ApplicantID, err = applicant(ctx, tx); err != nil {
			return err
		}
		if err := s.keep(ctx, tx, now, files); err != nil {
			return err
		}
		return s.write(ctx, tx, who, &app, now)
	})
	if err != nil {
		return Case{}, err
	}
	return app.c, nil
}
