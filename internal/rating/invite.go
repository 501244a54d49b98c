package rating

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/store"
)

// CaseSubject is a finished case as a subject: rated by its applicant, on
// the dimensions of the scene it was applied in (online, or at a window).
func (s *Service) CaseSubject(ctx context.Context, c casework.Case) (Subject, error) {
	it, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
	if err != nil {
		return Subject{}, err
	}
	scene := Online
	if c.Channel == "window" {
		scene = Onsite
	}
	return Subject{Kind: OfCase, ID: c.ID, Number: c.Number, Title: it.Name, ItemID: c.ItemID, DepartmentID: c.DepartmentID,
		RegionCode: c.RegionCode, PersonID: c.ApplicantID, EnterpriseID: c.EnterpriseID, CaseID: c.ID, Scene: scene}, nil
}

// InviteCase invites the applicant of a case that has just finished, in
// the finishing step's transaction: casework's finishing hook.
func (s *Service) InviteCase(ctx context.Context, tx *store.Tx, c casework.Case) error {
	subj, err := s.CaseSubject(ctx, c)
	if err != nil {
		return err
	}
	return s.Invite(ctx, tx, subj)
}

// Invite asks the person served to rate subject, in the transaction that
// ends the service (a case finished, a complaint closed): an invitation
// their case page and 我的办件 prompt with, and an entry in their message
// centre. No SMS goes now — the step that finished the service texts them
// already, one message per sitting — but one reminder, by message centre
// and SMS, if no rating comes within RemindAfter (CheckReminders). A
// subject already invited is left as it is.
func (s *Service) Invite(ctx context.Context, tx *store.Tx, subj Subject) error {
	if err := subj.valid(); err != nil {
		return err
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO rating_invitations (subject_kind, subject_id, subject_number, title, item_id, department_id,
		region_code, scene, account_id, enterprise_id, staff_id, case_id, invited_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (subject_kind, subject_id, account_id) DO NOTHING RETURNING id`,
		subj.Kind, subj.ID, subj.Number, subj.Title, nullID(subj.ItemID), subj.DepartmentID, subj.RegionCode, subj.Scene,
		subj.PersonID, nullID(subj.EnterpriseID), nullID(subj.StaffID), nullID(subj.CaseID), s.clock.Now()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	body := fmt.Sprintf("%s（编号 %s）已办结。欢迎您对本次服务作出评价，您的评价将帮助我们改进工作。", subj.Title, subj.Number)
	return s.message(ctx, tx, subj.PersonID, subj.CaseID, "请评价本次服务", body)
}

func (subj Subject) valid() error {
	switch {
	case subj.Kind != OfCase && subj.Kind != OfComplaint && subj.Kind != OfVisit:
		return fmt.Errorf("rating: unknown subject kind %q", subj.Kind)
	case subj.ID <= 0 || subj.PersonID <= 0 || subj.DepartmentID <= 0 || len(subj.RegionCode) != 12:
		return fmt.Errorf("rating: subject %s %d lacks its id, person, department or region", subj.Kind, subj.ID)
	case strings.TrimSpace(subj.Title) == "" || subj.Number == "":
		return fmt.Errorf("rating: subject %s %d has no title or number", subj.Kind, subj.ID)
	case subj.Scene != Online && subj.Scene != Onsite:
		return fmt.Errorf("rating: subject %s %d has no scene", subj.Kind, subj.ID)
	}
	return nil
}

// message writes an entry in an account's message centre (tied to a case
// when there is one, so that it links there).
func (s *Service) message(ctx context.Context, tx *store.Tx, account, caseID int64, title, body string) error {
	_, err := tx.Exec(ctx, `INSERT INTO messages (account_id, case_id, title, body, created_at) VALUES (?, ?, ?, ?, ?)`,
		account, nullID(caseID), title, body, s.clock.Now())
	return err
}

// nullID stores 0 as NULL, for optional references.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CheckReminders sends the one reminder owed by each invitation that got
// no rating within RemindAfter: a message-centre entry and an SMS (a
// durable job, in the same transaction), with the link to rate by. It
// returns how many it sent.
func (s *Service) CheckReminders(ctx context.Context) (int, error) {
	cutoff := s.clock.Now().Add(-RemindAfter)
	type owed struct {
		id, account, caseID int64
		title, number       string
	}
	rows, err := s.db.Read().Query(ctx, `SELECT id, account_id, COALESCE(case_id, 0), title, subject_number FROM rating_invitations
		WHERE rating_id IS NULL AND reminded_at IS NULL AND invited_at <= ? ORDER BY invited_at, id LIMIT 500`, cutoff)
	if err != nil {
		return 0, err
	}
	var list []owed
	for rows.Next() {
		var o owed
		if err := rows.Scan(&o.id, &o.account, &o.caseID, &o.title, &o.number); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	sent := 0
	for _, o := range list {
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			// Rated or reminded meanwhile (another instance, the person):
			// the update claims the reminder, or there is nothing to do.
			res, err := tx.Exec(ctx, `UPDATE rating_invitations SET reminded_at = ? WHERE id = ? AND rating_id IS NULL AND reminded_at IS NULL`,
				s.clock.Now(), o.id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil
			}
			body := fmt.Sprintf("%s（编号 %s）已办结三天，您还没有评价。欢迎您对本次服务作出评价。", o.title, o.number)
			if err := s.message(ctx, tx, o.account, o.caseID, "请评价本次服务（提醒）", body); err != nil {
				return err
			}
			sent++
			if s.queue == nil {
				return nil
			}
			text := fmt.Sprintf("【政务服务】您办理的%s（编号%s）已办结，欢迎评价：%s", o.title, o.number, s.link(o.id))
			return s.queue.Enqueue(ctx, tx, casework.SMSArgs{AccountID: o.account, Text: text}, nil)
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// link is where an invitation is rated from a message.
func (s *Service) link(invitation int64) string {
	return fmt.Sprintf("%s/me/ratings/%d?via=message", strings.TrimSuffix(s.publicURL, "/"), invitation)
}
