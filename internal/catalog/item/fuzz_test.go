package item_test

import (
	"maps"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/catalog/item"
	"github.com/zwfw/zwfw/internal/ident"
)

// fuzzForm has a field of every type, as the demo catalog's forms write
// them (internal/demo/data/items.json).
var fuzzForm = item.Item{Form: []item.FormSection{{Title: "申请人信息", Fields: []item.FormField{
	{Key: "applicant_name", Label: "申请人姓名", Type: "text", Required: true, MaxLength: 30},
	{Key: "id_number", Label: "公民身份号码", Type: "idcard", Required: true},
	{Key: "mobile", Label: "联系电话", Type: "mobile", Required: true},
	{Key: "credit_code", Label: "统一社会信用代码", Type: "creditcode"},
	{Key: "email", Label: "电子邮箱", Type: "email"},
}}, {Title: "经营信息", Fields: []item.FormField{
	{Key: "org_form", Label: "组成形式", Type: "radio", Required: true, Options: []string{"个人经营", "家庭经营"}},
	{Key: "business_scope", Label: "经营范围", Type: "textarea", Required: true, MaxLength: 500},
	{Key: "employees", Label: "从业人数", Type: "number", Required: true},
	{Key: "change_items", Label: "变更事项", Type: "checkbox", Options: []string{"名称", "经营者", "经营场所"}},
	{Key: "cancel_reason", Label: "注销原因", Type: "select", Options: []string{"经营者决定停止经营", "其他"}},
	{Key: "liquidation_date", Label: "清算完成日期", Type: "date"},
}}}}

// Every application form's answers are anyone's text. Checking keeps the
// item's own fields only, trimmed; every refusal is a Chinese sentence on
// a field of the form; an accepted answer is what its type says (a
// number a plain decimal within MaxNumber, a date a date, an ID number
// valid …); and checking what was kept gives the same verdict again.
func FuzzCheckAnswers(f *testing.F) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	f.Add(uint8(0), " 张三 ", "employees", "12")
	f.Add(uint8(1), "410402199001011234", "unknown", "x")
	f.Add(uint8(7), "-1e308", "employees", "NaN")
	f.Add(uint8(7), "999999999999.99", "mobile", "13800138000")
	f.Add(uint8(8), "名称、经营场所", "change_items", "名称、")
	f.Add(uint8(10), "2026-02-30", "liquidation_date", "2026-02-28")
	f.Add(uint8(4), "a@b.c", "email", "@.")
	f.Add(uint8(6), strings.Repeat("经", 501), "business_scope", "一\n二")
	f.Fuzz(func(t *testing.T, which uint8, value, key, other string) {
		var fields []item.FormField
		for _, sec := range fuzzForm.Form {
			fields = append(fields, sec.Fields...)
		}
		fd := fields[int(which)%len(fields)]
		answers := map[string]string{fd.Key: value, key: other}
		clean, problems := fuzzForm.CheckAnswers(answers, now)
		if len(clean) != len(fields) {
			t.Fatalf("kept %d answers for %d fields", len(clean), len(fields))
		}
		for _, fd := range fields {
			v, ok := clean[fd.Key]
			if !ok || v != strings.TrimSpace(answers[fd.Key]) {
				t.Fatalf("%s kept as %q from %q", fd.Key, v, answers[fd.Key])
			}
			msg, refused := problems[fd.Key]
			if refused {
				if !hasHan(msg) {
					t.Fatalf("%s refused without a Chinese reason: %q", fd.Key, msg)
				}
				continue
			}
			if why := wrongAnswer(fd, v, now); why != "" {
				t.Fatalf("%s = %q accepted: %s", fd.Key, v, why)
			}
		}
		for k := range problems {
			if _, ok := clean[k]; !ok {
				t.Fatalf("a problem on %q, not a field of the form", k)
			}
		}
		again, problems2 := fuzzForm.CheckAnswers(clean, now)
		if !maps.Equal(again, clean) || !maps.Equal(problems, problems2) {
			t.Fatalf("checking the kept answers again: %v %v, then %v %v", clean, problems, again, problems2)
		}
	})
}

// wrongAnswer says why v is not an answer of fd's type ("" when it is).
func wrongAnswer(fd item.FormField, v string, now time.Time) string {
	if v == "" {
		if fd.Required {
			return "empty but required"
		}
		return ""
	}
	if limit := max(fd.MaxLength, 0); limit == 0 && utf8.RuneCountInString(v) > 500 || limit > 0 && utf8.RuneCountInString(v) > limit {
		return "too long"
	}
	switch fd.Type {
	case "number":
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n < 0 || n > item.MaxNumber || strings.ContainsAny(v, "eEinfINFxX_+-") {
			return "not a plain decimal within MaxNumber"
		}
	case "date":
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return "not a date"
		}
	case "idcard":
		if _, err := ident.ParseIDCard(v, now); err != nil {
			return err.Error()
		}
	case "mobile":
		if _, err := ident.ParseMobile(v); err != nil {
			return err.Error()
		}
	case "creditcode":
		if _, err := ident.ParseCreditCode(v); err != nil {
			return err.Error()
		}
	case "select", "radio", "checkbox":
		for _, part := range strings.Split(v, "、") {
			if fd.Type != "checkbox" && part != v || !containsString(fd.Options, part) {
				return "not an option"
			}
		}
	}
	return ""
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A workflow cell of an import or the editor's box is anyone's text: a
// workflow that parses and validates is written back as text that parses
// to the same steps.
func FuzzParseWorkflow(f *testing.F) {
	f.Add(item.FormatWorkflow(item.DefaultWorkflow))
	f.Add("受理:窗口人员；审查:审批人员、部门负责人:60；决定:部门负责人:30；办结:窗口人员:10")
	f.Add("审查:reviewer:-5")
	f.Add("审查：审批人员：60%")
	f.Add(":::")
	f.Fuzz(func(t *testing.T, text string) {
		steps, err := item.ParseWorkflow(text)
		if err != nil {
			if !hasHan(err.Error()) {
				t.Fatalf("refused without a Chinese reason: %v", err)
			}
			return
		}
		it := item.Item{Workflow: steps}
		for _, e := range it.Invalid() {
			if e.Field == "办理环节" {
				return
			}
		}
		again, err := item.ParseWorkflow(item.FormatWorkflow(steps))
		if err != nil || !reflect.DeepEqual(again, steps) {
			t.Fatalf("%q parsed as %+v, written and read back as %+v (%v)", text, steps, again, err)
		}
	})
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
