package catalog_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/catalog/exchange"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// transferItem is the i-th of a family of valid, published-quality items
// that differ in department, base code, handling kind, depth, fee and in
// texts that are hard for CSV (commas, quotes, line breaks).
func transferItem(i int) catalog.Item {
	depts := []string{"scjgj", "rsj", "mzj"}
	it := catalog.Item{
		BaseCode: fmt.Sprintf("0101%08d", i), Name: fmt.Sprintf("测试事项%04d登记", i), Type: catalog.Licensing,
		Department: depts[i%len(depts)],
		Basis:      "《促进个体工商户发展条例》第八条，“登记”须知", Subjects: []string{"自然人", "企业法人"}, Themes: []string{"就业创业", "设立变更"},
		CaseKind:   catalog.Promised,
		LegalLimit: catalog.TimeLimit{Value: 15, Unit: "工作日", Note: "自受理次日起算"}, PromiseLimit: catalog.TimeLimit{Value: 1, Unit: "工作日"},
		Visits: 0, Depth: catalog.DepthFull, Conditions: "经营者具有完全民事行为能力。\n经营范围符合规定, 不含前置许可。",
		Steps:  []catalog.Step{{Name: "申请", Description: "网上提交"}, {Name: "审核", Description: "登记机关审核，\"当场\"答复"}},
		Fee:    catalog.Fee{Charged: false},
		Result: catalog.Result{Name: "营业执照", Type: "证照", Sample: "样本.pdf"},
		Place:  "湛河区行政服务中心一楼", Hours: "工作日 9:00-12:00，13:00-17:00",
		ConsultPhone: "0375-8861002", ComplaintPhone: "12345", Express: true, SelfService: true,
		Materials: []catalog.Material{
			{Name: "经营者身份证明", Necessity: "必需", Form: "电子", Copies: 1, Source: "政府部门核发", Standard: "真实有效"},
			{Name: "经营场所证明", Necessity: "容缺", Form: "复印件", Copies: 2, Source: "申请人自备", BlankForm: "场所证明.docx",
				Sample: "场所证明样表.pdf", Notes: "租赁的须附租赁合同"},
		},
		Form: []catalog.FormSection{
			{Title: "经营者信息", Fields: []catalog.FormField{
				{Key: "name", Label: "经营者姓名", Type: "text", Required: true, MaxLength: 20},
				{Key: "id_number", Label: "身份证号码", Type: "idcard", Required: true, Help: "18位"},
			}},
			{Title: "经营信息", Fields: []catalog.FormField{
				{Key: "scope", Label: "经营范围", Type: "select", Options: []string{"零售", "餐饮"}},
			}},
		},
		Aliases: []string{"营业执照", "开店"},
	}
	switch i % 4 {
	case 1:
		it.HandlingKind, it.ParentCode, it.Name = "变更", "010100000001", it.Name+"（变更）"
		it.Themes = nil
		it.Aliases = nil
	case 2:
		it.Depth, it.Visits, it.VisitReason = catalog.DepthPrecheck, 1, "须核验原件"
		it.Form = nil
		it.Fee = catalog.Fee{Charged: true, Basis: "《收费办法》", Standard: "每件10元", Waiver: "小微企业免收"}
		it.Type, it.CaseKind = catalog.Confirmation, catalog.Immediate
		it.LegalLimit, it.PromiseLimit = catalog.TimeLimit{Value: 1, Unit: "工作日"}, catalog.TimeLimit{Value: 0, Unit: "工作日"}
	case 3:
		it.Special = "现场核查（不超过5个工作日）"
		it.Generated = true
		it.OnlinePayment, it.SelfService = true, true
	}
	return it
}

func transferStore(t *testing.T, db *store.DB) *catalog.Store {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
	if _, err := demo.SeedDistrict(context.Background(), db, clk); err != nil {
		t.Fatal(err)
	}
	return catalog.NewStore(db, region.NewStore(db), clk)
}

