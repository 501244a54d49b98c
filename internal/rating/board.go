package rating

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
)

// Ratings as a source of the praise and exposure boards, as
// casework/board.go is for finished cases: board imports no domain
// package, app hands this to board.New.

// BoardSource is the ratings the boards may publish.
func (s *Service) BoardSource() board.Source { return boardSource{s} }

type boardSource struct{ s *Service }

func (boardSource) Kind() string { return "rating" }
func (boardSource) Name() string { return "评价" }

// publishable is which ratings may go on a board: with a comment, not
// excluded on appeal, and either 好评 (非常满意, 满意: praise) or a 差评
// the unit has called back (待整改) or rectified (已整改) — one still
// awaiting its call-back or under appeal is not yet the unit's to answer
// for, and one whose appeal was upheld counts nowhere.
const publishable = `r.comment_sealed <> '' AND r.excluded = ? AND (r.level >= 4 OR r.level <= 2 AND f.state IN ('rectify', 'rectified'))`

const boardColumns = `r.id, r.subject_kind, r.subject_number, r.title, d.name, COALESCE(g.name, ''), r.region_code, r.department_id,
	COALESCE(r.item_id, 0), r.subject_id, r.channel, r.level, r.rated_at, r.comment_sealed, r.rater_id,
	COALESCE(f.state, ''), COALESCE(f.due_on, ''), COALESCE(f.rectified_on, ''), COALESCE(f.rectification, '')`

const boardFrom = ` FROM ratings r JOIN departments d ON d.id = r.department_id LEFT JOIN regions g ON g.code = r.region_code
	LEFT JOIN rating_followups f ON f.rating_id = r.id`

// boardRating is a rating as the board source reads it.
type boardRating struct {
	board.Candidate
	kind, channel, regionCode   string
	departmentID, itemID, subID int64
	level                       Level
	ratedAt                     time.Time
	comment                     string // sealed
	raterID                     int64
	state                       string
	due, rectifiedOn            calendar.Date
	rectification               string
}

func scanBoardRating(row interface{ Scan(...any) error }) (boardRating, error) {
	var r boardRating
	var due, on string
	if err := row.Scan(&r.ID, &r.kind, &r.Number, &r.Subject, &r.Department, &r.Region, &r.regionCode, &r.departmentID,
		&r.itemID, &r.subID, &r.channel, &r.level, &r.ratedAt, &r.comment, &r.raterID, &r.state, &due, &on, &r.rectification); err != nil {
		return r, err
	}
	var err error
	if due != "" {
		if r.due, err = calendar.ParseDate(due); err != nil {
			return r, err
		}
	}
	if on != "" {
		if r.rectifiedOn, err = calendar.ParseDate(on); err != nil {
			return r, err
		}
	}
	r.Finished, r.Outcome = calendar.DateOf(r.ratedAt), r.outcome()
	return r, nil
}

// outcome is the level and, for a 差评, where its rectification stands.
func (r boardRating) outcome() string {
	o := r.level.Name()
	if !r.level.Bad() {
		return o
	}
	switch {
	case r.state == Rectified && r.rectifiedOn.After(r.due):
		return o + "，超期整改"
	case r.state == Rectified:
		return o + "，按期整改"
	}
	return o + "，整改中（" + r.due.String() + " 前）"
}

