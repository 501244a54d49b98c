package rating

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// States of a follow-up.
const (
	AwaitCallback = "callback"  // 待回访
	AwaitRectify  = "rectify"   // 待整改: called back, the unit rectifies
	Appealed      = "appealed"  // 申诉中: a supervisor decides
	Rectified     = "rectified" // 已整改
	Excluded      = "excluded"  // 申诉成立: the rating counts nowhere
)

var stateNames = map[string]string{AwaitCallback: "待回访", AwaitRectify: "待整改", Appealed: "申诉中", Rectified: "已整改", Excluded: "申诉成立（不计入）"}

// StateName names a follow-up state in Chinese.
func StateName(state string) string { return stateNames[state] }

// FollowUp is a 差评's follow-up with its rating.
type FollowUp struct {
	ID             int64
	State          string
	OpenedAt       time.Time
	DueOn          calendar.Date
	Rating         Rating
	DepartmentName string

	CalledByName string
	CalledAt     time.Time
	CallReached  bool
	CallNote     string

	RectifiedByName string
	RectifiedAt     time.Time
	RectifiedOn     calendar.Date
	Rectification   string

	AppealFrom     string
	AppealedByName string
	AppealedAt     time.Time
	AppealReason   string
	DecidedByName  string
	DecidedAt      time.Time
	Upheld         bool
	DecisionReason string
}

// StateName is the follow-up's state in Chinese.
func (f FollowUp) StateName() string { return stateNames[f.State] }

// Open reports whether the unit still owes something.
func (f FollowUp) Open() bool {
	return f.State == AwaitCallback || f.State == AwaitRectify || f.State == Appealed
}

// OnTime reports whether a rectified follow-up was rectified by its due date.
func (f FollowUp) OnTime() bool { return f.State == Rectified && !f.RectifiedOn.After(f.DueOn) }

// Resource is the follow-up as the policy sees it: its rating.
func (f FollowUp) Resource() policy.Resource { return f.Rating.Subject.Resource() }

const followUpColumns = `f.id, f.state, f.opened_at, f.due_on, f.called_by_name, f.called_at, f.call_reached, f.call_note,
	f.rectified_by_name, f.rectified_at, f.rectified_on, f.rectification, f.appeal_from, f.appealed_by_name, f.appealed_at,
	f.appeal_reason, f.decided_by_name, f.decided_at, f.appeal_upheld, f.decision_reason, d.name,
	r.id, r.subject_kind, r.subject_id, r.subject_number, r.title, COALESCE(r.item_id, 0), r.department_id, r.region_code,
	r.rater_id, COALESCE(r.staff_id, 0), r.channel, r.scene, r.level, r.dimensions, r.comment_sealed, r.excluded, r.rated_at,
	a.name, a.mobile_masked`

const followUpFrom = ` FROM rating_followups f JOIN ratings r ON r.id = f.rating_id JOIN departments d ON d.id = f.department_id
	JOIN accounts a ON a.id = r.rater_id`

// scanFollowUp reads a row; the comment stays sealed (in Comment) until
// opened for a reader who may see it.
func scanFollowUp(row interface{ Scan(...any) error }) (FollowUp, error) {
	var f FollowUp
	var due, rectifiedOn, dims, rater string
	var called, rectified, appealed, decided sql.NullTime
	r := &f.Rating
	s := &r.Subject
	err := row.Scan(&f.ID, &f.State, &f.OpenedAt, &due, &f.CalledByName, &called, &f.CallReached, &f.CallNote,
		&f.RectifiedByName, &rectified, &rectifiedOn, &f.Rectification, &f.AppealFrom, &f.AppealedByName, &appealed,
		&f.AppealReason, &f.DecidedByName, &decided, &f.Upheld, &f.DecisionReason, &f.DepartmentName,
		&r.ID, &s.Kind, &s.ID, &s.Number, &s.Title, &s.ItemID, &s.DepartmentID, &s.RegionCode,
		&r.RaterID, &s.StaffID, &r.Channel, &s.Scene, &r.Level, &dims, &r.Comment, &r.Excluded, &r.RatedAt,
		&rater, &r.MobileMasked)
	if err != nil {
		return f, err
	}
	s.PersonID, r.FollowUpID, r.RaterMasked = r.RaterID, f.ID, ident.MaskName(rater)
	f.CalledAt, f.RectifiedAt, f.AppealedAt, f.DecidedAt = called.Time, rectified.Time, appealed.Time, decided.Time
	if f.DueOn, err = calendar.ParseDate(due); err != nil {
		return f, err
	}
	if rectifiedOn != "" {
		if f.RectifiedOn, err = calendar.ParseDate(rectifiedOn); err != nil {
			return f, err
		}
	}
	return f, json.Unmarshal([]byte(dims), &r.Scores)
}

