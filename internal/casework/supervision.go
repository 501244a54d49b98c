package casework

import (
	"context"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
)

// The supervisors' lists (最多跑一次, 一次性告知, 时限监督, 电子档案) filter
// by what who may follow up in SQL, before they page: filtering after a
// LIMIT lost a street supervisor's cases behind the district's others.

// SupervisionFilter narrows a supervisors' list.
type SupervisionFilter struct {
	DepartmentID int64  // 0: every department
	Region       string // a region code within who's: its subtree; "": who's whole scope
	// The list's own date, inclusive (Beijing days); zero: open. The due
	// date (Late), the day the case was made (MultiVisits,
	// RepeatedCorrections), the day it was finished (IncompleteArchives).
	From, To calendar.Date
	// ByDate sorts MultiVisits and RepeatedCorrections by the day the case
	// was made, latest first, rather than by their count.
	ByDate bool
	// Oldest sorts IncompleteArchives earliest finished first rather than
	// latest first.
	Oldest bool
	After  string // the cursor of the page (Page.Next); "": the first page
}

// Supervised is a case in a supervisors' list: where it is handled.
type Supervised struct {
	Summary
	Department string
	Region     string
}

// supervisedColumns select a Supervised from cases c joined by supervisedFrom.
const supervisedColumns = `c.id, c.number, i.name, c.status, c.version, c.updated_at, d.name, r.name`

const supervisedFrom = ` FROM cases c JOIN items i ON i.id = c.item_id JOIN departments d ON d.id = c.department_id
	JOIN regions r ON r.code = c.region_code`

func (e *Supervised) dest() []any {
	return []any{&e.ID, &e.Number, &e.ItemName, &e.Status, &e.Version, &e.UpdatedAt, &e.Department, &e.Region}
}

// supervision checks that who may read the supervisors' lists and adds
// their scope and f's department and region to c.
func (c *conds) supervision(who policy.Subject, f SupervisionFilter) error {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Statistics}); err != nil {
		return err
	}
	c.followScope(who)
	if f.Region != "" {
		if len(f.Region) != 12 || strings.Trim(f.Region, "0123456789") != "" {
			return apperr.New(apperr.Invalid, "地区代码应为 12 位数字。")
		}
		p := policy.RegionPrefix(f.Region)
		if !strings.HasPrefix(p, policy.FollowRegion(who)) {
			return apperr.New(apperr.Invalid, "所选地区不在您的监督范围内。")
		}
		c.inRegion(p)
	}
	if f.DepartmentID < 0 {
		return apperr.New(apperr.Invalid, "部门筛选无效。")
	}
	if f.DepartmentID != 0 {
		// The unary plus keeps SQLite's planner on the list's own partial
		// index (which holds department_id) rather than the queue index,
		// whose rows it would then sort; PostgreSQL reads it as the number.
		c.add(`+c.department_id = ?`, f.DepartmentID)
	}
	return nil
}

// period adds f's From and To on the timestamp column (Beijing days).
func (c *conds) period(column string, f SupervisionFilter) {
	if !f.From.IsZero() {
		c.add(column+` >= ?`, f.From.Time())
	}
	if !f.To.IsZero() {
		c.add(column+` < ?`, f.To.AddDays(1).Time())
	}
}

// count counts the cases c matches, up to CountCap: the total of a list,
// whatever its page.
func (s *Service) count(ctx context.Context, c conds) (int, bool, error) {
	return s.countUpTo(ctx, ` FROM cases c`, c)
}

// MultiVisit is a case whose applicant had to come more than once.
type MultiVisit struct {
	Supervised
	Visits    int
	CreatedAt time.Time
}

// MultiVisits lists, within what who may follow up, the cases whose
// applicants came in person more than once (the exceptions to 最多跑一次),
// most visits first, then newest (or f.ByDate). The count is kept on the
// case (visits).
func (s *Service) MultiVisits(ctx context.Context, who policy.Subject, f SupervisionFilter, limit int) (Page[MultiVisit], error) {
	return countedList(ctx, s, who, f, "visits", limit, func(e *MultiVisit) []any { return append(e.dest(), &e.Visits, &e.CreatedAt) },
		func(e MultiVisit) (int, time.Time, int64) { return e.Visits, e.CreatedAt, e.ID })
}

// Corrected is a case whose applicant was asked for corrections more than
// once: each time after the first had to be about materials handed in
// since (一次性告知), and supervisors look at every one.
type Corrected struct {
	Supervised
	Corrections int
	CreatedAt   time.Time
}

// RepeatedCorrections lists, within what who may follow up, the cases
// asked for corrections more than once, most first, then newest (or
// f.ByDate).
func (s *Service) RepeatedCorrections(ctx context.Context, who policy.Subject, f SupervisionFilter, limit int) (Page[Corrected], error) {
	return countedList(ctx, s, who, f, "corrections", limit, func(e *Corrected) []any { return append(e.dest(), &e.Corrections, &e.CreatedAt) },
		func(e Corrected) (int, time.Time, int64) { return e.Corrections, e.CreatedAt, e.ID })
}

