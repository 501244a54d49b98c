package rating

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
)

// Rate is the ratings of one department or item: counts per level and
// the rates computed from them. Ratings excluded on appeal count nowhere.
type Rate struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Counts [6]int `json:"-"` // by level, 1…5 (index 0 unused)
	Total  int    `json:"total"`
}

// Good is the 好评 (非常满意 and 满意), Bad the 差评, Satisfied every
// level from 基本满意 up.
func (r Rate) Good() int      { return r.Counts[5] + r.Counts[4] }
func (r Rate) Bad() int       { return r.Counts[2] + r.Counts[1] }
func (r Rate) Satisfied() int { return r.Good() + r.Counts[3] }

// GoodRate is 好评率, BadRate 差评率 and SatisfiedRate 满意率, as
// percentages; "—" with no ratings.
func (r Rate) GoodRate() string      { return percent(r.Good(), r.Total) }
func (r Rate) BadRate() string       { return percent(r.Bad(), r.Total) }
func (r Rate) SatisfiedRate() string { return percent(r.Satisfied(), r.Total) }

// Level is the count of one level, for templates (5…1).
func (r Rate) Level(l Level) int { return r.Counts[l] }

func percent(n, of int) string {
	if of == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", float64(n)*100/float64(of))
}

// RateFilter says what to group by and over which days ratings were made.
type RateFilter struct {
	By       string // "department" (default) or "item"
	From, To calendar.Date
}

// Rates gives the rates per department or per item, over the ratings who
// may see (policy.RatingScope), most rated first.
func (s *Service) Rates(ctx context.Context, who policy.Subject, f RateFilter) ([]Rate, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Statistics}); err != nil {
		return nil, err
	}
	// Counted along a covering index (ratings_by_department or
	// ratings_by_item), then named: the names are joined to the few
	// groups, not to every rating.
	key, names := `r.department_id`, `departments`
	switch f.By {
	case "", "department":
	case "item":
		key, names = `r.item_id`, `items`
	default:
		return nil, apperr.New(apperr.Invalid, "统计口径应为按部门（department）或按事项（item）。")
	}
	cond, args := scopeCond(who, "r")
	cond += ` AND r.excluded = ? AND ` + key + ` IS NOT NULL`
	args = append(args, false)
	cond, args = period(cond, args, "r.rated_at", f.From, f.To)
	rows, err := s.db.Read().Query(ctx, `SELECT x.k, COALESCE(nm.name, ''), x.level, x.cnt FROM (SELECT `+key+` AS k, r.level AS level, COUNT(*) AS cnt
		FROM ratings r WHERE `+cond+` GROUP BY `+key+`, r.level) x LEFT JOIN `+names+` nm ON nm.id = x.k`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := map[int64]*Rate{}
	var out []*Rate
	for rows.Next() {
		var id int64
		var n, level int
		var label string
		if err := rows.Scan(&id, &label, &level, &n); err != nil {
			return nil, err
		}
		r := byID[id]
		if r == nil {
			r = &Rate{ID: id, Name: label}
			byID[id] = r
			out = append(out, r)
		}
		if level >= 1 && level <= 5 {
			r.Counts[level] += n
			r.Total += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	list := make([]Rate, len(out))
	for i, r := range out {
		list[i] = *r
	}
	slices.SortStableFunc(list, func(a, b Rate) int { return cmp.Or(b.Total-a.Total, cmp.Compare(a.ID, b.ID)) })
	return list, nil
}

// period adds a condition on a time column to the Beijing days from…to.
func period(cond string, args []any, column string, from, to calendar.Date) (string, []any) {
	if !from.IsZero() {
		cond += ` AND ` + column + ` >= ?`
		args = append(args, dayStart(from))
	}
	if !to.IsZero() {
		cond += ` AND ` + column + ` < ?`
		args = append(args, dayStart(to).AddDate(0, 0, 1))
	}
	return cond, args
}

var beijing = time.FixedZone("CST", 8*3600)

func dayStart(d calendar.Date) time.Time {
	return time.Date(d.Y, time.Month(d.M), d.D, 0, 0, 0, 0, beijing)
}

// FollowUpRates are what supervisors watch of the follow-ups: 实名差评回访率
// (every rating here is by a known account, so every 差评 is 实名; the
// target is 100%) and the on-time rectification rate, over the
// follow-ups due so far.
type FollowUpRates struct {
	Bad        int `json:"bad"`         // 差评 not excluded on appeal
	CalledBack int `json:"called_back"` // of them, called back
	Due        int `json:"due"`         // rectified, or past their limit without
	OnTime     int `json:"on_time"`     // rectified by the limit
	Open       int `json:"open"`        // still owed by the unit
	Late       int `json:"late"`        // open and past the limit
}

// CallbackRate is 实名差评回访率, OnTimeRate the on-time rectification rate.
func (r FollowUpRates) CallbackRate() string { return percent(r.CalledBack, r.Bad) }
func (r FollowUpRates) OnTimeRate() string   { return percent(r.OnTime, r.Due) }

// FollowUpRatesOf counts the follow-ups who may see, of 差评 made in the
// period.
func (s *Service) FollowUpRatesOf(ctx context.Context, who policy.Subject, from, to calendar.Date) (FollowUpRates, error) {
	var out FollowUpRates
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Statistics}); err != nil {
		return out, err
	}
	cond, args := scopeCond(who, "f")
	cond, args = period(cond, args, "f.opened_at", from, to)
	today := calendar.DateOf(s.clock.Now()).String()
	err := s.db.Read().QueryRow(ctx, `SELECT
		COUNT(*),
		COALESCE(SUM(CASE WHEN f.called_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN f.state = 'rectified' OR f.state IN ('callback', 'rectify') AND f.due_on < ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN f.state = 'rectified' AND f.rectified_on <= f.due_on THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN f.state IN ('callback', 'rectify', 'appealed') THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN f.state IN ('callback', 'rectify') AND f.due_on < ? THEN 1 ELSE 0 END), 0)
		FROM rating_followups f WHERE f.state <> 'excluded' AND `+cond, append([]any{today, today}, args...)...).
		Scan(&out.Bad, &out.CalledBack, &out.Due, &out.OnTime, &out.Open, &out.Late)
	return out, err
}

