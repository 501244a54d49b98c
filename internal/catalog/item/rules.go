package item

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
)

// Validate checks what an item must have to be stored at all, even as a
// draft: known codes and values, a name, well-formed materials and form.
// It returns every problem at once, so an editor or an import fixes them
// in one go.
func (it *Item) Validate() error {
	errs := it.Invalid()
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Message
	}
	return apperr.New(apperr.Invalid, strings.Join(msgs, "；"))
}

// FieldError is one reason an item cannot be stored, with the field at
// fault named as the catalog files' columns name it (事项名称, 申请材料 …).
type FieldError struct {
	Field   string
	Message string
}

// Invalid lists what Validate refuses, field by field.
func (it *Item) Invalid() []FieldError {
	var errs []FieldError
	var field string // the field the checks below are about
	bad := func(format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	field = "事项名称"
	if n := utf8.RuneCountInString(strings.TrimSpace(it.Name)); n == 0 || n > 100 {
		bad("事项名称不能为空，且不超过100个字")
	}
	field = "事项类型"
	if it.Type.Name() == "" {
		bad("事项类型代码 %q 无效", it.Type)
	}
	field = "业务办理项"
	if !slices.Contains([]string{"", "新办", "变更", "延续", "注销"}, it.HandlingKind) {
		bad("业务办理项应为新办、变更、延续或注销")
	}
	field = "主项基本编码"
	if it.HandlingKind != "" && it.ParentCode == "" {
		bad("业务办理项须注明所属主项的基本编码")
	}
	field = "实施部门"
	if it.Department == "" {
		bad("未指定实施部门")
	}
	field = "办件类型"
	if it.CaseKind != Immediate && it.CaseKind != Promised {
		bad("办件类型应为即办件或承诺件")
	}
	field = "网上办理深度"
	if it.Depth.Name() == "" {
		bad("网上办理深度应为1至4级")
	}
	field = "到现场次数"
	if it.Visits < 0 || it.Visits > 9 {
		bad("到办事现场次数应为0至9")
	}
	for _, l := range []struct {
		name, field string
		l           TimeLimit
	}{{"法定办结时限", "法定时限", it.LegalLimit}, {"承诺办结时限", "承诺时限", it.PromiseLimit}} {
		if l.l.Value < 0 || l.l.Value > 3650 || !l.l.Limit().Unit.Valid() {
			field = l.field
			bad("%s应为0至3650的整数，单位为工作日、自然日或小时", l.name)
		}
	}
	field = "服务对象"
	if len(it.Subjects) == 0 {
		bad("至少选择一类服务对象")
	}
	for _, s := range it.Subjects {
		if !slices.Contains(Subjects, s) {
			bad("服务对象 %q 无效", s)
		}
	}
	field = "主题"
	for _, th := range it.Themes {
		if !slices.Contains(Themes["自然人"], th) && !slices.Contains(Themes["法人"], th) {
			bad("主题分类 %q 无效", th)
		}
	}
	field = "申请材料"
	for i, m := range it.Materials {
		at := fmt.Sprintf("第%d项材料", i+1)
		if strings.TrimSpace(m.Name) == "" {
			bad("%s缺少名称", at)
		}
		if !slices.Contains([]string{"必需", "容缺", "非必需"}, m.Necessity) {
			bad("%s（%s）的必要性应为必需、容缺或非必需", at, m.Name)
		}
		if !slices.Contains([]string{"原件", "复印件", "电子", "原件和复印件"}, m.Form) {
			bad("%s（%s）的形式应为原件、复印件、原件和复印件或电子", at, m.Name)
		}
		if !slices.Contains([]string{"申请人自备", "政府部门核发"}, m.Source) {
			bad("%s（%s）的来源应为申请人自备或政府部门核发", at, m.Name)
		}
		if m.Copies < 0 || m.Copies > 20 {
			bad("%s（%s）的份数应为0至20", at, m.Name)
		}
	}
	field = "申请表"
	seen := map[string]bool{}
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			if !isFieldKey(f.Key) || seen[f.Key] {
				bad("申请表字段标识 %q 无效或重复（应为小写字母、数字和下划线）", f.Key)
			}
			seen[f.Key] = true
			if strings.TrimSpace(f.Label) == "" {
				bad("申请表字段 %s 缺少名称", f.Key)
			}
			if !slices.Contains(FieldTypes, f.Type) {
				bad("申请表字段 %s 的类型 %q 无效", f.Key, f.Type)
			}
			if (f.Type == "select" || f.Type == "radio" || f.Type == "checkbox") && len(f.Options) == 0 {
				bad("申请表字段 %s 是选择题，但没有选项", f.Key)
			}
		}
	}
	for _, msg := range workflowProblems(it.Workflow) {
		errs = append(errs, FieldError{Field: "办理环节", Message: msg})
	}
	return errs
}

