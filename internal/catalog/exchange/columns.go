package exchange

// The columns of the CSV file and of the XLSX sheets, and how a cell
// reads and writes a field.

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/catalog/item"
)

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
	"apply_elsewhere": "办理流程", "full_online_on_site": "网上办理深度", "appointment": "支持预约",
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
