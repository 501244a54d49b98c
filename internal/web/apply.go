package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/policy"
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
			p.CaseID, p.Version, p.Answers = c.ID, c.Version, c.Form
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

// apply saves the draft, or submits it when the answers are complete.
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
	p := applyPage{Item: it, Answers: answers}
	p.CaseID, _ = strconv.ParseInt(f.Get("case"), 10, 64)
	p.Version, _ = strconv.Atoi(f.Get("version"))
	fail := func(cause error) error {
		if apperr.CodeOf(cause) == apperr.Internal {
			return cause
		}
		p.Error = apperr.MessageOf(cause)
		return s.render(w, r, httpStatus(cause), "apply", "items", p)
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
	if c, err = s.cases.Act(r.Context(), who, c.ID, c.Version, casework.Submit, ""); err != nil {
		return fail(err)
	}
	http.Redirect(w, r, fmt.Sprintf("/me/cases/%d?done=submitted", c.ID), http.StatusSeeOther)
	return nil
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
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "没有找到。")
	}
	c, events, err := s.cases.Get(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	it, err := s.catalog.Version(r.Context(), c.ItemID, c.ItemVersion)
	if err != nil {
		return err
	}
	d, hasDeadline := s.cases.DeadlineOf(c)
	return s.render(w, r, http.StatusOK, "mycase", "me", struct {
		Case        casework.Case
		Item        catalog.Item
		Events      []casework.Event
		Answers     []answerRow
		Notice      string
		Deadline    casework.Deadline
		HasDeadline bool
	}{c, it, events, answers(it, c), map[string]string{"submitted": "申请已提交，请留意办理进度和消息。"}[r.URL.Query().Get("done")], d, hasDeadline})
}

// answerRow is one answer as a page shows it: identity and mobile numbers
// masked, as everywhere by default.
type answerRow struct {
	Label, Value string
}

func answers(it catalog.Item, c casework.Case) []answerRow {
	var out []answerRow
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			v := c.Form[f.Key]
			switch f.Type {
			case "idcard":
				v = ident.MaskIDCard(v)
			case "mobile":
				v = ident.MaskMobile(v)
			}
			out = append(out, answerRow{f.Label, v})
		}
	}
	return out
}

type staffCasePage struct {
	Case        casework.Case
	Item        catalog.Item
	Events      []casework.Event
	Answers     []answerRow
	Actions     []casework.Action
	Deadline    casework.Deadline
	HasDeadline bool
	Error       string
	Notice      string
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
	list, err := s.cases.Queue(r.Context(), subject(r), st, 200)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "queue", "workbench", struct {
		Status casework.Status
		Cases  []casework.QueueEntry
	}{st, list})
}

func (s *Server) staffCase(w http.ResponseWriter, r *http.Request) error {
	if ok, err := s.staffOnly(w, r); !ok {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "没有找到。")
	}
	return s.renderStaffCase(w, r, http.StatusOK, id, "", notices[r.URL.Query().Get("done")])
}

func (s *Server) renderStaffCase(w http.ResponseWriter, r *http.Request, status int, id int64, errMsg, notice string) error {
	who := subject(r)
	c, events, err := s.cases.Get(r.Context(), who, id)
	if err != nil {
		return err
	}
	it, err := s.catalog.Version(r.Context(), c.ItemID, c.ItemVersion)
	if err != nil {
		return err
	}
	d, has := s.cases.DeadlineOf(c)
	return s.render(w, r, status, "staffcase", "workbench", staffCasePage{Case: c, Item: it, Events: events, Answers: answers(it, c),
		Actions: casework.Available(who, c), Deadline: d, HasDeadline: has, Error: errMsg, Notice: notice})
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
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "没有找到。")
	}
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	a := casework.Action(r.PostForm.Get("op"))
	if _, err := s.cases.Act(r.Context(), subject(r), id, version, a, r.PostForm.Get("reason")); err != nil {
		if apperr.CodeOf(err) == apperr.Internal || apperr.CodeOf(err) == apperr.NotFound {
			return err
		}
		return s.renderStaffCase(w, r, httpStatus(err), id, apperr.MessageOf(err), "")
	}
	http.Redirect(w, r, fmt.Sprintf("/workbench/cases/%d?done=acted", id), http.StatusSeeOther)
	return nil
}