// seedTransfer saves and publishes n items; the second one is then
// suspended.
func seedTransfer(t *testing.T, s *catalog.Store, db *store.DB, n int) {
	t.Helper()
	ctx := context.Background()
	who := editor("测试")
	for i := range n {
		it := transferItem(i)
		ps, err := s.SaveDraft(ctx, who, audit.Meta{}, &it)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) > 0 {
			t.Fatalf("item %d: %+v", i, ps)
		}
		if err := review(ctx, s, it.ID, it.Version); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if err := s.SetStatus(ctx, who, audit.Meta{}, it.ID, catalog.Suspended, "系统升级"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func countVersions(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM item_versions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// canon drops what an import may change (versions, timestamps) and, when
// loose, the difference between an empty list and none, which CSV and
// XLSX cannot tell apart.
func canon(items []catalog.Item, loose bool) []catalog.Item {
	out := make([]catalog.Item, len(items))
	for i, it := range items {
		it.Version, it.UpdatedAt, it.PublishedAt = 0, time.Time{}, time.Time{}
		if loose {
			nilIfEmpty(&it.Subjects)
			nilIfEmpty(&it.Themes)
			nilIfEmpty(&it.Aliases)
			nilIfEmpty(&it.Steps)
			nilIfEmpty(&it.Materials)
			nilIfEmpty(&it.Form)
			it.Form = slices.Clone(it.Form)
			for j := range it.Form {
				it.Form[j].Fields = slices.Clone(it.Form[j].Fields)
				for k := range it.Form[j].Fields {
					nilIfEmpty(&it.Form[j].Fields[k].Options)
				}
			}
		}
		out[i] = it
	}
	return out
}

func nilIfEmpty[T any](s *[]T) {
	if len(*s) == 0 {
		*s = nil
	}
}

func exportTo(t *testing.T, s *catalog.Store, f exchange.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := s.Export(context.Background(), &buf, f, nil); err != nil {
		t.Fatalf("export %s: %v", f, err)
	}
	return buf.Bytes()
}

var transferFormats = []exchange.Format{exchange.JSON, exchange.CSV, exchange.XLSX}

func TestTransferRoundTrip(t *testing.T) {
	t.Parallel()
	for _, f := range transferFormats {
		t.Run(string(f), func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				s := transferStore(t, db)
				const n = 8
				seedTransfer(t, s, db, n)
				before, err := s.AllPublished(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				count, err := s.Export(ctx, &buf, f, nil)
				if err != nil || count != n {
					t.Fatalf("export: %d, %v", count, err)
				}
				file := buf.Bytes()
				var calls [][2]int
				res, err := s.Import(ctx, bytes.NewReader(file), f, "导入员", func(done, total int) { calls = append(calls, [2]int{done, total}) })
				if err != nil {
					if ie := (*exchange.ImportError)(nil); errors.As(err, &ie) {
						t.Fatalf("import: %s", ie.Detail())
					}
					t.Fatalf("import: %v", err)
				}
				if res != (catalog.ImportResult{Updated: n}) {
					t.Fatalf("result %+v", res)
				}
				if len(calls) == 0 || calls[len(calls)-1] != [2]int{n, n} {
					t.Fatalf("progress calls %v", calls)
				}
				after, err := s.AllPublished(ctx)
				if err != nil {
					t.Fatal(err)
				}
				loose := f != exchange.JSON
				if got, want := canon(after, loose), canon(before, loose); !reflect.DeepEqual(got, want) {
					for i := range min(len(got), len(want)) {
						if !reflect.DeepEqual(got[i], want[i]) {
							t.Errorf("item %d differs:\n got %+v\nwant %+v", i, got[i], want[i])
						}
					}
					t.Fatalf("catalog changed by the round trip (%d vs %d items)", len(got), len(want))
				}
				for i := range after {
					if after[i].Version != before[i].Version+1 {
						t.Errorf("item %d: version %d → %d", after[i].ID, before[i].Version, after[i].Version)
					}
				}
				if after[1].Status != catalog.Suspended {
					t.Errorf("the suspended item was resumed by the import: %s", after[1].Status)
				}
				// Into an empty catalog (another installation): every item is new.
				other := storetest.SQLite(t)
				if db.Dialect == store.Postgres {
					other = storetest.Postgres(t)
				}
				s2 := transferStore(t, other)
				res, err = s2.Import(ctx, bytes.NewReader(file), f, "导入员", nil)
				if err != nil || res != (catalog.ImportResult{Created: n}) {
					t.Fatalf("import into an empty catalog: %+v, %v", res, err)
				}
				fresh, err := s2.AllPublished(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(fresh) != n {
					t.Fatalf("%d items", len(fresh))
				}
				for i := range fresh {
					want := canon(before, loose)[i]
					want.ID, want.Status = fresh[i].ID, catalog.Published // new items are published, not suspended
					if got := canon(fresh, loose)[i]; !reflect.DeepEqual(got, want) {
						t.Errorf("item %d:\n got %+v\nwant %+v", i, got, want)
					}
				}
			})
		})
	}
}

// editCSV rewrites one CSV cell, found by its row (1 = first item) and
// header name.
func editCSV(t *testing.T, data []byte, row int, column, value string) []byte {
	t.Helper()
	records := readCSV(t, data)
	col := slices.Index(records[0], column)
	if col < 0 {
		t.Fatalf("no column %s in %v", column, records[0])
	}
	records[row][col] = value
	return writeCSV(t, records)
}

func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("\ufeff")) {
		t.Fatal("CSV without a BOM")
	}
	records, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return records
}

