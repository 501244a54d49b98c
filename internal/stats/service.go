package stats

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Service reads the figures.
type Service struct {
	db    *store.DB
	clock clock.Clock
}

// New returns the service.
func New(db *store.DB, clk clock.Clock) *Service { return &Service{db: db, clock: clk} }

// Now is the service's clock's time, for pages that default to this month.
func (s *Service) Now() time.Time { return s.clock.Now() }

// Filter narrows the figures: cases begun in the months From to To
// (YYYY-MM, inclusive; "" open), handled at one level (the level of the
// case's region, which is its item's), in a region's subtree, of one
// department, item or channel.
type Filter struct {
	From, To     string
	Level        int    // 1 区级, 2 街道级, 3 社区级; 0 every level
	Region       string // a 12-digit region code: its subtree; "" who's whole view
	DepartmentID int64
	ItemID       int64
	Channel      string // online, window; "" both
}

// Levels names the item levels.
var Levels = map[int]string{1: "区级", 2: "街道级", 3: "社区级"}

// Channels names the channels.
var Channels = map[string]string{"online": "网上申请", "window": "窗口收件"}

// Check says whether f is well formed; a bad filter changes nothing and
// says what is wrong.
func (f Filter) Check() error {
	for _, m := range []string{f.From, f.To} {
		if m == "" {
			continue
		}
		if _, err := time.Parse("2006-01", m); err != nil {
			return apperr.New(apperr.Invalid, "月份应写作 2026-01 的形式。")
		}
	}
	if f.From != "" && f.To != "" && f.From > f.To {
		return apperr.New(apperr.Invalid, "起始月份不能晚于截止月份。")
	}
	if f.Level != 0 && Levels[f.Level] == "" {
		return apperr.New(apperr.Invalid, "层级应为区级、街道级或社区级。")
	}
	if f.Region != "" && (len(f.Region) != 12 || strings.Trim(f.Region, "0123456789") != "") {
		return apperr.New(apperr.Invalid, "地区代码应为 12 位数字。")
	}
	if f.DepartmentID < 0 || f.ItemID < 0 {
		return apperr.New(apperr.Invalid, "部门或事项筛选无效。")
	}
	if f.Channel != "" && Channels[f.Channel] == "" {
		return apperr.New(apperr.Invalid, "渠道应为网上申请或窗口收件。")
	}
	return nil
}

// Span is the filter's months as moments: the first instant of From and
// of the month after To, Beijing time (zero: open), for the drill-downs,
// which filter the cases by when they were begun.
func (f Filter) Span() (from, to time.Time) {
	if t, err := time.ParseInLocation("2006-01", f.From, clock.China); err == nil {
		from = t
	}
	if t, err := time.ParseInLocation("2006-01", f.To, clock.China); err == nil {
		to = t.AddDate(0, 1, 0)
	}
	return from, to
}

// Rates of a set of counts, as fractions (0 when nothing to divide by).
func (c Counts) OnTimeRate() float64        { return share(c.OnTime, c.Timed) }
func (c Counts) OnlineRate() float64        { return share(c.Online, c.Submitted) }
func (c Counts) OneVisitRate() float64      { return share(c.OneVisit, c.Submitted) }
func (c Counts) OneCorrectionRate() float64 { return share(c.OneCorrection, c.Submitted) }

// MultiVisits and MultiCorrections are the exceptions to 最多跑一次 and
// 一次性告知: the cases that needed more.
func (c Counts) MultiVisits() int64      { return c.Submitted - c.OneVisit }
func (c Counts) MultiCorrections() int64 { return c.Submitted - c.OneCorrection }

// Figure is the count of the cases behind a figure (casework.FigureNames),
// which a drill-down lists; false for no such figure.
func (c Counts) Figure(name string) (int64, bool) {
	n, ok := map[string]int64{"submitted": c.Submitted, "finished": c.Finished, "ontime": c.OnTime, "late": c.Late,
		"visits": c.MultiVisits(), "corrections": c.MultiCorrections(), "withdrawn": c.Withdrawn}[name]
	return n, ok
}

// AvgHandling, AvgPromise and AvgLegal are the average working days from
// acceptance to finishing, and the average promised and legal limits, of
// the measured cases.
func (c Counts) AvgHandling() float64 { return share(c.HandlingDays, c.Measured) }
func (c Counts) AvgPromise() float64  { return share(c.PromiseDays, c.Measured) }
func (c Counts) AvgLegal() float64    { return share(c.LegalDays, c.Measured) }

