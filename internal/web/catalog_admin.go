package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/catalog/exchange"
	"github.com/zwfw/zwfw/internal/catalog/item"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
)

// catalogDept is the department a catalog manager's pages are limited to
// (0: every department); the routes' guard lets in only those with a scope.
func catalogDept(who policy.Subject) int64 {
	dept, _ := catalogScope(who)
	return dept
}

// catalogScope asks the policy which items who may manage (edit, or
// review and publish): the whole catalog (0), their own department's, or
// none.
func catalogScope(who policy.Subject) (int64, error) {
	if policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Catalog}) == nil {
		return 0, nil
	}
	own := policy.Resource{Kind: policy.Item, DepartmentID: who.DepartmentID}
	if who.DepartmentID != 0 && (policy.Check(who, policy.Edit, own) == nil || policy.Check(who, policy.Publish, own) == nil) {
		return who.DepartmentID, nil
	}
	return 0, apperr.New(apperr.Forbidden, "事项管理只对事项管理员、部门负责人和系统管理员开放。")
}

// adminPageSize is how many items /admin/items lists a page.
const adminPageSize = 50

func (s *Server) itemsAdmin(w http.ResponseWriter, r *http.Request) error {
	dept := catalogDept(subject(r))
	q := r.URL.Query()
	f := catalog.ManagedFilter{DepartmentID: dept, Query: q.Get("q"), State: q.Get("state")}
	page := pageNumber(r)
	list, total, err := s.catalog.ManagedItems(r.Context(), f, (page-1)*adminPageSize, adminPageSize)
	if err != nil {
		return err
	}
	depts, err := s.deptNames(r)
	if err != nil {
		return err
	}
	pages := max(1, (total+adminPageSize-1)/adminPageSize)
	link := func(p int) string {
		v := url.Values{}
		for _, k := range []string{"q", "state"} {
			if x := q.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		v.Set("page", strconv.Itoa(p))
		return "/admin/items?" + v.Encode()
	}
	var prev, next string
	if page > 1 {
		prev = link(page - 1)
	}
	if page < pages {
		next = link(page + 1)
	}
	who := subject(r)
	return s.render(w, r, http.StatusOK, "itemsadmin", "admin", struct {
		Items         []catalog.Managed
		DeptNames     map[int64]string
		Filter        catalog.ManagedFilter
		Total         int
		Page, Pages   int
		Prev, Next    string
		Admin, CanNew bool
		ImportExport  bool
	}{list, depts, f, total, page, pages, prev, next, dept == 0,
		policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Item, DepartmentID: who.DepartmentID}) == nil || dept == 0,
		s.guardOf("POST "+CatalogImportPath).allows(who) == nil})
}

func (s *Server) deptNames(r *http.Request) (map[int64]string, error) {
	all, err := s.regions.Departments(r.Context(), region.DepartmentFilter{})
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, d := range all {
		names[d.ID] = d.ShortName
	}
	return names, nil
}

// editorPage is the item editor: the item as typed, the problems it has,
// its history, and the choices of the form.
type editorPage struct {
	Item        catalog.Item
	Managed     catalog.Managed
	New         bool
	Error       string
	Notice      string
	Problems    []catalog.Problem
	History     []catalog.Change
	Departments []region.Department
	Types       []struct {
		Type catalog.ItemType
		Name string
	}
	Subjects []string
	Themes   map[string][]string
	Depths   []catalog.Depth
	Steps    string
	Aliases  string
	// The rows of the structured lists, and their choices.
	Fields        []fieldRow
	FieldTypes    []string
	FieldTypeName map[string]string
	StepNames     []string
	Roles         []policy.Role
	// What who may do with the newest version: edit it, submit it for
	// review, review it (publish or return).
	CanEdit, CanSubmit, CanReview bool
}

// may fills what who may do with the item p shows.
func (p *editorPage) may(who policy.Subject) {
	res := policy.Resource{Kind: policy.Item, DepartmentID: p.Managed.DepartmentID}
	if p.New {
		p.CanEdit = true // itemNew lets in only editors; the store checks the department
		return
	}
	m := p.Managed
	p.CanEdit = policy.Check(who, policy.Edit, res) == nil
	p.CanSubmit = p.CanEdit && m.HasDraft() && m.InReview == 0 && m.Status != catalog.Cancelled
	p.CanReview = policy.Check(who, policy.Publish, res) == nil && m.InReview != 0 && m.InReview == m.LatestVersion
}

// HasRole reports whether a workflow step's roles include r.
func (p editorPage) HasRole(roles []policy.Role, r policy.Role) bool {
	return slices.Contains(roles, r)
}

