package casework

import (
	"context"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// exportPage is how many rows LateWorkbook reads at a time.
const exportPage = 1000

// LateWorkbook writes the deadline list that f filters, every page of it,
// as an XLSX workbook (one sheet, one row per case). The export is
// audited (with meta), at the clock's time, before anything is written, as
// the archive export is: it takes many cases out at once.
func (s *Service) LateWorkbook(ctx context.Context, who policy.Subject, meta audit.Meta, f LateFilter, w io.Writer) error {
	f.After = ""
	first, err := s.Late(ctx, who, f, exportPage)
	if err != nil {
		return err
	}
	if err := s.db.Tx(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: who.Name, Action: "export",
			Object: "cases:late", Detail: fmt.Sprintf("导出时限监督清单 %d 件", first.Total), IP: meta.IP})
	}); err != nil {
		return err
	}
	x := excelize.NewFile()
	defer x.Close()
	const sheet = "时限监督"
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	row := 1
	put := func(values ...any) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		row++
		return x.SetSheetRow(sheet, cell, &values)
	}
	if err := put("办件编号", "事项", "部门", "地区", "状态", "承诺办结日期", "时限", "超期工作日"); err != nil {
		return err
	}
	for page := first; ; {
		for _, e := range page.Rows {
			if err := put(e.Number, e.ItemName, e.Department, e.Region, e.Status.Name(), e.Deadline.Due.String(),
				e.Deadline.Status.String(), e.Deadline.DaysLate()); err != nil {
				return err
			}
		}
		if page.Next == "" {
			break
		}
		f.After = page.Next
		if page, err = s.Late(ctx, who, f, exportPage); err != nil {
			return err
		}
	}
	return x.Write(w)
}
