// Package exchange reads and writes the whole catalog as files: JSON (for
// machines and backups), CSV (one row per item) and XLSX (for people who
// edit the catalog in Excel: the items on one sheet and their steps,
// materials and form fields on three more, one row each).
//
// Reading a file parses and checks every row — hard validation, the
// quality rules a published guide must meet, departments, duplicates —
// and reports every bad row with its line and the reason. It needs no
// database and links none, so that its fuzz target runs fast; applying a
// checked file to the database is catalog.Store.Import's.
package exchange

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog/item"
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
	// of the item in the items array, from 1.
	Line int `json:"line"`
	// Sheet is the XLSX sheet; "" for CSV and JSON.
	Sheet string `json:"sheet,omitempty"`
	// Field is the column (or JSON field) at fault, when one is.
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// String reads like "申请材料 第5行 份数：应为整数".
func (e RowError) String() string {
	var b strings.Builder
	if e.Sheet != "" {
		b.WriteString(e.Sheet + " ")
	}
	fmt.Fprintf(&b, "第%d行", e.Line)
	if e.Field != "" {
		b.WriteString(" " + e.Field)
	}
	b.WriteString("：" + e.Message)
	return b.String()
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

// fileHeader is the envelope of the JSON format.
type fileHeader struct {
	Format  string            `json:"format"`
	Version int               `json:"version"`
	Items   []json.RawMessage `json:"items"`
}

const (
	jsonFormatName    = "zwfw-catalog"
	jsonFormatVersion = 1

	sheetItems     = "事项"
	sheetSteps     = "办理流程"
	sheetMaterials = "申请材料"
	sheetForm      = "申请表"
)

// ---------------------------------------------------------------------------
// Columns

// column is one column of the CSV and of the XLSX 事项 sheet.
type column struct {
	name string
	get  func(it *item.Item) any             // a string or an int
	set  func(it *item.Item, v string) error // v as read; the error says what is wrong, in Chinese
	list []string                            // XLSX: values offered in a drop-down
	text bool                                // XLSX: a code column, formatted as text so Excel keeps leading zeros
	nest bool                                // CSV only: a nested part as JSON (XLSX has a sheet for it)
}

var yesNo = []string{"是", "否"}

func textColumn(name string, p func(*item.Item) *string) column {
	return column{name: name,
		get: func(it *item.Item) any { return *p(it) },
		set: func(it *item.Item, v string) error { *p(it) = v; return nil }}
}

// codeColumn is a text column whose value is a code or an enumeration:
// surrounding spaces are dropped.
func codeColumn(name string, p func(*item.Item) *string, list ...string) column {
	return column{name: name, text: true, list: list,
		get: func(it *item.Item) any { return *p(it) },
		set: func(it *item.Item, v string) error { *p(it) = strings.TrimSpace(v); return nil }}
}

func intColumn(name string, p func(*item.Item) *int) column {
	return column{name: name,
		get: func(it *item.Item) any { return *p(it) },
		set: func(it *item.Item, v string) (err error) { *p(it), err = parseInt(v); return err }}
}

func boolColumn(name string, p func(*item.Item) *bool) column {
	return column{name: name, list: yesNo,
		get: func(it *item.Item) any { return formatBool(*p(it)) },
		set: func(it *item.Item, v string) (err error) { *p(it), err = parseBool(v); return err }}
}

func listColumn(name string, p func(*item.Item) *[]string) column {
	return column{name: name,
		get: func(it *item.Item) any { return strings.Join(*p(it), "；") },
		set: func(it *item.Item, v string) error { *p(it) = splitList(v); return nil }}
}

func jsonColumn[T any](name string, p func(*item.Item) *[]T) column {
	return column{name: name, nest: true,
		get: func(it *item.Item) any {
			if len(*p(it)) == 0 {
				return ""
			}
			return compactJSON(*p(it))
		},
		set: func(it *item.Item, v string) error {
			*p(it) = nil
			if strings.TrimSpace(v) == "" {
				return nil
			}
			d := json.NewDecoder(strings.NewReader(v))
			d.DisallowUnknownFields()
			var out []T
			if err := d.Decode(&out); err != nil {
				return fmt.Errorf("不是有效的JSON：%s", jsonErrorMessage(err))
			}
			if d.More() {
				return errors.New("不是有效的JSON：数组后还有多余内容")
			}
			*p(it) = out
			return nil
		}}
}

var units = []string{"工作日", "自然日", "小时"}

// itemColumns are the item's columns, in the order files are written.
// Reading accepts them in any order, but every one must be there: a column
// left out would empty that field of every item in the file.
var itemColumns = []column{
	textColumn("事项名称", func(it *item.Item) *string { return &it.Name }),
	codeColumn("基本编码", func(it *item.Item) *string { return &it.BaseCode }),
	codeColumn("实施编码", func(it *item.Item) *string { return &it.ImplCode }),
	{name: "事项类型", list: itemTypeNames(),
		get: func(it *item.Item) any { return cmp.Or(it.Type.Name(), string(it.Type)) },
		set: func(it *item.Item, v string) (err error) { it.Type, err = parseItemType(v); return err }},
	codeColumn("实施部门", func(it *item.Item) *string { return &it.Department }),
	codeColumn("业务办理项", func(it *item.Item) *string { return &it.HandlingKind }, "新办", "变更", "延续", "注销"),
	codeColumn("主项基本编码", func(it *item.Item) *string { return &it.ParentCode }),
	textColumn("设定依据", func(it *item.Item) *string { return &it.Basis }),
	listColumn("服务对象", func(it *item.Item) *[]string { return &it.Subjects }),
	listColumn("主题", func(it *item.Item) *[]string { return &it.Themes }),
	{name: "办件类型", list: []string{string(item.Immediate), string(item.Promised)},
		get: func(it *item.Item) any { return string(it.CaseKind) },
		set: func(it *item.Item, v string) error { it.CaseKind = parseCaseKind(v); return nil }},
	intColumn("法定时限", func(it *item.Item) *int { return &it.LegalLimit.Value }),
	codeColumn("法定时限单位", func(it *item.Item) *string { return &it.LegalLimit.Unit }, units...),
	textColumn("法定时限说明", func(it *item.Item) *string { return &it.LegalLimit.Note }),
	intColumn("承诺时限", func(it *item.Item) *int { return &it.PromiseLimit.Value }),
	codeColumn("承诺时限单位", func(it *item.Item) *string { return &it.PromiseLimit.Unit }, units...),
	textColumn("承诺时限说明", func(it *item.Item) *string { return &it.PromiseLimit.Note }),
	intColumn("到现场次数", func(it *item.Item) *int { return &it.Visits }),
	textColumn("到现场原因", func(it *item.Item) *string { return &it.VisitReason }),
	{name: "网上办理深度", list: depthNames(),
		get: func(it *item.Item) any { return cmp.Or(it.Depth.Name(), strconv.Itoa(int(it.Depth))) },
		set: func(it *item.Item, v string) (err error) { it.Depth, err = parseDepth(v); return err }},
	textColumn("受理条件", func(it *item.Item) *string { return &it.Conditions }),
	textColumn("特别程序", func(it *item.Item) *string { return &it.Special }),
	boolColumn("是否收费", func(it *item.Item) *bool { return &it.Fee.Charged }),
	textColumn("收费依据", func(it *item.Item) *string { return &it.Fee.Basis }),
	textColumn("收费标准", func(it *item.Item) *string { return &it.Fee.Standard }),
	textColumn("减免", func(it *item.Item) *string { return &it.Fee.Waiver }),
	textColumn("结果名称", func(it *item.Item) *string { return &it.Result.Name }),
	codeColumn("结果类型", func(it *item.Item) *string { return &it.Result.Type }, "证照", "批文", "其他"),
	textColumn("结果样本", func(it *item.Item) *string { return &it.Result.Sample }),
	textColumn("办理地点", func(it *item.Item) *string { return &it.Place }),
	textColumn("办理时间", func(it *item.Item) *string { return &it.Hours }),
	codeColumn("咨询电话", func(it *item.Item) *string { return &it.ConsultPhone }),
	codeColumn("监督投诉电话", func(it *item.Item) *string { return &it.ComplaintPhone }),
	boolColumn("支持快递", func(it *item.Item) *bool { return &it.Express }),
	boolColumn("支持网上支付", func(it *item.Item) *bool { return &it.OnlinePayment }),
	boolColumn("支持预约", func(it *item.Item) *bool { return &it.Appointment }),
	boolColumn("支持自助终端", func(it *item.Item) *bool { return &it.SelfService }),
	listColumn("别名", func(it *item.Item) *[]string { return &it.Aliases }),
	boolColumn("演示数据", func(it *item.Item) *bool { return &it.Generated }),
	{name: "办理环节",
		get: func(it *item.Item) any { return item.FormatWorkflow(it.Workflow) },
		set: func(it *item.Item, v string) (err error) { it.Workflow, err = item.ParseWorkflow(v); return err }},
	jsonColumn("办理流程", func(it *item.Item) *[]item.Step { return &it.Steps }),
	jsonColumn("申请材料", func(it *item.Item) *[]item.Material { return &it.Materials }),
	jsonColumn("申请表", func(it *item.Item) *[]item.FormSection { return &it.Form }),
}

// columnsFor returns the item columns of a format: XLSX keeps the nested
// parts on sheets of their own.
func columnsFor(f Format) []column {
	if f == CSV {
		return itemColumns
	}
	var out []column
	for _, c := range itemColumns {
		if !c.nest {
			out = append(out, c)
		}
	}
	return out
}

// The XLSX sheets of the nested parts, keyed by 实施编码.
var (
	stepColumns     = []string{"实施编码", "序号", "环节", "说明"}
	materialColumns = []string{"实施编码", "序号", "材料名称", "必要性", "形式", "份数", "来源", "空白表格", "示例样表", "填报须知", "受理标准"}
	formColumns     = []string{"实施编码", "分组", "字段标识", "字段名称", "类型", "必填", "说明", "选项(；分隔)", "最大长度"}
)

// problemFields names the column a quality rule is about.
var problemFields = map[string]string{
	"full_online_no_visit": "到现场次数", "visit_reason": "到现场原因", "limit_units": "承诺时限单位",
	"promise_within_legal": "承诺时限", "promised_limit": "承诺时限", "immediate_limit": "承诺时限",
	"fee_basis": "收费依据", "phones": "监督投诉电话", "material_standard": "申请材料", "materials": "申请材料",
	"conditions": "受理条件", "steps": "办理流程", "online_form": "申请表", "base_code": "基本编码", "impl_code": "实施编码",
}

func itemTypeNames() []string {
	out := make([]string, len(item.ItemTypes))
	for i, t := range item.ItemTypes {
		out[i] = t.Name
	}
	return out
}

func depthNames() []string {
	return []string{item.DepthPublic.Name(), item.DepthPrecheck.Name(), item.DepthApply.Name(), item.DepthFull.Name()}
}

// parseItemType accepts a code (01, or 1 as Excel leaves it), a name
// (行政许可) or both (01 行政许可).
func parseItemType(v string) (item.ItemType, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	code, name, _ := strings.Cut(v, " ")
	if len(code) == 1 && code[0] >= '0' && code[0] <= '9' {
		code = "0" + code
	}
	for _, t := range item.ItemTypes {
		if string(t.Type) == code && (name == "" || strings.TrimSpace(name) == t.Name) || t.Name == v {
			return t.Type, nil
		}
	}
	return "", fmt.Errorf("“%s”不是有效的事项类型，应为%s之一（或其代码）", v, strings.Join(itemTypeNames(), "、"))
}

func parseCaseKind(v string) item.CaseKind {
	switch v = strings.TrimSpace(v); v {
	case "即办":
		return item.Immediate
	case "承诺":
		return item.Promised
	}
	return item.CaseKind(v)
}

// parseDepth accepts 1–4, 一级…四级, the level's name, or both
// (四级 全程网办).
func parseDepth(v string) (item.Depth, error) {
	v = strings.Join(strings.Fields(v), " ")
	if v == "" {
		return 0, nil
	}
	for d := item.DepthPublic; d <= item.DepthFull; d++ {
		level, name, _ := strings.Cut(d.Name(), " ")
		if v == strconv.Itoa(int(d)) || v == level || v == name || v == d.Name() || v == level+name {
			return d, nil
		}
	}
	return 0, fmt.Errorf("“%s”不是有效的网上办理深度，应为%s之一（或1至4）", v, strings.Join(depthNames(), "、"))
}

func parseInt(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		// Excel may show a whole number as 15.0.
		if f, ferr := strconv.ParseFloat(v, 64); ferr == nil && f == float64(int(f)) && f >= -1e9 && f <= 1e9 {
			return int(f), nil
		}
		return 0, fmt.Errorf("“%s”不是整数", v)
	}
	return n, nil
}

