package exchange

// Writing a file.

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog/item"
)

// Write writes items and bundles as a file of format f. CSV holds items
// only: its caller says that the bundles were left out.
func Write(w io.Writer, f Format, items []item.Item, bundles []Bundle) error {
	if err := f.Check(); err != nil {
		return err
	}
	switch f {
	case JSON:
		return writeEnvelope(w, struct {
			Format  string      `json:"format"`
			Version int         `json:"version"`
			Items   []item.Item `json:"items"`
			Bundles []Bundle    `json:"bundles"`
		}{jsonFormatName, jsonFormatVersion, nonNil(items), nonNil(bundles)})
	case CSV:
		return writeCSV(w, items)
	default:
		return writeXLSX(w, items, bundles)
	}
}

func writeEnvelope(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// utf8BOM starts every CSV file: Excel on Chinese Windows reads a file
// without it as GBK.
const utf8BOM = "\ufeff"

func writeCSV(w io.Writer, items []item.Item) error {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cols := columnsFor(CSV)
	row := make([]string, len(cols))
	for i, c := range cols {
		row[i] = c.name
	}
	if err := cw.Write(row); err != nil {
		return err
	}
	for k := range items {
		for i, c := range cols {
			row[i] = fmt.Sprint(c.get(&items[k]))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// maxCellChars is Excel's limit on the text of one cell, in UTF-16 units.
const maxCellChars = 32767

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// sheetWriter writes one sheet of an export: a bold frozen header, then
// rows, then column widths fitted to the content.
type sheetWriter struct {
	f      *excelize.File
	name   string
	cols   []string
	rows   int
	widths []float64
	err    error
}

func newSheetWriter(f *excelize.File, name string, cols []string) *sheetWriter {
	w := &sheetWriter{f: f, name: name, cols: cols, widths: make([]float64, len(cols))}
	if name == sheetItems {
		w.err = f.SetSheetName("Sheet1", name)
	} else {
		_, w.err = f.NewSheet(name)
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = c
	}
	w.add(header, "")
	return w
}

// add writes one row; what names the item for an error.
func (w *sheetWriter) add(values []any, what string) {
	if w.err != nil {
		return
	}
	for i, v := range values {
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		if utf16Len(s) > maxCellChars {
			w.err = apperr.New(apperr.Invalid, fmt.Sprintf("%s的“%s”超过Excel单元格上限（%d字），无法导出为XLSX，请改用JSON或CSV格式", what, w.cols[i], maxCellChars))
			return
		}
		w.widths[i] = max(w.widths[i], displayWidth(s))
	}
	w.rows++
	cell, _ := excelize.CoordinatesToCellName(1, w.rows)
	w.err = w.f.SetSheetRow(w.name, cell, &values)
}

// displayWidth estimates a cell's width in Excel's units: the longest line,
// Chinese characters counting double.
func displayWidth(s string) float64 {
	widest := 0.0
	for line := range strings.SplitSeq(s, "\n") {
		n := 0.0
		for _, r := range line {
			if r >= 0x1100 {
				n += 2
			} else {
				n++
			}
		}
		widest = max(widest, n)
	}
	return widest
}

// finish styles the sheet: bold header, text format for code columns,
// widths, frozen header (and first column when freezeFirst), a filter on
// the header and drop-downs for columns with a fixed list of values.
func (w *sheetWriter) finish(header, text int, textCols []bool, lists [][]string, freezeFirst bool) error {
	if w.err != nil {
		return w.err
	}
	f, name := w.f, w.name
	last, _ := excelize.ColumnNumberToName(len(w.cols))
	for i := range w.cols {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if textCols != nil && textCols[i] {
			if err := f.SetColStyle(name, col, text); err != nil {
				return err
			}
		}
		if err := f.SetColWidth(name, col, col, min(max(w.widths[i]+2, 8), 60)); err != nil {
			return err
		}
		if lists != nil && len(lists[i]) > 0 {
			dv := excelize.NewDataValidation(true)
			dv.Sqref = fmt.Sprintf("%s2:%s%d", col, col, excelize.TotalRows)
			if err := dv.SetDropList(lists[i]); err != nil {
				return err
			}
			dv.SetError(excelize.DataValidationErrorStyleWarning, "请从列表中选择", "应为："+strings.Join(lists[i], "、"))
			if err := f.AddDataValidation(name, dv); err != nil {
				return err
			}
		}
	}
	if err := f.SetCellStyle(name, "A1", last+"1", header); err != nil {
		return err
	}
	panes := &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}
	if freezeFirst {
		panes = &excelize.Panes{Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight"}
	}
	if err := f.SetPanes(name, panes); err != nil {
		return err
	}
	return f.AutoFilter(name, fmt.Sprintf("A1:%s%d", last, max(w.rows, 2)), nil)
}

func writeXLSX(out io.Writer, items []item.Item, bundles []Bundle) error {
	f := excelize.NewFile()
	defer f.Close()
	header, err := f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Alignment: &excelize.Alignment{Vertical: "center"},
		Border:    []excelize.Border{{Type: "bottom", Color: "8EA9DB", Style: 1}},
	})
	if err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text, so 010100100001 stays as typed
	if err != nil {
		return err
	}

	cols := columnsFor(XLSX)
	names := make([]string, len(cols))
	textCols := make([]bool, len(cols))
	lists := make([][]string, len(cols))
	for i, c := range cols {
		names[i], textCols[i], lists[i] = c.name, c.text, c.list
	}
	itemSheet := newSheetWriter(f, sheetItems, names)
	steps := newSheetWriter(f, sheetSteps, stepColumns)
	materials := newSheetWriter(f, sheetMaterials, materialColumns)
	form := newSheetWriter(f, sheetForm, formColumns)
	for k := range items {
		it := &items[k]
		what := fmt.Sprintf("事项“%s”（%s）", it.Name, it.ImplCode)
		row := make([]any, len(cols))
		for i, c := range cols {
			row[i] = c.get(it)
		}
		itemSheet.add(row, what)
		for i, st := range it.Steps {
			steps.add([]any{it.ImplCode, i + 1, st.Name, st.Description}, what)
		}
		for i, m := range it.Materials {
			materials.add([]any{it.ImplCode, i + 1, m.Name, m.Necessity, m.Form, m.Copies, m.Source, m.BlankForm, m.Sample, m.Notes, m.Standard}, what)
		}
		for _, sec := range it.Form {
			if len(sec.Fields) == 0 { // a section without fields still has a row
				form.add([]any{it.ImplCode, sec.Title, "", "", "", "", "", "", ""}, what)
			}
			for _, fl := range sec.Fields {
				maxLen := any("")
				if fl.MaxLength != 0 {
					maxLen = fl.MaxLength
				}
				form.add([]any{it.ImplCode, sec.Title, fl.Key, fl.Label, fl.Type, formatBool(fl.Required), fl.Help,
					strings.Join(fl.Options, "；"), maxLen}, what)
			}
		}
	}
	keyText := func(n int) []bool { t := make([]bool, n); t[0] = true; return t }
	materialLists := make([][]string, len(materialColumns))
	materialLists[3] = []string{"必需", "容缺", "非必需"}
	materialLists[4] = []string{"原件", "复印件", "原件和复印件", "电子"}
	materialLists[6] = []string{"申请人自备", "政府部门核发"}
	formLists := make([][]string, len(formColumns))
	formLists[4] = item.FieldTypes
	formLists[5] = yesNo
	for _, step := range []func() error{
		func() error { return itemSheet.finish(header, text, textCols, lists, true) },
		func() error { return steps.finish(header, text, keyText(len(stepColumns)), nil, false) },
		func() error {
			return materials.finish(header, text, keyText(len(materialColumns)), materialLists, false)
		},
		func() error { return form.finish(header, text, keyText(len(formColumns)), formLists, false) },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	if err := writeBundleSheets(f, bundles, header, text); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	return f.Write(out)
}