func writeCSV(t *testing.T, records [][]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(records); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// csvLine is the physical line on which the row naming name starts.
func csvLine(t *testing.T, data []byte, name string) int {
	t.Helper()
	at := bytes.Index(data, []byte(name))
	if at < 0 {
		t.Fatalf("%s not in the file", name)
	}
	return bytes.Count(data[:at], []byte("\n")) + 1
}

// editJSON rewrites one field of the i-th item (from 0).
func editJSON(t *testing.T, data []byte, i int, field string, value any) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["items"].([]any)[i].(map[string]any)[field] = value
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// editXLSX rewrites one cell of a sheet, found by row number and header.
func editXLSX(t *testing.T, data []byte, sheet string, row int, column string, value any) []byte {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], column)
	if col < 0 {
		t.Fatalf("no column %s on %s: %v", column, sheet, rows[0])
	}
	cell, _ := excelize.CoordinatesToCellName(col+1, row)
	if err := x.SetCellValue(sheet, cell, value); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func importErrorOf(t *testing.T, err error) *exchange.ImportError {
	t.Helper()
	var ie *exchange.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("want an ImportError, got %v", err)
	}
	if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "未作任何更改") {
		t.Fatalf("ImportError is not Invalid with a summary: %v / %q", apperr.CodeOf(err), apperr.MessageOf(err))
	}
	return ie
}

// hasRowError reports whether some error is on that sheet and line and
// says want.
func hasRowError(ie *exchange.ImportError, sheet string, line int, want string) bool {
	for _, r := range ie.Rows {
		if r.Sheet == sheet && r.Line == line && strings.Contains(r.Field+r.Message, want) {
			return true
		}
	}
	return false
}

func TestImportBadRowChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := transferStore(t, db)
		seedTransfer(t, s, db, 4)
		before, _ := s.AllPublished(ctx)
		versions := countVersions(t, db)
		third := transferItem(2).Name

		type bad struct {
			name  string
			f     exchange.Format
			file  []byte
			sheet string
			line  int
			want  string
		}
		csvFile := exportTo(t, s, exchange.CSV)
		xlsxFile := exportTo(t, s, exchange.XLSX)
		cases := []bad{
			// JSON: the third item promises more than the law allows.
			{"json promise", exchange.JSON, editJSON(t, exportTo(t, s, exchange.JSON), 2, "promise_limit",
				map[string]any{"value": 30, "unit": "工作日"}), "", 3, "超过法定办结时限"},
			// JSON: a field of the wrong type.
			{"json type", exchange.JSON, editJSON(t, exportTo(t, s, exchange.JSON), 1, "visits", "两次"), "", 2, "visits"},
			// CSV: a limit that is not a number, on the physical line of the third item.
			{"csv int", exchange.CSV, editCSV(t, csvFile, 3, "法定时限", "十五"), "", csvLine(t, csvFile, third), "法定时限"},
			// XLSX: a visit without a reason on row 4 (the third item).
			{"xlsx reason", exchange.XLSX, editXLSX(t, xlsxFile, "事项", 4, "到现场原因", ""), "事项", 4, "原因"},
			// XLSX: a material row whose 份数 is not a number.
			{"xlsx copies", exchange.XLSX, editXLSX(t, xlsxFile, "申请材料", 3, "份数", "两份"), "申请材料", 3, "份数"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.Import(ctx, bytes.NewReader(c.file), c.f, "导入员", func(int, int) { t.Error("progress called for a rejected file") })
				ie := importErrorOf(t, err)
				if !hasRowError(ie, c.sheet, c.line, c.want) {
					t.Errorf("want an error on %s line %d about %q; got\n%s", c.sheet, c.line, c.want, ie.Detail())
				}
				for _, r := range ie.Rows {
					if r.Sheet != c.sheet || r.Line != c.line {
						t.Errorf("one bad row, but:\n%s", ie.Detail())
					}
				}
				if !strings.Contains(ie.Error(), "共1行有误") {
					t.Errorf("summary %q", ie.Error())
				}
				if v := countVersions(t, db); v != versions {
					t.Errorf("versions %d → %d", versions, v)
				}
				after, _ := s.AllPublished(ctx)
				if !reflect.DeepEqual(after, before) {
					t.Error("the catalog changed")
				}
			})
		}
	})
}

func TestImportReportsEveryBadRow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := transferStore(t, db)
		seedTransfer(t, s, db, 6)
		versions := countVersions(t, db)
		file := exportTo(t, s, exchange.CSV)
		file = editCSV(t, file, 1, "监督投诉电话", "0375-8861002") // same as the consult phone
		file = editCSV(t, file, 3, "实施部门", "nosuch")         // unknown department
		file = editCSV(t, file, 4, "网上办理深度", "五级")           // no such depth
		file = editCSV(t, file, 6, "办理流程", "[{")             // broken JSON
		_, err := s.Import(ctx, bytes.NewReader(file), exchange.CSV, "导入员", nil)
		ie := importErrorOf(t, err)
		for _, want := range []struct {
			item int
			what string
		}{{0, "监督投诉电话不能与咨询电话相同"}, {2, "nosuch"}, {3, "五级"}, {5, "办理流程"}} {
			line := csvLine(t, file, transferItem(want.item).Name)
			if !hasRowError(ie, "", line, want.what) {
				t.Errorf("line %d (%s) not reported; got\n%s", line, want.what, ie.Detail())
			}
		}
		if !strings.Contains(ie.Error(), "共4行有误") {
			t.Errorf("summary %q", ie.Error())
		}
		if v := countVersions(t, db); v != versions {
			t.Errorf("versions %d → %d", versions, v)
		}
	})
}

