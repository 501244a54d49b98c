package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Create is the first event of every case.
const Create Action = "create"

// CreateDraft starts an application for a published item that can be
// applied for online, under the item's current version.
func (s *Service) CreateDraft(ctx context.Context, who policy.Subject, itemID int64, form map[string]string) (Case, error) {
	it, _, err := s.catalog.Published(ctx, itemID)
	if err != nil {
		return Case{}, err
	}
	if err := applicable(it); err != nil {
		return Case{}, err
	}
	k, err := s.knownOf(ctx, s.db.Read(), who.AccountID, who.ActingFor)
	if err != nil {
		return Case{}, err
	}
	form = k.apply(it, form, true)
	c := Case{ItemID: it.ID, ItemVersion: it.Version, ApplicantID: who.AccountID, EnterpriseID: who.ActingFor,
		DepartmentID: it.DepartmentID, RegionCode: it.RegionCode, Status: Draft, Channel: "online", Form: form, Version: 1}
	if err := policy.Check(who, policy.Create, c.Resource()); err != nil {
		return Case{}, err
	}
	now := s.clock.Now()
	body, err := s.open(ctx, &c, it, now)
	if err != nil {
		return Case{}, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := insertCase(ctx, tx, &c, body); err != nil {
			return err
		}
		if err := s.changedFrom(ctx, tx, Case{}, c); err != nil {
			return err
		}
		return appendEvent(ctx, tx, c.ID, Event{At: now, ActorID: who.AccountID, ActorRole: "申请人", Action: Create, To: Draft})
	})
	return c, err
}

// open numbers and timestamps a new case and encodes its form (of item
// it), sealing the personal answers: the work before its transaction (a
// new block of numbers is a transaction of its own).
func (s *Service) open(ctx context.Context, c *Case, it catalog.Item, now time.Time) (string, error) {
	var err error
	c.CreatedAt, c.UpdatedAt = now, now
	if c.Number, err = s.nextNumber(ctx, c.RegionCode, now); err != nil {
		return "", err
	}
	return s.encodeForm(it, c, c.Form)
}

// insertCase writes a new case in tx — only if its item is still published
// at the case's version: the item was read before the transaction, from a
// recent copy on the busiest path.
func insertCase(ctx context.Context, tx *store.Tx, c *Case, form string) error {
	var enterprise, submitted, assisted any
	if c.EnterpriseID != 0 {
		enterprise = c.EnterpriseID
	}
	if c.AssistedBy != 0 {
		assisted = c.AssistedBy
	}
	if c.Status == Submitted {
		submitted = c.CreatedAt
	}
	err := tx.QueryRow(ctx, `INSERT INTO cases (number, item_id, item_version, applicant_id, enterprise_id, department_id,
		region_code, status, channel, form_data, version, created_at, updated_at, submitted_at, assisted_by)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM items WHERE id = ? AND status = 'published' AND published_version = ?)
		RETURNING id`,
		c.Number, c.ItemID, c.ItemVersion, c.ApplicantID, enterprise, c.DepartmentID, c.RegionCode, c.Status, c.Channel, form,
		c.CreatedAt, c.UpdatedAt, submitted, assisted, c.ItemID, c.ItemVersion).Scan(&c.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.Conflict, "本事项的办事指南刚刚更新或已暂停办理，请刷新页面，按最新要求重新提交。")
	}
	if err != nil {
		return fmt.Errorf("insert case: %w", err)
	}
	return nil
}

// applicable says whether an item can be applied for online now.
func applicable(it catalog.Item) error {
	if it.Status != catalog.Published {
		return apperr.New(apperr.Conflict, "本事项暂停办理，暂不能申请。")
	}
	if !it.Depth.Online() {
		return apperr.New(apperr.Invalid, "本事项暂不支持网上申请，请到现场办理。")
	}
	return nil
}
