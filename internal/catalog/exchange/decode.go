package exchange

// Parsing: a file into rows, without the database.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	bundles  []*BundleRow
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
	decodeBundlesJSON(file, h.Bundles)
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
	if err := decodeBundlesXLSX(file, sheets, read); err != nil {
		return nil, err
	}
	return file, nil
}
