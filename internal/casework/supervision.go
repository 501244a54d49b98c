package casework

import (
	"context"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
)

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
		WHERE c.status IN ('reviewing', 'reviewed', 'decided') AND c.due_on <> '' AND c.due_on <= ? ORDER BY c.due_on LIMIT ?`, soon.String(), limit)
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