// countedList pages the cases whose counter column (visits or
// corrections) is above one, by the counter then id, both descending,
// along the partial index on (column, id); or, f.ByDate, by created_at
// then id, descending (created_at never changes, so a case keeps its
// place while it moves on).
func countedList[T any](ctx context.Context, s *Service, who policy.Subject, f SupervisionFilter, column string, limit int,
	dest func(*T) []any, key func(T) (int, time.Time, int64)) (Page[T], error) {
	var page Page[T]
	limit = max(limit, 1)
	var c conds
	if err := c.supervision(who, f); err != nil {
		return page, err
	}
	// A draft, even one taken in at the counter, is no supervisor's.
	// Spelt as the partial index's predicate, so that both databases use it.
	c.add(`c.` + column + ` > 1 AND c.status <> 'draft'`)
	c.period(`c.created_at`, f)
	var err error
	if page.Total, page.More, err = s.count(ctx, c); err != nil {
		return page, err
	}
	at, err := parseCursor(f.After, 2)
	if err != nil {
		return page, err
	}
	order := `c.` + column + ` DESC, c.id DESC`
	if f.ByDate {
		order = `c.created_at DESC, c.id DESC`
	}
	if at != nil {
		id, err := at.int(1)
		if err != nil {
			return page, errCursor
		}
		if f.ByDate {
			t, err := at.time(0)
			if err != nil {
				return page, errCursor
			}
			c.add(`(c.created_at, c.id) < (?, ?)`, t, id)
		} else {
			n, err := at.int(0)
			if err != nil {
				return page, errCursor
			}
			c.add(`(c.`+column+`, c.id) < (?, ?)`, n, id)
		}
	}
	rows, err := s.db.Read().Query(ctx, `SELECT `+supervisedColumns+`, c.`+column+`, c.created_at`+supervisedFrom+c.where()+
		` ORDER BY `+order+` LIMIT ?`, append(c.args, limit+1)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var e T
		if err := rows.Scan(dest(&e)...); err != nil {
			return page, err
		}
		page.Rows = append(page.Rows, e)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	if len(page.Rows) > limit {
		page.Rows = page.Rows[:limit]
		n, t, id := key(page.Rows[limit-1])
		if f.ByDate {
			page.Next = makeCursor(t, id)
		} else {
			page.Next = makeCursor(n, id)
		}
	}
	return page, nil
}

// LateFilter narrows the deadline list.
type LateFilter struct {
	SupervisionFilter
	Due    string // "late": past due; "soon": one working day or less left; "": both
	Newest bool   // the latest due date (fewest days late) first, rather than the most days late
}

// LateEntry is a case whose deadline is near or past.
type LateEntry struct {
	Supervised
	Deadline Deadline
}

// Late lists, within what who may follow up (a supervisor's region, or
// everything for an administrator), the running cases that are 预警 or
// 超期, the most days late first (or f.Newest), along the partial index
// of running cases by due date.
func (s *Service) Late(ctx context.Context, who policy.Subject, f LateFilter, limit int) (Page[LateEntry], error) {
	var page Page[LateEntry]
	limit = max(limit, 1)
	var c conds
	sf := f.SupervisionFilter
	dept := max(sf.DepartmentID, 0)
	if dept > 0 {
		sf.DepartmentID = 0
	}
	if err := c.supervision(who, sf); err != nil {
		return page, err
	}
	if dept > 0 {
		// Plain, not +c.department_id: one department's late list has its
		// own index, led by the department (cases_running_department).
		c.add(`c.department_id = ?`, dept)
	}
	today := calendar.DateOf(s.clock.Now())
	soon := s.calendar.AddWorkdays(today, 1)
	// Spelt as the partial index's predicate, so that both databases use it.
	c.add(`c.status IN ('reviewing', 'reviewed', 'decided') AND c.due_on <> ''`)
	switch f.Due {
	case "":
		c.add(`c.due_on <= ?`, soon.String())
	case "late":
		c.add(`c.due_on < ?`, today.String())
	case "soon":
		c.add(`c.due_on >= ? AND c.due_on <= ?`, today.String(), soon.String())
	default:
		return page, apperr.New(apperr.Invalid, "时限筛选应为预警或超期。")
	}
	if !f.From.IsZero() {
		c.add(`c.due_on >= ?`, f.From.String())
	}
	if !f.To.IsZero() {
		c.add(`c.due_on <= ?`, f.To.String())
	}
	var err error
	if page.Total, page.More, err = s.count(ctx, c); err != nil {
		return page, err
	}
	at, err := parseCursor(f.After, 2)
	if err != nil {
		return page, err
	}
	order, cmp := `c.due_on, c.id`, ">"
	if f.Newest {
		order, cmp = `c.due_on DESC, c.id DESC`, "<"
	}
	if at != nil {
		due, err1 := at.date(0)
		id, err2 := at.int(1)
		if err1 != nil || err2 != nil {
			return page, errCursor
		}
		c.add(`(c.due_on, c.id) `+cmp+` (?, ?)`, due, id)
	}
	rows, err := s.db.Read().Query(ctx, `SELECT `+supervisedColumns+`, c.due_on`+supervisedFrom+c.where()+
		` ORDER BY `+order+` LIMIT ?`, append(c.args, limit+1)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var e LateEntry
		var due string
		if err := rows.Scan(append(e.dest(), &due)...); err != nil {
			return page, err
		}
		d, err := calendar.ParseDate(due)
		if err != nil {
			return page, err
		}
		e.Deadline = Deadline{Due: d, Left: s.calendar.Left(today, d), Status: s.calendar.StatusOf(today, d)}
		page.Rows = append(page.Rows, e)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	if len(page.Rows) > limit {
		page.Rows = page.Rows[:limit]
		last := page.Rows[limit-1]
		page.Next = makeCursor(last.Deadline.Due.String(), last.ID)
	}
	return page, nil
}

// DaysLate is how many working days past due the deadline is (0 if not).
func (d Deadline) DaysLate() int { return max(0, -d.Left) }
