package web

// The item editor's lists — materials, application form fields and the
// handling workflow — as rows of plain form controls. Adding, removing and
// moving a row are submit buttons of the editor's one form (name "edit"):
// the handler applies them to what was typed and shows the editor again,
// unsaved, so that it all works without JavaScript.

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/catalog/item"
	"github.com/zwfw/zwfw/internal/policy"
)

// fieldRow is one application form field with the title of its section:
// the editor shows the form flat, a section being the run of rows that
// share a title.
type fieldRow struct {
	Section string
	catalog.FormField
}

func flattenForm(form []catalog.FormSection) []fieldRow {
	var rows []fieldRow
	for _, sec := range form {
		for _, f := range sec.Fields {
			rows = append(rows, fieldRow{Section: sec.Title, FormField: f})
		}
	}
	return rows
}

func groupForm(rows []fieldRow) []catalog.FormSection {
	var out []catalog.FormSection
	for _, r := range rows {
		if n := len(out); n == 0 || out[n-1].Title != r.Section {
			out = append(out, catalog.FormSection{Title: r.Section})
		}
		out[len(out)-1].Fields = append(out[len(out)-1].Fields, r.FormField)
	}
	return out
}

// fieldTypeNames names the form field types for the editor.
var fieldTypeNames = map[string]string{"text": "单行文字", "textarea": "多行文字", "number": "数字", "date": "日期",
	"select": "下拉选择", "radio": "单选", "checkbox": "多选", "idcard": "身份证号码", "mobile": "手机号码",
	"creditcode": "统一社会信用代码", "email": "电子邮箱"}

// workflowRoles are the roles a handling step can be given.
var workflowRoles = []policy.Role{policy.Window, policy.Reviewer, policy.Head}

// listsFromForm reads the three lists' rows, in order. Each list says how
// many rows it has (mat_rows, fld_rows, wf_rows), so that a row whose
// every box was left empty still counts.
func listsFromForm(f url.Values, it *catalog.Item, problems *[]string) {
	rows := func(name string) int {
		n, err := strconv.Atoi(f.Get(name))
		if err != nil || n < 0 || n > 200 {
			return 0
		}
		return n
	}
	num := func(key, label string) int {
		v := strings.TrimSpace(f.Get(key))
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			*problems = append(*problems, label+"应为整数")
		}
		return n
	}
	it.Materials = nil
	for i := range rows("mat_rows") {
		k := func(s string) string { return fmt.Sprintf("mat_%d_%s", i, s) }
		it.Materials = append(it.Materials, catalog.Material{Name: strings.TrimSpace(f.Get(k("name"))), Necessity: f.Get(k("necessity")),
			Form: f.Get(k("form")), Copies: num(k("copies"), fmt.Sprintf("第%d项材料的份数", i+1)), Source: f.Get(k("source")),
			BlankForm: strings.TrimSpace(f.Get(k("blank_form"))), Sample: strings.TrimSpace(f.Get(k("sample"))),
			Notes: strings.TrimSpace(f.Get(k("notes"))), Standard: strings.TrimSpace(f.Get(k("standard")))})
	}
	var fields []fieldRow
	for i := range rows("fld_rows") {
		k := func(s string) string { return fmt.Sprintf("fld_%d_%s", i, s) }
		ff := catalog.FormField{Key: strings.TrimSpace(f.Get(k("key"))), Label: strings.TrimSpace(f.Get(k("label"))), Type: f.Get(k("type")),
			Required: f.Get(k("required")) == "1", Help: strings.TrimSpace(f.Get(k("help"))),
			MaxLength: num(k("max"), fmt.Sprintf("申请表第%d个字段的最大长度", i+1))}
		for _, o := range strings.FieldsFunc(f.Get(k("options")), func(r rune) bool { return r == '、' || r == '\n' }) {
			if o = strings.TrimSpace(o); o != "" {
				ff.Options = append(ff.Options, o)
			}
		}
		section := strings.TrimSpace(f.Get(k("section")))
		if section == "" {
			section = "申请信息"
		}
		fields = append(fields, fieldRow{Section: section, FormField: ff})
	}
	it.Form = groupForm(fields)
	it.Workflow = nil
	for i := range rows("wf_rows") {
		k := func(s string) string { return fmt.Sprintf("wf_%d_%s", i, s) }
		st := catalog.WorkStep{Step: f.Get(k("step")), Share: num(k("share"), fmt.Sprintf("第%d个办理环节的时限占比", i+1))}
		for _, r := range f[k("roles")] {
			st.Roles = append(st.Roles, policy.Role(r))
		}
		it.Workflow = append(it.Workflow, st)
	}
}

// applyEdit adds, removes or moves a row of one of the lists, as the
// button named it: mat-add, fld-del-3, wf-up-1, wf-default …
func applyEdit(it *catalog.Item, edit string) error {
	parts := strings.Split(edit, "-")
	list, op, at := parts[0], "", -1
	if len(parts) > 1 {
		op = parts[1]
	}
	if len(parts) == 3 {
		n, err := strconv.Atoi(parts[2])
		if err != nil {
			return apperr.New(apperr.Invalid, "未知的编辑操作")
		}
		at = n
	}
	fields := flattenForm(it.Form)
	var err error
	switch list {
	case "mat":
		it.Materials, err = editRows(it.Materials, op, at, catalog.Material{Necessity: "必需", Form: "原件", Copies: 1, Source: "申请人自备"})
	case "fld":
		section := "申请信息"
		if n := len(fields); n > 0 {
			section = fields[n-1].Section
		}
		fields, err = editRows(fields, op, at, fieldRow{Section: section, FormField: catalog.FormField{Type: "text"}})
		it.Form = groupForm(fields)
	case "wf":
		switch op {
		case "default": // start from the default workflow, to change it
			it.Workflow = slices.Clone(item.DefaultWorkflow)
		case "clear": // follow the default workflow
			it.Workflow = nil
		default:
			it.Workflow, err = editRows(it.Workflow, op, at, catalog.WorkStep{Step: catalog.StepReview, Roles: []policy.Role{policy.Reviewer}})
		}
	default:
		err = apperr.New(apperr.Invalid, "未知的编辑操作")
	}
	return err
}

func editRows[T any](rows []T, op string, at int, blank T) ([]T, error) {
	if op == "add" {
		return append(rows, blank), nil
	}
	if at < 0 || at >= len(rows) {
		return rows, apperr.New(apperr.Invalid, "要编辑的行不存在，请刷新页面")
	}
	switch op {
	case "del":
		return slices.Delete(rows, at, at+1), nil
	case "up":
		if at > 0 {
			rows[at-1], rows[at] = rows[at], rows[at-1]
		}
		return rows, nil
	case "down":
		if at < len(rows)-1 {
			rows[at], rows[at+1] = rows[at+1], rows[at]
		}
		return rows, nil
	}
	return rows, apperr.New(apperr.Invalid, "未知的编辑操作")
}