func formatBool(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "是", "true", "1", "y", "yes", "√":
		return true, nil
	case "否", "false", "0", "n", "no", "×", "":
		return false, nil
	}
	return false, fmt.Errorf("应填“是”或“否”，不能是“%s”", v)
}

// splitList splits a list cell at ；or ; and drops empty entries.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == '；' || r == ';' }) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // the catalog's own types always encode
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// jsonErrorMessage says in Chinese what encoding/json did not like.
func jsonErrorMessage(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return fmt.Sprintf("字段 %s 的值类型不对（应为%s，实为%s）", typeErr.Field, jsonTypeName(typeErr.Type.Kind().String()), jsonTypeName(typeErr.Value))
		}
		return fmt.Sprintf("值类型不对（应为%s，实为%s）", jsonTypeName(typeErr.Type.Kind().String()), jsonTypeName(typeErr.Value))
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("第%d个字节附近语法错误（%s）", syntaxErr.Offset, syntaxErr.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "内容不完整"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return "未知字段 " + f
	}
	return msg
}

func jsonTypeName(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"), kind == "number":
		return "数字"
	case kind == "string":
		return "字符串"
	case kind == "bool":
		return "布尔值"
	case kind == "slice", kind == "array":
		return "数组"
	case kind == "struct", kind == "map", kind == "object":
		return "对象"
	}
	return kind
}

