package exchange

// Bundles (一件事一次办) in the catalog files: the JSON file's "bundles"
// array, and three XLSX sheets — 一件事 (a row per bundle), 一件事事项 (a
// row per item of a bundle, with the item it waits for) and 一件事字段映射
// (a row per field mapping) — joined by the bundle's name. CSV carries
// items only: a bundle is a list of lists, which one flat table per item
// cannot hold. A bundle names its items by 实施编码, stable across
// installations where ids are not. Parsing and the checks that need no
// database are here; whether each 实施编码 names an item of the file or
// of the catalog, and what a bundle must be, are bundle's.

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/apperr"
)

// Bundle is a life event as the files carry it.
type Bundle struct {
	Name      string `json:"name"`
	Theme     string `json:"theme,omitempty"`
	Summary   string `json:"summary,omitempty"`
	Published bool   `json:"published"`
	// Items are the 实施编码 of its items, in the order they are handled.
	Items        []string           `json:"items"`
	Fields       []BundleField      `json:"fields,omitempty"`
	Dependencies []BundleDependency `json:"dependencies,omitempty"`
}

// BundleField says that field Key of item Item (by 实施编码) is filled by
// the combined form's field From.
type BundleField struct {
	Item string `json:"item"`
	Key  string `json:"key"`
	From string `json:"from"`
}

// BundleDependency says that item Item waits for item Requires, whose
// result is Item's material named Material.
type BundleDependency struct {
	Item     string `json:"item"`
	Requires string `json:"requires"`
	Material string `json:"material"`
}

// Place is where a file says something, for an error about it.
type Place struct {
	Sheet  string
	Line   int
	Record int // a JSON bundle's position, which is its Line too
}

// Error is a problem of what is at p.
func (p Place) Error(field, message string) RowError {
	return RowError{Sheet: p.Sheet, Line: p.Line, Record: p.Record, Field: field, Message: message}
}

// BundleRow is a bundle of an import file and where each of its parts
// was read: ItemsAt[i] is where Items[i] is, and so on. In a JSON file
// everything is at the bundle's place.
type BundleRow struct {
	Bundle
	At       Place
	ItemsAt  []Place
	FieldsAt []Place
	DepsAt   []Place
}

const (
	sheetBundles      = "一件事"
	sheetBundleItems  = "一件事事项"
	sheetBundleFields = "一件事字段映射"

	bundlesFormatName = "zwfw-bundles"
)

// The XLSX sheets of bundles. A part's prerequisite is on its own row: an
// item waits for one other at most.
var (
	bundleColumns      = []string{"名称", "主题", "简介", "已发布"}
	bundlePartColumns  = []string{"一件事", "序号", "实施编码", "前置事项实施编码", "免提交材料"}
	bundleFieldColumns = []string{"一件事", "实施编码", "字段标识", "合并字段"}
)

// decodeBundlesJSON reads the bundles array of a JSON file, each with the
// catalog's strictness: an unknown field is an error.
func decodeBundlesJSON(file *importFile, raws []json.RawMessage) {
	for i, raw := range raws {
		at := Place{Sheet: sheetBundles, Line: i + 1, Record: i + 1}
		row := &BundleRow{At: at}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&row.Bundle); err != nil {
			file.errs = append(file.errs, at.Error("", jsonErrorMessage(err)))
			continue
		}
		for range row.Items {
			row.ItemsAt = append(row.ItemsAt, at)
		}
		for range row.Fields {
			row.FieldsAt = append(row.FieldsAt, at)
		}
		for range row.Dependencies {
			row.DepsAt = append(row.DepsAt, at)
		}
		file.bundles = append(file.bundles, row)
	}
}

