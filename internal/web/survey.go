package web

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/survey"
)

// Surveys (问卷): the page that answers one, and the administrators'
// pages that build, open, close and read them.

func init() {
	adminTools = append(adminTools, adminTool{"GET /admin/surveys", "/admin/surveys", "问卷调查", "设计问卷，开放和结束，查看满意率并导出结果"})
	for k, v := range map[string]string{"survey_create": "新建问卷", "survey_edit": "修改问卷", "survey_open": "开放问卷", "survey_close": "结束问卷"} {
		auditActions[k] = v
	}
}

var surveyResource = policy.Resource{Kind: policy.Survey}

// deviceCookie counts a device once in the surveys counted per device: a
// random value, kept a year, read only by the survey pages.
const deviceCookie = "zwfw_device"

// surveyMultiLine: the editor's options of each question and the answers
// to a survey (text questions are textareas; the other answers are
// numbers, which a line break would make invalid anyway).
var surveyMultiLine = regexp.MustCompile(`^q[0-9]{1,2}(_options)?$`)

func surveyFieldMultiLine(r *http.Request, field string) bool {
	return (strings.HasPrefix(r.URL.Path, "/admin/surveys") || strings.HasPrefix(r.URL.Path, "/surveys/")) && surveyMultiLine.MatchString(field)
}

type surveyPage struct {
	Survey  survey.Survey
	Values  url.Values
	Fields  map[string]string // a message per question's field
	Error   string
	Refusal string // why who may not answer, if they may not
	SignIn  bool   // signing in would let them
	Done    bool
}

func (p surveyPage) Field(i int) string { return survey.Field(i) }
func (p surveyPage) Chosen(i int, v string) bool {
	for _, x := range p.Values[survey.Field(i)] {
		if x == v {
			return true
		}
	}
	return false
}
func (p surveyPage) ScaleLabels() []string { return survey.ScaleLabels }

func surveyID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.NotFound, "没有这份问卷。")
	}
	return id, nil
}

// surveys lists the open surveys the visitor may answer.
func (s *Server) surveyList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.surveys.Open(r.Context(), subject(r))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "surveys", "surveys", list)
}

func (s *Server) surveyPage(w http.ResponseWriter, r *http.Request) error {
	id, err := surveyID(r)
	if err != nil {
		return err
	}
	p := surveyPage{Values: url.Values{}, Done: r.URL.Query().Get("done") == "1"}
	if p.Survey, err = s.surveys.Get(r.Context(), subject(r), id); err != nil {
		return err
	}
	if p.Survey.OncePer == policy.ByDevice && !p.Done {
		if c, err := r.Cookie(deviceCookie); err != nil || len(c.Value) < 16 {
			var b [18]byte
			rand.Read(b[:])
			http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: base64.RawURLEncoding.EncodeToString(b[:]), Path: "/surveys/",
				MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: strings.HasPrefix(s.publicURL, "https:"), SameSite: http.SameSiteLaxMode})
		}
	}
	return s.renderSurvey(w, r, http.StatusOK, p)
}

func (s *Server) renderSurvey(w http.ResponseWriter, r *http.Request, status int, p surveyPage) error {
	if err := policy.MayAnswer(subject(r), p.Survey.Audience, p.Survey.OncePer); err != nil {
		p.Refusal, p.SignIn = apperr.MessageOf(err), apperr.Is(err, apperr.Unauthorized)
	}
	return s.render(w, r, status, "survey", "surveys", p)
}