// ---------------------------------------------------------------------------
// Writing

// Write writes items as a file of format f.
func Write(w io.Writer, f Format, items []item.Item) error {
	if err := f.Check(); err != nil {
		return err
	}
	switch f {
	case JSON:
		return writeJSON(w, items)
	case CSV:
		return writeCSV(w, items)
	default:
		return writeXLSX(w, items)
	}
}

func writeJSON(w io.Writer, items []item.Item) error {
	if items == nil {
		items = []item.Item{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Format  string      `json:"format"`
		Version int         `json:"version"`
		Items   []item.Item `json:"items"`
	}{jsonFormatName, jsonFormatVersion, items})
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

func writeXLSX(out io.Writer, items []item.Item) error {
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
	f.SetActiveSheet(0)
	return f.Write(out)
}

// ---------------------------------------------------------------------------
// Parsing: a file into rows, without the database.

// Row is one item of an import file and where it was read, for the
// problems found later.
type Row struct {
	Line   int
	Sheet  string
	Item   item.Item
	broken bool // some cell could not be read: its other checks are skipped
}

// child is a row of an XLSX 办理流程, 申请材料 or 申请表 sheet, waiting to
// join its item by 实施编码.
type child struct {
	sheet    string
	line     int
	key      string
	seq      int
	step     *item.Step
	material *item.Material
	section  string
	field    *item.FormField // nil on a 申请表 row that only names a section
}

// importFile is a parsed import file.
type importFile struct {
	rows     []*Row
	children []child
	errs     []RowError
}

func (f *importFile) fail(sheet string, line int, field, format string, args ...any) {
	f.errs = append(f.errs, RowError{Line: line, Sheet: sheet, Field: field, Message: fmt.Sprintf(format, args...)})
}

// decode parses a file. A file that cannot be read at all is an
// apperr.Invalid error; bad rows are in the result's errs.
func decode(r io.Reader, f Format) (*importFile, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read import file: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, apperr.New(apperr.Invalid, "文件是空的")
	}
	switch f {
	case JSON:
		return decodeJSON(data)
	case CSV:
		return decodeCSV(data)
	default:
		return decodeXLSX(data)
	}
}