func TestImportUnknownDepartmentAndDuplicates(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := transferStore(t, db)
		seedTransfer(t, s, db, 3)
		versions := countVersions(t, db)

		// JSON: an unknown department, named with its item.
		file := editJSON(t, exportTo(t, s, exchange.JSON), 1, "department", "bumen")
		_, err := s.Import(ctx, bytes.NewReader(file), exchange.JSON, "导入员", nil)
		ie := importErrorOf(t, err)
		if !hasRowError(ie, "", 2, "bumen") || ie.Rows[0].Field != "实施部门" {
			t.Errorf("unknown department: %s", ie.Detail())
		}

		// CSV: the third row repeats the first one's 实施编码.
		file = exportTo(t, s, exchange.CSV)
		records := readCSV(t, file)
		records = append(records, slices.Clone(records[1]))
		last := len(records) - 1
		records[last][slices.Index(records[0], "事项名称")] = "重复的事项"
		file = writeCSV(t, records)
		_, err = s.Import(ctx, bytes.NewReader(file), exchange.CSV, "导入员", nil)
		ie = importErrorOf(t, err)
		line := csvLine(t, file, "重复的事项")
		if !hasRowError(ie, "", line, "实施编码") || !hasRowError(ie, "", line, fmt.Sprintf("与第%d行重复", csvLine(t, file, transferItem(0).Name))) {
			t.Errorf("duplicate implementing code: %s", ie.Detail())
		}

		// XLSX: two new items that differ in nothing but their name make
		// the same 实施编码 and are the same (department, base code, kind).
		x := exportTo(t, s, exchange.XLSX)
		x = editXLSX(t, x, "事项", 2, "实施编码", "")
		x = editXLSX(t, x, "事项", 3, "实施编码", "")
		x = editXLSX(t, x, "事项", 3, "实施部门", transferItem(0).Department)
		x = editXLSX(t, x, "事项", 3, "基本编码", transferItem(0).BaseCode)
		x = editXLSX(t, x, "事项", 3, "业务办理项", "")
		_, err = s.Import(ctx, bytes.NewReader(x), exchange.XLSX, "导入员", nil)
		ie = importErrorOf(t, err)
		if !hasRowError(ie, "事项", 3, "与第2行的实施部门、基本编码和业务办理项都相同") {
			t.Errorf("duplicate item: %s", ie.Detail())
		}
		if v := countVersions(t, db); v != versions {
			t.Errorf("versions %d → %d", versions, v)
		}
	})
}

func TestImportCSVColumnsInAnyOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := transferStore(t, db)
		seedTransfer(t, s, db, 3)
		before, _ := s.AllPublished(ctx)
		records := readCSV(t, exportTo(t, s, exchange.CSV))
		impl := slices.Index(records[0], "实施编码")
		for i := range records {
			if i > 0 {
				records[i][impl] = "" // built again from the department's credit code
			}
			slices.Reverse(records[i])
		}
		res, err := s.Import(ctx, bytes.NewReader(writeCSV(t, records)), exchange.CSV, "导入员", nil)
		if err != nil || res != (catalog.ImportResult{Updated: 3}) {
			t.Fatalf("%+v, %v", res, err)
		}
		after, _ := s.AllPublished(ctx)
		if !reflect.DeepEqual(canon(after, true), canon(before, true)) {
			t.Error("catalog changed")
		}

		// Excel on Chinese Windows saves CSV in GBK, without a BOM.
		records = readCSV(t, exportTo(t, s, exchange.CSV))
		records[1][slices.Index(records[0], "办理地点")] = "湛河区政务服务大厅"
		utf := writeCSV(t, records)
		gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(bytes.TrimPrefix(utf, []byte("\ufeff")))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Import(ctx, bytes.NewReader(gbk), exchange.CSV, "导入员", nil); err != nil {
			t.Fatal(err)
		}
		it, _, err := s.Published(ctx, before[0].ID)
		if err != nil || it.Place != "湛河区政务服务大厅" {
			t.Errorf("GBK import: %q, %v", it.Place, err)
		}

		// Unknown and missing columns are named.
		records = readCSV(t, exportTo(t, s, exchange.CSV))
		records[0][slices.Index(records[0], "别名")] = "俗称"
		_, err = s.Import(ctx, bytes.NewReader(writeCSV(t, records)), exchange.CSV, "导入员", nil)
		ie := importErrorOf(t, err)
		if !hasRowError(ie, "", 1, "未知的列“俗称”") || !hasRowError(ie, "", 1, "缺少列“别名”") {
			t.Errorf("header: %s", ie.Detail())
		}
	})
}

