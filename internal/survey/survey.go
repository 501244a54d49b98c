// Package survey runs questionnaires (问卷): an administrator builds one —
// single and multiple choice, 1–5 scales, text, each required or not —
// for citizens or for staff, anonymous or named, answered once per
// signed-in person or once per device, and opens and closes it; answers
// are checked whole before anything is stored; results count each option,
// average the scales and give a satisfaction rate per question and
// overall, and export as XLSX (audited).
//
// Once per device is a cookie that the pages set and a keyed hash of it
// (pii's index key) stored with the answer: it stops a second answer from
// the same browser, not from someone who clears their cookies or uses
// another browser. A survey that must count people uses ByPerson.
package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Kind is a kind of question.
type Kind string

const (
	Single   Kind = "single"   // one option
	Multiple Kind = "multiple" // any number of options
	Scale    Kind = "scale"    // 1 (非常不满意) to 5 (非常满意)
	Text     Kind = "text"     // free text
)

// Kinds lists the kinds, in the order the editor offers them.
var Kinds = []Kind{Single, Multiple, Scale, Text}

// Name is the kind's Chinese name.
func (k Kind) Name() string {
	return map[Kind]string{Single: "单选", Multiple: "多选", Scale: "1–5 分量表", Text: "文字"}[k]
}

// ScaleLabels name the points of a scale, 1 to 5 (好差评's five levels).
var ScaleLabels = []string{"非常不满意", "不满意", "基本满意", "满意", "非常满意"}

// Question is one question of a survey.
type Question struct {
	Title    string   `json:"title"`
	Kind     Kind     `json:"kind"`
	Required bool     `json:"required"`
	Options  []string `json:"options,omitempty"` // choices
	// Satisfied marks the options (by position) that count as satisfied
	// in the satisfaction rate; a scale counts 4 and 5. A choice question
	// without marks has no rate.
	Satisfied []int `json:"satisfied,omitempty"`
}

// Rated reports whether the question counts towards satisfaction.
func (q Question) Rated() bool { return q.Kind == Scale || len(q.Satisfied) > 0 }

// Status of a survey.
type Status string

const (
	Draft  Status = "draft"  // being built: not answerable
	Open   Status = "open"   // taking answers
	Closed Status = "closed" // results only
)

// Name is the status's Chinese name.
func (s Status) Name() string {
	return map[Status]string{Draft: "草稿", Open: "进行中", Closed: "已结束"}[s]
}