// clean drops what an import never takes from a file: what the database
// derives (IDs, region, level, status, timestamps) and popularity, which is
// counted, not edited.
func clean(it *item.Item) {
	it.ID, it.Version, it.Status, it.Level, it.DepartmentID, it.RegionCode, it.Popularity = 0, 0, "", 0, 0, "", 0
	it.UpdatedAt, it.PublishedAt = time.Time{}, time.Time{}
}

func decodeJSON(data []byte) (*importFile, error) {
	data = bytes.TrimPrefix(data, []byte(utf8BOM))
	var h fileHeader
	if err := json.Unmarshal(data, &h); err != nil {
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			line, col := position(data, syntaxErr.Offset)
			return nil, apperr.Wrap(apperr.Invalid, fmt.Sprintf("JSON文件第%d行第%d列附近有语法错误", line, col), err)
		}
		return nil, apperr.Wrap(apperr.Invalid, "不是有效的事项目录JSON文件："+jsonErrorMessage(err), err)
	}
	if h.Format != jsonFormatName {
		return nil, apperr.New(apperr.Invalid, "不是zwfw事项目录文件（format应为“"+jsonFormatName+"”）")
	}
	if h.Version != jsonFormatVersion {
		return nil, apperr.New(apperr.Invalid, fmt.Sprintf("不支持第%d版的事项目录文件，只支持第%d版", h.Version, jsonFormatVersion))
	}
	file := &importFile{}
	for i, raw := range h.Items {
		row := &Row{Line: i + 1}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&row.Item); err != nil {
			var typeErr *json.UnmarshalTypeError
			field := ""
			if errors.As(err, &typeErr) {
				field = typeErr.Field
			}
			file.fail("", row.Line, field, "%s", jsonErrorMessage(err))
			row.broken = true
		}
		clean(&row.Item)
		file.rows = append(file.rows, row)
	}
	return file, nil
}

