package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
)

// applyPage is the online application form of an item.
type applyPage struct {
	Item     catalog.Item
	Answers  map[string]string
	Problems map[string]string
	Fixed    map[string]bool // answers from the applicant's account, not to be changed
	CaseID   int64
	Version  int
	Error    string
	Notice   string
}

// problem is one line of the error summary above a form.
type problem struct{ Field, Message string }

// ProblemList lists the form's problems in the order of its fields, each
// with the id of the control it links to (the first option of a choice).
func (p applyPage) ProblemList() []problem {
	return problemList(p.Item, p.Problems, "f-")
}

func problemList(it catalog.Item, problems map[string]string, prefix string) []problem {
	var out []problem
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			msg, ok := problems[f.Key]
			if !ok {
				continue
			}
			id := prefix + f.Key
			if f.Type == "radio" || f.Type == "checkbox" {
				id += "-0"
			}
			out = append(out, problem{id, msg})
		}
	}
	return out
}

func (p applyPage) Checked(key, option string) bool {
	for _, v := range strings.Split(p.Answers[key], "、") {
		if v == option {
			return true
		}
	}
	return false
}

func (s *Server) applyForm(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "事项不存在。")
	}
	it, _, err := s.catalog.Published(r.Context(), id)
	if err != nil {
		return err
	}
	p := applyPage{Item: it, Notice: notices[r.URL.Query().Get("done")]}
	// A new application starts with what the account tells.
	if p.Answers, p.Fixed, err = s.cases.Prefill(r.Context(), subject(r), it); err != nil {
		return err
	}
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
	if _, p.Fixed, err = s.cases.Prefill(r.Context(), who, it); err != nil {
		return err
	}
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
	// What was saved: the account's own answers stay the account's.
	if p.Answers, err = s.cases.Answers(who, c); err != nil {
		return err
	}
	_, problems = casework.CheckForm(it, p.Answers, s.clock.Now())
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
	// Withdrawing cannot be undone: the page asks once more.
	if a == casework.Withdraw && r.PostForm.Get("confirm") != "yes" {
		return s.renderMyCaseAs(w, r, id, myCaseShow{status: http.StatusOK, confirmWithdraw: true})
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
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		return apperr.New(apperr.NotFound, "没有这项材料。")
	}
	who := subject(r)
	// A refused upload says which material it was for, at that material.
	refuse := func(status int, message string) error {
		return s.renderMyCaseAs(w, r, id, myCaseShow{status: status, err: "「" + s.materialName(r, id, n) + "」：" + message,
			errField: fmt.Sprintf("file-%d", n)})
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("文件超过大小限制（最大 %d MB）。", MaxMaterialBytes>>20))
	}
	version, _ := strconv.Atoi(r.FormValue("version"))
	var obj filestore.Object
	var filename string
	var reused int64
	if from := r.FormValue("reuse_case"); from != "" {
		reused, _ = strconv.ParseInt(from, 10, 64)
		m, err := s.cases.MaterialOf(r.Context(), who, reused, mustAtoi(r.FormValue("reuse_position")))
		if err != nil {
			return formError(err, refuse)
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
			return refuse(http.StatusBadRequest, "请选择要上传的文件（PDF、JPEG 或 PNG）。")
		}
		defer file.Close()
		// The file is durable in the store before the case records it.
		if obj, err = s.files.Put(r.Context(), file, MaxMaterialBytes); err != nil {
			return formError(err, refuse)
		}
		filename = header.Filename
	}
	if _, err := s.cases.Attach(r.Context(), who, id, version, n, obj, filename, reused); err != nil {
		if reused == 0 {
			s.discard(r, obj)
		}
		return formError(err, refuse)
	}
	http.Redirect(w, r, fmt.Sprintf("/me/cases/%d?done=uploaded", id), http.StatusSeeOther)
	return nil
}

// materialName names material n of case id for a message, or says
// 材料 when the case or the material cannot be read.
func (s *Server) materialName(r *http.Request, id int64, n int) string {
	c, _, err := s.cases.Get(r.Context(), subject(r), id)
	if err != nil {
		return "材料"
	}
	it, err := s.catalog.Version(r.Context(), c.ItemID, c.ItemVersion)
	if err != nil || n < 0 || n >= len(it.Materials) {
		return "材料"
	}
	return it.Materials[n].Name
}