// decodeBundlesXLSX reads the three bundle sheets, if the workbook has
// any of them (a file written before bundles travelled has none).
func decodeBundlesXLSX(file *importFile, sheets []string, read func(sheet string, want []string, fn func(line int, c cells)) error) error {
	has := 0
	for _, name := range []string{sheetBundles, sheetBundleItems, sheetBundleFields} {
		if slices.Contains(sheets, name) {
			has++
		}
	}
	if has == 0 {
		return nil
	}
	if has < 3 {
		return apperr.New(apperr.Invalid, "Excel文件的一件事须有“一件事”、“一件事事项”、“一件事字段映射”三个工作表，缺少其中的一部分")
	}
	byName := map[string]*BundleRow{}
	if err := read(sheetBundles, bundleColumns, func(line int, c cells) {
		at := Place{Sheet: sheetBundles, Line: line}
		published, err := parseBool(c.get("已发布"))
		if err != nil {
			file.errs = append(file.errs, at.Error("已发布", err.Error()))
		}
		row := &BundleRow{At: at, Bundle: Bundle{Name: strings.TrimSpace(c.get("名称")), Theme: strings.TrimSpace(c.get("主题")),
			Summary: strings.TrimSpace(c.get("简介")), Published: published}}
		file.bundles = append(file.bundles, row)
		if byName[row.Name] == nil {
			byName[row.Name] = row
		}
	}); err != nil {
		return err
	}
	owner := func(at Place, c cells) *BundleRow {
		name := strings.TrimSpace(c.get("一件事"))
		row := byName[name]
		switch {
		case name == "":
			file.errs = append(file.errs, at.Error("一件事", "未填写一件事的名称，不知道属于哪件事"))
		case row == nil:
			file.errs = append(file.errs, at.Error("一件事", fmt.Sprintf("一件事“%s”在“一件事”工作表中不存在", name)))
		}
		return row
	}
	type part struct {
		seq int
		at  Place
		c   cells
	}
	parts := map[*BundleRow][]part{}
	if err := read(sheetBundleItems, bundlePartColumns, func(line int, c cells) {
		at := Place{Sheet: sheetBundleItems, Line: line}
		row := owner(at, c)
		n, err := parseInt(c.get("序号"))
		if err == nil && n < 1 {
			err = errors.New("应为从1开始的整数")
		}
		if err != nil {
			file.errs = append(file.errs, at.Error("序号", err.Error()))
		}
		if row != nil && err == nil {
			parts[row] = append(parts[row], part{n, at, c})
		}
	}); err != nil {
		return err
	}
	for _, row := range file.bundles {
		list := parts[row]
		slices.SortStableFunc(list, func(a, b part) int { return cmp.Compare(a.seq, b.seq) })
		for _, p := range list {
			code := strings.TrimSpace(p.c.get("实施编码"))
			row.Items, row.ItemsAt = append(row.Items, code), append(row.ItemsAt, p.at)
			requires, material := strings.TrimSpace(p.c.get("前置事项实施编码")), strings.TrimSpace(p.c.get("免提交材料"))
			switch {
			case requires != "" && material == "":
				file.errs = append(file.errs, p.at.Error("免提交材料", "填写了前置事项，须写明它的办理结果免交本事项的哪项材料"))
			case requires == "" && material != "":
				file.errs = append(file.errs, p.at.Error("前置事项实施编码", "填写了免提交材料，须写明由哪个前置事项的办理结果代替"))
			case requires != "":
				row.Dependencies = append(row.Dependencies, BundleDependency{Item: code, Requires: requires, Material: material})
				row.DepsAt = append(row.DepsAt, p.at)
			}
		}
	}
	return read(sheetBundleFields, bundleFieldColumns, func(line int, c cells) {
		at := Place{Sheet: sheetBundleFields, Line: line}
		if row := owner(at, c); row != nil {
			row.Fields = append(row.Fields, BundleField{Item: strings.TrimSpace(c.get("实施编码")),
				Key: strings.TrimSpace(c.get("字段标识")), From: strings.TrimSpace(c.get("合并字段"))})
			row.FieldsAt = append(row.FieldsAt, at)
		}
	})
}

