package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/httpx"
)

// caseRecord is everything a case page shows of a case.
type caseRecord struct {
	Case      casework.Case
	Events    []casework.Event
	Item      catalog.Item // the version the case was made under
	Materials []casework.Material
	Documents []casework.Document
	// 帮办代办: who applied for the applicant, and how they consented.
	Assisted *casework.Assistance
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
	if rec.Materials, rec.Documents, err = s.cases.Papers(r.Context(), subject(r), id); err != nil {
		return rec, err
	}
	as, ok, err := s.cases.AssistanceOf(r.Context(), subject(r), rec.Case)
	if ok {
		rec.Assisted = &as
	}
	return rec, err
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

// downloadMaterial sends a case's material to the applicant or the staff
// allowed to see the case.
func (s *Server) downloadMaterial(w http.ResponseWriter, r *http.Request) error {
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

// result sends a completed case's result to its applicant or department.
func (s *Server) result(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, _, err := s.cases.Get(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	if c.ResultSHA256 == "" {
		return apperr.New(apperr.NotFound, "办件尚未办结，没有办理结果。")
	}
	// Named by what it is (营业执照.pdf), not by the scanner's file name.
	m, err := s.cases.MaterialOf(r.Context(), subject(r), id, casework.ResultPosition)
	if err != nil {
		return err
	}
	return s.sendFile(w, r, m.SHA256, m.ContentType, m.Filename)
}

// document shows a notice ready to print on A4.
func (s *Server) document(w http.ResponseWriter, r *http.Request) error {
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
