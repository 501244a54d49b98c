package survey_test

import (
	"errors"
	"reflect"
	"strconv"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/survey"
)

// fuzzSurvey has a question of each kind, as the demo's questionnaires do.
var fuzzSurvey = survey.Survey{Questions: []survey.Question{
	{Title: "您办理的事项", Kind: survey.Single, Required: true, Options: []string{"户籍", "社保", "其他"}},
	{Title: "您希望改进的方面", Kind: survey.Multiple, Options: []string{"窗口", "网上办理", "等候时间"}, Satisfied: []int{0}},
	{Title: "总体满意度", Kind: survey.Scale, Required: true},
	{Title: "意见和建议", Kind: survey.Text},
}}

// A questionnaire is answered by anyone, signed in or not. The answers
// read from the form are refused in Chinese, naming the questions' fields,
// or are answers Validate accepts, each of its question's kind, that read
// back the same from the form they make.
func FuzzParseAnswers(f *testing.F) {
	f.Add("0", "0", "2", "5", "窗口人员很耐心")
	f.Add("1", "1", "1", " 4 ", "")
	f.Add("3", "-1", "", "6", "")
	f.Add("0,1", "9223372036854775808", "0", "05", "\n")
	f.Add("", "", "", "", "")
	f.Fuzz(func(t *testing.T, q1, q2a, q2b, q3, q4 string) {
		for _, v := range []string{q1, q2a, q2b, q3, q4} {
			if !utf8.ValidString(v) {
				t.Skip("refused before: the middleware lets no invalid UTF-8 through")
			}
		}
		form := map[string][]string{"q1": {q1}, "q2": {q2a, q2b}, "q3": {q3}, "q4": {q4}}
		answers, err := survey.ParseAnswers(fuzzSurvey, form)
		if err != nil {
			var e *apperr.Error
			if !apperr.Is(err, apperr.Invalid) || !hasHan(apperr.MessageOf(err)) {
				t.Fatalf("refused without a Chinese reason: %v", err)
			}
			if errors.As(err, &e) && len(e.Fields) > 0 {
				for k := range e.Fields {
					if n, err := strconv.Atoi(k[1:]); k[0] != 'q' || err != nil || n < 1 || n > len(fuzzSurvey.Questions) {
						t.Fatalf("a problem on %q, not a question's field", k)
					}
				}
			}
			return
		}
		if err := survey.Validate(fuzzSurvey, answers); err != nil {
			t.Fatalf("parsed answers do not validate: %v", err)
		}
		back := map[string][]string{}
		for i, a := range answers {
			field := survey.Field(i)
			for _, c := range a.Choices {
				back[field] = append(back[field], strconv.Itoa(c))
			}
			if a.Scale != 0 {
				back[field] = append(back[field], strconv.Itoa(a.Scale))
			}
			if a.Text != "" {
				back[field] = append(back[field], a.Text)
			}
		}
		again, err := survey.ParseAnswers(fuzzSurvey, back)
		if err != nil || !reflect.DeepEqual(again, answers) {
			t.Fatalf("%v read back from %v as %v, %v", answers, back, again, err)
		}
	})
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
