package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
)

// applyPage is the online application form of an item.
type applyPage struct {
	Item     catalog.Item
	Answers  map[string]string
	Problems map[string]string
	CaseID   int64
	Version  int
	Error    string
	Notice   string
}

func (p applyPage) Checked(key, option string) bool {
	for _, v := range strings.Split(p.Answers[key], "、") {
		if v == option {
			return true
		}
	}
	return false
}

// requirePerson sends anonymous visitors to the citizens' sign-in and back.
func requirePerson(w http.ResponseWriter, r *http.Request) (bool, error) {
	if requireSignIn(w, r, false) {
		return false, nil
	}
	if subject(r).Kind != policy.Person {
		return false, apperr.New(apperr.Forbidden, "网上申请须使用个人或法人账户登录。")
	}
	return true, nil
}

func (s *Server) applyForm(w http.ResponseWriter, r *http.Request) error {
	if ok, err := requirePerson(w, r); !ok {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "事项不存在。")
	}
	it, _, err := s.catalog.Published(r.Context(), id)
	if err != nil {
		return err
	}
	p := applyPage{Item: it, Answers: map[string]string{}, Notice: notices[r.URL.Query().Get("done")]}
	// Resume a draft.
	if v := r.URL.Query().Get("case"); v != "" {
		caseID, _ := strconv.ParseInt(v, 10, 64)
		c, _, err := s.cases.Get(r.Context(), subject(r), caseID)
		if err != nil {
			return err
		}
		if c.Status == casework.Draft && c.ItemID == id {
			// The applicant edits their own answers: in full.
			if p.Answers, err = s.cases.Answers(subject(r), c); err != nil {
				return err
			}
			p.CaseID, p.Version = c.ID, c.Version
		}
	}
	return s.render(w, r, http.StatusOK, "apply", "items", p)
}

func answersFrom(it catalog.Item, f url.Values) map[string]string {
	out := map[string]string{}
	for _, sec := range it.Form {
		for _, fld := range sec.Fields {
			if fld.Type == "checkbox" {
				out[fld.Key] = strings.Join(f[fld.Key], "、")
			} else {
				out[fld.Key] = f.Get(fld.Key)
			}
		}
	}
	return out
}

// apply saves the draft, or submits it when the answers are complete; or,
// for the page's script, only checks the answers.
func (s *Server) apply(w http.ResponseWriter, r *http.Request) error {
	if ok, err := requirePerson(w, r); !ok {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "事项不存在。")
	}
	it, _, err := s.catalog.Published(r.Context(), id)
	if err != nil {
		return err
	}
	who, f := subject(r), r.PostForm
	answers, problems := casework.CheckForm(it, answersFrom(it, f), s.clock.Now())
	// The page's script asks as the applicant types (op=check): the
	// problems of the answers so far, by field, and nothing is saved.
	if f.Get("op") == "check" {
		httpx.WriteJSON(w, http.StatusOK, struct {
			Problems map[string]string `json:"problems"`
		}{problems})
		return nil
	}
	p := applyPage{Item: it, Answers: answers}
	p.CaseID, _ = strconv.ParseInt(f.Get("case"), 10, 64)
	p.Version, _ = strconv.Atoi(f.Get("version"))
	fail := func(cause error) error {
		return formError(cause, func(status int, message string) error {
			p.Error = message
			return s.render(w, r, status, "apply", "items", p)
		})
	}
	// Save what was typed in any case, so that nothing is lost.
	var c casework.Case
	if p.CaseID == 0 {
		if c, err = s.cases.CreateDraft(r.Context(), who, id, answers); err != nil {
			return fail(err)
		}
	} else if c, err = s.cases.SaveDraft(r.Context(), who, p.CaseID, p.Version, answers); err != nil {
		return fail(err)
	}
	p.CaseID, p.Version = c.ID, c.Version
	if f.Get("op") != "submit" {
		http.Redirect(w, r, fmt.Sprintf("/items/%d/apply?case=%d&done=saved", id, c.ID), http.StatusSeeOther)
		return nil
	}
	if len(problems) > 0 {
		p.Problems = problems
		return fail(apperr.New(apperr.Invalid, fmt.Sprintf("有 %d 处需要修改，草稿已保存。", len(problems))))
	}
	// The answers are complete: next, the materials, then submission.
	http.Redirect(w, r, fmt.Sprintf("/me/cases/%d?done=formok", c.ID), http.StatusSeeOther)
	return nil
}

