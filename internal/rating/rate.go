package rating

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Invitation is a person's invitation to rate a subject.
type Invitation struct {
	ID         int64
	Subject    Subject
	InvitedAt  time.Time
	RemindedAt time.Time // zero until reminded
	RatingID   int64     // 0 until rated
}

const invitationColumns = `id, subject_kind, subject_id, subject_number, title, COALESCE(item_id, 0), department_id, region_code, scene,
	account_id, COALESCE(enterprise_id, 0), COALESCE(staff_id, 0), COALESCE(case_id, 0), invited_at, reminded_at, COALESCE(rating_id, 0)`

func scanInvitation(row interface{ Scan(...any) error }) (Invitation, error) {
	var inv Invitation
	var reminded sql.NullTime
	s := &inv.Subject
	err := row.Scan(&inv.ID, &s.Kind, &s.ID, &s.Number, &s.Title, &s.ItemID, &s.DepartmentID, &s.RegionCode, &s.Scene,
		&s.PersonID, &s.EnterpriseID, &s.StaffID, &s.CaseID, &inv.InvitedAt, &reminded, &inv.RatingID)
	inv.RemindedAt = reminded.Time
	return inv, err
}

// Invitation is one invitation, to the person invited (or the one acting
// for the enterprise invited).
func (s *Service) Invitation(ctx context.Context, who policy.Subject, id int64) (Invitation, error) {
	inv, err := scanInvitation(s.db.Read().QueryRow(ctx, `SELECT `+invitationColumns+` FROM rating_invitations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return inv, apperr.New(apperr.NotFound, "没有找到该评价邀请。")
	}
	if err != nil {
		return inv, err
	}
	if err := policy.Check(who, policy.Create, inv.Subject.Resource()); err != nil {
		return Invitation{}, err
	}
	return inv, nil
}

// ForCase is the invitation to rate a case, for its page: ok is false when
// who was not invited to rate it (a staff member, a case not finished).
func (s *Service) ForCase(ctx context.Context, who policy.Subject, caseID int64) (Invitation, bool, error) {
	if who.Kind != policy.Person {
		return Invitation{}, false, nil
	}
	inv, err := scanInvitation(s.db.Read().QueryRow(ctx, `SELECT `+invitationColumns+` FROM rating_invitations
		WHERE subject_kind = 'case' AND subject_id = ? ORDER BY id LIMIT 1`, caseID))
	if errors.Is(err, sql.ErrNoRows) {
		return inv, false, nil
	}
	if err != nil {
		return inv, false, err
	}
	if policy.Check(who, policy.Create, inv.Subject.Resource()) != nil {
		return Invitation{}, false, nil
	}
	return inv, true, nil
}

// Pending lists who's invitations not yet rated, newest first: the
// prompts of 我的办件.
func (s *Service) Pending(ctx context.Context, who policy.Subject) ([]Invitation, error) {
	if who.Kind != policy.Person {
		return nil, nil
	}
	q := `SELECT ` + invitationColumns + ` FROM rating_invitations WHERE rating_id IS NULL AND `
	arg := who.AccountID
	if who.ActingFor != 0 {
		q, arg = q+`enterprise_id = ?`, who.ActingFor
	} else {
		q += `account_id = ? AND enterprise_id IS NULL`
	}
	rows, err := s.db.Read().Query(ctx, q+` ORDER BY id DESC LIMIT 20`, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// Input is a rating as a form or an API body gives it.
type Input struct {
	Level   Level
	Scores  map[string]Level // by dimension key, each 1…5
	Comment string
	Channel string // ByWeb, ByMessage or ByApp; ByTablet only at a window
}

// maxComment is the longest comment, in characters.
const maxComment = 500

// check validates in for scene: every level given and in range, the
// comment not too long, and a 差评 explained (its follow-up needs to know
// what to call back about). It returns the comment trimmed.
func (in Input) check(scene string) (string, error) {
	if in.Level.Name() == "" {
		return "", invalid("level", "请选择总体评价：非常满意、满意、基本满意、不满意或非常不满意。")
	}
	for _, d := range dimensions[scene] {
		if in.Scores[d.Key].Name() == "" {
			return "", invalid("score-"+d.Key, "请为“"+d.Name+"”选择评价。")
		}
	}
	for k := range in.Scores {
		if !hasDimension(scene, k) {
			return "", apperr.New(apperr.Invalid, "评价项目“"+k+"”不适用于本次服务，请刷新页面后重新评价。")
		}
	}
	comment := strings.TrimSpace(in.Comment)
	if utf8.RuneCountInString(comment) > maxComment {
		return "", invalid("comment", fmt.Sprintf("评价内容请控制在 %d 字以内。", maxComment))
	}
	if in.Level.Bad() && comment == "" {
		return "", invalid("comment", "选择“不满意”或“非常不满意”时，请写明不满意的原因，以便回访和整改。")
	}
	return comment, nil
}

// invalid is a refusal about one field of the rating form (its name in
// the form), so that the page can point at it.
func invalid(field, message string) error {
	e := apperr.New(apperr.Invalid, message)
	e.Fields = map[string]string{field: message}
	return e
}

func hasDimension(scene, key string) bool {
	for _, d := range dimensions[scene] {
		if d.Key == key {
			return true
		}
	}
	return false
}

// Rate records who's rating on an invitation. A 差评 opens its follow-up
// in the same transaction, due in the configured working days, and tells
// the unit's reviewers and heads. One rating per invitation: a second is
// refused.
func (s *Service) Rate(ctx context.Context, who policy.Subject, meta audit.Meta, invitationID int64, in Input) (Rating, error) {
	inv, err := s.Invitation(ctx, who, invitationID)
	if err != nil {
		return Rating{}, err
	}
	if in.Channel != ByMessage && in.Channel != ByApp {
		in.Channel = ByWeb
	}
	var r Rating
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		r, err = s.record(ctx, tx, who, meta, inv.Subject, in)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE rating_invitations SET rating_id = ? WHERE id = ?`, r.ID, inv.ID)
		return err
	})
	return r, err
}