// position turns a byte offset into a line and column, from 1.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	return line, max(col, 1)
}

// header maps a file's column names to their positions, checking that
// they are exactly the expected ones, in any order.
func header(file *importFile, sheet string, line int, cells []string, want []string) (map[string]int, bool) {
	idx := map[string]int{}
	ok := true
	for i, c := range cells {
		name := normalizeHeader(c)
		switch {
		case name == "":
			// An empty header cell is fine if its column is empty too:
			// extraCells checks that.
		case !slices.Contains(want, name):
			file.fail(sheet, line, name, "未知的列“%s”", name)
			ok = false
		case idxHas(idx, name):
			file.fail(sheet, line, name, "列“%s”重复", name)
			ok = false
		default:
			idx[name] = i
		}
	}
	for _, w := range want {
		if _, found := idx[w]; !found && !optionalColumns[w] {
			file.fail(sheet, line, w, "缺少列“%s”", w)
			ok = false
		}
	}
	return idx, ok
}

// optionalColumns were added after files were first exchanged: a file
// without them still imports, with their defaults.
var optionalColumns = map[string]bool{"办理环节": true}

func idxHas(idx map[string]int, name string) bool { _, ok := idx[name]; return ok }

func normalizeHeader(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(s, utf8BOM))
	switch s {
	case "选项", "选项（；分隔）", "选项(;分隔)", "选项（;分隔）":
		return "选项(；分隔)"
	}
	return s
}

// cells reads a data row by column name.
type cells struct {
	values []string
	idx    map[string]int
}

func (c cells) get(name string) string {
	i, ok := c.idx[name]
	if !ok || i >= len(c.values) {
		return ""
	}
	return c.values[i]
}

func blank(values []string) bool {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// extraCells reports values in columns that have no header.
func extraCells(file *importFile, sheet string, line int, values []string, headerLen int, idx map[string]int) bool {
	named := map[int]bool{}
	for _, i := range idx {
		named[i] = true
	}
	for i, v := range values {
		if !named[i] && strings.TrimSpace(v) != "" {
			col := strconv.Itoa(i + 1)
			if sheet != "" {
				col, _ = excelize.ColumnNumberToName(i + 1)
			}
			if i >= headerLen {
				file.fail(sheet, line, "", "第%s列有内容，但表头没有这一列", col)
			} else {
				file.fail(sheet, line, "", "第%s列有内容，但表头为空", col)
			}
			return true
		}
	}
	return false
}

// readItem fills an item from a row; it reports every cell it cannot
// read.
func readItem(file *importFile, sheet string, line int, cols []column, c cells) *Row {
	row := &Row{Line: line, Sheet: sheet}
	for _, col := range cols {
		if err := col.set(&row.Item, c.get(col.name)); err != nil {
			file.fail(sheet, line, col.name, "%s", err.Error())
			row.broken = true
		}
	}
	return row
}

func decodeCSV(data []byte) (*importFile, error) {
	data = bytes.TrimPrefix(data, []byte(utf8BOM))
	if !utf8.Valid(data) {
		// Excel on Chinese Windows saves "CSV (逗号分隔)" in GBK: read it
		// as GB18030, which contains GBK.
		decoded, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil {
			return nil, apperr.Wrap(apperr.Invalid, "CSV文件既不是UTF-8编码也不是GBK编码，请另存为“CSV UTF-8”格式", err)
		}
		data = bytes.TrimPrefix(decoded, []byte(utf8BOM))
	}
	file := &importFile{}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	cols := columnsFor(CSV)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	var idx map[string]int
	headerLen := 0
	for {
		record, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var perr *csv.ParseError
			line := 1
			if errors.As(err, &perr) {
				line = perr.Line
				err = perr.Err
			}
			msg := err.Error()
			switch {
			case errors.Is(err, csv.ErrQuote):
				msg = "引号不成对（含逗号、引号或换行的内容须整体放在英文双引号中，内容里的双引号写作两个双引号）"
			case errors.Is(err, csv.ErrBareQuote):
				msg = "不带引号的内容中出现了双引号（内容里的双引号须写作两个双引号，并把整个内容放在双引号中）"
			}
			file.fail("", line, "", "CSV格式错误：%s；此行之后的内容未能读取", msg)
			break
		}
		line, _ := r.FieldPos(0)
		if idx == nil {
			var ok bool
			idx, ok = header(file, "", line, record, names)
			if !ok {
				return file, nil // the rows cannot be read against a wrong header
			}
			headerLen = len(record)
			continue
		}
		if blank(record) {
			continue
		}
		if extraCells(file, "", line, record, headerLen, idx) {
			continue
		}
		file.rows = append(file.rows, readItem(file, "", line, cols, cells{record, idx}))
	}
	if idx == nil && len(file.errs) == 0 {
		return nil, apperr.New(apperr.Invalid, "CSV文件没有表头")
	}
	return file, nil
}