// applicantAct lets the applicant submit, hand in corrections or withdraw
// from their case page. Submission checks the answers once more.
func (s *Server) applicantAct(w http.ResponseWriter, r *http.Request) error {
	if ok, err := requirePerson(w, r); !ok {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	who := subject(r)
	c, _, err := s.cases.Get(r.Context(), who, id)
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	a := casework.Action(r.PostForm.Get("op"))
	if a != casework.Submit && a != casework.Resubmit && a != casework.Withdraw {
		return apperr.New(apperr.Invalid, "未知操作")
	}
	if a == casework.Submit {
		it, err := s.catalog.Version(r.Context(), c.ItemID, c.ItemVersion)
		if err != nil {
			return err
		}
		full, err := s.cases.Answers(who, c)
		if err != nil {
			return err
		}
		if _, problems := casework.CheckForm(it, full, s.clock.Now()); len(problems) > 0 {
			return s.renderMyCase(w, r, http.StatusBadRequest, id, "申请表还有未填或填错的内容，请先修改。", "")
		}
	}
	if _, err := s.cases.Act(r.Context(), who, id, version, a, ""); err != nil {
		return s.myCaseRefused(w, r, id, err)
	}
	http.Redirect(w, r, fmt.Sprintf("/me/cases/%d?done=%s", id, a), http.StatusSeeOther)
	return nil
}

// uploadMaterial stores an uploaded (or reused) file for one material.
func (s *Server) uploadMaterial(w http.ResponseWriter, r *http.Request) error {
	if ok, err := requirePerson(w, r); !ok {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		return apperr.New(apperr.NotFound, "没有这项材料。")
	}
	who := subject(r)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return s.renderMyCase(w, r, http.StatusRequestEntityTooLarge, id, fmt.Sprintf("文件超过大小限制（最大 %d MB）。", MaxMaterialBytes>>20), "")
	}
	version, _ := strconv.Atoi(r.FormValue("version"))
	var obj filestore.Object
	var filename string
	var reused int64
	if from := r.FormValue("reuse_case"); from != "" {
		reused, _ = strconv.ParseInt(from, 10, 64)
		m, err := s.cases.MaterialOf(r.Context(), who, reused, mustAtoi(r.FormValue("reuse_position")))
		if err != nil {
			return s.myCaseRefused(w, r, id, err)
		}
		// The stored file itself says what it is (a result's size is not
		// kept on its case).
		rc, stored, err := s.files.Open(r.Context(), m.SHA256)
		if err != nil {
			return err
		}
		rc.Close()
		obj, filename = stored, m.Filename
	} else {
		file, header, err := r.FormFile("file")
		if err != nil {
			return s.renderMyCase(w, r, http.StatusBadRequest, id, "请选择要上传的文件（PDF、JPEG 或 PNG）。", "")
		}
		defer file.Close()
		// The file is durable in the store before the case records it.
		if obj, err = s.files.Put(r.Context(), file, MaxMaterialBytes); err != nil {
			return s.myCaseRefused(w, r, id, err)
		}
		filename = header.Filename
	}
	if _, err := s.cases.Attach(r.Context(), who, id, version, n, obj, filename, reused); err != nil {
		if reused == 0 {
			s.discard(r, obj)
		}
		return s.myCaseRefused(w, r, id, err)
	}
	http.Redirect(w, r, fmt.Sprintf("/me/cases/%d?done=uploaded", id), http.StatusSeeOther)
	return nil
}