// FieldTypes are the kinds of application form fields.
var FieldTypes = []string{"text", "textarea", "number", "date", "select", "radio", "checkbox", "idcard", "mobile", "creditcode", "email"}

func isFieldKey(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Problem is one broken quality rule.
type Problem struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Rules are the quality rules, each with what it asks, in the order
// Problems checks them: the quality page lists them, so that catalog
// managers know what a guide is held to before it fails.
var Rules = []struct{ Rule, Description string }{
	{"name_suffix", "事项名称末尾不重复业务办理项，如“（新办）（新办）”"},
	{"full_online_no_visit", "全程网办（四级）的事项到现场次数为0"},
	{"visit_reason", "到现场次数不为0的，写明必须到现场的原因"},
	{"limit_units", "承诺时限与法定时限单位相同"},
	{"promise_within_legal", "承诺办结时限不超过法定办结时限"},
	{"promised_limit", "承诺件有承诺办结时限"},
	{"immediate_limit", "即办件的承诺时限不超过1个单位"},
	{"fee_basis", "收费事项写明收费依据和收费标准"},
	{"phones", "咨询电话和监督投诉电话都填写，且不相同"},
	{"material_standard", "必需材料写明受理标准"},
	{"materials", "至少一项必需材料"},
	{"conditions", "写明受理条件"},
	{"steps", "写明办理流程"},
	{"online_form", "可网上申办（三级及以上）的事项有网上申请表"},
	{"apply_elsewhere", "可网上申办的事项，指南不让申请人到其他网站或App（政务服务网、豫事办等）申请"},
	{"full_online_on_site", "全程网办的事项，指南不要求到现场（现场核验原件、本人到场等）"},
	{"appointment", "本平台提供预约前，不标注“支持预约办理”"},
	{"base_code", "基本编码为12位数字"},
	{"impl_code", "实施编码不超过36位，由数字和大写字母组成，包含基本编码"},
}

// Problems checks the quality rules a published guide must meet. They are
// checked when an item is saved (as warnings), when it is published (as
// refusals) and over the whole catalog (an admin page lists every failing
// item, which catches items that a new rule or a changed department makes
// fail later).
func (it *Item) Problems() []Problem {
	var ps []Problem
	add := func(rule, format string, args ...any) {
		ps = append(ps, Problem{Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	if s := doubledSuffix(it.Name); s != "" {
		add("name_suffix", "事项名称末尾重复了“%s”", s)
	}
	if it.Depth == DepthFull && it.Visits != 0 {
		add("full_online_no_visit", "全程网办（四级）的事项到现场次数应为0，现为%d次", it.Visits)
	}
	if it.Visits > 0 && strings.TrimSpace(it.VisitReason) == "" {
		add("visit_reason", "到现场次数为%d次，须说明必须到现场的原因", it.Visits)
	}
	if it.PromiseLimit.Unit != it.LegalLimit.Unit {
		add("limit_units", "承诺时限（%s）与法定时限（%s）单位不同，无法比较", it.PromiseLimit.Unit, it.LegalLimit.Unit)
	} else if it.PromiseLimit.Value > it.LegalLimit.Value {
		add("promise_within_legal", "承诺办结时限（%d%s）超过法定办结时限（%d%s）", it.PromiseLimit.Value, it.PromiseLimit.Unit, it.LegalLimit.Value, it.LegalLimit.Unit)
	}
	if it.CaseKind == Promised && it.PromiseLimit.Value == 0 {
		add("promised_limit", "承诺件须有承诺办结时限")
	}
	if it.CaseKind == Immediate && it.PromiseLimit.Value > 1 {
		add("immediate_limit", "即办件的承诺时限不应超过1%s", it.PromiseLimit.Unit)
	}
	if it.Fee.Charged && (strings.TrimSpace(it.Fee.Basis) == "" || strings.TrimSpace(it.Fee.Standard) == "") {
		add("fee_basis", "收费事项须写明收费依据和收费标准")
	}
	consult, complaint := strings.TrimSpace(it.ConsultPhone), strings.TrimSpace(it.ComplaintPhone)
	switch {
	case consult == "" || complaint == "":
		add("phones", "咨询电话和监督投诉电话都须填写")
	case consult == complaint:
		add("phones", "监督投诉电话不能与咨询电话相同")
	}
	required := 0
	for _, m := range it.Materials {
		if m.Necessity == "必需" {
			required++
			if strings.TrimSpace(m.Standard) == "" {
				add("material_standard", "必需材料“%s”须写明受理标准", m.Name)
			}
		}
	}
	if required == 0 {
		add("materials", "须列明受理所需的全部材料（至少一项必需材料）")
	}
	if strings.TrimSpace(it.Conditions) == "" {
		add("conditions", "须写明受理条件")
	}
	if len(it.Steps) == 0 {
		add("steps", "须写明办理流程")
	}
	if it.Depth.Online() && len(it.Form) == 0 {
		add("online_form", "可网上申办（三级及以上）的事项须有网上申请表")
	}
	// The guide must not contradict the platform it is published on.
	if it.Depth.Online() {
		if at, phrase := it.mentions(elsewhereOnline); phrase != "" {
			add("apply_elsewhere", "本事项可在本平台在线申办，但%s提到“%s”：请改为“在本平台在线申办”", at, phrase)
		}
	}
	if it.Depth == DepthFull {
		if at, phrase := it.mentions(onSite); phrase != "" {
			add("full_online_on_site", "全程网办（四级）的事项无须到现场，但%s写有“%s”", at, phrase)
		}
	}
	// Booking a time at a hall is not offered yet: until it is, no guide
	// may promise it. Lift this rule when appointments land.
	if it.Appointment {
		add("appointment", "本平台尚未提供预约办理，不能标注“支持预约办理”")
	}
	if !isDigits(it.BaseCode, 12) {
		add("base_code", "基本编码应为12位数字")
	}
	if !wellFormedImplCode(it.ImplCode, it.BaseCode) {
		add("impl_code", "实施编码应为不超过36位的数字和大写字母，并包含基本编码")
	}
	return ps
}

// elsewhereOnline are phrases that send an applicant to another site or
// app to apply; onSite are phrases that ask them to come in person.
var (
	elsewhereOnline = []string{"政务服务网", "豫事办", "公共服务平台", "全程电子化平台", "http://", "https://", "www."}
	onSite          = []string{"现场核验", "须到现场", "必须到现场", "本人到场"}
)

// mentions finds the first of phrases in the guide's text that applicants
// read: the conditions, the steps and the materials. It returns where
// (办理流程“申请”环节) and the phrase, or "" when none occurs.
func (it *Item) mentions(phrases []string) (where, phrase string) {
	find := func(text string) string {
		for _, p := range phrases {
			if strings.Contains(text, p) {
				return p
			}
		}
		return ""
	}
	if p := find(it.Conditions); p != "" {
		return "受理条件", p
	}
	for _, st := range it.Steps {
		if p := find(st.Name + " " + st.Description); p != "" {
			return "办理流程“" + st.Name + "”环节", p
		}
	}
	for _, m := range it.Materials {
		if p := find(m.Notes + " " + m.Standard); p != "" {
			return "申请材料“" + m.Name + "”", p
		}
	}
	return "", ""
}

// doubledSuffix returns the bracketed suffix that name ends with twice
// (食品经营许可（新办）（新办） gives （新办）), or "".
func doubledSuffix(name string) string {
	if !strings.HasSuffix(name, "）") {
		return ""
	}
	i := strings.LastIndex(name, "（")
	if i <= 0 || !strings.HasSuffix(name[:i], name[i:]) {
		return ""
	}
	return name[i:]
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func wellFormedImplCode(impl, base string) bool {
	if impl == "" || len(impl) > 36 || !strings.Contains(impl, base) {
		return false
	}
	for _, c := range impl {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
