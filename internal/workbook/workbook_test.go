package workbook_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/workbook"
)

// Sheets read every page of their list; the export is audited before the
// workbook is written, and a list that fails writes neither.
func TestWorkbookPagesAndAudits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := workbook.New()
		defer b.Close()
		pages := map[string][]int{"": {1, 2}, "2": {3, 4}, "4": {5}}
		n, err := workbook.Sheet(b, "数字", []any{"数"}, func(after string) ([]int, string, error) {
			next := map[string]string{"": "2", "2": "4"}[after]
			return pages[after], next, nil
		}, func(i int) []any { return []any{i} })
		if err != nil || n != 5 {
			t.Fatalf("%d rows: %v", n, err)
		}
		if n, err := workbook.Sheet(b, "名称", []any{"名"}, workbook.Rows([]string{"甲", "乙"}), func(s string) []any { return []any{s} }); err != nil || n != 2 {
			t.Fatalf("%d rows: %v", n, err)
		}
		if _, err := workbook.Sheet(b, "坏", []any{"x"}, func(string) ([]int, string, error) { return nil, "", errors.New("list failed") },
			func(i int) []any { return nil }); err == nil {
			t.Fatal("a failing list wrote a sheet")
		}
		var buf bytes.Buffer
		if err := b.Write(ctx, db, audit.Entry{At: time.Now(), Actor: "测试", Action: "export", Object: "test:1", Detail: "导出 5 行"}, &buf); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := x.GetRows("数字")
		names, _ := x.GetRows("名称")
		if len(rows) != 6 || rows[5][0] != strconv.Itoa(5) || len(names) != 3 || names[2][0] != "乙" {
			t.Fatalf("sheets: %v %v", rows, names)
		}
		es, err := audit.NewLog(db).Search(ctx, policy.Subject{Kind: policy.Staff, Name: "管理员", Roles: []policy.Role{policy.Admin}}, audit.Filter{Action: "export"})
		if err != nil || len(es) != 1 || es[0].Object != "test:1" {
			t.Fatalf("audit: %+v %v", es, err)
		}
		// An entry that cannot be recorded hands nothing out.
		buf.Reset()
		if err := b.Write(ctx, db, audit.Entry{At: time.Now(), Action: "export"}, &buf); err == nil || buf.Len() != 0 {
			t.Fatalf("an unrecorded export: %v, %d bytes", err, buf.Len())
		}
	})
}