// discard deletes the file a refused request stored, unless a case
// refers to it (staging.Store.Discard); a failure leaves it to the sweeper.
func (s *Server) discard(r *http.Request, obj filestore.Object) {
	d, ok := s.files.(interface {
		Discard(context.Context, ...string) (int, error)
	})
	if !ok || obj.SHA256 == "" {
		return
	}
	if _, err := d.Discard(context.WithoutCancel(r.Context()), obj.SHA256); err != nil {
		s.log.Warn("refused upload not deleted", "request_id", httpx.RequestID(r.Context()), "err", err)
	}
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// downloadMaterial sends a case's material to the applicant or the staff
// allowed to see the case.
func (s *Server) downloadMaterial(w http.ResponseWriter, r *http.Request) error {
	if requireSignIn(w, r, false) {
		return nil
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		return apperr.New(apperr.NotFound, "没有这份材料。")
	}
	m, err := s.cases.MaterialOf(r.Context(), subject(r), id, n)
	if err != nil {
		return err
	}
	return s.sendFile(w, r, m.SHA256, m.ContentType, m.Filename)
}

// sendFile streams a stored file as a download.
func (s *Server) sendFile(w http.ResponseWriter, r *http.Request, sha256, contentType, name string) error {
	f, _, err := s.files.Open(r.Context(), sha256)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("Cache-Control", "private, no-store")
	_, err = io.Copy(w, f)
	return err
}

func (s *Server) myCases(w http.ResponseWriter, r *http.Request) error {
	if ok, err := requirePerson(w, r); !ok {
		return err
	}
	list, err := s.cases.Mine(r.Context(), subject(r))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "mycases", "me", list)
}

func (s *Server) myCase(w http.ResponseWriter, r *http.Request) error {
	if requireSignIn(w, r, false) {
		return nil
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderMyCase(w, r, http.StatusOK, id, "", caseNotices[r.URL.Query().Get("done")])
}

var caseNotices = map[string]string{"submit": "申请已提交，请留意办理进度和消息。", "resubmit": "补正材料已提交。",
	"withdraw": "申请已撤回。", "uploaded": "材料已保存。", "formok": "申请表已保存。请上传材料，然后提交申请。"}

// caseMaterialRow is one of the item's materials with what was handed in.
type caseMaterialRow struct {
	catalog.Material
	N        int
	Attached *casework.Material
	Reusable []casework.Material
}

type myCasePage struct {
	Documents   []casework.Document
	Case        casework.Case
	Item        catalog.Item
	Events      []casework.Event
	Answers     []answerRow
	Materials   []caseMaterialRow
	Editable    bool
	Notice      string
	Error       string
	Deadline    casework.Deadline
	HasDeadline bool
}

// caseRecord is everything a case page shows of a case.
type caseRecord struct {
	Case      casework.Case
	Events    []casework.Event
	Item      catalog.Item // the version the case was made under
	Materials []casework.Material
	Documents []casework.Document
}

// record loads a case for someone allowed to see it.
func (s *Server) record(r *http.Request, id int64) (caseRecord, error) {
	var rec caseRecord
	var err error
	if rec.Case, rec.Events, err = s.cases.Get(r.Context(), subject(r), id); err != nil {
		return rec, err
	}
	if rec.Item, err = s.catalog.Version(r.Context(), rec.Case.ItemID, rec.Case.ItemVersion); err != nil {
		return rec, err
	}
	rec.Materials, rec.Documents, err = s.cases.Papers(r.Context(), subject(r), id)
	return rec, err
}

func (s *Server) renderMyCase(w http.ResponseWriter, r *http.Request, status int, id int64, errMsg, notice string) error {
	who := subject(r)
	rec, err := s.record(r, id)
	if err != nil {
		return err
	}
	c, it, mats := rec.Case, rec.Item, rec.Materials
	// Applicants check their own draft's answers in full before they
	// submit; afterwards the page shows them masked, as everywhere.
	form, full := c.Form, c.Status == casework.Draft && who.Kind == policy.Person
	if full {
		if form, err = s.cases.Answers(who, c); err != nil {
			return err
		}
	}
	p := myCasePage{Documents: rec.Documents, Case: c, Item: it, Events: rec.Events, Answers: answers(it, form, full, nil), Error: errMsg, Notice: notice,
		Editable: who.Kind == policy.Person && (c.Status == casework.Draft || c.Status == casework.Correction)}
	p.Deadline, p.HasDeadline = s.cases.DeadlineOf(c, it, rec.Events)
	for i, m := range it.Materials {
		row := caseMaterialRow{Material: m, N: i}
		for j := range mats {
			if mats[j].Position == i {
				row.Attached = &mats[j]
			}
		}
		if p.Editable && row.Attached == nil {
			if row.Reusable, err = s.cases.Reusable(r.Context(), who, c.ID, m.Name); err != nil {
				return err
			}
		}
		p.Materials = append(p.Materials, row)
	}
	return s.render(w, r, status, "mycase", "me", p)
}

// answerRow is one answer as a page shows it. Personal answers come
// masked from the service (and older rows' plain ones are masked here);
// the applicant's own full answers pass through as they are.
type answerRow struct {
	Key, Label, Value string
	Personal          bool   // a personal answer
	Revealed          bool   // shown in full, once, after an audited reveal
	Reveal            string // where to ask to see it in full, for those who may
}

// answers lists the form's answers, masked unless full (the applicant's
// own); shown holds values revealed for this one response, by field key.
func answers(it catalog.Item, form map[string]string, full bool, shown map[string]string) []answerRow {
	var out []answerRow
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			v := form[f.Key]
			row := answerRow{Key: f.Key, Label: f.Label, Value: v, Personal: casework.Personal(f.Type) && v != ""}
			if !full {
				row.Value = casework.MaskAnswer(f.Type, v)
			}
			if sv, ok := shown[f.Key]; ok {
				row.Value, row.Revealed = sv, true
			}
			out = append(out, row)
		}
	}
	return out
}

