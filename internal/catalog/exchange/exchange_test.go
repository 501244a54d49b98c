package exchange_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog/exchange"
	"github.com/zwfw/zwfw/internal/catalog/item"
)

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]exchange.Format{"目录.json": exchange.JSON, "a.CSV": exchange.CSV, "/tmp/x.y.xlsx": exchange.XLSX} {
		if got, err := exchange.FormatOf(name); err != nil || got != want {
			t.Errorf("FormatOf(%q) = %q, %v", name, got, err)
		}
	}
	for _, name := range []string{"a.xls", "a.txt", "noext"} {
		if _, err := exchange.FormatOf(name); !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "格式") {
			t.Errorf("FormatOf(%q): %v", name, err)
		}
	}
}

// fuzzDepartments are what CheckImport checks rows against in the fuzz
// test: no database.
var fuzzDepartments = []exchange.Department{{Slug: "scjgj", Name: "市场监督管理局", CreditCode: "11410411MB1234567X"}}

// fuzzHeader is the CSV header, as documented.
var fuzzHeader = []string{"事项名称", "基本编码", "实施编码", "事项类型", "实施部门", "业务办理项", "主项基本编码", "设定依据",
	"服务对象", "主题", "办件类型", "法定时限", "法定时限单位", "法定时限说明", "承诺时限", "承诺时限单位", "承诺时限说明",
	"到现场次数", "到现场原因", "网上办理深度", "受理条件", "特别程序", "是否收费", "收费依据", "收费标准", "减免",
	"结果名称", "结果类型", "结果样本", "办理地点", "办理时间", "咨询电话", "监督投诉电话", "支持快递", "支持网上支付",
	"支持预约", "支持自助终端", "别名", "演示数据", "办理流程", "申请材料", "申请表"}

func fuzzValidRow() []string {
	return []string{"个体工商户设立登记", "010100100001", "", "01 行政许可", "scjgj", "", "", "《促进个体工商户发展条例》",
		"自然人", "就业创业；设立变更", "承诺件", "15", "工作日", "", "1", "工作日", "", "0", "", "四级 全程网办",
		"经营者具有完全民事行为能力。", "", "否", "", "", "", "营业执照", "证照", "", "湛河区行政服务中心", "工作日9:00-17:00",
		"0375-8861002", "12345", "是", "否", "否", "否", "开店；营业执照", "否",
		`[{"name":"申请","description":"网上提交"}]`,
		`[{"name":"身份证明","necessity":"必需","form":"电子","copies":1,"source":"政府部门核发","standard":"真实有效"}]`,
		`[{"title":"经营者信息","fields":[{"key":"name","label":"姓名","type":"text","required":true}]}]`}
}

func TestCheckImportCSV(t *testing.T) {
	file := csvFile(t, fuzzHeader, fuzzValidRow())
	items, _, err := exchange.CheckImport(bytes.NewReader(file), exchange.CSV, fuzzDepartments)
	if err != nil {
		if ie := (*exchange.ImportError)(nil); errors.As(err, &ie) {
			t.Fatal(ie.Detail())
		}
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ImplCode != "11410411MB1234567X010100100001000" || items[0].Depth != item.DepthFull ||
		items[0].Type != item.Licensing || len(items[0].Form) != 1 || !slices.Equal(items[0].Themes, []string{"就业创业", "设立变更"}) {
		t.Fatalf("%+v", items)
	}
	// Excel drops the leading 0 of a base code: the message says why.
	row := fuzzValidRow()
	row[1] = "10100100001"
	_, _, err = exchange.CheckImport(bytes.NewReader(csvFile(t, fuzzHeader, row)), exchange.CSV, fuzzDepartments)
	var ie *exchange.ImportError
	if !errors.As(err, &ie) || !slices.ContainsFunc(ie.Rows, func(r exchange.RowError) bool {
		return r.Line == 2 && strings.Contains(r.Message, "开头的0")
	}) {
		t.Errorf("%v", err)
	}
}

// csvFile is a CSV file of records, as Excel saves it (with a BOM).
func csvFile(t testing.TB, records ...[]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	if err := csv.NewWriter(&buf).WriteAll(records); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func FuzzImportCSV(f *testing.F) {
	valid := csvFile(f, fuzzHeader, fuzzValidRow())
	f.Add(valid)
	f.Add(bytes.TrimPrefix(valid, []byte("\ufeff")))
	f.Add([]byte("事项名称,基本编码\n\"未闭合,1\n"))
	f.Add([]byte(strings.Join(fuzzHeader, ",") + "\n" + strings.Repeat(",", len(fuzzHeader)+3) + "x\n"))
	f.Add([]byte{0xff, 0xfe, 0x00, 0x41})
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzImport(t, data, exchange.CSV) })
}

// An import error says which record and which field, as the file names
// them: the CSV's second item on line 3, the JSON's second item.
func TestImportErrorsCiteTheRecordAndTheField(t *testing.T) {
	good, bad := fuzzValidRow(), fuzzValidRow()
	bad[1] = "010100100002"
	bad[0] = ""     // 事项名称
	bad[35] = "是"   // 支持预约: a quality rule
	bad[10] = "加急件" // 办件类型
	_, _, err := exchange.CheckImport(bytes.NewReader(csvFile(t, fuzzHeader, good, bad)), exchange.CSV, fuzzDepartments)
	var ie *exchange.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("%v", err)
	}
	fields := map[string]string{}
	for _, r := range ie.Rows {
		if r.Record != 2 || r.Line != 3 {
			t.Errorf("%s: record %d line %d, want record 2 on line 3", r, r.Record, r.Line)
		}
		fields[r.Field] = r.String()
	}
	for _, f := range []string{"事项名称", "办件类型", "支持预约"} {
		if !strings.HasPrefix(fields[f], "第2条记录（第3行） "+f+"：") {
			t.Errorf("no error on %s: %v", f, fields)
		}
	}
	items, _, err := exchange.CheckImport(bytes.NewReader(csvFile(t, fuzzHeader, good)), exchange.CSV, fuzzDepartments)
	if err != nil {
		t.Fatal(err)
	}
	broken := items[0]
	broken.ImplCode, broken.Name = "", ""
	var file bytes.Buffer
	if err := exchange.Write(&file, exchange.JSON, []item.Item{items[0], broken}, nil); err != nil {
		t.Fatal(err)
	}
	_, _, err = exchange.CheckImport(&file, exchange.JSON, fuzzDepartments)
	if !errors.As(err, &ie) || !slices.ContainsFunc(ie.Rows, func(r exchange.RowError) bool {
		return r.String() == "第2条记录 事项名称：事项名称不能为空，且不超过100个字"
	}) {
		t.Errorf("JSON: %v", ie.Detail())
	}
}