var errRated = apperr.New(apperr.Conflict, "您已经评价过本次服务，每次服务只能评价一次。")

// record writes a rating of subj in tx, and a 差评's follow-up.
func (s *Service) record(ctx context.Context, tx *store.Tx, who policy.Subject, meta audit.Meta, subj Subject, in Input) (Rating, error) {
	comment, err := in.check(subj.Scene)
	if err != nil {
		return Rating{}, err
	}
	var sealed string
	if comment != "" {
		if s.keys == nil {
			return Rating{}, errors.New("rating: comments need the data keys")
		}
		if sealed, err = s.keys.Seal(comment, commentContext); err != nil {
			return Rating{}, err
		}
	}
	scores, err := json.Marshal(in.Scores)
	if err != nil {
		return Rating{}, err
	}
	now := s.clock.Now()
	r := Rating{Subject: subj, RaterID: subj.PersonID, Channel: in.Channel, Level: in.Level, Scores: in.Scores, Comment: comment, RatedAt: now}
	err = tx.QueryRow(ctx, `INSERT INTO ratings (subject_kind, subject_id, subject_number, title, item_id, department_id, region_code,
		rater_id, staff_id, channel, scene, level, dimensions, comment_sealed, rated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (subject_kind, subject_id, rater_id) DO NOTHING RETURNING id`,
		subj.Kind, subj.ID, subj.Number, subj.Title, nullID(subj.ItemID), subj.DepartmentID, subj.RegionCode, subj.PersonID,
		nullID(subj.StaffID), in.Channel, subj.Scene, int(in.Level), string(scores), sealed, now).Scan(&r.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return Rating{}, errRated
	}
	if err != nil {
		return Rating{}, err
	}
	detail := fmt.Sprintf("评价%s %s：%s", subjectNames[subj.Kind], subj.Number, in.Level.Name())
	if err := audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: "rating",
		Object: fmt.Sprintf("rating:%d", r.ID), Detail: detail, IP: meta.IP, RegionCode: subj.RegionCode}); err != nil {
		return Rating{}, err
	}
	if s.rated != nil {
		if err := s.rated(ctx, tx, r); err != nil {
			return Rating{}, err
		}
	}
	if !in.Level.Bad() {
		return r, nil
	}
	due := s.calendar.AddWorkdays(calendar.DateOf(now), s.rectifyDays)
	if err := tx.QueryRow(ctx, `INSERT INTO rating_followups (rating_id, department_id, region_code, state, opened_at, due_on)
		VALUES (?, ?, ?, 'callback', ?, ?) RETURNING id`, r.ID, subj.DepartmentID, subj.RegionCode, now, due.String()).Scan(&r.FollowUpID); err != nil {
		return Rating{}, err
	}
	staff, err := casework.StaffWith(ctx, tx, `r.role IN ('reviewer', 'head') AND a.department_id = ?`, subj.DepartmentID)
	if err != nil {
		return Rating{}, err
	}
	body := fmt.Sprintf("%s（编号 %s）收到%s，请尽快回访，并于 %s 前整改。", subj.Title, subj.Number, in.Level.Name(), due)
	for _, id := range staff {
		if err := s.message(ctx, tx, id, subj.CaseID, "收到差评，请回访整改", body); err != nil {
			return Rating{}, err
		}
	}
	return r, nil
}

// commentContext binds sealed comments to their use (pii's AAD).
const commentContext = "rating.comment"

var subjectNames = map[string]string{OfCase: "办件", OfComplaint: "诉求", OfVisit: "窗口服务"}

// SubjectName names a kind of subject in Chinese.
func SubjectName(kind string) string { return subjectNames[kind] }

// actorName names who in the audit log: 王五（账户 12）.
func actorName(who policy.Subject) string {
	if who.AccountID == 0 {
		return who.Name
	}
	return fmt.Sprintf("%s（账户 %d）", who.Name, who.AccountID)
}