// Rectification is a rectified 差评 as the public sees it: the service and
// the unit, when, and what the unit did — no number, name or comment.
type Rectification struct {
	ID             int64
	Title          string
	Kind           string
	DepartmentName string
	Level          Level
	RatedAt        time.Time
	RectifiedOn    calendar.Date
	Rectification  string
	OnTime         bool
}

// Rectifications lists the rectified 差评, newest first, a page of limit
// after the cursor (the last id shown): the public page of results.
func (s *Service) Rectifications(ctx context.Context, after int64, limit int) ([]Rectification, int64, error) {
	cond, args := `f.state = 'rectified'`, []any{}
	if after > 0 {
		cond += ` AND f.id < ?`
		args = append(args, after)
	}
	rows, err := s.db.Read().Query(ctx, `SELECT f.id, r.title, r.subject_kind, d.name, r.level, r.rated_at, f.rectified_on, f.due_on, f.rectification
		FROM rating_followups f JOIN ratings r ON r.id = f.rating_id JOIN departments d ON d.id = f.department_id
		WHERE `+cond+` ORDER BY f.id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Rectification
	for rows.Next() {
		var r Rectification
		var on, due string
		if err := rows.Scan(&r.ID, &r.Title, &r.Kind, &r.DepartmentName, &r.Level, &r.RatedAt, &on, &due, &r.Rectification); err != nil {
			return nil, 0, err
		}
		if r.RectifiedOn, err = calendar.ParseDate(on); err != nil {
			return nil, 0, err
		}
		dueOn, err := calendar.ParseDate(due)
		if err != nil {
			return nil, 0, err
		}
		r.OnTime = !r.RectifiedOn.After(dueOn)
		out = append(out, r)
	}
	var next int64
	if len(out) > limit {
		out, next = out[:limit], out[limit-1].ID
	}
	return out, next, rows.Err()
}
