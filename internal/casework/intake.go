package casework

import (
	"context"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Visit is the event of the applicant coming in person.
const Visit Action = "visit"

// Applicant finds or opens, in the intake's transaction, the account of
// the person at the counter (identity.Service.CounterApplicant).
type Applicant func(ctx context.Context, tx *store.Tx) (int64, error)

// Intake opens a case at the counter (窗口收件) for an applicant who came
// in person: the window clerk of the item's department fills the form and
// scans the materials on the applicant's behalf, and the visit is recorded.
// The applicant's account is found or opened in the same transaction as
// the case, so a refused intake leaves no account (and no audit entry).
func (s *Service) Intake(ctx context.Context, who policy.Subject, itemID int64, applicant Applicant, answers map[string]string) (Case, error) {
	it, _, err := s.catalog.Published(ctx, itemID)
	if err != nil {
		return Case{}, err
	}
	c := Case{ItemID: it.ID, ItemVersion: it.Version, DepartmentID: it.DepartmentID,
		RegionCode: it.RegionCode, Status: Draft, Channel: "window", Form: answers, Version: 1}
	if err := policy.Check(who, policy.Create, c.Resource()); err != nil {
		return Case{}, err
	}
	if !who.Has(policy.Window) {
		return Case{}, apperr.New(apperr.Forbidden, "窗口收件须由窗口人员办理。")
	}
	now := s.clock.Now()
	body, err := s.open(ctx, &c, it, now)
	if err != nil {
		return Case{}, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if c.ApplicantID, err = applicant(ctx, tx); err != nil {
			return err
		}
		// The clerk does not type again what the intake has just told:
		// the form starts with the applicant's name and numbers.
		k, err := s.knownOf(ctx, tx, c.ApplicantID, 0)
		if err != nil {
			return err
		}
		if body, err = s.encodeForm(it, &c, k.apply(it, answers, true)); err != nil {
			return err
		}
		if err := insertCase(ctx, tx, &c, body); err != nil {
			return err
		}
		if err := appendEvent(ctx, tx, c.ID, Event{At: now, ActorID: who.AccountID, ActorRole: policy.Window.Name(), Action: Create, To: Draft, Reason: "窗口收件"}); err != nil {
			return err
		}
		if err := s.visit(ctx, tx, &c, who, "窗口收件", now); err != nil {
			return err
		}
		return s.changedFrom(ctx, tx, Case{}, c)
	})
	if err != nil {
		return Case{}, err
	}
	return c, nil
}

// RecordVisit records that the applicant came in person again for a case.
func (s *Service) RecordVisit(ctx context.Context, who policy.Subject, caseID int64, expected int, purpose string) (Case, error) {
	purpose = strings.TrimSpace(purpose)
	if purpose == "" {
		return Case{}, apperr.New(apperr.Invalid, "请写明到场事由。")
	}
	var c Case
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = load(ctx, tx, caseID); err != nil {
			return err
		}
		if err := policy.Check(who, policy.Handle, c.Resource()); err != nil {
			return err
		}
		if err := current(c, expected); err != nil {
			return err
		}
		before := c
		if err := s.visit(ctx, tx, &c, who, purpose, s.clock.Now()); err != nil {
			return err
		}
		return s.changedFrom(ctx, tx, before, c)
	})
	return c, err
}

func (s *Service) visit(ctx context.Context, tx *store.Tx, c *Case, who policy.Subject, purpose string, now time.Time) error {
	if _, err := tx.Exec(ctx, `INSERT INTO case_visits (case_id, staff_id, purpose, at) VALUES (?, ?, ?, ?)`, c.ID, who.AccountID, purpose, now); err != nil {
		return err
	}
	// visits counts the case_visits rows for the 最多跑一次 list. It is not
	// part of the state each event commits to (stateColumns): every visit is
	// a Visit event of the chain, so the chain commits to the count already,
	// and a derived counter that drifted is repaired by a recount, not a reseal.
	res, err := tx.Exec(ctx, `UPDATE cases SET visits = visits + 1, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, now, c.ID, c.Version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errChanged
	}
	c.Version++
	c.Visits++
	role := policy.Window.Name()
	if !who.Has(policy.Window) && len(who.Roles) > 0 {
		role = who.Roles[0].Name()
	}
	return appendEvent(ctx, tx, c.ID, Event{At: now, ActorID: who.AccountID, ActorRole: role, Action: Visit, From: c.Status, To: c.Status, Reason: purpose})
}