type staffCasePage struct {
	Editable    bool              // a draft taken in at the counter: the clerk fills it
	Draft       map[string]string // its answers in full, for the clerk's form
	Case        casework.Case
	Item        catalog.Item
	Events      []casework.Event
	Answers     []answerRow
	Applicant   string      // the applicant's name
	Account     []answerRow // the applicant account's numbers, masked
	Materials   []casework.Material
	Documents   []casework.Document
	Actions     []casework.Action
	Deadline    casework.Deadline
	HasDeadline bool
	Error       string
	Notice      string
	// Departments a case may be transferred to, when it may be.
	Departments []region.Department
	// The step the case waits for and by when, from the item's workflow.
	Step    string
	StepDue calendar.Date
}

// DeliveryMethods are the ways a result may reach the applicant.
func (staffCasePage) DeliveryMethods() []string {
	return []string{casework.DeliverOnline, casework.DeliverExpress, casework.DeliverWindow}
}

// Basis is the first line of the item's legal basis, a decision's default.
func (p staffCasePage) Basis() string {
	line, _, _ := strings.Cut(strings.TrimSpace(p.Item.Basis), "\n")
	return line
}

func (s *Server) staffOnly(w http.ResponseWriter, r *http.Request) (bool, error) {
	if requireSignIn(w, r, true) {
		return false, nil
	}
	if subject(r).Kind != policy.Staff {
		return false, apperr.New(apperr.Forbidden, "工作台只对工作人员开放。")
	}
	return true, nil
}

func (s *Server) queue(w http.ResponseWriter, r *http.Request) error {
	if ok, err := s.staffOnly(w, r); !ok {
		return err
	}
	st := casework.Status(r.PathValue("status"))
	if st.Name() == "" {
		return apperr.New(apperr.NotFound, "没有这个队列。")
	}
	q := r.URL.Query()
	f := casework.QueueFilter{Query: q.Get("q"), Due: q.Get("due"), Channel: q.Get("channel")}
	list, err := s.cases.Queue(r.Context(), subject(r), st, f, 200)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "queue", "workbench", struct {
		Status casework.Status
		Filter casework.QueueFilter
		Cases  []casework.QueueEntry
	}{st, f, list})
}

