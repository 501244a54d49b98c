package rating

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/policy"
)

// FeedSettle is how old a rating must be before the feed gives it. A
// rating's id is taken when it is inserted and it is seen when its
// transaction commits; on PostgreSQL two ratings' transactions may commit
// out of the order of their ids, and a reader that had already passed the
// later id would miss the earlier for good. A rating's transaction takes
// milliseconds: a minute's delay makes a feed that never skips one, and
// the webhooks (rating.created) are the way to hear of one at once.
const FeedSettle = time.Minute

// SharedFilter narrows the ratings another system reads (integration,
// issue 12): a feed it pages through by id.
type SharedFilter struct {
	After int64 // ratings with a larger id
	// Departments the sharing directory opens to the system; All: every one.
	All         bool
	Departments []int64
	Number      string // the ratings of one case or complaint ("": any)
	Limit       int    // default 100, at most 500
}

// Shared lists ratings for another system, oldest first: what was rated,
// the unit, the levels and the channel, and the rater masked (张*) — never
// the comment (the rater's own words, which may name them) or their
// mobile. A client needs the ratings scope (policy).
func (s *Service) Shared(ctx context.Context, who policy.Subject, f SharedFilter) ([]Rating, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Rating}); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	where, args := []string{"r.id > ?", "r.rated_at <= ?"}, []any{f.After, s.clock.Now().Add(-FeedSettle)}
	if !f.All {
		if len(f.Departments) == 0 {
			return []Rating{}, nil
		}
		marks := make([]string, len(f.Departments))
		for i, d := range f.Departments {
			marks[i], args = "?", append(args, d)
		}
		where = append(where, "r.department_id IN ("+strings.Join(marks, ", ")+")")
	}
	if f.Number = strings.TrimSpace(f.Number); f.Number != "" {
		where, args = append(where, "r.subject_number = ?"), append(args, f.Number)
	}
	rows, err := s.db.Read().Query(ctx, `SELECT r.id, r.subject_kind, r.subject_id, r.subject_number, r.title, COALESCE(r.item_id, 0),
		r.department_id, r.region_code, r.rater_id, r.channel, r.scene, r.level, r.dimensions, r.excluded, r.rated_at, a.name
		FROM ratings r JOIN accounts a ON a.id = r.rater_id WHERE `+strings.Join(where, " AND ")+` ORDER BY r.id LIMIT `+strconv.Itoa(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("rating: shared: %w", err)
	}
	defer rows.Close()
	out := []Rating{}
	for rows.Next() {
		var r Rating
		var dims, rater string
		sub := &r.Subject
		if err := rows.Scan(&r.ID, &sub.Kind, &sub.ID, &sub.Number, &sub.Title, &sub.ItemID, &sub.DepartmentID, &sub.RegionCode, &r.RaterID,
			&r.Channel, &sub.Scene, &r.Level, &dims, &r.Excluded, &r.RatedAt, &rater); err != nil {
			return nil, err
		}
		sub.PersonID, r.RaterMasked = r.RaterID, ident.MaskName(rater)
		if err := json.Unmarshal([]byte(dims), &r.Scores); err != nil {
			return nil, err
		}
		if err := policy.Check(who, policy.View, sub.Resource()); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
