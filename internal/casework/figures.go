package casework

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
)

// Figures of the statistics (internal/stats) whose cases a dashboard
// lists behind them (穿透查询). Each is spelt as the condition the stats
// counters use (stats.contribution) and, where a partial index serves it,
// as that index's predicate, so that both databases use the index.
var figures = map[string]string{
	"submitted":   `c.status NOT IN ('draft', 'waiting', 'closed')`, // Status.Submitted
	"finished":    `c.status <> 'draft' AND c.finished_on <> ''`,
	"ontime":      `c.status <> 'draft' AND c.finished_on <> '' AND c.due_on <> '' AND c.finished_on <= c.due_on`,
	"late":        `c.due_on <> '' AND c.finished_on > c.due_on`,
	"visits":      `c.status <> 'draft' AND c.visits > 1`,
	"corrections": `c.status <> 'draft' AND c.corrections > 1`,
	"withdrawn":   `c.status <> 'draft' AND c.status = 'withdrawn'`,
}

// FigureNames names the figures a dashboard lists cases behind.
var FigureNames = map[string]string{
	"submitted": "申请量", "finished": "办结量", "ontime": "按时办结", "late": "超期办结",
	"visits": "跑动超过一次", "corrections": "补正超过一次", "withdrawn": "撤回",
}

// BehindFilter says which figure's cases to list, in a dashboard's
// filter: cases begun in [From, To), of items of one level (1 区级,
// 2 街道级, 3 社区级; 0 every level), in a region's subtree, of one
// department, item and channel when set.
type BehindFilter struct {
	Figure       string
	From, To     time.Time // zero: open
	Level        int
	Region       string // a region code: its subtree
	DepartmentID int64
	ItemID       int64
	Channel      string // online, window or ""
	After        string // the cursor of the page (Page.Next)
}

// Begun is a case behind a figure: where it is handled, when it was begun
// and finished.
type Begun struct {
	Supervised
	Channel    string
	CreatedAt  time.Time
	DueOn      string
	FinishedOn string
}

// Behind lists the cases behind a figure of the statistics, within who's
// view of them (policy.StatsScope), newest begun first, by keyset on
// (created_at, id) along the partial index of the figure. It does not
// count them (Page.Total is 0): the figure is their count, which the
// statistics keep, and counting millions of cases again would cost what
// the statistics are there to save.
func (s *Service) Behind(ctx context.Context, who policy.Subject, f BehindFilter, limit int) (Page[Begun], error) {
	var page Page[Begun]
	limit = max(limit, 1)
	prefix, dept, ok := policy.StatsScope(who)
	if !ok {
		return page, apperr.New(apperr.Forbidden, "您没有查看统计数据的权限。")
	}
	figure, known := figures[f.Figure]
	if !known {
		return page, apperr.New(apperr.Invalid, "未知的统计指标。")
	}
	var c conds
	c.add(figure)
	if prefix != "" {
		c.inRegion(prefix)
	}
	if dept != 0 {
		c.add(`c.department_id = ?`, dept)
	}
	if f.Region != "" {
		if len(f.Region) != 12 || strings.Trim(f.Region, "0123456789") != "" {
			return page, apperr.New(apperr.Invalid, "地区代码应为 12 位数字。")
		}
		c.inRegion(policy.RegionPrefix(f.Region))
	}
	if f.DepartmentID != 0 {
		c.add(`c.department_id = ?`, f.DepartmentID)
	}
	if f.ItemID != 0 {
		c.add(`c.item_id = ?`, f.ItemID)
	}
	switch f.Channel {
	case "":
	case "online", "window":
		c.add(`c.channel = ?`, f.Channel)
	default:
		return page, apperr.New(apperr.Invalid, "渠道应为网上或窗口。")
	}
	if !f.From.IsZero() {
		c.add(`c.created_at >= ?`, f.From)
	}
	if !f.To.IsZero() {
		c.add(`c.created_at < ?`, f.To)
	}
	if f.Level != 0 {
		if f.Level < 1 || f.Level > 3 {
			return page, apperr.New(apperr.Invalid, "层级应为区级、街道级或社区级。")
		}
		c.add(`i.level = ?`, f.Level)
	}
	at, err := parseCursor(f.After, 2)
	if err != nil {
		return page, err
	}
	if at != nil {
		t, err1 := at.time(0)
		id, err2 := at.int(1)
		if err1 != nil || err2 != nil {
			return page, errCursor
		}
		c.add(`(c.created_at, c.id) < (?, ?)`, t, id)
	}
	rows, err := s.db.Read().Query(ctx, `SELECT `+supervisedColumns+`, c.channel, c.created_at, c.due_on, c.finished_on`+supervisedFrom+c.where()+
		` ORDER BY c.created_at DESC, c.id DESC LIMIT ?`, append(c.args, limit+1)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var e Begun
		if err := rows.Scan(append(e.dest(), &e.Channel, &e.CreatedAt, &e.DueOn, &e.FinishedOn)...); err != nil {
			return page, err
		}
		page.Rows = append(page.Rows, e)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	if len(page.Rows) > limit {
		page.Rows = page.Rows[:limit]
		last := page.Rows[limit-1]
		page.Next = makeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// BehindWorkbook writes the cases behind a figure that f filters as an
// XLSX workbook, audited before anything is written to w.
func (s *Service) BehindWorkbook(ctx context.Context, who policy.Subject, meta audit.Meta, f BehindFilter, w io.Writer) error {
	name := FigureNames[f.Figure]
	if name == "" {
		return apperr.New(apperr.Invalid, "未知的统计指标。")
	}
	return workbook(ctx, s, who, meta, name, "stats-"+f.Figure,
		[]any{"办件编号", "事项", "部门", "地区", "渠道", "申请日期", "办结时限", "办结日期", "状态"},
		func(after string) (Page[Begun], error) {
			f.After = after
			return s.Behind(ctx, who, f, exportPage)
		},
		func(e Begun) []any {
			channel := "网上申请"
			if e.Channel == "window" {
				channel = "窗口收件"
			}
			return []any{e.Number, e.ItemName, e.Department, e.Region, channel, calendar.DateOf(e.CreatedAt).String(), e.DueOn, e.FinishedOn, e.Status.Name()}
		}, w)
}