// FollowUp is one follow-up with its rating's comment, for staff who may
// see the rating.
func (s *Service) FollowUp(ctx context.Context, who policy.Subject, id int64) (FollowUp, error) {
	f, err := s.loadFollowUp(ctx, s.db.Read(), id)
	if err != nil {
		return f, err
	}
	if err := policy.Check(who, policy.View, f.Resource()); err != nil {
		return FollowUp{}, err
	}
	if f.Rating.Comment != "" {
		if s.keys == nil {
			return FollowUp{}, errors.New("rating: comments need the data keys")
		}
		if f.Rating.Comment, err = s.keys.Open(f.Rating.Comment, commentContext); err != nil {
			return FollowUp{}, err
		}
	}
	return f, nil
}

func (s *Service) loadFollowUp(ctx context.Context, q store.Querier, id int64) (FollowUp, error) {
	f, err := scanFollowUp(q.QueryRow(ctx, `SELECT `+followUpColumns+followUpFrom+` WHERE f.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return f, apperr.New(apperr.NotFound, "没有找到该差评回访记录。")
	}
	return f, err
}

// FollowUpFilter narrows the list of follow-ups.
type FollowUpFilter struct {
	State        string // "" all; "open" those the unit still owes
	DepartmentID int64
	After        int64 // the cursor: the last id shown
}

// FollowUps lists the follow-ups who may see, newest first, a page of
// limit after the cursor; comments stay out of lists.
func (s *Service) FollowUps(ctx context.Context, who policy.Subject, f FollowUpFilter, limit int) ([]FollowUp, int64, error) {
	cond, args := scopeCond(who, "f")
	switch {
	case f.State == "open":
		cond += ` AND f.state IN ('callback', 'rectify', 'appealed')`
	case f.State != "":
		if stateNames[f.State] == "" {
			return nil, 0, apperr.New(apperr.Invalid, "回访状态筛选无效。")
		}
		cond += ` AND f.state = ?`
		args = append(args, f.State)
	}
	if f.DepartmentID != 0 {
		cond += ` AND f.department_id = ?`
		args = append(args, f.DepartmentID)
	}
	if f.After > 0 {
		cond += ` AND f.id < ?`
		args = append(args, f.After)
	}
	rows, err := s.db.Read().Query(ctx, `SELECT `+followUpColumns+followUpFrom+` WHERE `+cond+` ORDER BY f.id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []FollowUp
	for rows.Next() {
		fu, err := scanFollowUp(rows)
		if err != nil {
			return nil, 0, err
		}
		fu.Rating.Comment = ""
		out = append(out, fu)
	}
	var next int64
	if len(out) > limit {
		out, next = out[:limit], out[limit-1].ID
	}
	return out, next, rows.Err()
}

// scopeCond is the SQL condition (on the table alias t with department_id
// and region_code) that keeps what who may see of ratings.
func scopeCond(who policy.Subject, t string) (string, []any) {
	prefix, dept := policy.RatingScope(who)
	cond, args := t+`.region_code LIKE ?`, []any{prefix + "%"}
	if dept != 0 {
		cond += ` AND ` + t + `.department_id = ?`
		args = append(args, dept)
	}
	return cond, args
}

// maxNote bounds the texts staff write on a follow-up.
const maxNote = 1000

func text(value, missing string) (string, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return "", apperr.New(apperr.Invalid, missing)
	}
	if utf8.RuneCountInString(value) > maxNote {
		return "", apperr.New(apperr.Invalid, fmt.Sprintf("内容请控制在 %d 字以内。", maxNote))
	}
	return value, nil
}

// personal finds what looks like a mobile or identity number in a text
// that will be public.
var personal = regexp.MustCompile(`1[3-9]\d{9}|\d{17}[\dXx]`)

// CallBack records the named call-back of a 差评 by who: whether the rater
// was reached and what they said. The follow-up then waits for the
// rectification.
func (s *Service) CallBack(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, reached bool, note string) error {
	note, err := text(note, "请填写回访情况：群众反映的问题和回访结果。")
	if err != nil {
		return err
	}
	return s.step(ctx, who, meta, id, policy.Handle, []string{AwaitCallback}, "rating_callback", func(tx *store.Tx, f FollowUp, now time.Time) (string, error) {
		reachedText := "已接通"
		if !reached {
			reachedText = "未接通"
		}
		err := one(tx.Exec(ctx, `UPDATE rating_followups SET state = 'rectify', called_by = ?, called_by_name = ?, called_at = ?, call_reached = ?,
			call_note = ? WHERE id = ? AND state = 'callback'`, who.AccountID, who.Name, now, reached, note, id))
		return "差评回访（" + reachedText + "）", err
	})
}

// Rectify records what the unit did about a 差评. The text is published
// on the rectification page, so it must hold no personal data.
func (s *Service) Rectify(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, what string) error {
	what, err := text(what, "请填写整改情况：查明的问题和采取的措施。")
	if err != nil {
		return err
	}
	if personal.MatchString(what) {
		return apperr.New(apperr.Invalid, "整改情况将向社会公开，请不要写入手机号码、身份证号码等个人信息。")
	}
	return s.step(ctx, who, meta, id, policy.Handle, []string{AwaitRectify}, "rating_rectify", func(tx *store.Tx, f FollowUp, now time.Time) (string, error) {
		today := calendar.DateOf(now)
		err := one(tx.Exec(ctx, `UPDATE rating_followups SET state = 'rectified', rectified_by = ?, rectified_by_name = ?, rectified_at = ?,
			rectified_on = ?, rectification = ? WHERE id = ? AND state = 'rectify'`, who.AccountID, who.Name, now, today.String(), what, id))
		detail := "差评整改（按期）"
		if today.After(f.DueOn) {
			detail = "差评整改（超期）"
		}
		return detail, err
	})
}

// Appeal asks, for the unit, that a mistaken or malicious rating be
// excluded; a supervisor decides (DecideAppeal). Meanwhile the
// follow-up waits.
func (s *Service) Appeal(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, reason string) error {
	reason, err := text(reason, "请写明申诉理由：为何认为该评价属于误评或恶意评价。")
	if err != nil {
		return err
	}
	return s.step(ctx, who, meta, id, policy.Approve, []string{AwaitCallback, AwaitRectify}, "rating_appeal", func(tx *store.Tx, f FollowUp, now time.Time) (string, error) {
		err := one(tx.Exec(ctx, `UPDATE rating_followups SET state = 'appealed', appeal_from = state, appealed_by = ?, appealed_by_name = ?,
			appealed_at = ?, appeal_reason = ? WHERE id = ? AND state = ?`, who.AccountID, who.Name, now, reason, id, f.State))
		return "申诉差评", err
	})
}

// DecideAppeal is a supervisor's decision on an appeal, with reasons:
// upheld, the rating is excluded from every rate and the follow-up ends;
// refused, the follow-up goes back to where it was.
func (s *Service) DecideAppeal(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, upheld bool, reason string) error {
	reason, err := text(reason, "请写明审核理由。")
	if err != nil {
		return err
	}
	return s.step(ctx, who, meta, id, policy.Follow, []string{Appealed}, "rating_appeal_decide", func(tx *store.Tx, f FollowUp, now time.Time) (string, error) {
		to := f.AppealFrom
		detail := "申诉不成立"
		if upheld {
			to, detail = Excluded, "申诉成立，该评价不计入统计"
			if _, err := tx.Exec(ctx, `UPDATE ratings SET excluded = ? WHERE id = ?`, true, f.Rating.ID); err != nil {
				return "", err
			}
		}
		err := one(tx.Exec(ctx, `UPDATE rating_followups SET state = ?, decided_by = ?, decided_by_name = ?, decided_at = ?, appeal_upheld = ?,
			decision_reason = ? WHERE id = ? AND state = 'appealed'`, to, who.AccountID, who.Name, now, upheld, reason, id))
		return detail, err
	})
}

// step takes one step of a follow-up: who must be allowed a on its rating,
// and the follow-up in one of the states from; change writes it (its
// UPDATE guarded by the state, so of two people acting at once one is
// told it changed) and says what happened, for the audit entry written in
// the same transaction.
func (s *Service) step(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, a policy.Action, from []string, action string,
	change func(*store.Tx, FollowUp, time.Time) (string, error)) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		f, err := s.loadFollowUp(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := policy.Check(who, a, f.Resource()); err != nil {
			return err
		}
		allowed := false
		for _, st := range from {
			allowed = allowed || f.State == st
		}
		if !allowed {
			return apperr.New(apperr.Conflict, "该差评当前为“"+f.StateName()+"”，不能进行这一步，请刷新后查看。")
		}
		now := s.clock.Now()
		detail, err := change(tx, f, now)
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: action,
			Object: "rating_followup:" + strconv.FormatInt(id, 10), Detail: detail + " " + SubjectName(f.Rating.Subject.Kind) + " " + f.Rating.Subject.Number,
			IP: meta.IP, RegionCode: f.Rating.Subject.RegionCode})
	})
}

var errFollowUpChanged = apperr.New(apperr.Conflict, "该差评刚被他人处理过，请刷新后查看。")

// one checks that a state-guarded UPDATE changed its row: none means
// another request moved the follow-up first.
func one(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errFollowUpChanged
	}
	return nil
}
