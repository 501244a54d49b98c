package catalog

import (
	"context"
	"fmt"

	"github.com/zwfw/zwfw/internal/catalog/item"
)

// LevelReadiness is one level's line of the "three 100%" readiness view:
// how many of its items people can apply for online (三级 or 四级).
type LevelReadiness struct {
	Level  int
	Total  int
	Online int
}

// Percent is the share of items online, rounded down to a tenth.
func (r LevelReadiness) Percent() float64 {
	if r.Total == 0 {
		return 0
	}
	return float64(r.Online*1000/r.Total) / 10
}

// Gap is an item that cannot yet be applied for online.
type Gap struct {
	ID         int64
	Name       string
	Depth      Depth
	Level      int
	Department string // short name
}

// Readiness is the district's distance to "every item online".
type Readiness struct {
	Levels []LevelReadiness
	Gaps   []Gap // by level, then department
}

// Readiness counts the published items applied for on application (依申请
// types) at each level, and lists those below 三级.
func (s *Store) Readiness(ctx context.Context) (Readiness, error) {
	var r Readiness
	q := s.db.Read()
	rows, err := q.Query(ctx, `SELECT level, COUNT(*), SUM(CASE WHEN depth >= 3 THEN 1 ELSE 0 END)
		FROM items WHERE status = 'published' AND type IN (`+onApplicationTypes()+`) GROUP BY level ORDER BY level`)
	if err != nil {
		return r, fmt.Errorf("readiness: %w", err)
	}
	byLevel := map[int]LevelReadiness{}
	for rows.Next() {
		var l LevelReadiness
		if err := rows.Scan(&l.Level, &l.Total, &l.Online); err != nil {
			rows.Close()
			return r, err
		}
		byLevel[l.Level] = l
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	for level := 1; level <= 3; level++ {
		l := byLevel[level]
		l.Level = level
		r.Levels = append(r.Levels, l)
	}
	rows, err = q.Query(ctx, `SELECT i.id, i.name, i.depth, i.level, d.short_name FROM items i
		JOIN departments d ON d.id = i.department_id
		WHERE i.status = 'published' AND i.depth < 3 AND i.type IN (`+onApplicationTypes()+`)
		ORDER BY i.level, d.region_code, d.id, i.name`)
	if err != nil {
		return r, fmt.Errorf("readiness gaps: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g Gap
		if err := rows.Scan(&g.ID, &g.Name, &g.Depth, &g.Level, &g.Department); err != nil {
			return r, err
		}
		r.Gaps = append(r.Gaps, g)
	}
	return r, rows.Err()
}

// onApplicationTypes is the SQL list of the 依申请 type codes; the codes are
// constants, so building the list into the query is safe.
func onApplicationTypes() string {
	list := ""
	for _, t := range item.ItemTypes {
		if t.Type.OnApplication() {
			if list != "" {
				list += ", "
			}
			list += "'" + string(t.Type) + "'"
		}
	}
	return list
}

// Failing is an item whose published version breaks a quality rule.
type Failing struct {
	Item     Item
	Problems []Problem
}

// QualityReport checks every published item against the quality rules.
func (s *Store) QualityReport(ctx context.Context) ([]Failing, error) {
	items, err := s.AllPublished(ctx)
	if err != nil {
		return nil, err
	}
	var out []Failing
	for _, it := range items {
		if ps := it.Problems(); len(ps) > 0 {
			out = append(out, Failing{Item: it, Problems: ps})
		}
	}
	return out, nil
}