func (p editorPage) Has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) editor(r *http.Request, p editorPage, dept int64) (editorPage, error) {
	f := region.DepartmentFilter{}
	all, err := s.regions.Departments(r.Context(), f)
	if err != nil {
		return p, err
	}
	for _, d := range all {
		if dept == 0 || d.ID == dept {
			p.Departments = append(p.Departments, d)
		}
	}
	p.Types, p.Subjects, p.Themes = item.ItemTypes, item.Subjects, item.Themes
	p.Depths = []catalog.Depth{catalog.DepthPublic, catalog.DepthPrecheck, catalog.DepthApply, catalog.DepthFull}
	if p.Steps == "" {
		var lines []string
		for _, st := range p.Item.Steps {
			lines = append(lines, st.Name+"："+st.Description)
		}
		p.Steps = strings.Join(lines, "\n")
	}
	p.Fields = flattenForm(p.Item.Form)
	p.FieldTypes, p.FieldTypeName, p.StepNames, p.Roles = item.FieldTypes, fieldTypeNames, item.StepOrder, workflowRoles
	if p.Aliases == "" {
		p.Aliases = strings.Join(p.Item.Aliases, "、")
	}
	if p.Item.ID != 0 {
		if p.History, err = s.catalog.History(r.Context(), p.Item.ID); err != nil {
			return p, err
		}
	}
	p.may(subject(r))
	return p, nil
}

func (s *Server) itemNew(w http.ResponseWriter, r *http.Request) error {
	who := subject(r)
	dept := catalogDept(who)
	if dept != 0 && policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Item, DepartmentID: dept}) != nil {
		return apperr.New(apperr.Forbidden, "新建和修改事项由事项管理员进行；部门负责人审核提交的版本。")
	}
	p, err := s.editor(r, editorPage{New: true, Item: catalog.Item{Type: catalog.PublicService, CaseKind: catalog.Promised,
		Depth: catalog.DepthApply, LegalLimit: catalog.TimeLimit{Unit: "工作日"}, PromiseLimit: catalog.TimeLimit{Unit: "工作日"}}}, dept)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "itemedit", "admin", p)
}

func (s *Server) itemEdit(w http.ResponseWriter, r *http.Request) error {
	dept := catalogDept(subject(r))
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "事项不存在")
	}
	it, m, err := s.catalog.Latest(r.Context(), id)
	if err != nil {
		return err
	}
	if dept != 0 && m.DepartmentID != dept {
		return apperr.New(apperr.Forbidden, "只能管理本部门的事项。")
	}
	p, err := s.editor(r, editorPage{Item: it, Managed: m, Problems: it.Problems(), Notice: notices[r.URL.Query().Get("done")]}, dept)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "itemedit", "admin", p)
}

// itemFromForm reads the editor's fields. Short lists are one per line or
// separated by 、; materials, form fields and workflow steps are rows
// (see listsFromForm).
func itemFromForm(f url.Values) (catalog.Item, error) {
	var problems []string
	num := func(name, label string) int {
		v := strings.TrimSpace(f.Get(name))
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			problems = append(problems, label+"应为整数")
		}
		return n
	}
	it := catalog.Item{
		Name: strings.TrimSpace(f.Get("name")), BaseCode: strings.TrimSpace(f.Get("base_code")),
		HandlingKind: f.Get("handling_kind"), ParentCode: strings.TrimSpace(f.Get("parent_code")),
		Type: catalog.ItemType(f.Get("type")), Department: f.Get("department"), Basis: f.Get("basis"),
		Subjects: f["subjects"], Themes: f["themes"], CaseKind: catalog.CaseKind(f.Get("case_kind")),
		LegalLimit:   catalog.TimeLimit{Value: num("legal_value", "法定时限"), Unit: f.Get("legal_unit"), Note: f.Get("legal_note")},
		PromiseLimit: catalog.TimeLimit{Value: num("promise_value", "承诺时限"), Unit: f.Get("promise_unit"), Note: f.Get("promise_note")},
		Visits:       num("visits", "到现场次数"), VisitReason: f.Get("visit_reason"), Depth: catalog.Depth(num("depth", "网上办理深度")),
		Conditions: f.Get("conditions"), Special: f.Get("special"),
		Fee:    catalog.Fee{Charged: f.Get("fee_charged") == "1", Basis: f.Get("fee_basis"), Standard: f.Get("fee_standard"), Waiver: f.Get("fee_waiver")},
		Result: catalog.Result{Name: f.Get("result_name"), Type: f.Get("result_type"), Sample: f.Get("result_sample")},
		Place:  f.Get("place"), Hours: f.Get("hours"), ConsultPhone: strings.TrimSpace(f.Get("consult_phone")),
		ComplaintPhone: strings.TrimSpace(f.Get("complaint_phone")), Express: f.Get("express") == "1",
		OnlinePayment: f.Get("online_payment") == "1", Appointment: f.Get("appointment") == "1", SelfService: f.Get("self_service") == "1",
	}
	for _, line := range strings.Split(f.Get("steps"), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		name, desc, ok := strings.Cut(line, "：")
		if !ok {
			name, desc, ok = strings.Cut(line, ":")
		}
		if !ok {
			problems = append(problems, "办理流程每行应为“环节：说明”："+line)
			continue
		}
		it.Steps = append(it.Steps, catalog.Step{Name: strings.TrimSpace(name), Description: strings.TrimSpace(desc)})
	}
	for _, a := range strings.FieldsFunc(f.Get("aliases"), func(r rune) bool { return r == '、' || r == ',' || r == '，' || r == '\n' }) {
		if a = strings.TrimSpace(a); a != "" {
			it.Aliases = append(it.Aliases, a)
		}
	}
	listsFromForm(f, &it, &problems)
	if len(problems) > 0 {
		return it, apperr.New(apperr.Invalid, strings.Join(problems, "；"))
	}
	return it, nil
}

