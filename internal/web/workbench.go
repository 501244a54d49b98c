package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
)

type workbenchPage struct {
	Account    identity.Account
	Department region.Department
	Roles      []policy.Role
	Subject    policy.Subject
	Queues     []queueCount
	Unread     int
}

type queueCount struct {
	Status casework.Status
	Count  casework.Count
}

func (s *Server) workbench(w http.ResponseWriter, r *http.Request) error {
	who := subject(r)
	acc, err := s.identity.Account(r.Context(), who.AccountID)
	if err != nil {
		return err
	}
	dept, err := s.regions.Department(r.Context(), who.DepartmentID)
	if err != nil {
		return err
	}
	p := workbenchPage{Account: acc, Department: dept, Roles: who.Roles, Subject: who}
	if p.Unread, err = s.cases.Unread(r.Context(), who.AccountID); err != nil {
		return err
	}
	// Queues only for those who handle cases (the policy says who).
	if casework.HasQueues(who) {
		counts, err := s.cases.QueueCounts(r.Context(), who)
		if err != nil {
			return err
		}
		for _, q := range casework.Queues {
			p.Queues = append(p.Queues, queueCount{q, counts[q]})
		}
	}
	return s.render(w, r, http.StatusOK, "workbench", "workbench", p)
}

func (s *Server) queue(w http.ResponseWriter, r *http.Request) error {
	st := casework.Status(r.PathValue("status"))
	if st.Name() == "" {
		return apperr.New(apperr.NotFound, "没有这个队列。")
	}
	q := r.URL.Query()
	f := casework.QueueFilter{Query: q.Get("q"), Due: q.Get("due"), Channel: q.Get("channel"), After: q.Get("after")}
	// A search in every queue (all=1) finds a case whatever its state.
	all := q.Get("all") == "1" && f.Query != ""
	list := st
	if all {
		list = casework.AllQueues
	}
	page, err := s.cases.Queue(r.Context(), subject(r), list, f, casework.PageSize)
	// A search the box cannot run says why beside the box, which keeps it.
	status, searchErr := http.StatusOK, ""
	if apperr.Is(err, apperr.Invalid) && f.Query != "" && f.After == "" {
		status, searchErr, err = http.StatusBadRequest, apperr.MessageOf(err), nil
	}
	if err != nil {
		return err
	}
	link := func(after string) string {
		v := url.Values{}
		for k, val := range map[string]string{"q": f.Query, "due": f.Due, "channel": f.Channel, "after": after} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if all {
			v.Set("all", "1")
		}
		return "/workbench/queue/" + string(st) + "?" + v.Encode()
	}
	var next, first string
	if page.Next != "" {
		next = link(page.Next)
	}
	if f.After != "" {
		first = link("")
	}
	return s.render(w, r, status, "queue", "workbench", struct {
		Status      casework.Status
		Filter      casework.QueueFilter
		All         bool
		Cases       []casework.QueueEntry
		Total       casework.Count
		Next, First string
		Error       string // why the search could not run
	}{st, f, all, page.Rows, page.Count(), next, first, searchErr})
}

type staffCasePage struct {
	Editable    bool              // a draft taken in at the counter: the clerk fills it
	Draft       map[string]string // its answers in full, for the clerk's form
	Fixed       map[string]bool   // its answers that are the applicant account's
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
	Finish      casework.Finish
	Finished    bool
	Error       string
	Notice      string
	// Departments a case may be transferred to, when it may be.
	Departments []region.Department
	// Each timed step of the item's workflow and by when it should be done.
	Steps []casework.StepDeadline
	// 帮办代办: who applied for the applicant.
	Assisted *casework.Assistance
	// The bundle (一件事一次办) the case is part of, or nil.
	Bundle *bundle.Context
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

func (s *Server) staffCase(w http.ResponseWriter, r *http.Request) error {
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
	p := staffCasePage{Assisted: rec.Assisted, Editable: casework.Editable(who, c), Case: c, Item: it, Events: events, Answers: answers(it, c.Form, false, shown), Materials: mats, Documents: docs,
		Actions: s.cases.Available(r.Context(), who, c, it), Deadline: d, HasDeadline: has, Error: errMsg, Notice: notice}
	p.Finish, p.Finished = s.cases.FinishOf(c, events)
	// 一件事一次办: the life event the case is part of, for context.
	if p.Bundle, err = s.bundleContext(r, c); err != nil {
		return err
	}
	if p.Editable {
		if p.Draft, err = s.cases.Answers(who, c); err != nil {
			return err
		}
		if p.Fixed, err = s.cases.Fixed(r.Context(), c, it); err != nil {
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
	p.Steps = s.cases.StepDues(c, it)
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
	case casework.AskCorrect:
		var named []int
		for _, v := range f["material"] {
			n, perr := strconv.Atoi(v)
			if perr != nil {
				return s.renderStaffCase(w, r, http.StatusBadRequest, id, "勾选的补正材料无效，请刷新页面后重试。", "")
			}
			named = append(named, n)
		}
		_, err = s.cases.AskCorrection(r.Context(), who, id, version, f.Get("reason"), named)
	default:
		_, err = s.cases.Act(r.Context(), who, id, version, a, f.Get("reason"))
	}
	return s.staffDone(w, r, id, err, "acted")
}

// staffDone ends a staff step on a case: back to the case page on
// success; the page again with the reason when the step was refused; the
// error page for anything else.
func (s *Server) staffDone(w http.ResponseWriter, r *http.Request, id int64, err error, done string) error {
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/workbench/cases/%d?done=%s", id, done), http.StatusSeeOther)
		return nil
	}
	// A case the clerk may not see has no page to show again.
	if apperr.Is(err, apperr.NotFound) {
		return err
	}
	return s.staffCaseRefused(w, r, id, err)
}

// staffReveal shows one number of a case in full, once: an answer of its
// form, or the applicant account's identity or mobile number. It takes a
// reason and staff who may reveal data on the case; every reveal is on the
// audit record, and the page is not stored by the browser.
func (s *Server) staffReveal(w http.ResponseWriter, r *http.Request) error {
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
		value, err = s.cases.RevealAnswer(r.Context(), who, meta(r), id, field, reason)
	}
	if err != nil {
		return s.staffCaseRefused(w, r, id, err)
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.renderStaffCaseShowing(w, r, http.StatusOK, id, "", "完整号码只在本页显示这一次；本次查看已记入审计日志。", map[string]string{field: value})
}

// archive downloads a case's electronic archive (电子档案); every export
// is on the audit record.
func (s *Server) archive(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	who := subject(r)
	c, _, err := s.cases.Get(r.Context(), who, id)
	if err != nil {
		return err
	}
	if err := policy.Check(who, policy.Export, c.Resource()); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="archive-%s.zip"`, c.Number))
	_, err = s.cases.Archive(r.Context(), who, meta(r), id, s.files, w)
	return err
}
