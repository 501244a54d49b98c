package complaint

import (
	"context"
	"database/sql"
	"time"

	"github.com/zwfw/zwfw/internal/policy"
)

// Row is one unit's or one category's figures over a period (complaints
// received in it).
type Row struct {
	ID        int64
	Name      string
	Received  int // complaints it owns (units) or of its kind (categories)
	Signed    int
	OnTime    int // signed within the dispatch limit: 响应
	Replied   int
	Confirmed int // closed with the person's answer
	Resolved  int // the person said resolved
	Rated     int // the person said whether satisfied
	Satisfied int
	Overdue   int // past a limit now, or answered late
	Bounces   int // sent back by the unit in the period
}

// Rate is a share in per cent, one decimal; -1 when there is nothing to
// count.
func rate(n, of int) float64 {
	if of == 0 {
		return -1
	}
	return float64(n*1000/of) / 10
}

// ResponseRate is 响应率: signed within the dispatch limit, of those
// received.
func (r Row) ResponseRate() float64 { return rate(r.OnTime, r.Received) }

// ResolveRate is 解决率: said resolved, of those the person confirmed.
func (r Row) ResolveRate() float64 { return rate(r.Resolved, r.Confirmed) }

// SatisfactionRate is 满意率: satisfied, of those who said.
func (r Row) SatisfactionRate() float64 { return rate(r.Satisfied, r.Rated) }

// Stats is the figures per unit and per category over a period.
type Stats struct {
	From, To   time.Time
	Units      []Row
	Categories []Row
	Total      Row
}

// Stats counts the complaints received in [from, to), per owning unit and
// per category; supervisors (their region's complaints) and dispatchers
// (all).
func (s *Service) Stats(ctx context.Context, who policy.Subject, from, to time.Time) (Stats, error) {
	st := Stats{From: from, To: to}
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.ComplaintStats}); err != nil {
		return st, err
	}
	sc := policy.ScopeOfComplaints(who)
	region := ""
	if !sc.All {
		region = sc.Region
		if region == "" {
			region = "-"
		}
	}
	now := s.clock.Now()
	rows, err := s.db.Read().Query(ctx, `SELECT c.category_id, k.name, COALESCE(c.department_id, 0), COALESCE(d.name, ''),
		c.status, c.dispatch_due, c.feedback_due, c.signed_at, c.replied_at, c.resolved, c.satisfied
		FROM complaints c JOIN complaint_categories k ON k.id = c.category_id LEFT JOIN departments d ON d.id = c.department_id
		WHERE c.created_at >= ? AND c.created_at < ? AND c.region_code LIKE ?`, from, to, region+"%")
	if err != nil {
		return st, err
	}
	units, cats := map[int64]*Row{}, map[int64]*Row{}
	var unitOrder, catOrder []int64
	for rows.Next() {
		var c Complaint
		var catID, deptID int64
		var catName, deptName string
		var signed, replied sql.NullTime
		var resolved, satisfied sql.NullBool
		if err := rows.Scan(&catID, &catName, &deptID, &deptName, &c.Status, &c.DispatchDue, &c.FeedbackDue, &signed, &replied, &resolved, &satisfied); err != nil {
			rows.Close()
			return st, err
		}
		c.SignedAt, c.RepliedAt = ptrTime(signed), ptrTime(replied)
		add := func(r *Row) {
			r.Received++
			if c.SignedAt != nil {
				r.Signed++
				if !c.SignedAt.After(c.DispatchDue) {
					r.OnTime++
				}
			}
			if c.RepliedAt != nil {
				r.Replied++
			}
			if resolved.Valid {
				r.Confirmed++
				if resolved.Bool {
					r.Resolved++
				}
			}
			if satisfied.Valid {
				r.Rated++
				if satisfied.Bool {
					r.Satisfied++
				}
			}
			if c.Overdue(now) {
				r.Overdue++
			}
		}
		if deptID != 0 {
			if units[deptID] == nil {
				units[deptID] = &Row{ID: deptID, Name: deptName}
				unitOrder = append(unitOrder, deptID)
			}
			add(units[deptID])
		}
		if cats[catID] == nil {
			cats[catID] = &Row{ID: catID, Name: catName}
			catOrder = append(catOrder, catID)
		}
		add(cats[catID])
		add(&st.Total)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	// Bounces count against the unit that sent the complaint back, whoever
	// owns it now.
	b, err := s.db.Read().Query(ctx, `SELECT b.department_id, d.name, COUNT(*) FROM complaint_bounces b JOIN complaints c ON c.id = b.complaint_id
		JOIN departments d ON d.id = b.department_id WHERE c.created_at >= ? AND c.created_at < ? AND c.region_code LIKE ?
		GROUP BY b.department_id, d.name`, from, to, region+"%")
	if err != nil {
		return st, err
	}
	for b.Next() {
		var id int64
		var name string
		var n int
		if err := b.Scan(&id, &name, &n); err != nil {
			b.Close()
			return st, err
		}
		if units[id] == nil {
			units[id] = &Row{ID: id, Name: name}
			unitOrder = append(unitOrder, id)
		}
		units[id].Bounces += n
		st.Total.Bounces += n
	}
	b.Close()
	if err := b.Err(); err != nil {
		return st, err
	}
	for _, id := range unitOrder {
		st.Units = append(st.Units, *units[id])
	}
	for _, id := range catOrder {
		st.Categories = append(st.Categories, *cats[id])
	}
	st.Total.Name = "合计"
	return st, nil
}