func (s *Server) surveyAnswer(w http.ResponseWriter, r *http.Request) error {
	id, err := surveyID(r)
	if err != nil {
		return err
	}
	who := subject(r)
	sv, err := s.surveys.Get(r.Context(), who, id)
	if err != nil {
		return err
	}
	answers, err := survey.ParseAnswers(sv, r.PostForm)
	if err == nil {
		resp := survey.Respondent{Who: who}
		if c, cerr := r.Cookie(deviceCookie); cerr == nil {
			resp.Device = c.Value
		}
		err = s.surveys.Submit(r.Context(), resp, id, answers)
	}
	if err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderSurvey(w, r, status, surveyPage{Survey: sv, Values: r.PostForm, Fields: apperr.FieldsOf(err), Error: message})
		})
	}
	http.Redirect(w, r, fmt.Sprintf("/surveys/%d?done=1", id), http.StatusSeeOther)
	return nil
}

func (s *Server) surveyQR(w http.ResponseWriter, r *http.Request) error {
	id, err := surveyID(r)
	if err != nil {
		return err
	}
	if _, err := s.surveys.Get(r.Context(), subject(r), id); err != nil {
		return err
	}
	svg, err := qrSVG(fmt.Sprintf("%s/surveys/%d", s.publicURL, id))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err = w.Write([]byte(svg))
	return err
}

// The administrators' pages.

func (s *Server) surveysAdmin(w http.ResponseWriter, r *http.Request) error {
	list, err := s.surveys.List(r.Context(), subject(r))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "surveysadmin", "admin", struct {
		Surveys []survey.Summary
		Notice  string
	}{list, map[string]string{"opened": "问卷已开放。", "closed": "问卷已结束。"}[r.URL.Query().Get("done")]})
}

// surveyEditor is the editor: the survey's fields and one slot per
// question, as typed (slots with no title are left out when saved), and a
// few empty slots to add questions.
type surveyEditor struct {
	ID     int64
	Values url.Values
	Slots  []int
	Kinds  []survey.Kind
	Error  string
}

func (e surveyEditor) Get(k string) string { return e.Values.Get(k) }
func (e surveyEditor) Q(n int, k string) string {
	return e.Values.Get(fmt.Sprintf("q%d_%s", n, k))
}

// emptySlots is how many empty questions the editor offers at a time.
const emptySlots = 3

func (s *Server) renderSurveyEditor(w http.ResponseWriter, r *http.Request, status int, e surveyEditor) error {
	used := 0
	for n := 1; n <= survey.MaxQuestions; n++ {
		if strings.TrimSpace(e.Q(n, "title")) != "" {
			used = n
		}
	}
	for n := 1; n <= min(used+emptySlots, survey.MaxQuestions); n++ {
		e.Slots = append(e.Slots, n)
	}
	e.Kinds = survey.Kinds
	return s.render(w, r, status, "surveyedit", "admin", e)
}

func (s *Server) surveyNew(w http.ResponseWriter, r *http.Request) error {
	return s.renderSurveyEditor(w, r, http.StatusOK, surveyEditor{Values: url.Values{"audience": {policy.Citizens}, "once_per": {policy.ByPerson}, "anonymous": {"1"}}})
}

func (s *Server) surveyEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := surveyID(r)
	if err != nil {
		return err
	}
	sv, err := s.surveys.Get(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	if sv.Status != survey.Draft {
		http.Redirect(w, r, fmt.Sprintf("/admin/surveys/%d/results", id), http.StatusSeeOther)
		return nil
	}
	v := url.Values{"title": {sv.Title}, "intro": {sv.Intro}, "audience": {sv.Audience}, "once_per": {sv.OncePer}}
	if sv.Anonymous {
		v.Set("anonymous", "1")
	}
	for i, q := range sv.Questions {
		p := fmt.Sprintf("q%d_", i+1)
		v.Set(p+"title", q.Title)
		v.Set(p+"kind", string(q.Kind))
		if q.Required {
			v.Set(p+"required", "1")
		}
		v.Set(p+"options", strings.Join(q.Options, "\n"))
		var marks []string
		for _, k := range q.Satisfied {
			marks = append(marks, strconv.Itoa(k+1))
		}
		v.Set(p+"satisfied", strings.Join(marks, ","))
	}
	return s.renderSurveyEditor(w, r, http.StatusOK, surveyEditor{ID: id, Values: v})
}

