package api

import (
	"net/http"
	"strconv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/survey"
)

// Surveys through the API: anyone reads an open or closed one; a
// signed-in respondent answers one counted per person. Surveys counted per
// device are answered on the pages, which keep the device's cookie.

type questionOut struct {
	Title    string      `json:"title"`
	Kind     survey.Kind `json:"kind"`
	Required bool        `json:"required"`
	Options  []string    `json:"options,omitempty"`
}

type surveyOut struct {
	ID        int64         `json:"id"`
	Title     string        `json:"title"`
	Intro     string        `json:"intro,omitempty"`
	Audience  string        `json:"audience"`
	Anonymous bool          `json:"anonymous"`
	OncePer   string        `json:"once_per"`
	Status    survey.Status `json:"status"`
	Questions []questionOut `json:"questions"`
}

func surveyParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.Invalid, "问卷编号应为整数。")
	}
	return id, nil
}

func (a *API) getSurvey(w http.ResponseWriter, r *http.Request) error {
	id, err := surveyParam(r)
	if err != nil {
		return err
	}
	who, err := a.who(r)
	if err != nil { // read as anyone: a draft is an administrator's, a staff survey staff's
		who = policy.Subject{Kind: policy.Anonymous}
	}
	sv, err := a.surveys.Get(r.Context(), who, id)
	if apperr.Is(err, apperr.Unauthorized) {
		err = apperr.New(apperr.NotFound, "没有这份问卷。")
	}
	if err != nil {
		return err
	}
	out := surveyOut{ID: sv.ID, Title: sv.Title, Intro: sv.Intro, Audience: sv.Audience, Anonymous: sv.Anonymous, OncePer: sv.OncePer,
		Status: sv.Status, Questions: []questionOut{}}
	for _, q := range sv.Questions {
		out.Questions = append(out.Questions, questionOut{Title: q.Title, Kind: q.Kind, Required: q.Required, Options: q.Options})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// answerIn is one answer as the API takes it: the positions of the chosen
// options, a scale's point, or text.
type answerIn struct {
	Choices []int  `json:"choices"`
	Scale   int    `json:"scale"`
	Text    string `json:"text"`
}

func (a *API) answerSurvey(w http.ResponseWriter, r *http.Request) error {
	id, err := surveyParam(r)
	if err != nil {
		return err
	}
	who, err := a.who(r)
	if err != nil {
		return err
	}
	var in struct {
		Answers []answerIn `json:"answers"`
	}
	if err := httpx.DecodeJSON(r.Body, &in, `请求体应为 JSON：{"answers": [{"choices": [0]}, {"scale": 5}, {"text": "…"}]}，每题一项。`); err != nil {
		return err
	}
	answers := make([]survey.Answer, len(in.Answers))
	for i, x := range in.Answers {
		answers[i] = survey.Answer{Choices: x.Choices, Scale: x.Scale, Text: x.Text}
	}
	if err := a.surveys.Submit(r.Context(), survey.Respondent{Who: who}, id, answers); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, struct {
		Message string `json:"message"`
	}{"提交成功，感谢您的参与！"})
	return nil
}
