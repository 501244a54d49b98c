package exchange_test

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog/exchange"
	"github.com/zwfw/zwfw/internal/catalog/item"
)

// bundleFile is a real catalog file of format f: the CSV's item, and a
// bundle naming it and an item of the catalog (which the file cannot
// tell from an unknown one: bundle checks that).
func bundleFile(t testing.TB, f exchange.Format) ([]byte, []item.Item, []exchange.Bundle) {
	t.Helper()
	items, _, err := exchange.CheckImport(bytes.NewReader(csvFile(t, fuzzHeader, fuzzValidRow())), exchange.CSV, fuzzDepartments)
	if err != nil {
		t.Fatal(err)
	}
	code := items[0].ImplCode
	const other = "11410411MB1234567X010100100002000"
	bundles := []exchange.Bundle{
		{Name: "开办餐饮店", Theme: "准营准办", Summary: "营业执照和涉税信息一次办。", Published: true, Items: []string{code, other},
			Fields:       []exchange.BundleField{{Item: other, Key: "operator", From: "name"}},
			Dependencies: []exchange.BundleDependency{{Item: other, Requires: code, Material: "营业执照"}}},
		{Name: "草稿一件事", Items: []string{other, code}},
	}
	var buf bytes.Buffer
	if err := exchange.Write(&buf, f, items, bundles); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), items, bundles
}

func checked(t *testing.T, file []byte, f exchange.Format) exchange.Checked {
	t.Helper()
	c, err := exchange.Check(bytes.NewReader(file), f, fuzzDepartments)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func errorStrings(errs []exchange.RowError) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.String()
	}
	slices.Sort(out)
	return out
}

func TestBundlesTravelInTheFiles(t *testing.T) {
	for _, f := range []exchange.Format{exchange.JSON, exchange.XLSX} {
		file, items, bundles := bundleFile(t, f)
		c := checked(t, file, f)
		if len(c.Errs) > 0 || len(c.Rows) != 1 || c.Rows[0].Item.ImplCode != items[0].ImplCode {
			t.Fatalf("%s: %v", f, errorStrings(c.Errs))
		}
		got := make([]exchange.Bundle, len(c.Bundles))
		for i, b := range c.Bundles {
			got[i] = b.Bundle
		}
		if !reflect.DeepEqual(got, bundles) {
			t.Errorf("%s: bundles\n%+v\nwant\n%+v", f, got, bundles)
		}
		// Where each part was read, for the errors found later.
		at := c.Bundles[0]
		want := exchange.Place{Sheet: "一件事", Line: 1, Record: 1}
		if f == exchange.XLSX {
			want = exchange.Place{Sheet: "一件事事项", Line: 3}
		}
		if at.ItemsAt[1] != want || at.DepsAt[0] != want {
			t.Errorf("%s: places %+v", f, at)
		}
	}
	// CSV holds the items only.
	file, _, _ := bundleFile(t, exchange.CSV)
	if c := checked(t, file, exchange.CSV); len(c.Bundles) != 0 || strings.Contains(string(file), "开办餐饮店") {
		t.Error("bundles in the CSV file")
	}
	// The administrators' page's file of bundles only: the same parser.
	_, _, bundles := bundleFile(t, exchange.JSON)
	var buf bytes.Buffer
	if err := exchange.WriteBundles(&buf, bundles); err != nil {
		t.Fatal(err)
	}
	rows, errs, err := exchange.ReadBundles(&buf)
	if err != nil || len(errs) > 0 || len(rows) != 2 || !reflect.DeepEqual(rows[0].Bundle, bundles[0]) {
		t.Errorf("bundles file: %+v %v %v", rows, errs, err)
	}
}