// surveyForm reads the editor's form.
func surveyForm(f url.Values) (survey.Survey, error) {
	sv := survey.Survey{Title: f.Get("title"), Intro: f.Get("intro"), Audience: f.Get("audience"), OncePer: f.Get("once_per"),
		Anonymous: f.Get("anonymous") == "1"}
	for n := 1; n <= survey.MaxQuestions; n++ {
		p := fmt.Sprintf("q%d_", n)
		title := strings.TrimSpace(f.Get(p + "title"))
		if title == "" {
			continue
		}
		q := survey.Question{Title: title, Kind: survey.Kind(f.Get(p + "kind")), Required: f.Get(p+"required") == "1"}
		for _, o := range strings.Split(f.Get(p+"options"), "\n") {
			if o = strings.TrimSpace(o); o != "" {
				q.Options = append(q.Options, o)
			}
		}
		for _, mark := range strings.FieldsFunc(f.Get(p+"satisfied"), func(r rune) bool { return strings.ContainsRune(" ,，、;；", r) }) {
			k, err := strconv.Atoi(mark)
			if err != nil || k < 1 {
				return sv, apperr.New(apperr.Invalid, fmt.Sprintf("题目“%s”的“计为满意的选项”应填选项的序号，如 1,2。", title))
			}
			q.Satisfied = append(q.Satisfied, k-1)
		}
		sv.Questions = append(sv.Questions, q)
	}
	return sv, nil
}

func (s *Server) surveySave(w http.ResponseWriter, r *http.Request) error {
	var id int64
	if r.PathValue("id") != "" {
		var err error
		if id, err = surveyID(r); err != nil {
			return err
		}
	}
	sv, err := surveyForm(r.PostForm)
	if err == nil {
		sv.ID = id
		sv, err = s.surveys.Save(r.Context(), subject(r), meta(r), sv)
	}
	if err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderSurveyEditor(w, r, status, surveyEditor{ID: id, Values: r.PostForm, Error: message})
		})
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/surveys/%d/results", sv.ID), http.StatusSeeOther)
	return nil
}

func (s *Server) surveyStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := surveyID(r)
	if err != nil {
		return err
	}
	to := survey.Status(r.PostForm.Get("to"))
	if err := s.surveys.SetStatus(r.Context(), subject(r), meta(r), id, to); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/surveys/%d/results?done=%s", id, to), http.StatusSeeOther)
	return nil
}

func (s *Server) surveyResults(w http.ResponseWriter, r *http.Request) error {
	id, err := surveyID(r)
	if err != nil {
		return err
	}
	res, err := s.surveys.Results(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "surveyresults", "admin", struct {
		survey.Results
		Link   string
		Notice string
	}{res, fmt.Sprintf("%s/surveys/%d", s.publicURL, id),
		map[string]string{"open": "问卷已开放，可以把链接或二维码发给填写人。", "closed": "问卷已结束，不再接受填写。"}[r.URL.Query().Get("done")]})
}

// surveyExport downloads the results as XLSX (audited by survey), built
// in memory first so that a refusal is an error page.
func (s *Server) surveyExport(w http.ResponseWriter, r *http.Request) error {
	id, err := surveyID(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.surveys.Export(r.Context(), subject(r), meta(r), id, &buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(fmt.Sprintf("问卷%d结果-%s.xlsx", id, calendar.DateOf(s.clock.Now()))))
	w.Header().Set("Cache-Control", "private, no-store")
	_, err = buf.WriteTo(w)
	return err
}

// Problems are the questions' messages in question order, for the error
// summary at the top of the page.
func (p surveyPage) Problems() []struct{ Field, Message string } {
	var out []struct{ Field, Message string }
	for i := range p.Survey.Questions {
		if m := p.Fields[survey.Field(i)]; m != "" {
			out = append(out, struct{ Field, Message string }{survey.Field(i), m})
		}
	}
	return out
}