// Compression is 承诺时限压缩率: how much shorter the promised limits are
// than the legal ones, 1 − Σ承诺时限 / Σ法定时限, over the measured cases
// (weighted by how often each item is applied for).
func (c Counts) Compression() float64 {
	if c.LegalDays == 0 {
		return 0
	}
	return 1 - share(c.PromiseDays, c.LegalDays)
}

// Speedup is 实际提速率: how much shorter the actual handling was than
// the legal limits, 1 − Σ实际办理 / Σ法定时限.
func (c Counts) Speedup() float64 {
	if c.LegalDays == 0 {
		return 0
	}
	return 1 - share(c.HandlingDays, c.LegalDays)
}

func share(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// Percent shows a fraction as pages do: 97.5%.
func Percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

// Summary is the figures of a filter at once. Its rate fields are the
// ones the self-evaluation (internal/evaluation) reads; Finished and Late
// come with Counts.
type Summary struct {
	Counts
	OnlineRate        float64 // 网上申请 among the submitted
	OnTimeRate        float64 // 按时办结率
	OneVisitRate      float64 // 最多跑一次
	OneCorrectionRate float64 // 一次性告知
}

// Dimension is what a table of figures has a row per.
type Dimension string

const (
	ByMonth      Dimension = "month"
	ByItem       Dimension = "item"
	ByDepartment Dimension = "department"
	ByRegion     Dimension = "region"
	ByLevel      Dimension = "level"
	ByChannel    Dimension = "channel"
)

// Dimensions in the order pages offer them, with their names.
var Dimensions = []struct {
	Dimension Dimension
	Name      string
}{{ByMonth, "月份"}, {ByItem, "事项"}, {ByDepartment, "部门"}, {ByRegion, "地区"}, {ByLevel, "层级"}, {ByChannel, "渠道"}}

// DimensionName names a dimension; "" if it is none.
func DimensionName(d Dimension) string {
	for _, x := range Dimensions {
		if x.Dimension == d {
			return x.Name
		}
	}
	return ""
}

// group is, per dimension, the SQL of its key, the name table joined to
// the groups (as n, on n's key = x.k) and its label, and the order of its
// rows (x.c0 is the submitted count). The names are joined to the few
// groups after summing, not to every row summed.
var group = map[Dimension]struct{ key, names, label, order string }{
	ByMonth:      {`s.month`, ``, `x.k`, `x.k`},
	ByItem:       {`s.item_id`, ` JOIN items n ON n.id = x.k`, `n.name`, `x.c0 DESC, x.k`},
	ByDepartment: {`s.department_id`, ` JOIN departments n ON n.id = x.k`, `n.name`, `x.c0 DESC, x.k`},
	ByRegion:     {`s.region_code`, ` JOIN regions n ON n.code = x.k`, `n.name`, `x.k`},
	ByLevel:      {`r.level`, ``, `x.k`, `x.k`},
	ByChannel:    {`s.channel`, ``, `x.k`, `x.k`},
}

// Row is one line of a table of figures: the key it filters by (a month,
// an item's or department's id, a region code, a level, a channel), its
// name, and its counts.
type Row struct {
	Key   string
	Label string
	Counts
}

// Summary is the figures of f within who's view.
func (s *Service) Summary(ctx context.Context, who policy.Subject, f Filter) (Summary, error) {
	rows, err := s.query(ctx, who, f, "")
	if err != nil {
		return Summary{}, err
	}
	return summarize(rows), nil
}

// By is the figures of f within who's view, a row per value of d.
func (s *Service) By(ctx context.Context, who policy.Subject, f Filter, d Dimension) ([]Row, error) {
	if _, ok := group[d]; !ok {
		return nil, apperr.New(apperr.Invalid, "未知的统计维度。")
	}
	rows, err := s.query(ctx, who, f, d)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		switch d {
		case ByLevel:
			n, _ := strconv.Atoi(rows[i].Label)
			rows[i].Label = Levels[n]
		case ByChannel:
			rows[i].Label = Channels[rows[i].Label]
		}
	}
	return rows, nil
}