// Every bad cell of the bundle sheets is reported at its sheet, row and
// column, in Chinese.
func TestBundleSheetErrors(t *testing.T) {
	file, _, _ := bundleFile(t, exchange.XLSX)
	edit := func(t *testing.T, fn func(x *excelize.File)) []byte {
		t.Helper()
		x, err := excelize.OpenReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		fn(x)
		var buf bytes.Buffer
		if err := x.Write(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	bad := edit(t, func(x *excelize.File) {
		x.SetSheetRow("一件事", "A4", &[]any{"开办餐饮店", "", "", "也许"})
		x.SetSheetRow("一件事事项", "A6", &[]any{"没有这件事", 1, "X"})
		x.SetSheetRow("一件事事项", "A7", &[]any{"草稿一件事", "第三", "X"})
		x.SetSheetRow("一件事事项", "A8", &[]any{"草稿一件事", 3, " ", "", "营业执照"})
		x.SetSheetRow("一件事字段映射", "A3", &[]any{"", "X", "a", "b"})
	})
	c := checked(t, bad, exchange.XLSX)
	want := []string{
		"一件事 第4行 名称：一件事“开办餐饮店”与第2行重名",
		"一件事 第4行 已发布：应填“是”或“否”，不能是“也许”",
		"一件事事项 第6行 一件事：一件事“没有这件事”在“一件事”工作表中不存在",
		"一件事事项 第7行 序号：“第三”不是整数",
		"一件事事项 第8行 前置事项实施编码：填写了免提交材料，须写明由哪个前置事项的办理结果代替",
		"一件事事项 第8行 实施编码：未填写实施编码",
		"一件事字段映射 第3行 一件事：未填写一件事的名称，不知道属于哪件事",
	}
	if got := errorStrings(c.Errs); !slices.Equal(got, want) {
		t.Errorf("errors\n%q\nwant\n%q", got, want)
	}
	err := (exchange.Checked{Errs: c.Errs}).Refusal()
	if ie := (*exchange.ImportError)(nil); !errors.As(err, &ie) || !strings.Contains(ie.Error(), "共5行有误") {
		t.Errorf("refusal %v", err)
	}

	// A workbook from before bundles travelled has none of their sheets.
	old := edit(t, func(x *excelize.File) {
		for _, s := range []string{"一件事", "一件事事项", "一件事字段映射"} {
			x.DeleteSheet(s)
		}
	})
	if c := checked(t, old, exchange.XLSX); len(c.Errs) != 0 || len(c.Bundles) != 0 || len(c.Rows) != 1 {
		t.Errorf("old workbook: %v", errorStrings(c.Errs))
	}
	// Some of them only: which are missing is said.
	partial := edit(t, func(x *excelize.File) { x.DeleteSheet("一件事字段映射") })
	if _, err := exchange.Check(bytes.NewReader(partial), exchange.XLSX, fuzzDepartments); !apperr.Is(err, apperr.Invalid) ||
		!strings.Contains(apperr.MessageOf(err), "一件事字段映射") {
		t.Errorf("partial: %v", err)
	}

	// JSON: the bundle's position, and the field encoding/json names.
	json, _, _ := bundleFile(t, exchange.JSON)
	broken := strings.Replace(string(json), `"name": "草稿一件事"`, `"name": "草稿一件事", "owner": "x"`, 1)
	c = checked(t, []byte(broken), exchange.JSON)
	if got := errorStrings(c.Errs); !slices.Equal(got, []string{`一件事 第2条记录：未知字段 "owner"`}) {
		t.Errorf("JSON errors %q", got)
	}
}

// FuzzImportBundles reads catalog JSON files with bundles, seeded with a
// real one: whatever it accepts is what bundle may resolve — every bundle
// named, once, every 实施编码 filled in, and a place for each part.
func FuzzImportBundles(f *testing.F) {
	file, _, bundles := bundleFile(f, exchange.JSON)
	f.Add(file)
	var buf bytes.Buffer
	if err := exchange.WriteBundles(&buf, bundles); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"format":"zwfw-catalog","version":1,"items":[],"bundles":[{"name":" ","items":["", " a "],"dependencies":[{"item":"a"}]}]}`))
	f.Add([]byte(`{"format":"zwfw-catalog","version":1,"bundles":[{"name":"x"},{"name":"x","fields":[{"item":1}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, bundles, err := exchange.CheckImport(bytes.NewReader(data), exchange.JSON, fuzzDepartments)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("error not Invalid: %v", err)
			}
		}
		acceptable(t, bundles)
		// The bundles-only reader shares the parser: it must not fail otherwise.
		if _, _, err := exchange.ReadBundles(bytes.NewReader(data)); err != nil && !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("ReadBundles: error not Invalid: %v", err)
		}
	})
}