// itemSave stores the form as a new draft version; citizens see no change
// until it is published.
func (s *Server) itemSave(w http.ResponseWriter, r *http.Request) error {
	dept := catalogDept(subject(r))
	var id int64
	var err error
	if v := r.PathValue("id"); v != "" {
		if id, err = strconv.ParseInt(v, 10, 64); err != nil {
			return apperr.New(apperr.NotFound, "事项不存在")
		}
	}
	it, perr := itemFromForm(r.PostForm)
	p := editorPage{Item: it, New: id == 0, Steps: r.PostForm.Get("steps"), Aliases: r.PostForm.Get("aliases")}
	fail := func(cause error) error {
		return formError(cause, func(status int, message string) error {
			p.Error = message
			page, err := s.editor(r, p, dept)
			if err != nil {
				return err
			}
			return s.render(w, r, status, "itemedit", "admin", page)
		})
	}
	if edit := r.PostForm.Get("edit"); edit != "" {
		// A row added, removed or moved: shown again, not saved.
		if id != 0 {
			if _, p.Managed, err = s.catalog.Latest(r.Context(), id); err != nil {
				return err
			}
			p.Item.ID, p.Item.ImplCode = id, p.Managed.ImplCode
		}
		if err := applyEdit(&p.Item, edit); err != nil {
			return fail(err)
		}
		p.Notice = "已修改列表，尚未保存：改完后请点“保存为草稿”。"
		page, err := s.editor(r, p, dept)
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, "itemedit", "admin", page)
	}
	if perr != nil {
		return fail(perr)
	}
	if id != 0 {
		old, m, err := s.catalog.Latest(r.Context(), id)
		if err != nil {
			return err
		}
		if dept != 0 && m.DepartmentID != dept {
			return apperr.New(apperr.Forbidden, "只能管理本部门的事项。")
		}
		// The implementing body and code identify the item; they do not change.
		it.ID, it.ImplCode, it.Department = id, old.ImplCode, old.Department
		p.Item = it
	}
	if dept != 0 {
		d, err := s.regions.Department(r.Context(), dept)
		if err != nil {
			return err
		}
		if id == 0 && it.Department != d.Slug {
			return fail(apperr.New(apperr.Forbidden, "只能为本部门新建事项。"))
		}
	}
	if _, err := s.catalog.SaveDraft(r.Context(), subject(r), meta(r), &it); err != nil {
		return fail(err)
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/items/%d?done=draft", it.ID), http.StatusSeeOther)
	return nil
}