// query sums the counters of f within who's view, grouped by d ("": one
// row).
func (s *Service) query(ctx context.Context, who policy.Subject, f Filter, d Dimension) ([]Row, error) {
	prefix, dept, ok := policy.StatsScope(who)
	if !ok {
		return nil, apperr.New(apperr.Forbidden, "您没有查看统计数据的权限。")
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	var q sumQuery
	if prefix != "" {
		q.cond(`s.region_code LIKE ?`, prefix+"%")
	}
	if dept != 0 {
		q.cond(`s.department_id = ?`, dept)
	}
	if f.Region != "" {
		p := policy.RegionPrefix(f.Region)
		if !strings.HasPrefix(p, prefix) {
			return nil, apperr.New(apperr.Invalid, "所选地区不在您可查看的范围内。")
		}
		q.cond(`s.region_code LIKE ?`, p+"%")
	}
	if f.DepartmentID != 0 {
		if dept != 0 && f.DepartmentID != dept {
			return nil, apperr.New(apperr.Invalid, "您只能查看本部门的统计数据。")
		}
		q.cond(`s.department_id = ?`, f.DepartmentID)
	}
	if f.From != "" {
		q.cond(`s.month >= ?`, f.From)
	}
	if f.To != "" {
		q.cond(`s.month <= ?`, f.To)
	}
	if f.ItemID != 0 {
		q.byItem = true
		q.cond(`s.item_id = ?`, f.ItemID)
	}
	if f.Channel != "" {
		q.cond(`s.channel = ?`, f.Channel)
	}
	if f.Level != 0 {
		q.regions = true
		q.cond(`r.level = ?`, f.Level)
	}
	// By or of an item with nothing but months (and the item) to filter
	// by: case_stats_items has the sums already without the department,
	// region and channel.
	q.items = (q.byItem || d == ByItem) && prefix == "" && dept == 0 && f.Region == "" && f.DepartmentID == 0 && f.Channel == "" && f.Level == 0
	return s.sum(ctx, q, d)
}

// sumQuery is what sum sums: its conditions, and whether they need the
// item (case_stats or case_stats_items rather than case_stats_units) or
// the region's level.
type sumQuery struct {
	where   []string
	args    []any
	byItem  bool
	regions bool
	items   bool // the conditions are on month and item only: case_stats_items answers
}

func (q *sumQuery) cond(sql string, v any) { q.where, q.args = append(q.where, sql), append(q.args, v) }

// sum sums the counters where q's conditions hold, grouped by d ("": one
// row): from case_stats_units, unless by or of an item.
func (s *Service) sum(ctx context.Context, q sumQuery, d Dimension) ([]Row, error) {
	from, online := ` FROM case_stats_units s`, `SUM(CASE WHEN s.channel = 'online' THEN s.submitted ELSE 0 END)`
	switch {
	case q.items:
		from, online = ` FROM case_stats_items s`, `SUM(s.online)`
	case q.byItem || d == ByItem:
		from = ` FROM case_stats s`
	}
	if q.regions || d == ByLevel {
		from += ` JOIN regions r ON r.code = s.region_code`
	}
	var sums, cols []string
	for i, c := range counterColumns {
		sums = append(sums, `COALESCE(SUM(s.`+c+`), 0) AS c`+strconv.Itoa(i))
		cols = append(cols, `x.c`+strconv.Itoa(i))
	}
	sums = append(sums, `COALESCE(`+online+`, 0) AS online`)
	cols = append(cols, `x.online`)
	key, g := `''`, group[d]
	if d != "" {
		key = g.key
	}
	inner := `SELECT ` + key + ` AS k, ` + strings.Join(sums, ", ") + from
	if len(q.where) > 0 {
		inner += ` WHERE ` + strings.Join(q.where, " AND ")
	}
	sql := `SELECT x.k, '', ` + strings.Join(cols, ", ") + ` FROM (` + inner + `) x`
	if d != "" {
		// A group that counts nothing (its cases moved away) is left out.
		inner += ` GROUP BY ` + g.key + ` HAVING SUM(s.submitted) > 0`
		sql = `SELECT x.k, ` + g.label + `, ` + strings.Join(cols, ", ") + ` FROM (` + inner + `) x` + g.names + ` ORDER BY ` + g.order
	}
	rows, err := s.db.Read().Query(ctx, sql, q.args...)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		dest := []any{&r.Key, &r.Label}
		for _, p := range r.Counts.fields() {
			dest = append(dest, p)
		}
		if err := rows.Scan(append(dest, &r.Online)...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Public is the district's figures for the public page: totals over every
// case, which name no one, so nobody needs to be signed in to read them.
func (s *Service) Public(ctx context.Context) (Summary, error) {
	rows, err := s.sum(ctx, sumQuery{}, "")
	if err != nil {
		return Summary{}, err
	}
	return summarize(rows), nil
}

func summarize(rows []Row) Summary {
	var sum Summary
	for _, r := range rows {
		sum.Counts.add(r.Counts, 1)
	}
	sum.OnlineRate, sum.OnTimeRate = sum.Counts.OnlineRate(), sum.Counts.OnTimeRate()
	sum.OneVisitRate, sum.OneCorrectionRate = sum.Counts.OneVisitRate(), sum.Counts.OneCorrectionRate()
	return sum
}