// acceptable fails t unless accepted bundles are what bundle may resolve:
// every bundle named, once, every 实施编码 filled in, and a place for each
// part.
func acceptable(t *testing.T, bundles []exchange.BundleRow) {
	t.Helper()
	names := map[string]bool{}
	for _, b := range bundles {
		if b.Name == "" || b.Name != strings.TrimSpace(b.Name) || names[b.Name] {
			t.Fatalf("accepted the name %q", b.Name)
		}
		names[b.Name] = true
		if len(b.ItemsAt) != len(b.Items) || len(b.FieldsAt) != len(b.Fields) || len(b.DepsAt) != len(b.Dependencies) {
			t.Fatalf("a part without its place: %+v", b)
		}
		codes := slices.Clone(b.Items)
		for _, fl := range b.Fields {
			codes = append(codes, fl.Item)
		}
		for _, d := range b.Dependencies {
			codes = append(codes, d.Item, d.Requires)
		}
		for _, c := range codes {
			if c == "" || c != strings.TrimSpace(c) {
				t.Fatalf("accepted the 实施编码 %q", c)
			}
		}
	}
}

// FuzzBundleSheets fills the cells of the XLSX bundle sheets' first rows
// of a real file with what the fuzzer makes (a zip's bytes, mutated, stop
// at its checksum long before any sheet is read).
func FuzzBundleSheets(f *testing.F) {
	file, _, _ := bundleFile(f, exchange.XLSX)
	x, err := excelize.OpenReader(bytes.NewReader(file))
	if err != nil {
		f.Fatal(err)
	}
	cell := func(sheet, at string) string {
		v, err := x.GetCellValue(sheet, at)
		if err != nil {
			f.Fatal(err)
		}
		return v
	}
	f.Add(cell("一件事", "A2"), cell("一件事", "D2"), cell("一件事事项", "A3"), cell("一件事事项", "B3"), cell("一件事事项", "C3"),
		cell("一件事事项", "D3"), cell("一件事事项", "E3"), cell("一件事字段映射", "A2"), cell("一件事字段映射", "B2"))
	f.Add(" ", "也许", "草稿一件事", "0", "", "x", "", "没有", " ")
	x.Close()
	f.Fuzz(func(t *testing.T, name, published, owner, seq, code, requires, material, fieldOwner, fieldCode string) {
		x, err := excelize.OpenReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		for _, c := range []struct{ sheet, at, v string }{{"一件事", "A2", name}, {"一件事", "D2", published}, {"一件事事项", "A3", owner},
			{"一件事事项", "B3", seq}, {"一件事事项", "C3", code}, {"一件事事项", "D3", requires}, {"一件事事项", "E3", material},
			{"一件事字段映射", "A2", fieldOwner}, {"一件事字段映射", "B2", fieldCode}} {
			if err := x.SetCellStr(c.sheet, c.at, c.v); err != nil {
				return // a value Excel cannot hold: nothing to read
			}
		}
		var buf bytes.Buffer
		if err := x.Write(&buf); err != nil {
			return
		}
		_, bundles, err := exchange.CheckImport(&buf, exchange.XLSX, fuzzDepartments)
		if err != nil && !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("error not Invalid: %v", err)
		}
		acceptable(t, bundles)
	})
}