// xlsxLimit bounds what an XLSX file may unpack to, against zip bombs.
const xlsxLimit = 512 << 20

func decodeXLSX(data []byte) (*importFile, error) {
	x, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: xlsxLimit})
	if err != nil {
		if errors.Is(err, excelize.ErrOptionsUnzipSizeLimit) || strings.Contains(err.Error(), "unzip size") {
			return nil, apperr.Wrap(apperr.Invalid, "Excel文件解压后过大", err)
		}
		return nil, apperr.Wrap(apperr.Invalid, "无法读取Excel文件，请确认是.xlsx格式（不是.xls或加密文件）", err)
	}
	defer x.Close()
	sheets := x.GetSheetList()
	for _, name := range []string{sheetItems, sheetSteps, sheetMaterials, sheetForm} {
		if !slices.Contains(sheets, name) {
			return nil, apperr.New(apperr.Invalid, "Excel文件缺少“"+name+"”工作表（应有事项、办理流程、申请材料、申请表四个工作表）")
		}
	}
	file := &importFile{}
	read := func(sheet string, want []string, fn func(line int, c cells)) error {
		rows, err := x.GetRows(sheet)
		if err != nil {
			return apperr.Wrap(apperr.Invalid, "无法读取“"+sheet+"”工作表", err)
		}
		if len(rows) == 0 {
			file.fail(sheet, 1, "", "工作表没有表头")
			return nil
		}
		idx, ok := header(file, sheet, 1, rows[0], want)
		if !ok {
			return nil
		}
		for i, values := range rows[1:] {
			line := i + 2
			if blank(values) || extraCells(file, sheet, line, values, len(rows[0]), idx) {
				continue
			}
			fn(line, cells{values, idx})
		}
		return nil
	}
	cols := columnsFor(XLSX)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	if err := read(sheetItems, names, func(line int, c cells) {
		file.rows = append(file.rows, readItem(file, sheetItems, line, cols, c))
	}); err != nil {
		return nil, err
	}
	seq := func(sheet string, line int, c cells) (int, bool) {
		n, err := parseInt(c.get("序号"))
		if err == nil && n < 1 {
			err = errors.New("应为从1开始的整数")
		}
		if err != nil {
			file.fail(sheet, line, "序号", "%s", err.Error())
			return 0, false
		}
		return n, true
	}
	key := func(c cells) string { return strings.TrimSpace(c.get("实施编码")) }
	if err := read(sheetSteps, stepColumns, func(line int, c cells) {
		n, ok := seq(sheetSteps, line, c)
		if ok {
			file.children = append(file.children, child{sheet: sheetSteps, line: line, key: key(c), seq: n,
				step: &item.Step{Name: c.get("环节"), Description: c.get("说明")}})
		}
	}); err != nil {
		return nil, err
	}
	if err := read(sheetMaterials, materialColumns, func(line int, c cells) {
		n, ok := seq(sheetMaterials, line, c)
		copies, err := parseInt(c.get("份数"))
		if err != nil {
			file.fail(sheetMaterials, line, "份数", "%s", err.Error())
			ok = false
		}
		if ok {
			file.children = append(file.children, child{sheet: sheetMaterials, line: line, key: key(c), seq: n,
				material: &item.Material{Name: c.get("材料名称"), Necessity: strings.TrimSpace(c.get("必要性")),
					Form: strings.TrimSpace(c.get("形式")), Copies: copies, Source: strings.TrimSpace(c.get("来源")),
					BlankForm: c.get("空白表格"), Sample: c.get("示例样表"), Notes: c.get("填报须知"), Standard: c.get("受理标准")}})
		}
	}); err != nil {
		return nil, err
	}
	if err := read(sheetForm, formColumns, func(line int, c cells) {
		ch := child{sheet: sheetForm, line: line, key: key(c), section: c.get("分组")}
		fieldKey, label, typ := strings.TrimSpace(c.get("字段标识")), c.get("字段名称"), strings.TrimSpace(c.get("类型"))
		if fieldKey != "" || label != "" || typ != "" {
			required, err := parseBool(c.get("必填"))
			if err != nil {
				file.fail(sheetForm, line, "必填", "%s", err.Error())
				return
			}
			maxLen, err := parseInt(c.get("最大长度"))
			if err != nil {
				file.fail(sheetForm, line, "最大长度", "%s", err.Error())
				return
			}
			ch.field = &item.FormField{Key: fieldKey, Label: label, Type: typ, Required: required, Help: c.get("说明"),
				Options: splitList(c.get("选项(；分隔)")), MaxLength: maxLen}
		}
		file.children = append(file.children, ch)
	}); err != nil {
		return nil, err
	}
	return file, nil
}

