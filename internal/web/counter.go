package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
)

type intakePage struct {
	Items  []catalog.Managed
	Values url.Values
	Error  string
}

func (p intakePage) Get(k string) string { return p.Values.Get(k) }

// intakeForm is 窗口收件: a window clerk opens a case for a walk-in applicant.
func (s *Server) intakeForm(w http.ResponseWriter, r *http.Request) error {
	return s.renderIntake(w, r, http.StatusOK, intakePage{Values: url.Values{}})
}

func (s *Server) renderIntake(w http.ResponseWriter, r *http.Request, status int, p intakePage) error {
	who := subject(r)
	if !who.Has(policy.Window) {
		return apperr.New(apperr.Forbidden, "窗口收件须由窗口人员办理。")
	}
	all, _, err := s.catalog.ManagedItems(r.Context(), catalog.ManagedFilter{DepartmentID: who.DepartmentID}, 0, 500)
	if err != nil {
		return err
	}
	for _, m := range all {
		if m.Status == catalog.Published {
			p.Items = append(p.Items, m)
		}
	}
	return s.render(w, r, status, "intake", "workbench", p)
}

func (s *Server) intake(w http.ResponseWriter, r *http.Request) error {
	who, f := subject(r), r.PostForm
	fail := func(err error) error {
		return formError(err, func(status int, message string) error {
			return s.renderIntake(w, r, status, intakePage{Values: f, Error: message})
		})
	}
	itemID, _ := strconv.ParseInt(f.Get("item"), 10, 64)
	// The account is found or opened in the intake's own transaction.
	applicant, err := s.identity.CounterApplicant(who.AccountID, f.Get("name"), f.Get("id_number"), f.Get("mobile"), meta(r))
	if err != nil {
		return fail(err)
	}
	c, err := s.cases.Intake(r.Context(), who, itemID, applicant, nil)
	if err != nil {
		return fail(err)
	}
	http.Redirect(w, r, fmt.Sprintf("/workbench/cases/%d?done=intake", c.ID), http.StatusSeeOther)
	return nil
}

// staffForm saves the answers a clerk types in at the counter.
func (s *Server) staffForm(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	who := subject(r)
	c, _, err := s.cases.Get(r.Context(), who, id)
	if err != nil {
		return err
	}
	it, err := s.catalog.Version(r.Context(), c.ItemID, c.ItemVersion)
	if err != nil {
		return err
	}
	answers, problems := casework.CheckForm(it, answersFrom(it, r.PostForm), s.clock.Now())
	version, _ := strconv.Atoi(r.PostForm.Get("version"))
	if _, err := s.cases.SaveDraft(r.Context(), who, id, version, answers); err != nil {
		return s.staffCaseRefused(w, r, id, err)
	}
	if len(problems) > 0 {
		return s.renderStaffCase(w, r, http.StatusBadRequest, id, fmt.Sprintf("申请表有 %d 处需要修改（已保存）。", len(problems)), "")
	}
	http.Redirect(w, r, fmt.Sprintf("/workbench/cases/%d?done=saved", id), http.StatusSeeOther)
	return nil
}

// staffUpload stores a scanned material at the counter.
func (s *Server) staffUpload(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		return apperr.New(apperr.NotFound, "没有这项材料。")
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return s.renderStaffCase(w, r, http.StatusRequestEntityTooLarge, id, fmt.Sprintf("文件超过大小限制（最大 %d MB）。", MaxMaterialBytes>>20), "")
	}
	file, header, err := r.FormFile("file")
	if err != nil {
		return s.renderStaffCase(w, r, http.StatusBadRequest, id, "请选择扫描件（PDF、JPEG 或 PNG）。", "")
	}
	defer file.Close()
	var obj filestore.Object
	if obj, err = s.files.Put(r.Context(), file, MaxMaterialBytes); err == nil {
		if _, err = s.cases.Attach(r.Context(), subject(r), id, mustAtoi(r.FormValue("version")), n, obj, header.Filename, 0); err != nil {
			s.discard(r, obj)
		}
	}
	return s.staffDone(w, r, id, err, "uploaded")
}

// staffVisit records that the applicant came in person.
func (s *Server) staffVisit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	_, err = s.cases.RecordVisit(r.Context(), subject(r), id, mustAtoi(r.PostForm.Get("version")), r.PostForm.Get("purpose"))
	return s.staffDone(w, r, id, err, "visit")
}

// staffComplete finishes a case with its result file.
func (s *Server) staffComplete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return s.renderStaffCase(w, r, http.StatusRequestEntityTooLarge, id, fmt.Sprintf("文件超过大小限制（最大 %d MB）。", MaxMaterialBytes>>20), "")
	}
	// A denied case completes without a result file; the service says
	// when one is missing.
	var obj filestore.Object
	var filename string
	file, header, err := r.FormFile("file")
	if err == nil && header.Size == 0 {
		file.Close()
		err = http.ErrMissingFile // an empty file input
	}
	switch {
	case err == nil:
		defer file.Close()
		if obj, err = s.files.Put(r.Context(), file, MaxMaterialBytes); err != nil {
			return s.staffDone(w, r, id, err, "acted")
		}
		filename = header.Filename
	case !errors.Is(err, http.ErrMissingFile):
		return s.renderStaffCase(w, r, http.StatusBadRequest, id, "请上传办理结果（PDF、JPEG 或 PNG）。", "")
	}
	who, version := subject(r), mustAtoi(r.FormValue("version"))
	if r.FormValue("op") == string(casework.Settle) {
		_, err = s.cases.Settle(r.Context(), who, id, version, r.FormValue("reason"), obj, filename)
	} else {
		_, err = s.cases.Complete(r.Context(), who, id, version, obj, filename)
	}
	if err != nil {
		s.discard(r, obj)
	}
	return s.staffDone(w, r, id, err, "acted")
}
