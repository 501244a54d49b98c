package casework

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
	xlsx "github.com/zwfw/zwfw/internal/workbook"
)

// exportPage is how many rows a workbook export reads at a time.
const exportPage = 1000

// LateWorkbook writes the deadline list that f filters as an XLSX workbook.
func (s *Service) LateWorkbook(ctx context.Context, who policy.Subject, meta audit.Meta, f LateFilter, w io.Writer) error {
	return workbook(ctx, s, who, meta, "时限监督", "late",
		[]any{"办件编号", "事项", "部门", "地区", "状态", "承诺办结日期", "时限", "超期工作日"},
		func(after string) (Page[LateEntry], error) {
			f.After = after
			return s.Late(ctx, who, f, exportPage)
		},
		func(e LateEntry) []any {
			return []any{e.Number, e.ItemName, e.Department, e.Region, e.Status.Name(), e.Deadline.Due.String(),
				e.Deadline.Status.String(), e.Deadline.DaysLate()}
		}, w)
}

// VisitsWorkbook writes the 最多跑一次 list that f filters as an XLSX workbook.
func (s *Service) VisitsWorkbook(ctx context.Context, who policy.Subject, meta audit.Meta, f SupervisionFilter, w io.Writer) error {
	return workbook(ctx, s, who, meta, "最多跑一次", "visits",
		[]any{"办件编号", "事项", "部门", "地区", "申请日期", "到场次数", "状态"},
		func(after string) (Page[MultiVisit], error) {
			f.After = after
			return s.MultiVisits(ctx, who, f, exportPage)
		},
		func(e MultiVisit) []any {
			return []any{e.Number, e.ItemName, e.Department, e.Region, calendar.DateOf(e.CreatedAt).String(), e.Visits, e.Status.Name()}
		}, w)
}

// CorrectionsWorkbook writes the 一次性告知 list that f filters as an XLSX
// workbook.
func (s *Service) CorrectionsWorkbook(ctx context.Context, who policy.Subject, meta audit.Meta, f SupervisionFilter, w io.Writer) error {
	return workbook(ctx, s, who, meta, "一次性告知", "corrections",
		[]any{"办件编号", "事项", "部门", "地区", "申请日期", "补正次数", "状态"},
		func(after string) (Page[Corrected], error) {
			f.After = after
			return s.RepeatedCorrections(ctx, who, f, exportPage)
		},
		func(e Corrected) []any {
			return []any{e.Number, e.ItemName, e.Department, e.Region, calendar.DateOf(e.CreatedAt).String(), e.Corrections, e.Status.Name()}
		}, w)
}

// ArchivesWorkbook writes the list of incomplete archives that f filters
// as an XLSX workbook.
func (s *Service) ArchivesWorkbook(ctx context.Context, who policy.Subject, meta audit.Meta, f SupervisionFilter, w io.Writer) error {
	return workbook(ctx, s, who, meta, "电子档案检查", "archives",
		[]any{"办件编号", "事项", "部门", "地区", "状态", "办结日期", "缺少"},
		func(after string) (Page[Incomplete], error) {
			f.After = after
			return s.IncompleteArchives(ctx, who, f, exportPage)
		},
		func(e Incomplete) []any {
			return []any{e.Number, e.ItemName, e.Department, e.Region, e.Status.Name(), calendar.DateOf(e.UpdatedAt).String(), strings.Join(e.Missing, "、")}
		}, w)
}

// workbook writes every page of a supervisors' list (from list, which
// reads the page after a cursor) as an XLSX workbook of one sheet, audited
// (with meta, at the clock's time, the rows counted) before anything is
// written to w, as the archive export is. Who may read the list is the
// list's own check.
func workbook[T any](ctx context.Context, s *Service, who policy.Subject, meta audit.Meta, sheet, object string, header []any,
	list func(after string) (Page[T], error), cells func(T) []any, w io.Writer) error {
	b := xlsx.New()
	defer b.Close()
	n, err := xlsx.Sheet(b, sheet, header, func(after string) ([]T, string, error) {
		p, err := list(after)
		return p.Rows, p.Next, err
	}, cells)
	if err != nil {
		return err
	}
	return b.Write(ctx, s.db, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: who.Name, Action: "export",
		Object: "cases:" + object, Detail: fmt.Sprintf("导出%s清单 %d 件", sheet, n), IP: meta.IP}, w)
}
