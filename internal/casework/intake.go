package casework

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
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
		if err := insertCase(ctx, tx, &c, body); err != nil {
			return err
		}
		if err := appendEvent(ctx, tx, c.ID, Event{At: now, ActorID: who.AccountID, ActorRole: policy.Window.Name(), Action: Create, To: Draft, Reason: "窗口收件"}); err != nil {
			return err
		}
		return s.visit(ctx, tx, &c, who, "窗口收件", now)
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
		return s.visit(ctx, tx, &c, who, purpose, s.clock.Now())
	})
	return c, err
}

func (s *Service) visit(ctx context.Context, tx *store.Tx, c *Case, who policy.Subject, purpose string, now time.Time) error {
	if _, err := tx.Exec(ctx, `INSERT INTO case_visits (case_id, staff_id, purpose, at) VALUES (?, ?, ?, ?)`, c.ID, who.AccountID, purpose, now); err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `UPDATE cases SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, now, c.ID, c.Version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errChanged
	}
	c.Version++
	role := policy.Window.Name()
	if !who.Has(policy.Window) && len(who.Roles) > 0 {
		role = who.Roles[0].Name()
	}
	return appendEvent(ctx, tx, c.ID, Event{At: now, ActorID: who.AccountID, ActorRole: role, Action: Visit, From: c.Status, To: c.Status, Reason: purpose})
}

// numberBlock is the case numbers this instance has reserved for the day.
// Numbers are reserved a block at a time, so that concurrent applications
// on several instances do not queue on one counter row; a block's unused
// numbers are skipped when the instance stops, and a number taken by an
// application that then fails is not reused. Numbers are unique and rise
// within an instance; completeness is proven by each case's event chain,
// not by numbers without gaps (docs/ARCHITECTURE.md).
type numberBlock struct {
	mu         sync.Mutex
	day        string
	next, last int
}

const numberBlockSize = 100

// nextNumber gives the next 办件编号: county code, Beijing date, serial of
// the day. It writes in a transaction of its own when it reserves a new
// block, so it must be called outside the caller's transaction.
func (s *Service) nextNumber(ctx context.Context, regionCode string, now time.Time) (string, error) {
	day := now.In(clock.China).Format("20060102")
	b := &s.numbers
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.day != day || b.next > b.last {
		var last int
		if err := s.db.Tx(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO case_numbers (day, last) VALUES (?, ?)
				ON CONFLICT (day) DO UPDATE SET last = case_numbers.last + ? RETURNING last`, day, numberBlockSize, numberBlockSize).Scan(&last)
		}); err != nil {
			return "", fmt.Errorf("case number: %w", err)
		}
		b.day, b.next, b.last = day, last-numberBlockSize+1, last
	}
	n := b.next
	b.next++
	return regionCode[:6] + day + fmt.Sprintf("%06d", n), nil
}

// MultiVisit is a case whose applicant had to come more than once.
type MultiVisit struct {
	Summary
	Visits int
}

// MultiVisits lists, for a supervisor's region (or an administrator's
// whole district), the cases whose applicants came in person more than
// once: the exceptions to 最多跑一次.
func (s *Service) MultiVisits(ctx context.Context, who policy.Subject, limit int) ([]MultiVisit, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Statistics}); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT c.id, c.number, i.name, c.status, c.version, c.updated_at, c.region_code, COUNT(*)
		FROM case_visits v JOIN cases c ON c.id = v.case_id JOIN items i ON i.id = c.item_id
		GROUP BY c.id, c.number, i.name, c.status, c.version, c.updated_at, c.region_code HAVING COUNT(*) > 1
		ORDER BY COUNT(*) DESC, c.updated_at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MultiVisit
	for rows.Next() {
		var m MultiVisit
		var region string
		if err := rows.Scan(&m.ID, &m.Number, &m.ItemName, &m.Status, &m.Version, &m.UpdatedAt, &region, &m.Visits); err != nil {
			return nil, err
		}
		// A draft, even one taken in at the counter, is no supervisor's.
		if policy.Check(who, policy.Follow, policy.Resource{Kind: policy.Case, RegionCode: region, DepartmentID: -1, Draft: m.Status == Draft}) == nil {
			out = append(out, m)
		}
	}
	return out, rows.Err()
}

// Corrected is a case whose applicant was asked for corrections more than
// once: each time after the first had to be about materials handed in
// since (一次性告知), and supervisors look at every one.
type Corrected struct {
	Summary
	Corrections int
	Department  string
}

// RepeatedCorrections lists, within what who may follow up, the cases
// asked for corrections more than once, most first.
func (s *Service) RepeatedCorrections(ctx context.Context, who policy.Subject, limit int) ([]Corrected, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Statistics}); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT c.id, c.number, i.name, c.status, c.version, c.updated_at, c.corrections, c.region_code,
		c.department_id, d.name FROM cases c JOIN items i ON i.id = c.item_id JOIN departments d ON d.id = c.department_id
		WHERE c.corrections > 1 ORDER BY c.corrections DESC, c.updated_at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Corrected
	for rows.Next() {
		var e Corrected
		var region string
		var dept int64
		if err := rows.Scan(&e.ID, &e.Number, &e.ItemName, &e.Status, &e.Version, &e.UpdatedAt, &e.Corrections, &region, &dept, &e.Department); err != nil {
			return nil, err
		}
		if policy.Check(who, policy.Follow, policy.Resource{Kind: policy.Case, RegionCode: region, DepartmentID: dept}) == nil {
			out = append(out, e)
		}
	}
	return out, rows.Err()
}

// LateEntry is a case whose deadline is near or past.
type LateEntry struct {
	QueueEntry
	Deadline Deadline
}

// Late lists, within what who may follow up (a supervisor's region, or
// everything for an administrator), the running cases that are 预警 or
// 超期, the latest first.
func (s *Service) Late(ctx context.Context, who policy.Subject, limit int) ([]LateEntry, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Statistics}); err != nil {
		return nil, err
	}
	today := calendar.DateOf(s.clock.Now())
	soon := s.calendar.AddWorkdays(today, 1)
	rows, err := s.db.Read().Query(ctx, `SELECT c.id, c.number, i.name, c.status, c.version, c.updated_at, c.due_on, c.region_code, c.department_id
		FROM cases c JOIN items i ON i.id = c.item_id
		WHERE c.status IN ('reviewing', 'decided') AND c.due_on <> '' AND c.due_on <= ? ORDER BY c.due_on LIMIT ?`, soon.String(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LateEntry
	for rows.Next() {
		var e LateEntry
		var due, region string
		var dept int64
		if err := rows.Scan(&e.ID, &e.Number, &e.ItemName, &e.Status, &e.Version, &e.UpdatedAt, &due, &region, &dept); err != nil {
			return nil, err
		}
		if policy.Check(who, policy.Follow, policy.Resource{Kind: policy.Case, RegionCode: region, DepartmentID: dept}) != nil {
			continue
		}
		if e.DueOn, err = calendar.ParseDate(due); err != nil {
			return nil, err
		}
		e.Deadline = Deadline{Due: e.DueOn, Left: s.calendar.Left(today, e.DueOn), Status: s.calendar.StatusOf(today, e.DueOn)}
		out = append(out, e)
	}
	return out, rows.Err()
}
