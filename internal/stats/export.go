package stats

import (
	"context"
	"fmt"
	"io"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/workbook"
)

// Header is the header of a table of figures, after the dimension's
// column; Cells are a row's cells under it. Pages and exports share them.
var Header = []any{"申请量", "网上申请率", "受理", "办结", "按时办结", "超期办结", "按时办结率",
	"平均办理（工作日）", "平均承诺时限", "平均法定时限", "承诺时限压缩率", "最多跑一次率", "一次性告知率", "撤回"}

// Cells are the cells of counts c under Header.
func Cells(c Counts) []any {
	return []any{c.Submitted, Percent(c.OnlineRate()), c.Accepted, c.Finished, c.OnTime, c.Late, Percent(c.OnTimeRate()),
		fmt.Sprintf("%.1f", c.AvgHandling()), fmt.Sprintf("%.1f", c.AvgPromise()), fmt.Sprintf("%.1f", c.AvgLegal()),
		Percent(c.Compression()), Percent(c.OneVisitRate()), Percent(c.OneCorrectionRate()), c.Withdrawn}
}

// Workbook writes the table of f's figures by d, and their total, as an
// XLSX workbook, audited before anything is written to w.
func (s *Service) Workbook(ctx context.Context, who policy.Subject, meta audit.Meta, f Filter, d Dimension, w io.Writer) error {
	rows, err := s.By(ctx, who, f, d)
	if err != nil {
		return err
	}
	sum, err := s.Summary(ctx, who, f)
	if err != nil {
		return err
	}
	rows = append(rows, Row{Label: "合计", Counts: sum.Counts})
	b := workbook.New()
	defer b.Close()
	name := "按" + DimensionName(d)
	n, err := workbook.Sheet(b, name, append([]any{DimensionName(d)}, Header...), workbook.Rows(rows),
		func(r Row) []any { return append([]any{r.Label}, Cells(r.Counts)...) })
	if err != nil {
		return err
	}
	return b.Write(ctx, s.db, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: who.Name, Action: "export",
		Object: "stats:" + string(d), Detail: fmt.Sprintf("导出办件统计（%s）%d 行", name, n), IP: meta.IP}, w)
}