func (s *Server) myCases(w http.ResponseWriter, r *http.Request) error {
	after := r.URL.Query().Get("after")
	page, err := s.cases.Mine(r.Context(), subject(r), after, casework.PageSize)
	if err != nil {
		return err
	}
	// 好差评: the finished cases still waiting for the person's rating.
	toRate, err := s.ratings.Pending(r.Context(), subject(r))
	if err != nil {
		return err
	}
	// 一件事一次办: the person's life events, each tracked as one.
	bundles, err := s.myBundles(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "mycases", "me", struct {
		casework.Page[casework.Summary]
		Paged   bool // not the first page
		ToRate  []rating.Invitation
		Bundles []bundle.Application
	}{page, after != "", toRate, bundles})
}

func (s *Server) myCase(w http.ResponseWriter, r *http.Request) error {
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
	Named    bool // the 补正 request names it
	Attached *casework.Material
	Reusable []casework.Material
}

type myCasePage struct {
	// What a draft still lacks before it may be submitted; 提交申请
	// shows only when nothing is missing.
	Missing         []string
	ConfirmWithdraw bool   // 撤回申请 was asked for: confirm it
	ErrorField      string // the id of the control the error is about
	Documents       []casework.Document
	Case            casework.Case
	Item            catalog.Item
	Events          []casework.Event
	Answers         []answerRow
	Materials       []caseMaterialRow
	Editable        bool
	Notice          string
	Error           string
	Deadline        casework.Deadline
	HasDeadline     bool
	Finish          casework.Finish
	Finished        bool
	// The 补正 request a case waiting for corrections answers.
	Correction    casework.CorrectionRequest
	HasCorrection bool
	// 好差评: the applicant's invitation to rate the finished case.
	Rating  rating.Invitation
	Invited bool
	// 帮办代办: who applied for the applicant.
	Assisted *casework.Assistance
}

// myCaseShow is how the applicant's case page is shown this time.
type myCaseShow struct {
	status          int
	err, notice     string
	errField        string
	confirmWithdraw bool
}

func (s *Server) renderMyCase(w http.ResponseWriter, r *http.Request, status int, id int64, errMsg, notice string) error {
	return s.renderMyCaseAs(w, r, id, myCaseShow{status: status, err: errMsg, notice: notice})
}

func (s *Server) renderMyCaseAs(w http.ResponseWriter, r *http.Request, id int64, show myCaseShow) error {
	status, errMsg, notice := show.status, show.err, show.notice
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
	p := myCasePage{Assisted: rec.Assisted, Documents: rec.Documents, Case: c, Item: it, Events: rec.Events, Answers: answers(it, form, full, nil), Error: errMsg, Notice: notice,
		Editable: who.Kind == policy.Person && (c.Status == casework.Draft || c.Status == casework.Correction)}
	p.ConfirmWithdraw, p.ErrorField = show.confirmWithdraw && p.Editable, show.errField
	p.Deadline, p.HasDeadline = s.cases.DeadlineOf(c, it, rec.Events)
	p.Finish, p.Finished = s.cases.FinishOf(c, rec.Events)
	if p.Correction, p.HasCorrection, err = s.cases.Correction(r.Context(), who, c); err != nil {
		return err
	}
	if p.Rating, p.Invited, err = s.ratings.ForCase(r.Context(), who, c.ID); err != nil {
		return err
	}
	if full {
		if _, problems := casework.CheckForm(it, form, s.clock.Now()); len(problems) > 0 {
			p.Missing = append(p.Missing, fmt.Sprintf("申请表还有 %d 处未填或填错", len(problems)))
		}
	}
	for i, m := range it.Materials {
		row := caseMaterialRow{Material: m, N: i, Named: p.Correction.Names(i)}
		for j := range mats {
			if mats[j].Position == i {
				row.Attached = &mats[j]
			}
		}
		if full && row.Attached == nil && m.Necessity == "必需" {
			p.Missing = append(p.Missing, "请上传「"+m.Name+"」")
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
