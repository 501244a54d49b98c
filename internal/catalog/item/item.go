// Package item holds a service item's guide (办事指南) as a value: its
// types, the validation every stored item passes and the quality rules a
// published one meets. It knows nothing of the database, so that what reads
// and writes catalog files (catalog/exchange) links no database driver;
// package catalog stores items and re-exports these names.
package item

import (
	"slices"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
)

// ItemType is the 事项类型 code of the national catalog.
type ItemType string

const (
	Licensing     ItemType = "01" // 行政许可
	Penalty       ItemType = "02" // 行政处罚
	Enforcement   ItemType = "03" // 行政强制
	Levy          ItemType = "04" // 行政征收
	Benefit       ItemType = "05" // 行政给付
	Inspection    ItemType = "06" // 行政检查
	Confirmation  ItemType = "07" // 行政确认
	Reward        ItemType = "08" // 行政奖励
	Adjudication  ItemType = "09" // 行政裁决
	OtherPower    ItemType = "10" // 其他行政权力
	PublicService ItemType = "20" // 公共服务
	Filing        ItemType = "21" // 行政备案
)

// ItemTypes lists the types with their names, in catalog order.
var ItemTypes = []struct {
	Type ItemType
	Name string
}{
	{Licensing, "行政许可"}, {Penalty, "行政处罚"}, {Enforcement, "行政强制"}, {Levy, "行政征收"},
	{Benefit, "行政给付"}, {Inspection, "行政检查"}, {Confirmation, "行政确认"}, {Reward, "行政奖励"},
	{Adjudication, "行政裁决"}, {OtherPower, "其他行政权力"}, {PublicService, "公共服务"}, {Filing, "行政备案"},
}

// Name is the type's Chinese name, or "" for an unknown code.
func (t ItemType) Name() string {
	for _, x := range ItemTypes {
		if x.Type == t {
			return x.Name
		}
	}
	return ""
}

// OnApplication reports whether people apply for items of this type
// (依申请); penalties, enforcement and inspections are not applied for.
func (t ItemType) OnApplication() bool {
	switch t {
	case Penalty, Enforcement, Inspection, Levy:
		return false
	}
	return t.Name() != ""
}

// Subjects are the 服务对象.
var Subjects = []string{"自然人", "企业法人", "事业法人", "社会组织法人", "非法人企业", "行政机关", "其他组织"}

// Themes are the life-event themes items are browsed by, for natural
// persons and for legal persons.
var Themes = map[string][]string{
	"自然人": {"生育收养", "户籍办理", "教育科研", "就业创业", "社会保障", "婚姻登记", "住房保障", "医疗卫生",
		"养老服务", "残疾人服务", "优待抚恤", "民族宗教", "证件办理", "交通出行", "死亡殡葬", "其他"},
	"法人": {"设立变更", "准营准办", "年检年审", "税收财务", "人力资源", "社会保障", "工程建设", "安全生产",
		"环保绿化", "知识产权", "商务贸易", "农林牧渔", "注销", "其他"},
}

// CaseKind is 办件类型: done on the spot, or within a promised time.
type CaseKind string

const (
	Immediate CaseKind = "即办件"
	Promised  CaseKind = "承诺件"
)

// Depth is 网上办理深度.
type Depth int

const (
	DepthPublic   Depth = 1 // 一级 事项公开
	DepthPrecheck Depth = 2 // 二级 在线预审
	DepthApply    Depth = 3 // 三级 在线申办
	DepthFull     Depth = 4 // 四级 全程网办
)

// Name is the depth's Chinese name.
func (d Depth) Name() string {
	switch d {
	case DepthPublic:
		return "一级 事项公开"
	case DepthPrecheck:
		return "二级 在线预审"
	case DepthApply:
		return "三级 在线申办"
	case DepthFull:
		return "四级 全程网办"
	}
	return ""
}

// Online reports whether people can apply online at this depth (the
// "three 100%" count items at 三级 or 四级).
func (d Depth) Online() bool { return d >= DepthApply }