func TestXLSXLayout(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	s := transferStore(t, db)
	seedTransfer(t, s, db, 2)
	x, err := excelize.OpenReader(bytes.NewReader(exportTo(t, s, exchange.XLSX)))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if got := x.GetSheetList(); !slices.Equal(got, []string{"事项", "办理流程", "申请材料", "申请表", "一件事", "一件事事项", "一件事字段映射"}) {
		t.Fatalf("sheets %v", got)
	}
	want := map[string][]string{
		"办理流程": {"实施编码", "序号", "环节", "说明"},
		"申请材料": {"实施编码", "序号", "材料名称", "必要性", "形式", "份数", "来源", "空白表格", "示例样表", "填报须知", "受理标准"},
		"申请表":  {"实施编码", "分组", "字段标识", "字段名称", "类型", "必填", "说明", "选项(；分隔)", "最大长度"},
	}
	for sheet, cols := range want {
		rows, _ := x.GetRows(sheet)
		if !slices.Equal(rows[0], cols) {
			t.Errorf("%s header %v", sheet, rows[0])
		}
	}
	rows, _ := x.GetRows("事项")
	for _, c := range []string{"事项名称", "基本编码", "实施编码", "实施部门", "法定时限", "是否收费", "别名"} {
		if !slices.Contains(rows[0], c) {
			t.Errorf("事项 lacks %s", c)
		}
	}
	for _, c := range []string{"办理流程", "申请材料", "申请表"} {
		if slices.Contains(rows[0], c) {
			t.Errorf("事项 has the nested column %s", c)
		}
	}
	if len(rows) != 3 || rows[1][0] != transferItem(0).Name {
		t.Errorf("rows %v", rows)
	}
	for _, sheet := range x.GetSheetList() {
		panes, err := x.GetPanes(sheet)
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Errorf("%s: header not frozen: %+v %v", sheet, panes, err)
		}
		style, _ := x.GetCellStyle(sheet, "B1")
		st, err := x.GetStyle(style)
		if err != nil || st.Font == nil || !st.Font.Bold {
			t.Errorf("%s: header not bold", sheet)
		}
		if w, _ := x.GetColWidth(sheet, "A"); w < 8 {
			t.Errorf("%s: column A width %v", sheet, w)
		}
	}
	// Steps and materials: one row each.
	steps, _ := x.GetRows("办理流程")
	materials, _ := x.GetRows("申请材料")
	if len(steps) != 1+2*2 || len(materials) != 1+2*2 {
		t.Errorf("%d step rows, %d material rows", len(steps), len(materials))
	}
}

func TestBigImport(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("big import")
	}
	const n = 1500
	// A file of new items, their 实施编码 left to be built from the
	// departments' credit codes.
	items := make([]catalog.Item, n)
	for i := range items {
		items[i] = transferItem(i)
	}
	file, err := json.Marshal(map[string]any{"format": "zwfw-catalog", "version": 1, "items": items})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dst := transferStore(t, db)
		last, calls := 0, 0
		start := time.Now()
		res, err := dst.Import(ctx, bytes.NewReader(file), exchange.JSON, "导入员", func(done, total int) {
			if total != n || done < last {
				t.Errorf("progress(%d, %d) after %d", done, total, last)
			}
			last = done
			calls++
		})
		if err != nil || res != (catalog.ImportResult{Created: n}) {
			t.Fatalf("%+v, %v", res, err)
		}
		t.Logf("imported %d items in %v", n, time.Since(start))
		if last != n || calls < n {
			t.Errorf("progress reached %d in %d calls", last, calls)
		}
		got, err := dst.AllPublished(ctx)
		if err != nil || len(got) != n {
			t.Fatalf("%d items, %v", len(got), err)
		}
		if got[n-1].Name != items[n-1].Name || len(got[n-1].ImplCode) != 33 {
			t.Errorf("last item %+v", got[n-1])
		}
	})
}