// checkBundles is what a file's bundles must be before the database is
// asked about them: named, once each, and every 实施编码 filled in.
func checkBundles(file *importFile) {
	first := map[string]*BundleRow{}
	for _, row := range file.bundles {
		row.Name, row.Theme, row.Summary = strings.TrimSpace(row.Name), strings.TrimSpace(row.Theme), strings.TrimSpace(row.Summary)
		if row.Name == "" {
			file.errs = append(file.errs, row.At.Error("名称", "请填写一件事的名称"))
		} else if f := first[row.Name]; f != nil {
			file.errs = append(file.errs, row.At.Error("名称", fmt.Sprintf("一件事“%s”与%s重名", row.Name, RowError{Line: f.At.Line, Record: f.At.Record, Sheet: f.At.Sheet}.Where())))
		} else {
			first[row.Name] = row
		}
		blank := func(at Place, field string, code *string) {
			if *code = strings.TrimSpace(*code); *code == "" {
				file.errs = append(file.errs, at.Error(field, "未填写实施编码"))
			}
		}
		for i := range row.Items {
			blank(row.ItemsAt[i], "实施编码", &row.Items[i])
		}
		for i := range row.Fields {
			blank(row.FieldsAt[i], "实施编码", &row.Fields[i].Item)
			row.Fields[i].Key, row.Fields[i].From = strings.TrimSpace(row.Fields[i].Key), strings.TrimSpace(row.Fields[i].From)
		}
		for i := range row.Dependencies {
			blank(row.DepsAt[i], "实施编码", &row.Dependencies[i].Item)
			blank(row.DepsAt[i], "前置事项实施编码", &row.Dependencies[i].Requires)
			row.Dependencies[i].Material = strings.TrimSpace(row.Dependencies[i].Material)
		}
	}
}

// ReadBundles reads a file of bundles only (format zwfw-bundles, the
// administrators' page's) and checks it as a catalog file's bundles are.
// The error is for a file that cannot be read at all.
func ReadBundles(r io.Reader) ([]BundleRow, []RowError, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("read bundles file: %w", err)
	}
	var h struct {
		Format  string            `json:"format"`
		Version int               `json:"version"`
		Bundles []json.RawMessage `json:"bundles"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(data, []byte(utf8BOM)), &h); err != nil {
		return nil, nil, apperr.Wrap(apperr.Invalid, "不是有效的一件事文件："+jsonErrorMessage(err), err)
	}
	if h.Format != bundlesFormatName || h.Version != jsonFormatVersion {
		return nil, nil, apperr.New(apperr.Invalid, fmt.Sprintf("不是zwfw一件事文件（format应为“%s”，version应为%d）", bundlesFormatName, jsonFormatVersion))
	}
	file := &importFile{}
	decodeBundlesJSON(file, h.Bundles)
	checkBundles(file)
	return file.bundleRows(), file.errs, nil
}

// WriteBundles writes bundles as a file of their own (format
// zwfw-bundles): the administrators' page's export.
func WriteBundles(w io.Writer, bundles []Bundle) error {
	return writeEnvelope(w, struct {
		Format  string   `json:"format"`
		Version int      `json:"version"`
		Bundles []Bundle `json:"bundles"`
	}{bundlesFormatName, jsonFormatVersion, nonNil(bundles)})
}

func (f *importFile) bundleRows() []BundleRow {
	out := make([]BundleRow, len(f.bundles))
	for i, b := range f.bundles {
		out[i] = *b
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// writeBundleSheets writes the bundle sheets of an XLSX export; a bundle's
// dependencies go on the rows of the items that wait.
func writeBundleSheets(f *excelize.File, bundles []Bundle, header, text int) error {
	main := newSheetWriter(f, sheetBundles, bundleColumns)
	parts := newSheetWriter(f, sheetBundleItems, bundlePartColumns)
	fields := newSheetWriter(f, sheetBundleFields, bundleFieldColumns)
	for _, b := range bundles {
		what := fmt.Sprintf("一件事“%s”", b.Name)
		main.add([]any{b.Name, b.Theme, b.Summary, formatBool(b.Published)}, what)
		for i, code := range b.Items {
			row := []any{b.Name, i + 1, code, "", ""}
			if at := slices.IndexFunc(b.Dependencies, func(d BundleDependency) bool { return d.Item == code }); at >= 0 {
				row[3], row[4] = b.Dependencies[at].Requires, b.Dependencies[at].Material
			}
			parts.add(row, what)
		}
		for _, fl := range b.Fields {
			fields.add([]any{b.Name, fl.Item, fl.Key, fl.From}, what)
		}
	}
	mainLists := make([][]string, len(bundleColumns))
	mainLists[3] = yesNo
	partText := []bool{false, false, true, true, false}
	fieldText := []bool{false, true, false, false}
	if err := main.finish(header, text, nil, mainLists, true); err != nil {
		return err
	}
	if err := parts.finish(header, text, partText, nil, false); err != nil {
		return err
	}
	return fields.finish(header, text, fieldText, nil, false)
}
