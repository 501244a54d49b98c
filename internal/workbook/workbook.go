// Package workbook writes the platform's XLSX exports: sheets read page by
// page from a list, and an audit entry for the export written before any
// byte reaches the reader, since an export takes many records out at once.
// The supervisors' case lists and the survey results export through it.
package workbook

import (
	"context"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/store"
)

// Book is a workbook being filled.
type Book struct {
	x     *excelize.File
	first bool // the default sheet has not been named yet
}

// New starts an empty workbook; Close it when done.
func New() *Book { return &Book{x: excelize.NewFile(), first: true} }

// Close releases the workbook.
func (b *Book) Close() error { return b.x.Close() }

// Sheet adds a sheet named name: the header, then the cells of each row
// of every page of list (which reads the page after a cursor and returns
// the next cursor, "" after the last). It returns how many rows it wrote
// below the header.
func Sheet[T any](b *Book, name string, header []any, list func(after string) ([]T, string, error), cells func(T) []any) (int, error) {
	if b.first {
		if err := b.x.SetSheetName("Sheet1", name); err != nil {
			return 0, err
		}
		b.first = false
	} else if _, err := b.x.NewSheet(name); err != nil {
		return 0, err
	}
	row := 1
	put := func(values []any) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		row++
		return b.x.SetSheetRow(name, cell, &values)
	}
	if err := put(header); err != nil {
		return 0, err
	}
	for after := ""; ; {
		rows, next, err := list(after)
		if err != nil {
			return 0, err
		}
		for _, e := range rows {
			if err := put(cells(e)); err != nil {
				return 0, err
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	return row - 2, nil
}

// Rows is a list of one page, for Sheet.
func Rows[T any](rows []T) func(string) ([]T, string, error) {
	return func(string) ([]T, string, error) { return rows, "", nil }
}

// Write appends the export's audit entry in a transaction of its own, then
// writes the workbook to w: an export that could not be recorded is not
// handed out.
func (b *Book) Write(ctx context.Context, db *store.DB, e audit.Entry, w io.Writer) error {
	if err := audit.Record(ctx, db, e); err != nil {
		return err
	}
	return b.x.Write(w)
}