// TimeLimit is a 时限 as the catalog keeps it: a number, its unit and a
// note. Limit gives the typed limit that deadlines are counted by.
type TimeLimit struct {
	Value int    `json:"value"`
	Unit  string `json:"unit"` // calendar.Units: 工作日, 自然日, 小时
	Note  string `json:"note,omitempty"`
}

// Limit is the limit without its note, as calendar counts it.
func (l TimeLimit) Limit() calendar.Limit {
	return calendar.Limit{Value: l.Value, Unit: calendar.Unit(l.Unit)}
}

// Step is one step of 办理流程.
type Step struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Fee is 收费. Charged items must give the basis and the standard.
type Fee struct {
	Charged  bool   `json:"charged"`
	Basis    string `json:"basis,omitempty"`
	Standard string `json:"standard,omitempty"`
	Waiver   string `json:"waiver,omitempty"`
}

// Result is 审批结果.
type Result struct {
	Name   string `json:"name"`
	Type   string `json:"type"` // 证照, 批文, 其他
	Sample string `json:"sample,omitempty"`
}

// Material is one 申请材料.
type Material struct {
	Name      string `json:"name"`
	Necessity string `json:"necessity"` // 必需, 容缺, 非必需
	Form      string `json:"form"`      // 原件, 复印件, 电子
	Copies    int    `json:"copies"`
	Source    string `json:"source"` // 申请人自备, 政府部门核发
	// BlankForm and Sample describe downloadable files: a blank form to
	// fill in and a filled-in example.
	BlankForm string `json:"blank_form,omitempty"`
	Sample    string `json:"sample,omitempty"`
	Notes     string `json:"notes,omitempty"`
	Standard  string `json:"standard,omitempty"` // 受理标准
}

// FormField is one field of an item's application form.
type FormField struct {
	Key       string   `json:"key"`
	Label     string   `json:"label"`
	Type      string   `json:"type"` // text, textarea, number, date, select, radio, checkbox, idcard, mobile, creditcode, email
	Required  bool     `json:"required"`
	Help      string   `json:"help,omitempty"`
	Options   []string `json:"options,omitempty"`
	MaxLength int      `json:"max_length,omitempty"`
}

// MultiLine reports whether the item's form field key is a textarea, the
// only kind of answer that may hold line breaks.
func (it Item) MultiLine(key string) bool {
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			if f.Key == key {
				return f.Type == "textarea"
			}
		}
	}
	return false
}

// FormSection groups fields; the application is filled section by section.
type FormSection struct {
	Title  string      `json:"title"`
	Fields []FormField `json:"fields"`
}

// Status of an item version.
type Status string

const (
	Draft     Status = "draft"
	Published Status = "published"
	Suspended Status = "suspended"
	Cancelled Status = "cancelled"
)

// Name is the status's Chinese name.
func (st Status) Name() string {
	switch st {
	case Draft:
		return "草稿"
	case Published:
		return "已发布"
	case Suspended:
		return "暂停办理"
	case Cancelled:
		return "已取消"
	}
	return string(st)
}

