package web

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/evaluation"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/usage"
)

// Module usage and the self-evaluation (绩效自评): administrators' pages.

var (
	usageResource      = policy.Resource{Kind: policy.Usage}
	evaluationResource = policy.Resource{Kind: policy.Evaluation}
)

// usagePeriods are the spans the usage page offers, in days.
var usagePeriods = []int{7, 30, 90}

type usagePage struct {
	usage.Report
	Span    int
	Periods []int
}

// Spark is the height class (0 … 8) of a day's bar of n uses in a row
// whose busiest day had peak: each module's bars show its own trend. The
// page's CSP allows no inline style, so the heights are classes.
func (p usagePage) Spark(n, peak int64) int {
	if n == 0 || peak == 0 {
		return 0
	}
	return int(1 + (n*7)/peak)
}

// First and Last are the report's first and last days.
func (p usagePage) First() string { return p.Days[0] }
func (p usagePage) Last() string  { return p.Days[len(p.Days)-1] }

// usagePage shows each module's use over the last days, idle ones
// flagged.
func (s *Server) usagePage(w http.ResponseWriter, r *http.Request) error {
	span := 30
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return apperr.New(apperr.Invalid, "统计天数应为数字。")
		}
		span = n
	}
	rep, err := s.usage.Report(r.Context(), subject(r), span)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "usage", "admin", usagePage{Report: rep, Span: span, Periods: usagePeriods})
}

// evaluationPeriod reads ?period=, the current year by default.
func (s *Server) evaluationPeriod(r *http.Request) (evaluation.Period, error) {
	if v := r.URL.Query().Get("period"); v != "" {
		return evaluation.ParsePeriod(v)
	}
	return evaluation.Period(calendar.DateOf(s.clock.Now()).Time().Year()), nil
}

type evaluationPage struct {
	evaluation.Report
	Hand    []evaluation.Line // the indicators entered by hand, for the form
	Input   evaluation.Input  // what was typed, on a refusal
	Error   string
	Field   string
	Entered string // the code just entered
}

// evaluationView shows the indicator tree with each value, score, source
// and evidence, the total and grade, and the form for hand entries.
func (s *Server) evaluationView(w http.ResponseWriter, r *http.Request) error {
	p, err := s.evaluationPeriod(r)
	if err != nil {
		return err
	}
	return s.renderEvaluation(w, r, http.StatusOK, p, evaluationPage{Entered: r.URL.Query().Get("entered")})
}

func (s *Server) renderEvaluation(w http.ResponseWriter, r *http.Request, status int, p evaluation.Period, page evaluationPage) error {
	rep, err := s.evaluation.Report(r.Context(), subject(r), p)
	if err != nil {
		return err
	}
	page.Report = rep
	for _, l := range rep.Lines {
		if l.Leaf && l.Source == evaluation.Hand {
			page.Hand = append(page.Hand, l)
		}
	}
	return s.render(w, r, status, "evaluation", "admin", page)
}

// evaluationEnter records a hand entry with its evidence file; a refusal
// shows the page again with what was typed (the file is chosen again)
// and keeps nothing.
func (s *Server) evaluationEnter(w http.ResponseWriter, r *http.Request) error {
	in := evaluation.Input{}
	refuse := func(status int, message, field string) error {
		return s.renderEvaluation(w, r, status, in.Period, evaluationPage{Input: in, Error: message, Field: field})
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return apperr.New(apperr.TooLarge, "证明材料超过大小限制（最大 "+strconv.Itoa(MaxMaterialBytes>>20)+" MB）。")
	}
	p, err := evaluation.ParsePeriod(r.FormValue("period"))
	if err != nil {
		return err
	}
	in = evaluation.Input{Period: p, Code: r.FormValue("code"), Value: r.FormValue("value"), Note: r.FormValue("note")}
	var stored filestore.Object
	if file, header, err := r.FormFile("file"); err == nil {
		defer file.Close()
		if header.Size > 0 {
			if stored, err = s.files.Put(r.Context(), file, MaxMaterialBytes); err != nil {
				if apperr.Is(err, apperr.Internal) {
					return err
				}
				return refuse(httpx.Status(err), "证明材料："+apperr.MessageOf(err), "file")
			}
			in.File, in.FileName = stored, header.Filename
		}
	}
	if _, err := s.evaluation.Enter(r.Context(), subject(r), meta(r), in); err != nil {
		s.discard(r, stored)
		if apperr.Is(err, apperr.Internal) {
			return err
		}
		field := ""
		var e *apperr.Error
		if errors.As(err, &e) {
			for f := range e.Fields {
				field = f
			}
		}
		return refuse(httpx.Status(err), apperr.MessageOf(err), field)
	}
	http.Redirect(w, r, "/admin/evaluation?period="+strconv.Itoa(int(p))+"&entered="+in.Code+"#ev-"+in.Code, http.StatusSeeOther)
	return nil
}

// evaluationPrint is the report alone, on A4, with the evidence behind
// every score: what the browser prints (or saves as PDF).
func (s *Server) evaluationPrint(w http.ResponseWriter, r *http.Request) error {
	p, err := s.evaluationPeriod(r)
	if err != nil {
		return err
	}
	rep, err := s.evaluation.Report(r.Context(), subject(r), p)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := evaluation.WriteHTML(&buf, rep, "/admin/evaluation/report.css"); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-store")
	_, err = buf.WriteTo(w)
	return err
}

// evaluationCSS is the report's style sheet, A4 included.
func (s *Server) evaluationCSS(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=300")
	_, err := w.Write([]byte(evaluation.StyleSheet))
	return err
}

// evaluationEvidence downloads the evidence file of a hand entry.
func (s *Server) evaluationEvidence(w http.ResponseWriter, r *http.Request) error {
	p, err := evaluation.ParsePeriod(r.PathValue("period"))
	if err != nil {
		return apperr.New(apperr.NotFound, "没有找到。")
	}
	e, err := s.evaluation.Evidence(r.Context(), subject(r), p, r.PathValue("code"))
	if err != nil {
		return err
	}
	return s.sendFile(w, r, e.File.SHA256, e.File.ContentType, e.FileName)
}
