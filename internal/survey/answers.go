package survey

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/workbook"
)

// Answer is the answer to one question: the chosen options (by position),
// the point of a scale (1–5), or the text; zero when not answered.
type Answer struct {
	Choices []int  `json:"c,omitempty"`
	Scale   int    `json:"s,omitempty"`
	Text    string `json:"t,omitempty"`
}

func (a Answer) empty() bool { return len(a.Choices) == 0 && a.Scale == 0 && a.Text == "" }

// problems collects what is wrong with a set of answers, every question
// at once, as one Invalid error whose Fields give each question's message
// by its form field, so that a page shows each beside its question.
type problems struct {
	messages []string
	fields   map[string]string
}

func (p *problems) add(i int, msg string) {
	if p.fields == nil {
		p.fields = map[string]string{}
	}
	p.messages = append(p.messages, msg)
	p.fields[Field(i)] = msg
}

func (p problems) err() error {
	if len(p.messages) == 0 {
		return nil
	}
	return &apperr.Error{Code: apperr.Invalid, Message: strings.Join(p.messages, ""), Fields: p.fields}
}

// Field is the form field of question i (0-based): q1, q2 …
func Field(i int) string { return "q" + strconv.Itoa(i+1) }

// ParseAnswers reads the answers to sv from a form (q1, q2 …; a multiple
// choice repeats its field), and checks them with Validate.
func ParseAnswers(sv Survey, form map[string][]string) ([]Answer, error) {
	answers := make([]Answer, len(sv.Questions))
	for i, q := range sv.Questions {
		var vals []string
		for _, v := range form[Field(i)] {
			if v = strings.TrimSpace(v); v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		switch q.Kind {
		case Text:
			answers[i].Text = strings.Join(vals, "\n")
		case Scale:
			n, err := strconv.Atoi(vals[0])
			if err != nil || len(vals) > 1 {
				n = -1 // Validate says what is wrong
			}
			answers[i].Scale = n
		default:
			for _, v := range vals {
				n, err := strconv.Atoi(v)
				if err != nil {
					n = -1
				}
				answers[i].Choices = append(answers[i].Choices, n)
			}
		}
	}
	return answers, Validate(sv, answers)
}

// Validate checks answers against sv's questions: one answer per
// question, required ones given, options that exist, one for a single
// choice, a scale from 1 to 5, text within MaxText.
func Validate(sv Survey, answers []Answer) error {
	if len(answers) != len(sv.Questions) {
		return apperr.New(apperr.Invalid, "答卷与问卷的题目数不一致，请刷新页面后重新填写。")
	}
	var bad problems
	for i, q := range sv.Questions {
		a := answers[i]
		n := fmt.Sprintf("第 %d 题“%s”", i+1, q.Title)
		problem := func(msg string) { bad.add(i, n+msg) }
		if a.empty() {
			if q.Required {
				problem(map[Kind]string{Single: "为必答题，请选择。", Multiple: "为必答题，请选择。", Text: "为必答题，请填写。", Scale: "为必答题，请打分。"}[q.Kind])
			}
			continue
		}
		switch q.Kind {
		case Single, Multiple:
			if a.Scale != 0 || a.Text != "" {
				problem("请在选项中选择。")
				continue
			}
			if q.Kind == Single && len(a.Choices) > 1 {
				problem("只能选一项。")
				continue
			}
			for j, c := range a.Choices {
				if c < 0 || c >= len(q.Options) || slices.Index(a.Choices, c) != j {
					problem("的选项无效，请重新选择。")
					break
				}
			}
		case Scale:
			if a.Scale < 1 || a.Scale > 5 || len(a.Choices) > 0 || a.Text != "" {
				problem("请在 1 至 5 分中选择。")
			}
		case Text:
			if len(a.Choices) > 0 || a.Scale != 0 {
				problem("请填写文字。")
			} else if utf8.RuneCountInString(a.Text) > MaxText {
				problem(fmt.Sprintf("的回答不能超过 %d 个字。", MaxText))
			}
		}
	}
	return bad.err()
}

// Respondent is who answers: the subject, and for a survey counted per
// device the device's cookie value.
type Respondent struct {
	Who    policy.Subject
	Device string
}

// Submit stores one set of answers to an open survey, once per person or
// device. Answers are checked whole first: a refused set stores nothing.
func (s *Service) Submit(ctx context.Context, r Respondent, id int64, answers []Answer) error {
	sv, err := s.Get(ctx, r.Who, id)
	if err != nil {
		return err
	}
	switch sv.Status {
	case Draft:
		return apperr.New(apperr.Conflict, "问卷尚未开放。")
	case Closed:
		return apperr.New(apperr.Conflict, "问卷已结束，感谢关注。")
	}
	if err := policy.MayAnswer(r.Who, sv.Audience, sv.OncePer); err != nil {
		return err
	}
	if err := Validate(sv, answers); err != nil {
		return err
	}
	key, again := s.respondent(sv, r)
	if key == "" {
		return apperr.New(apperr.Invalid, "无法识别您的设备：请允许浏览器保存 Cookie 后刷新页面再填写。")
	}
	for i := range answers {
		answers[i].Text = strings.TrimSpace(answers[i].Text)
	}
	body, err := json.Marshal(answers)
	if err != nil {
		return err
	}
	var account any
	if !sv.Anonymous && r.Who.AccountID != 0 {
		account = r.Who.AccountID
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO survey_responses (survey_id, respondent, account_id, answers, submitted_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (survey_id, respondent) DO NOTHING`, sv.ID, key, account, string(body), s.clock.Now())
		if err != nil {
			return fmt.Errorf("survey: answer: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return apperr.New(apperr.Conflict, again)
		}
		return nil
	})
}

// respondent is the keyed hash that makes an answer once per person or
// device within the survey, and what a second answer is told; "" when a
// device survey has no cookie to count by.
func (s *Service) respondent(sv Survey, r Respondent) (string, string) {
	if sv.OncePer == policy.ByDevice {
		if len(r.Device) < 16 {
			return "", ""
		}
		return "d:" + s.keys.Index("survey-device", strconv.FormatInt(sv.ID, 10)+":"+r.Device), "这台设备已经填写过这份问卷，每台设备只能填写一次。感谢参与！"
	}
	return "a:" + s.keys.Index("survey-account", strconv.FormatInt(sv.ID, 10)+":"+strconv.FormatInt(r.Who.AccountID, 10)),
		"您已经填写过这份问卷，每人只能填写一次。感谢参与！"
}

// Results are a survey's answers counted.
type Results struct {
	Survey    Survey
	Responses int
	Questions []QuestionResult
	// Satisfaction over every rated question: answers that are satisfied
	// (a scale's 4 and 5, the options marked) of the rated answers given.
	Satisfied, Rated int
}

// Rate is Satisfied of Rated as a share (0 when none).
func (r Results) Rate() float64 { return share(r.Satisfied, r.Rated) }

// Percent is the overall rate as pages show it: 96.3%.
func (r Results) Percent() string { return percent(r.Satisfied, r.Rated) }

// QuestionResult is one question's answers counted.
type QuestionResult struct {
	Question
	Answered int
	Counts   []int // per option; a scale's per point, 1 to 5
	Sum      int   // a scale's points, for the mean
	// SatisfiedCount of RatedCount answers, for a rated question.
	SatisfiedCount, RatedCount int
	Texts                      []string // a text question's answers, latest first, at most MaxTexts
}

// MaxTexts bounds the text answers a results page lists (the export has all).
const MaxTexts = 50

// Mean is a scale's average point (0 without answers).
func (q QuestionResult) Mean() float64 {
	if q.Answered == 0 {
		return 0
	}
	return float64(q.Sum) / float64(q.Answered)
}

// Rate is the question's satisfaction rate.
func (q QuestionResult) Rate() float64 { return share(q.SatisfiedCount, q.RatedCount) }

// Percent is the rate as pages show it.
func (q QuestionResult) Percent() string { return percent(q.SatisfiedCount, q.RatedCount) }

// Labels are the option labels Counts goes with.
func (q QuestionResult) Labels() []string {
	if q.Kind == Scale {
		out := make([]string, 5)
		for i, l := range ScaleLabels {
			out[i] = strconv.Itoa(i+1) + " 分 " + l
		}
		return out
	}
	return q.Options
}

// Share is Counts[i] of the answers as pages show it.
func (q QuestionResult) Share(i int) string { return percent(q.Counts[i], q.Answered) }

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func percent(n, of int) string {
	if of == 0 {
		return "—"
	}
	return strconv.FormatFloat(100*float64(n)/float64(of), 'f', 1, 64) + "%"
}

// Results counts every answer of a survey, for an administrator.
func (s *Service) Results(ctx context.Context, who policy.Subject, id int64) (Results, error) {
	if err := policy.Check(who, policy.View, manage); err != nil {
		return Results{}, err
	}
	sv, err := get(ctx, s.db.Read(), id)
	if err != nil {
		return Results{}, err
	}
	res := Results{Survey: sv, Questions: make([]QuestionResult, len(sv.Questions))}
	for i, q := range sv.Questions {
		res.Questions[i] = QuestionResult{Question: q, Counts: make([]int, len(q.Options))}
		if q.Kind == Scale {
			res.Questions[i].Counts = make([]int, 5)
		}
	}
	err = s.responses(ctx, sv, func(r response) error {
		res.Responses++
		for i, a := range r.Answers {
			q := &res.Questions[i]
			if a.empty() {
				continue
			}
			q.Answered++
			satisfied := false
			switch q.Kind {
			case Single, Multiple:
				for _, c := range a.Choices {
					q.Counts[c]++
					satisfied = satisfied || slices.Contains(q.Satisfied, c)
				}
			case Scale:
				q.Counts[a.Scale-1]++
				q.Sum += a.Scale
				satisfied = a.Scale >= 4
			case Text:
				if len(q.Texts) < MaxTexts {
					q.Texts = append(q.Texts, a.Text)
				}
			}
			if q.Rated() {
				q.RatedCount++
				res.Rated++
				if satisfied {
					q.SatisfiedCount++
					res.Satisfied++
				}
			}
		}
		return nil
	})
	return res, err
}

// response is one stored set of answers.
type response struct {
	ID          int64
	AccountID   int64
	Answers     []Answer
	SubmittedAt time.Time
}

// responsePage is how many answers are read at a time.
const responsePage = 1000

// responses calls fn with every answer to sv, newest first, a page at a
// time by id.
func (s *Service) responses(ctx context.Context, sv Survey, fn func(response) error) error {
	for after := int64(0); ; {
		page, next, err := s.responsePage(ctx, sv, after)
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		after = next
	}
}

// responsePage reads the answers after the id cursor (0: the newest),
// newest first, and the cursor of the next page (0: none).
func (s *Service) responsePage(ctx context.Context, sv Survey, after int64) ([]response, int64, error) {
	q, args := `SELECT id, COALESCE(account_id, 0), answers, submitted_at FROM survey_responses WHERE survey_id = ?`, []any{sv.ID}
	if after != 0 {
		q += ` AND id < ?`
		args = append(args, after)
	}
	rows, err := s.db.Read().Query(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, responsePage+1)...)
	if err != nil {
		return nil, 0, fmt.Errorf("survey %d: answers: %w", sv.ID, err)
	}
	defer rows.Close()
	var out []response
	for rows.Next() {
		var r response
		var body string
		if err := rows.Scan(&r.ID, &r.AccountID, &body, &r.SubmittedAt); err != nil {
			return nil, 0, err
		}
		if err := json.Unmarshal([]byte(body), &r.Answers); err != nil || len(r.Answers) != len(sv.Questions) {
			return nil, 0, fmt.Errorf("survey %d: answer %d does not fit the questions: %v", sv.ID, r.ID, err)
		}
		out = append(out, r)
	}
	var next int64
	if len(out) > responsePage {
		out = out[:responsePage]
		next = out[responsePage-1].ID
	}
	return out, next, rows.Err()
}

// Export writes a survey's results as an XLSX workbook — the counts per
// question and option, then every answer — for an administrator; the
// export is audited before it is written.
func (s *Service) Export(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, w io.Writer) error {
	if err := policy.Check(who, policy.Export, manage); err != nil {
		return err
	}
	res, err := s.Results(ctx, who, id)
	if err != nil {
		return err
	}
	sv := res.Survey
	b := workbook.New()
	defer b.Close()
	type line struct {
		n                  int
		title, kind, label string
		count              int
		share, mean, rate  string
	}
	var lines []line
	for i, q := range res.Questions {
		for j, l := range q.Labels() {
			ln := line{n: i + 1, title: q.Title, kind: q.Kind.Name(), label: l, count: q.Counts[j], share: q.Share(j)}
			if j == 0 && q.Kind == Scale {
				ln.mean = strconv.FormatFloat(q.Mean(), 'f', 2, 64)
			}
			if j == 0 && q.Rated() {
				ln.rate = q.Percent()
			}
			lines = append(lines, ln)
		}
		if q.Kind == Text {
			lines = append(lines, line{n: i + 1, title: q.Title, kind: q.Kind.Name(), label: "作答人数", count: q.Answered})
		}
	}
	lines = append(lines, line{title: "总体满意率", label: fmt.Sprintf("%d 份答卷", res.Responses), count: res.Rated, rate: res.Percent()})
	if _, err := workbook.Sheet(b, "结果汇总", []any{"题号", "题目", "题型", "选项", "人数", "占比", "平均分", "满意率"}, workbook.Rows(lines),
		func(l line) []any {
			n := any(l.n)
			if l.n == 0 {
				n = ""
			}
			return []any{n, l.title, l.kind, l.label, l.count, l.share, l.mean, l.rate}
		}); err != nil {
		return err
	}
	header := []any{"序号", "提交时间"}
	if !sv.Anonymous {
		header = append(header, "账户")
	}
	for i, q := range sv.Questions {
		header = append(header, fmt.Sprintf("%d. %s", i+1, q.Title))
	}
	n, err := workbook.Sheet(b, "答卷", header, func(after string) ([]response, string, error) {
		var cur int64
		if after != "" {
			cur, _ = strconv.ParseInt(after, 10, 64)
		}
		page, next, err := s.responsePage(ctx, sv, cur)
		if next == 0 {
			return page, "", err
		}
		return page, strconv.FormatInt(next, 10), err
	}, func(r response) []any {
		row := []any{r.ID, r.SubmittedAt.In(clock.China).Format("2006-01-02 15:04")}
		if !sv.Anonymous {
			row = append(row, r.AccountID)
		}
		for i, a := range r.Answers {
			row = append(row, answerText(sv.Questions[i], a))
		}
		return row
	})
	if err != nil {
		return err
	}
	return b.Write(ctx, s.db, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: who.Name, Action: "export",
		Object: "survey:" + strconv.FormatInt(sv.ID, 10), Detail: fmt.Sprintf("导出问卷结果：%s，%d 份答卷", sv.Title, n),
		IP: meta.IP, RegionCode: who.RegionCode}, w)
}

// answerText is an answer as a cell shows it.
func answerText(q Question, a Answer) string {
	switch q.Kind {
	case Scale:
		if a.Scale == 0 {
			return ""
		}
		return strconv.Itoa(a.Scale)
	case Text:
		return a.Text
	}
	var ls []string
	for _, c := range a.Choices {
		ls = append(ls, q.Options[c])
	}
	return strings.Join(ls, "；")
}