// Candidates lists the publishable ratings in who's scope
// (policy.BoardRegion, the supervisors' rating scope too), newest first;
// f.Query matches the case or complaint number, the service or the unit,
// From and To the day of the rating, and Late the rectification of a 差评
// (late: rectified after its due date; ontime: by it — either leaves out
// 好评, which have none).
func (b boardSource) Candidates(ctx context.Context, who policy.Subject, f board.Filter) ([]board.Candidate, error) {
	cond, args := publishable, []any{false}
	if p := policy.BoardRegion(who); p != "" {
		cond, args = cond+` AND r.region_code LIKE ?`, append(args, p+"%")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		cond, args = cond+` AND (r.subject_number = ? OR r.title LIKE ? OR d.name LIKE ?)`, append(args, q, "%"+q+"%", "%"+q+"%")
	}
	if !f.From.IsZero() {
		cond, args = cond+` AND r.rated_at >= ?`, append(args, f.From.Time())
	}
	if !f.To.IsZero() {
		cond, args = cond+` AND r.rated_at < ?`, append(args, f.To.AddDays(1).Time())
	}
	switch f.Late {
	case "late":
		cond += ` AND f.state = 'rectified' AND f.rectified_on > f.due_on`
	case "ontime":
		cond += ` AND f.state = 'rectified' AND f.rectified_on <= f.due_on`
	}
	rows, err := b.s.db.Read().Query(ctx, `SELECT `+boardColumns+boardFrom+` WHERE `+cond+` ORDER BY r.id DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("rating board candidates: %w", err)
	}
	defer rows.Close()
	var out []board.Candidate
	for rows.Next() {
		r, err := scanBoardRating(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r.Candidate)
	}
	return out, rows.Err()
}

// Snapshot describes a rating for a board: what was rated (the kind, the
// service, the unit, the street), the level and the scores, when, the
// comment, and for a 差评 where its rectification stands and what the
// unit did — never who rated: the rater's name, their enterprise's and
// its representative's (for a case or a visit) go to the board as
// personal values, and their numbers, which the comment may hold, to its
// patterns. The comment is opened in memory, never stored in clear.
func (b boardSource) Snapshot(ctx context.Context, who policy.Subject, id int64) (board.Snapshot, error) {
	s := b.s
	r, err := scanBoardRating(s.db.Read().QueryRow(ctx, `SELECT `+boardColumns+boardFrom+` WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return board.Snapshot{}, apperr.New(apperr.NotFound, "没有找到该评价。")
	}
	if err != nil {
		return board.Snapshot{}, err
	}
	subj := Subject{Kind: r.kind, ID: r.subID, DepartmentID: r.departmentID, RegionCode: r.regionCode, PersonID: r.raterID}
	if err := policy.Check(who, policy.View, subj.Resource()); err != nil {
		return board.Snapshot{}, err
	}
	var ok int
	if err := s.db.Read().QueryRow(ctx, `SELECT COUNT(*)`+boardFrom+` WHERE r.id = ? AND `+publishable, id, false).Scan(&ok); err != nil {
		return board.Snapshot{}, err
	}
	if ok == 0 {
		return board.Snapshot{}, apperr.New(apperr.Invalid, "只有附有评价内容的好评，以及已回访的差评可以发布；申诉成立的评价不能发布。")
	}
	if s.keys == nil {
		return board.Snapshot{}, errors.New("rating: comments need the data keys")
	}
	comment, err := s.keys.Open(r.comment, commentContext)
	if err != nil {
		return board.Snapshot{}, err
	}
	snap := board.Snapshot{SourceID: r.ID, RegionCode: r.regionCode, Subject: r.Subject, Department: r.Department, Region: r.Region}
	if snap.Personal, err = b.personal(ctx, r); err != nil {
		return board.Snapshot{}, err
	}
	channel := map[string]string{ByWeb: "网上评价", ByMessage: "短信链接评价", ByTablet: "窗口评价器"}[r.channel]
	snap.Facts = []board.Fact{{Label: "评价对象", Value: SubjectName(r.kind)}, {Label: "服务事项", Value: r.Subject},
		{Label: "被评价单位", Value: r.Department}, {Label: "所在地区", Value: r.Region}, {Label: "评价等级", Value: r.level.Name()},
		{Label: "评价日期", Value: chineseDate(r.Finished)}, {Label: "评价渠道", Value: channel}}
	snap.Text = "评价内容：" + comment
	if r.level.Bad() {
		state := "整改中，" + chineseDate(r.due) + "前完成"
		if r.state == Rectified {
			state = "已于" + chineseDate(r.rectifiedOn) + "整改"
			if r.rectifiedOn.After(r.due) {
				state += "（超过整改期限）"
			} else {
				state += "（在整改期限内）"
			}
		}
		snap.Facts = append(snap.Facts, board.Fact{Label: "整改情况", Value: state})
		if r.rectification != "" {
			snap.Text += "\n整改措施：" + r.rectification
		}
	}
	return snap, nil
}

// personal is what the rating's record knows of the rater: their
// account's name and, when the rating is of a case or a visit to a
// window, the case's enterprise and its representative.
func (b boardSource) personal(ctx context.Context, r boardRating) (board.Personal, error) {
	var p board.Personal
	var name string
	if err := b.s.db.Read().QueryRow(ctx, `SELECT name FROM accounts WHERE id = ?`, r.raterID).Scan(&name); err != nil {
		return p, fmt.Errorf("rating %d: board snapshot: %w", r.ID, err)
	}
	p.Names = append(p.Names, name)
	q := ``
	switch r.kind {
	case OfCase:
		q = `SELECT COALESCE(e.name, ''), COALESCE(e.legal_rep_name, '') FROM cases c LEFT JOIN enterprises e ON e.id = c.enterprise_id WHERE c.id = ?`
	case OfVisit:
		q = `SELECT COALESCE(e.name, ''), COALESCE(e.legal_rep_name, '') FROM case_visits v JOIN cases c ON c.id = v.case_id
			LEFT JOIN enterprises e ON e.id = c.enterprise_id WHERE v.id = ?`
	default:
		return p, nil
	}
	var enterprise, rep string
	err := b.s.db.Read().QueryRow(ctx, q, r.subID).Scan(&enterprise, &rep)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("rating %d: board snapshot: %w", r.ID, err)
	}
	p.Names = append(p.Names, enterprise, rep)
	return p, nil
}

func chineseDate(d calendar.Date) string { return fmt.Sprintf("%d年%d月%d日", d.Y, int(d.M), d.D) }