// ---------------------------------------------------------------------------
// Checking: every row, against the departments, without the database.

// check completes and checks every row: the department, the 实施编码 (built
// from the department's credit code when the file leaves it empty), the
// XLSX rows joined to their items, hard validation, the quality rules, and
// duplicates within the file. It returns every problem.
func (f *importFile) check(departments map[string]Department) []RowError {
	resolved := make([]bool, len(f.rows))
	for i, row := range f.rows {
		it := &row.Item
		if it.Department == "" {
			continue // Validate says so
		}
		d, ok := departments[it.Department]
		if !ok {
			f.fail(row.Sheet, row.Line, "实施部门", "实施部门“%s”不存在（应填写部门标识，如 scjgj）", it.Department)
			continue
		}
		resolved[i] = true
		if it.ImplCode == "" {
			if d.CreditCode == "" {
				f.fail(row.Sheet, row.Line, "实施编码", "实施部门“%s”未登记统一社会信用代码，须填写实施编码", d.Name)
				row.broken = true
				continue
			}
			it.ImplCode = item.ImplCode(d.CreditCode, it.BaseCode, it.HandlingKind)
		}
	}

	// XLSX: join the steps, materials and form fields to their items.
	if len(f.children) > 0 {
		byCode := map[string]*Row{}
		for _, row := range f.rows {
			if c := row.Item.ImplCode; c != "" && byCode[c] == nil {
				byCode[c] = row
			}
		}
		type sortable struct {
			seq int
			c   child
		}
		steps := map[*Row][]sortable{}
		materials := map[*Row][]sortable{}
		for _, c := range f.children {
			row := byCode[c.key]
			if row == nil {
				if c.key == "" {
					f.fail(c.sheet, c.line, "实施编码", "未填写实施编码，不知道属于哪个事项")
				} else {
					f.fail(c.sheet, c.line, "实施编码", "实施编码“%s”在“事项”工作表中不存在", c.key)
				}
				continue
			}
			switch {
			case c.step != nil:
				steps[row] = append(steps[row], sortable{c.seq, c})
			case c.material != nil:
				materials[row] = append(materials[row], sortable{c.seq, c})
			default:
				it := &row.Item
				at := slices.IndexFunc(it.Form, func(s item.FormSection) bool { return s.Title == c.section })
				if at < 0 {
					it.Form = append(it.Form, item.FormSection{Title: c.section, Fields: []item.FormField{}})
					at = len(it.Form) - 1
				}
				if c.field != nil {
					it.Form[at].Fields = append(it.Form[at].Fields, *c.field)
				}
			}
		}
		bySeq := func(a, b sortable) int { return cmp.Compare(a.seq, b.seq) }
		for row, list := range steps {
			slices.SortStableFunc(list, bySeq)
			for _, s := range list {
				row.Item.Steps = append(row.Item.Steps, *s.c.step)
			}
		}
		for row, list := range materials {
			slices.SortStableFunc(list, bySeq)
			for _, s := range list {
				row.Item.Materials = append(row.Item.Materials, *s.c.material)
			}
		}
	}

	// Duplicates: the 实施编码, and what it is made of.
	type triple struct{ dept, base, kind string }
	codes := map[string]*Row{}
	triples := map[triple]*Row{}
	for _, row := range f.rows {
		it := &row.Item
		if it.ImplCode != "" {
			if first := codes[it.ImplCode]; first != nil {
				f.fail(row.Sheet, row.Line, "实施编码", "实施编码“%s”与第%d行重复", it.ImplCode, first.Line)
			} else {
				codes[it.ImplCode] = row
			}
		}
		if it.Department != "" && it.BaseCode != "" {
			t := triple{it.Department, it.BaseCode, it.HandlingKind}
			if first := triples[t]; first != nil {
				f.fail(row.Sheet, row.Line, "基本编码", "与第%d行的实施部门、基本编码和业务办理项都相同，是同一事项", first.Line)
			} else {
				triples[t] = row
			}
		}
	}

	// Each item: what an item must have, and what a published one must.
	for i, row := range f.rows {
		if row.broken {
			continue
		}
		it := &row.Item
		if err := it.Validate(); err != nil {
			for _, msg := range strings.Split(apperr.MessageOf(err), "；") {
				f.fail(row.Sheet, row.Line, "", "%s", msg)
			}
		}
		for _, p := range it.Problems() {
			if p.Rule == "impl_code" && it.ImplCode == "" && !resolved[i] {
				continue // the department is unknown: already said
			}
			msg := p.Message
			if p.Rule == "base_code" && it.BaseCode != "" && len(it.BaseCode) < 12 && strings.Trim(it.BaseCode, "0123456789") == "" {
				msg += "（用Excel打开过的CSV文件会丢掉开头的0，编辑时请改用XLSX格式）"
			}
			f.fail(row.Sheet, row.Line, problemFields[p.Rule], "%s", msg)
		}
	}
	return f.errs
}

