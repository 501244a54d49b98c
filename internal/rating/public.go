package rating

import (
	"context"
	"fmt"

	"github.com/zwfw/zwfw/internal/calendar"
)

// Overall is the district's ratings in from…to (Beijing days, zero:
// open) counted by level, for the public statistics page (issue 10): a
// count per level and nothing else, so nothing about any one rater or
// rating. Ratings excluded on appeal count nowhere, as in Rates.
func (s *Service) Overall(ctx context.Context, from, to calendar.Date) (Rate, error) {
	r := Rate{Name: "全区"}
	cond, args := period(`r.excluded = ?`, []any{false}, "r.rated_at", from, to)
	rows, err := s.db.Read().Query(ctx, `SELECT r.level, COUNT(*) FROM ratings r WHERE `+cond+` GROUP BY r.level`, args...)
	if err != nil {
		return r, fmt.Errorf("overall ratings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var level, n int
		if err := rows.Scan(&level, &n); err != nil {
			return r, err
		}
		if level >= 1 && level <= 5 {
			r.Counts[level] += n
			r.Total += n
		}
	}
	return r, rows.Err()
}