// Item is one version of a service item: the whole guide.
type Item struct {
	ID       int64  `json:"id"`
	Version  int    `json:"version"`
	Status   Status `json:"status"`
	BaseCode string `json:"base_code"` // 基本编码, 12 chars
	ImplCode string `json:"impl_code"` // 实施编码, ≤ 36 chars
	Name     string `json:"name"`
	// HandlingKind names a 业务办理项 (新办, 变更, 延续, 注销) when the item is
	// one of an item's sub-items; ParentCode is then the parent's base code.
	HandlingKind string   `json:"handling_kind,omitempty"`
	ParentCode   string   `json:"parent_code,omitempty"`
	Type         ItemType `json:"type"`
	Level        int      `json:"level"` // region.Level of the implementing body
	DepartmentID int64    `json:"department_id"`
	// Department is the implementing body's slug: stable across
	// installations, so it is what import and export files carry.
	Department   string    `json:"department"`
	RegionCode   string    `json:"region_code"`
	Basis        string    `json:"basis"` // 设定依据
	Subjects     []string  `json:"subjects"`
	Themes       []string  `json:"themes"`
	CaseKind     CaseKind  `json:"case_kind"`
	LegalLimit   TimeLimit `json:"legal_limit"`
	PromiseLimit TimeLimit `json:"promise_limit"`
	Visits       int       `json:"visits"`
	VisitReason  string    `json:"visit_reason,omitempty"`
	Depth        Depth     `json:"depth"`
	Conditions   string    `json:"conditions"` // 受理条件
	Steps        []Step    `json:"steps"`
	Special      string    `json:"special,omitempty"` // 特别程序
	Fee          Fee       `json:"fee"`
	Result       Result    `json:"result"`
	Place        string    `json:"place"`
	Hours        string    `json:"hours"`
	ConsultPhone string    `json:"consult_phone"`
	// ComplaintPhone is 监督投诉电话: it must differ from the consult phone.
	ComplaintPhone string        `json:"complaint_phone"`
	Express        bool          `json:"express"`
	OnlinePayment  bool          `json:"online_payment"`
	Appointment    bool          `json:"appointment"`
	SelfService    bool          `json:"self_service"`
	Materials      []Material    `json:"materials"`
	Form           []FormSection `json:"form"`
	// Workflow shapes how cases of the item are handled; empty means
	// DefaultWorkflow.
	Workflow   []WorkStep `json:"workflow,omitempty"`
	Aliases    []string   `json:"aliases,omitempty"` // what people call it: 开店, 办执照 …
	Popularity int        `json:"popularity"`
	// Generated marks demo items made by a generator, not copied from a
	// real catalog.
	Generated   bool      `json:"generated"`
	UpdatedAt   time.Time `json:"updated_at"`
	PublishedAt time.Time `json:"published_at,omitzero"`
}

// DisplayName is the name the guide shows: the name followed by its 业务办理项
// in brackets (个体工商户设立登记（新办）), unless the name already names
// it (食品经营许可（新办）, 残疾人证新办（核发）), so the kind is never printed
// twice.
func (it Item) DisplayName() string {
	if it.HandlingKind == "" || strings.Contains(it.Name, it.HandlingKind) {
		return it.Name
	}
	return it.Name + "（" + it.HandlingKind + "）"
}

// Clone copies an item so that changing the copy's lists leaves the
// original as it was.
func (it Item) Clone() Item {
	it.Subjects = slices.Clone(it.Subjects)
	it.Themes = slices.Clone(it.Themes)
	it.Steps = slices.Clone(it.Steps)
	it.Materials = slices.Clone(it.Materials)
	it.Aliases = slices.Clone(it.Aliases)
	it.Form = slices.Clone(it.Form)
	for i := range it.Form {
		it.Form[i].Fields = slices.Clone(it.Form[i].Fields)
		for j := range it.Form[i].Fields {
			it.Form[i].Fields[j].Options = slices.Clone(it.Form[i].Fields[j].Options)
		}
	}
	it.Workflow = slices.Clone(it.Workflow)
	for i := range it.Workflow {
		it.Workflow[i].Roles = slices.Clone(it.Workflow[i].Roles)
	}
	return it
}

// handlingSuffix is the last part of a 实施编码: 000 for a main item, then
// one code per 业务办理项.
var handlingSuffix = map[string]string{"": "000", "新办": "001", "变更": "002", "延续": "003", "注销": "004"}

// ImplCode builds an item's 实施编码: the implementing body's 统一社会信用代码
// (18, whose characters 3–8 carry the county code), the 基本编码 (12) and
// the handling-item suffix (3): 33 characters, within the 36 allowed.
func ImplCode(creditCode, baseCode, handlingKind string) string {
	return creditCode + baseCode + handlingSuffix[handlingKind]
}
