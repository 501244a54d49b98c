// Package exchange reads and writes the whole catalog as files: JSON (for
// machines and backups), CSV (one row per item) and XLSX (for people who
// edit the catalog in Excel: the items on one sheet and their steps,
// materials and form fields on three more, one row each). JSON and XLSX
// carry the 一件事一次办 bundles too (bundles.go).
//
// Reading a file parses and checks every row — hard validation, the
// quality rules a published guide must meet, departments, duplicates —
// and reports every bad row with its line and the reason. It needs no
// database and links none, so that its fuzz target runs fast; applying a
// checked file to the database is catalog.Store.Import's.
package exchange

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
)

// Format is the format of an import or export file.
type Format string

const (
	JSON Format = "json"
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// FormatOf tells a file's format by its extension.
func FormatOf(filename string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(filename)); ext {
	case ".json":
		return JSON, nil
	case ".csv":
		return CSV, nil
	case ".xlsx":
		return XLSX, nil
	case ".xls":
		return "", apperr.New(apperr.Invalid, "不支持旧版Excel（.xls）文件，请在Excel中另存为.xlsx格式后再导入")
	case "":
		return "", apperr.New(apperr.Invalid, "无法识别文件格式：文件名没有扩展名，应为 .xlsx、.csv 或 .json")
	default:
		return "", apperr.New(apperr.Invalid, "不支持的文件格式“"+ext+"”，应为 .xlsx、.csv 或 .json")
	}
}

// Check says whether f is a format this package reads and writes.
func (f Format) Check() error {
	switch f {
	case JSON, CSV, XLSX:
		return nil
	}
	return apperr.New(apperr.Invalid, "不支持的文件格式“"+string(f)+"”，应为 xlsx、csv 或 json")
}

// RowError is one problem of one row of an import file.
type RowError struct {
	// Line is the row: for CSV the physical line in the file (the header
	// is line 1), for XLSX the row number on Sheet, for JSON the position
	// of the item in the items array (or of the bundle in the bundles
	// array), from 1.
	Line int `json:"line"`
	// Sheet is the XLSX sheet; "" for CSV and JSON, but 一件事 for a JSON
	// file's bundles.
	Sheet string `json:"sheet,omitempty"`
	// Record is the item's position among the file's items, from 1, when
	// the problem is an item's (not a row of an XLSX 办理流程, 申请材料 or
	// 申请表 sheet): what people count when a file has many. For a JSON
	// file's bundle, its position among the bundles.
	Record int `json:"record,omitempty"`
	// Field is the column (or JSON field) at fault, when one is.
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// String reads like "第3条记录（第4行） 到现场次数：应为整数" or
// "申请材料 第5行 份数：应为整数".
func (e RowError) String() string {
	var b strings.Builder
	if e.Sheet != "" {
		b.WriteString(e.Sheet + " ")
	}
	b.WriteString(e.Where())
	if e.Field != "" {
		b.WriteString(" " + e.Field)
	}
	b.WriteString("：" + e.Message)
	return b.String()
}

// Where is 第3条记录（第4行）, or 第5行 for a row that is not an item, or
// 第3条记录 for a JSON file, whose records are not lines (a record's line
// is never its position otherwise: a header comes first).
func (e RowError) Where() string {
	switch {
	case e.Record == 0:
		return fmt.Sprintf("第%d行", e.Line)
	case e.Record == e.Line:
		return fmt.Sprintf("第%d条记录", e.Record)
	}
	return fmt.Sprintf("第%d条记录（第%d行）", e.Record, e.Line)
}

// ImportError lists every bad row of a rejected import file. It is an
// apperr.Invalid error: nothing was changed.
type ImportError struct {
	Rows []RowError
}

func (e *ImportError) Error() string {
	type key struct {
		sheet string
		line  int
	}
	lines := map[key]bool{}
	for _, r := range e.Rows {
		lines[key{r.Sheet, r.Line}] = true
	}
	return fmt.Sprintf("导入失败：共%d行有误，未作任何更改", len(lines))
}

// Unwrap makes apperr.CodeOf an ImportError Invalid, and apperr.MessageOf
// its summary.
func (e *ImportError) Unwrap() error { return apperr.New(apperr.Invalid, e.Error()) }

// Detail lists every problem, one a line, for a command line or a log.
func (e *ImportError) Detail() string {
	var b strings.Builder
	b.WriteString(e.Error())
	for _, r := range e.Rows {
		b.WriteString("\n" + r.String())
	}
	return b.String()
}

// fileHeader is the envelope of the JSON format; bundles came later, and
// a file without them is read as having none.
type fileHeader struct {
	Format  string            `json:"format"`
	Version int               `json:"version"`
	Items   []json.RawMessage `json:"items"`
	Bundles []json.RawMessage `json:"bundles"`
}

const (
	jsonFormatName    = "zwfw-catalog"
	jsonFormatVersion = 1

	sheetItems     = "事项"
	sheetSteps     = "办理流程"
	sheetMaterials = "申请材料"
	sheetForm      = "申请表"
)