// Survey is a questionnaire.
type Survey struct {
	ID        int64
	Title     string
	Intro     string
	Audience  string // policy.Citizens or policy.StaffOnly
	Anonymous bool   // answers are not linked to the account
	OncePer   string // policy.ByPerson or policy.ByDevice
	Questions []Question
	Status    Status
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits of a survey.
const (
	MaxTitle     = 80
	MaxIntro     = 1000
	MaxQuestions = 50
	MaxOptions   = 20
	MaxOption    = 60
	MaxText      = 1000 // an answer's text
)

// Check says in Chinese what is wrong with a survey being built.
func (s *Survey) Check() error {
	s.Title, s.Intro = strings.TrimSpace(s.Title), strings.TrimSpace(s.Intro)
	switch {
	case s.Title == "":
		return apperr.New(apperr.Invalid, "请填写问卷标题。")
	case utf8.RuneCountInString(s.Title) > MaxTitle:
		return apperr.New(apperr.Invalid, fmt.Sprintf("问卷标题不能超过 %d 个字。", MaxTitle))
	case utf8.RuneCountInString(s.Intro) > MaxIntro:
		return apperr.New(apperr.Invalid, fmt.Sprintf("说明不能超过 %d 个字。", MaxIntro))
	case s.Audience != policy.Citizens && s.Audience != policy.StaffOnly:
		return apperr.New(apperr.Invalid, "请选择问卷面向群众还是工作人员。")
	case s.OncePer != policy.ByPerson && s.OncePer != policy.ByDevice:
		return apperr.New(apperr.Invalid, "请选择每人填写一次还是每台设备填写一次。")
	case s.Audience == policy.StaffOnly && s.OncePer == policy.ByDevice:
		return apperr.New(apperr.Invalid, "面向工作人员的问卷须登录填写，请选择每人填写一次。")
	case s.OncePer == policy.ByDevice && !s.Anonymous:
		return apperr.New(apperr.Invalid, "按设备计数的问卷可不登录填写，只能匿名。")
	case len(s.Questions) == 0:
		return apperr.New(apperr.Invalid, "问卷至少要有一道题。")
	case len(s.Questions) > MaxQuestions:
		return apperr.New(apperr.Invalid, fmt.Sprintf("问卷最多 %d 道题。", MaxQuestions))
	}
	for i := range s.Questions {
		q := &s.Questions[i]
		n := fmt.Sprintf("第 %d 题", i+1)
		q.Title = strings.TrimSpace(q.Title)
		if q.Title == "" {
			return apperr.New(apperr.Invalid, n+"没有题目。")
		}
		if utf8.RuneCountInString(q.Title) > MaxTitle*2 {
			return apperr.New(apperr.Invalid, fmt.Sprintf("%s题目不能超过 %d 个字。", n, MaxTitle*2))
		}
		switch q.Kind {
		case Single, Multiple:
			var opts []string
			for _, o := range q.Options {
				if o = strings.TrimSpace(o); o != "" {
					opts = append(opts, o)
				}
			}
			q.Options = opts
			switch {
			case len(opts) < 2:
				return apperr.New(apperr.Invalid, n+"至少要有两个选项。")
			case len(opts) > MaxOptions:
				return apperr.New(apperr.Invalid, fmt.Sprintf("%s最多 %d 个选项。", n, MaxOptions))
			}
			for j, o := range opts {
				if utf8.RuneCountInString(o) > MaxOption {
					return apperr.New(apperr.Invalid, fmt.Sprintf("%s的选项不能超过 %d 个字。", n, MaxOption))
				}
				if slices.Index(opts, o) != j {
					return apperr.New(apperr.Invalid, n+"有重复的选项“"+o+"”。")
				}
			}
			for _, k := range q.Satisfied {
				if k < 0 || k >= len(opts) {
					return apperr.New(apperr.Invalid, n+"标为“满意”的选项不存在。")
				}
			}
			slices.Sort(q.Satisfied)
			q.Satisfied = slices.Compact(q.Satisfied)
		case Scale, Text:
			if len(q.Options) > 0 || len(q.Satisfied) > 0 {
				return apperr.New(apperr.Invalid, n+"是"+q.Kind.Name()+"题，不设选项。")
			}
		default:
			return apperr.New(apperr.Invalid, n+"请选择题型：单选、多选、1–5 分量表或文字。")
		}
	}
	return nil
}

// Service builds surveys, takes answers and gives results.
type Service struct {
	db    *store.DB
	clock clock.Clock
	keys  *pii.Keys // the index key hashes respondents
}

// New returns the service; keys' index key makes respondents' hashes.
func New(db *store.DB, clk clock.Clock, keys *pii.Keys) *Service {
	return &Service{db: db, clock: clk, keys: keys}
}

var manage = policy.Resource{Kind: policy.Survey}

// Save creates a survey (ID 0) or changes a draft, for an administrator.
func (s *Service) Save(ctx context.Context, who policy.Subject, meta audit.Meta, sv Survey) (Survey, error) {
	if err := policy.Check(who, policy.Edit, manage); err != nil {
		return sv, err
	}
	if err := sv.Check(); err != nil {
		return sv, err
	}
	questions, err := json.Marshal(sv.Questions)
	if err != nil {
		return sv, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		now := s.clock.Now()
		sv.UpdatedAt = now
		if sv.ID == 0 {
			sv.Status, sv.CreatedAt = Draft, now
			if err := tx.QueryRow(ctx, `INSERT INTO surveys (title, intro, audience, anonymous, once_per, questions, status, created_by, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, sv.Title, sv.Intro, sv.Audience, sv.Anonymous, sv.OncePer, string(questions),
				sv.Status, accountID(who), now, now).Scan(&sv.ID); err != nil {
				return fmt.Errorf("survey: create: %w", err)
			}
			return s.audit(ctx, tx, who, meta, "survey_create", sv.ID, "新建问卷："+sv.Title)
		}
		old, err := get(ctx, tx, sv.ID)
		if err != nil {
			return err
		}
		if old.Status != Draft {
			return apperr.New(apperr.Conflict, "问卷已开放过，题目不能再改；如需调整，请新建问卷。")
		}
		sv.Status, sv.CreatedAt = old.Status, old.CreatedAt
		if _, err := tx.Exec(ctx, `UPDATE surveys SET title = ?, intro = ?, audience = ?, anonymous = ?, once_per = ?, questions = ?, updated_at = ?
			WHERE id = ?`, sv.Title, sv.Intro, sv.Audience, sv.Anonymous, sv.OncePer, string(questions), now, sv.ID); err != nil {
			return fmt.Errorf("survey: save: %w", err)
		}
		return s.audit(ctx, tx, who, meta, "survey_edit", sv.ID, "修改问卷："+sv.Title)
	})
	return sv, err
}

// SetStatus opens a draft or a closed survey, or closes an open one.
func (s *Service) SetStatus(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, to Status) error {
	if err := policy.Check(who, policy.Edit, manage); err != nil {
		return err
	}
	if to != Open && to != Closed {
		return apperr.New(apperr.Invalid, "只能开放或结束问卷。")
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		sv, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if sv.Status == to {
			return apperr.New(apperr.Conflict, "问卷已是“"+to.Name()+"”状态。")
		}
		if to == Closed && sv.Status == Draft {
			return apperr.New(apperr.Conflict, "草稿尚未开放，无需结束。")
		}
		if _, err := tx.Exec(ctx, `UPDATE surveys SET status = ?, updated_at = ? WHERE id = ?`, to, s.clock.Now(), id); err != nil {
			return fmt.Errorf("survey: status: %w", err)
		}
		action := map[Status]string{Open: "survey_open", Closed: "survey_close"}[to]
		return s.audit(ctx, tx, who, meta, action, id, to.Name()+"："+sv.Title)
	})
}

func (s *Service) audit(ctx context.Context, tx *store.Tx, who policy.Subject, meta audit.Meta, action string, id int64, detail string) error {
	return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: who.Name, Action: action,
		Object: "survey:" + strconv.FormatInt(id, 10), Detail: detail, IP: meta.IP, RegionCode: who.RegionCode})
}

const columns = `id, title, intro, audience, anonymous, once_per, questions, status, created_at, updated_at`

func scan(row interface{ Scan(...any) error }) (Survey, error) {
	var sv Survey
	var questions string
	if err := row.Scan(&sv.ID, &sv.Title, &sv.Intro, &sv.Audience, &sv.Anonymous, &sv.OncePer, &questions, &sv.Status, &sv.CreatedAt, &sv.UpdatedAt); err != nil {
		return sv, err
	}
	return sv, json.Unmarshal([]byte(questions), &sv.Questions)
}

func get(ctx context.Context, q store.Querier, id int64) (Survey, error) {
	sv, err := scan(q.QueryRow(ctx, `SELECT `+columns+` FROM surveys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sv, apperr.New(apperr.NotFound, "没有这份问卷。")
	}
	return sv, err
}

// Get returns a survey as those who answer it see it: a citizens' survey,
// open or closed, for anyone; a staff survey for staff only (a visitor is
// asked to sign in, a citizen does not learn of it); a draft only for an
// administrator.
func (s *Service) Get(ctx context.Context, who policy.Subject, id int64) (Survey, error) {
	sv, err := get(ctx, s.db.Read(), id)
	switch {
	case err != nil:
		return Survey{}, err
	case sv.Status == Draft && policy.Check(who, policy.Edit, manage) != nil,
		sv.Audience == policy.StaffOnly && who.Kind == policy.Person:
		return Survey{}, apperr.New(apperr.NotFound, "没有这份问卷。")
	case sv.Audience == policy.StaffOnly && who.Kind != policy.Staff:
		return Survey{}, apperr.New(apperr.Unauthorized, "本问卷面向工作人员，请使用工作人员账户登录后填写。")
	}
	return sv, nil
}

// Summary is a survey in the administrator's list.
type Summary struct {
	Survey
	Responses int
}

// List returns every survey with its number of answers, newest first,
// for an administrator.
func (s *Service) List(ctx context.Context, who policy.Subject) ([]Summary, error) {
	if err := policy.Check(who, policy.View, manage); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT `+columns+`, (SELECT COUNT(*) FROM survey_responses r WHERE r.survey_id = surveys.id)
		FROM surveys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("surveys: %w", err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var sm Summary
		var questions string
		if err := rows.Scan(&sm.ID, &sm.Title, &sm.Intro, &sm.Audience, &sm.Anonymous, &sm.OncePer, &questions, &sm.Status,
			&sm.CreatedAt, &sm.UpdatedAt, &sm.Responses); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(questions), &sm.Questions); err != nil {
			return nil, err
		}
		out = append(out, sm)
	}
	return out, rows.Err()
}

// Open lists the open surveys who may answer, for the portal.
func (s *Service) Open(ctx context.Context, who policy.Subject) ([]Survey, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT `+columns+` FROM surveys WHERE status = 'open' ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("surveys: %w", err)
	}
	defer rows.Close()
	var out []Survey
	for rows.Next() {
		sv, err := scan(rows)
		if err != nil {
			return nil, err
		}
		if policy.MayAnswer(who, sv.Audience, sv.OncePer) == nil || who.Kind == policy.Anonymous && sv.Audience == policy.Citizens {
			out = append(out, sv)
		}
	}
	return out, rows.Err()
}

func accountID(who policy.Subject) any {
	if who.AccountID == 0 {
		return nil
	}
	return who.AccountID
}