// itemPublish submits the newest version for review, approves (publishes)
// or returns it, or changes the item's status (suspend, resume, cancel)
// with a reason. The form names the version it acts on, so that a
// reviewer never approves a version saved after they looked.
func (s *Server) itemPublish(w http.ResponseWriter, r *http.Request) error {
	dept := catalogDept(subject(r))
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "事项不存在")
	}
	_, m, err := s.catalog.Latest(r.Context(), id)
	if err != nil {
		return err
	}
	if dept != 0 && m.DepartmentID != dept {
		return apperr.New(apperr.Forbidden, "只能管理本部门的事项。")
	}
	op, reason := r.PostForm.Get("op"), r.PostForm.Get("reason")
	who, meta := subject(r), meta(r)
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	switch op {
	case "submit":
		err = s.catalog.SubmitForReview(r.Context(), who, meta, id, version)
	case "publish":
		err = s.catalog.Publish(r.Context(), who, meta, id, version)
	case "return":
		err = s.catalog.Return(r.Context(), who, meta, id, version, reason)
	case "suspend":
		err = s.catalog.SetStatus(r.Context(), who, meta, id, catalog.Suspended, reason)
	case "resume":
		err = s.catalog.SetStatus(r.Context(), who, meta, id, catalog.Published, reason)
	case "cancel":
		err = s.catalog.SetStatus(r.Context(), who, meta, id, catalog.Cancelled, reason)
	default:
		err = apperr.New(apperr.Invalid, "未知操作")
	}
	if err != nil {
		return formError(err, func(status int, message string) error {
			it, m, err := s.catalog.Latest(r.Context(), id)
			if err != nil {
				return err
			}
			p, err := s.editor(r, editorPage{Item: it, Managed: m, Problems: it.Problems(), Error: message}, dept)
			if err != nil {
				return err
			}
			return s.render(w, r, status, "itemedit", "admin", p)
		})
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/items/%d?done=%s", id, op), http.StatusSeeOther)
	return nil
}

// catalogExport downloads the whole published catalog with its bundles
// (a CSV file holds the items only); exports are audited.
func (s *Server) catalogExport(w http.ResponseWriter, r *http.Request) error {
	format := exchange.Format(r.URL.Query().Get("format"))
	if format != exchange.XLSX && format != exchange.CSV && format != exchange.JSON {
		return apperr.New(apperr.Invalid, "导出格式应为 xlsx、csv 或 json")
	}
	if err := s.catalog.RecordExport(r.Context(), subject(r), meta(r), format); err != nil {
		return err
	}
	ct := map[exchange.Format]string{exchange.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		exchange.CSV: "text/csv; charset=utf-8", exchange.JSON: "application/json"}[format]
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="zwfw-catalog-%s.%s"`, s.clock.Now().In(chinaTZ).Format("20060102"), format))
	if s.bundles == nil {
		_, err := s.catalog.Export(r.Context(), w, format, nil)
		return err
	}
	_, _, err := s.bundles.ExportCatalog(r.Context(), subject(r), w, format)
	return err
}

// catalogImport takes an uploaded catalog file, items and bundles: all
// rows or none.
func (s *Server) catalogImport(w http.ResponseWriter, r *http.Request) error {
	file, header, err := r.FormFile("file")
	if err != nil {
		return apperr.New(apperr.Invalid, "请选择要导入的文件（.xlsx、.csv 或 .json）。")
	}
	defer file.Close()
	format, err := exchange.FormatOf(header.Filename)
	if err != nil {
		return apperr.Wrap(apperr.Invalid, err.Error(), err)
	}
	actor := catalog.ActorName(subject(r)) + " 网页导入 " + header.Filename
	var res bundle.ImportResult
	if s.bundles == nil {
		res.ImportResult, err = s.catalog.Import(r.Context(), file, format, actor, nil)
	} else {
		res, err = s.bundles.ImportCatalog(r.Context(), subject(r), meta(r), file, format, actor, nil)
	}
	var rows []exchange.RowError
	var ie *exchange.ImportError
	status := http.StatusOK
	if errors.As(err, &ie) {
		rows, status = ie.Rows, http.StatusBadRequest
	} else if err != nil {
		return err
	}
	return s.render(w, r, status, "importresult", "admin", struct {
		File   string
		Result bundle.ImportResult
		Failed bool
		Rows   []exchange.RowError
	}{header.Filename, res, err != nil, rows})
}

// qualityPage lists published items that break a quality rule: all of them
// for an administrator, the department's own for a catalog manager.
func (s *Server) qualityPage(w http.ResponseWriter, r *http.Request) error {
	who := subject(r)
	failing, err := s.catalog.QualityReport(r.Context())
	if err != nil {
		return err
	}
	shown := failing[:0]
	for _, f := range failing {
		if policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Item, DepartmentID: f.Item.DepartmentID}) == nil {
			shown = append(shown, f)
		}
	}
	type rule struct {
		Rule, Description string
		Failing           int
	}
	rules := make([]rule, len(item.Rules))
	at := map[string]int{}
	for i, ru := range item.Rules {
		rules[i], at[ru.Rule] = rule{Rule: ru.Rule, Description: ru.Description}, i
	}
	for _, f := range shown {
		counted := map[string]bool{}
		for _, p := range f.Problems {
			if i, ok := at[p.Rule]; ok && !counted[p.Rule] {
				rules[i].Failing++
				counted[p.Rule] = true
			}
		}
	}
	return s.render(w, r, http.StatusOK, "quality", "admin", struct {
		Rules   []rule
		Failing []catalog.Failing
	}{rules, shown})
}