func (s *Server) staffCase(w http.ResponseWriter, r *http.Request) error {
	if ok, err := s.staffOnly(w, r); !ok {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderStaffCase(w, r, http.StatusOK, id, "", notices[r.URL.Query().Get("done")])
}

func (s *Server) renderStaffCase(w http.ResponseWriter, r *http.Request, status int, id int64, errMsg, notice string) error {
	return s.renderStaffCaseShowing(w, r, status, id, errMsg, notice, nil)
}

// renderStaffCaseShowing renders the staff case page with the numbers in
// shown (by answer key, or "account:id_number" / "account:mobile") in full.
func (s *Server) renderStaffCaseShowing(w http.ResponseWriter, r *http.Request, status int, id int64, errMsg, notice string, shown map[string]string) error {
	who := subject(r)
	rec, err := s.record(r, id)
	if err != nil {
		return err
	}
	c, it, events, mats, docs := rec.Case, rec.Item, rec.Events, rec.Materials, rec.Documents
	d, has := s.cases.DeadlineOf(c, it, events)
	p := staffCasePage{Editable: casework.Editable(who, c), Case: c, Item: it, Events: events, Answers: answers(it, c.Form, false, shown), Materials: mats, Documents: docs,
		Actions: casework.Available(who, c, it), Deadline: d, HasDeadline: has, Error: errMsg, Notice: notice}
	if p.Editable {
		if p.Draft, err = s.cases.Answers(who, c); err != nil {
			return err
		}
	}
	acc, err := s.identity.Account(r.Context(), c.ApplicantID)
	if err != nil {
		return err
	}
	p.Applicant = acc.Name
	for _, n := range []answerRow{{Key: "account:id_number", Label: "身份证号码", Value: acc.IDNumberMasked},
		{Key: "account:mobile", Label: "手机号码", Value: acc.MobileMasked}} {
		n.Personal = n.Value != ""
		if v, ok := shown[n.Key]; ok {
			n.Value, n.Revealed = v, true
		}
		p.Account = append(p.Account, n)
	}
	// The department's reviewers and heads may ask to see a number in full.
	if policy.Check(who, policy.Reveal, c.Resource()) == nil {
		for _, rows := range [][]answerRow{p.Answers, p.Account} {
			for i := range rows {
				if rows[i].Personal && !rows[i].Revealed {
					rows[i].Reveal = fmt.Sprintf("/workbench/cases/%d/reveal", c.ID)
				}
			}
		}
	}
	p.Step, p.StepDue, _ = s.cases.StepDue(c, it)
	if slices.Contains(p.Actions, casework.Transfer) {
		all, err := s.regions.Departments(r.Context(), region.DepartmentFilter{})
		if err != nil {
			return err
		}
		for _, dep := range all {
			if dep.ID != c.DepartmentID {
				p.Departments = append(p.Departments, dep)
			}
		}
	}
	return s.render(w, r, status, "staffcase", "workbench", p)
}

// staffAct takes one workflow action on a case. If someone else acted
// first, the page says so and shows the case as it now is.
func (s *Server) staffAct(w http.ResponseWriter, r *http.Request) error {
	if ok, err := s.staffOnly(w, r); !ok {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, who, version := r.PostForm, subject(r), mustAtoi(r.PostForm.Get("version"))
	switch a := casework.Action(f.Get("op")); a {
	case casework.Decide:
		outcome := f.Get("outcome")
		if outcome != "approve" && outcome != "deny" {
			return s.renderStaffCase(w, r, http.StatusBadRequest, id, "请选择准予或不予。", "")
		}
		_, err = s.cases.Decide(r.Context(), who, id, version, outcome == "approve", f.Get("reason"), f.Get("basis"))
	case casework.Transfer:
		dept, _ := strconv.ParseInt(f.Get("department"), 10, 64)
		_, err = s.cases.Transfer(r.Context(), who, id, version, dept, f.Get("reason"))
		if err == nil {
			// The case has left this department: back to its queue.
			http.Redirect(w, r, "/workbench?done=transferred", http.StatusSeeOther)
			return nil
		}
	case casework.Deliver:
		_, err = s.cases.Deliver(r.Context(), who, id, version, f.Get("method"), f.Get("detail"))
	default:
		_, err = s.cases.Act(r.Context(), who, id, version, a, f.Get("reason"))
	}
	return s.staffDone(w, r, id, err, "acted")
}

// staffReveal shows one number of a case in full, once: an answer of its
// form, or the applicant account's identity or mobile number. It takes a
// reason and staff who may reveal data on the case; every reveal is on the
// audit record, and the page is not stored by the browser.
func (s *Server) staffReveal(w http.ResponseWriter, r *http.Request) error {
	if ok, err := s.staffOnly(w, r); !ok {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	who, field, reason := subject(r), r.PostForm.Get("field"), r.PostForm.Get("reason")
	var value string
	if number, ok := strings.CutPrefix(field, "account:"); ok {
		var c casework.Case
		if c, _, err = s.cases.Get(r.Context(), who, id); err != nil {
			return err
		}
		value, err = s.identity.Reveal(r.Context(), who, c.ApplicantID, number, reason,
			identity.Grounds{Resource: c.Resource(), Name: "办件 " + c.Number}, meta(r))
	} else {
		value, err = s.cases.RevealAnswer(r.Context(), who, id, field, reason, meta(r).IP)
	}
	if err != nil {
		return s.staffCaseRefused(w, r, id, err)
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.renderStaffCaseShowing(w, r, http.StatusOK, id, "", "完整号码只在本页显示这一次；本次查看已记入审计日志。", map[string]string{field: value})
}

// document shows a notice ready to print on A4.
func (s *Server) document(w http.ResponseWriter, r *http.Request) error {
	if requireSignIn(w, r, false) {
		return nil
	}
	caseID, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "没有找到。")
	}
	docID, err := strconv.ParseInt(r.PathValue("doc"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "没有这份文书。")
	}
	d, err := s.cases.DocumentOf(r.Context(), subject(r), caseID, docID)
	if err != nil {
		return err
	}
	dept, err := s.regions.Department(r.Context(), d.DepartmentID)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "notice", "", struct {
		Doc        casework.Document
		Department string // the issuer of a notice that does not name it
		Layout     casework.Layout
	}{d, dept.Name, d.Layout()})
}

// lookupLimit bounds public lookups per address and minute, so that case
// numbers and mobile numbers cannot be tried in bulk. It is counted in the
// database, so it holds across every instance.
const lookupLimit = 10

// lookup lets anyone see the status of a case from its number and the
// applicant's mobile number, without signing in.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	number, mobile := strings.TrimSpace(q.Get("number")), strings.TrimSpace(q.Get("mobile"))
	p := struct {
		Number, Mobile, Error string
		Result                *casework.Public
	}{Number: number}
	status := http.StatusOK
	if number != "" || mobile != "" {
		ok, _, err := s.throttle.Allow(r.Context(), "lookup:"+meta(r).IP, lookupLimit, time.Minute)
		if err != nil {
			return err
		}
		if !ok {
			p.Error, status = "查询过于频繁，请一分钟后再试。", http.StatusTooManyRequests
		} else if res, applicant, err := s.cases.ByNumber(r.Context(), number); err != nil {
			if apperr.CodeOf(err) == apperr.Internal {
				return err
			}
			p.Error, status = apperr.MessageOf(err), http.StatusNotFound
		} else if ok, err := s.identity.MobileMatches(r.Context(), applicant, mobile); err != nil {
			return err
		} else if !ok {
			// The same answer as an unknown number: which numbers exist is not told.
			p.Error, status = "没有找到该办件，请核对办件编号和手机号码。", http.StatusNotFound
		} else {
			p.Result = &res
		}
	}
	return s.render(w, r, status, "lookup", "", p)
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request) error {
	if requireSignIn(w, r, false) {
		return nil
	}
	list, err := s.cases.Messages(r.Context(), subject(r))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "messages", "me", list)
}

// pathID reads a numeric ID from the URL path; anything else is not found.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.NotFound, "没有找到。")
	}
	return id, nil
}