// sheetOrder sorts errors sheet by sheet, as the workbook lists them.
var sheetOrder = map[string]int{"": 0, sheetItems: 0, sheetSteps: 1, sheetMaterials: 2, sheetForm: 3}

func sortRowErrors(errs []RowError) {
	slices.SortStableFunc(errs, func(a, b RowError) int {
		return cmp.Or(cmp.Compare(sheetOrder[a.Sheet], sheetOrder[b.Sheet]), cmp.Compare(a.Line, b.Line))
	})
}

// Department is what the checks need of an implementing body, which
// files name by its slug.
type Department struct {
	Slug       string
	Name       string
	CreditCode string // builds the 实施编码 a file leaves empty
}

// Check parses a file and checks every row against the departments,
// without a database. It returns the rows, complete with their 实施编码,
// and every problem of every row; the error is for a file that cannot be
// read at all (an apperr.Invalid error).
func Check(r io.Reader, f Format, departments []Department) ([]Row, []RowError, error) {
	file, err := decode(r, f)
	if err != nil {
		return nil, nil, err
	}
	bySlug := make(map[string]Department, len(departments))
	for _, d := range departments {
		bySlug[d.Slug] = d
	}
	errs := file.check(bySlug)
	rows := make([]Row, len(file.rows))
	for i, row := range file.rows {
		rows[i] = *row
	}
	return rows, errs, nil
}

// Refusal is why checked rows cannot be applied: an *ImportError listing
// every problem, sheet by sheet and line by line, or a file without
// items. It is nil when they can.
func Refusal(rows []Row, errs []RowError) error {
	if len(errs) > 0 {
		errs = slices.Clone(errs)
		sortRowErrors(errs)
		return &ImportError{Rows: errs}
	}
	if len(rows) == 0 {
		return apperr.New(apperr.Invalid, "文件中没有事项")
	}
	return nil
}

// CheckImport parses and checks a file, as Import does before it changes
// anything. It returns the items, complete with their 实施编码, or an
// *ImportError listing every bad row (or an apperr.Invalid error for a
// file that cannot be read at all).
func CheckImport(r io.Reader, f Format, departments []Department) ([]item.Item, error) {
	rows, errs, err := Check(r, f, departments)
	if err != nil {
		return nil, err
	}
	if err := Refusal(rows, errs); err != nil {
		return nil, err
	}
	items := make([]item.Item, len(rows))
	for i, row := range rows {
		items[i] = row.Item
	}
	return items, nil
}
