package complaint

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
)

// Answered complaints as a source of the praise and exposure boards, as
// casework/board.go is for finished cases: board imports no domain
// package, app hands this to board.New.

// BoardSource is the answered complaints as the boards publish them.
func (s *Service) BoardSource() board.Source { return boardSource{s} }

type boardSource struct{ s *Service }

func (boardSource) Kind() string { return "complaint" }
func (boardSource) Name() string { return "诉求" }

// Candidates lists the replied and closed complaints in who's scope
// (policy.BoardRegion, the supervisors' complaint scope too), newest
// first by id along complaints_status; f.Query matches the number, the
// category or the title, From and To the day of the reply, Late the
// feedback limit.
func (b boardSource) Candidates(ctx context.Context, who policy.Subject, f board.Filter) ([]board.Candidate, error) {
	conds := []string{`c.status IN ('replied', 'closed')`, `c.replied_at IS NOT NULL`}
	var args []any
	if p := policy.BoardRegion(who); p != "" {
		conds, args = append(conds, `c.region_code LIKE ?`), append(args, p+"%")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		conds, args = append(conds, `(c.number = ? OR k.name LIKE ? OR c.title LIKE ?)`), append(args, q, "%"+q+"%", "%"+q+"%")
	}
	if !f.From.IsZero() {
		conds, args = append(conds, `c.replied_at >= ?`), append(args, f.From.Time())
	}
	if !f.To.IsZero() {
		conds, args = append(conds, `c.replied_at < ?`), append(args, f.To.AddDays(1).Time())
	}
	switch f.Late {
	case "late":
		conds = append(conds, `c.replied_at > c.feedback_due`)
	case "ontime":
		conds = append(conds, `c.replied_at <= c.feedback_due`)
	}
	rows, err := b.s.db.Read().Query(ctx, `SELECT `+columns+from+` WHERE `+strings.Join(conds, ` AND `)+` ORDER BY c.id DESC LIMIT ?`,
		append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("complaint board candidates: %w", err)
	}
	defer rows.Close()
	var out []board.Candidate
	for rows.Next() {
		c, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, board.Candidate{ID: c.ID, Number: c.Number, Subject: c.CategoryName + "：" + c.Title, Department: c.Department,
			Region: c.RegionName, Finished: calendar.DateOf(*c.RepliedAt), Outcome: outcome(c)})
	}
	return out, rows.Err()
}

// outcome is how the unit answered: in time or not, and what the person
// said.
func outcome(c Complaint) string {
	o := "按时答复"
	if c.RepliedAt.After(c.FeedbackDue) {
		o = "超时答复"
	}
	switch {
	case c.Status != Closed:
		return o + "，待诉求人确认"
	case c.Resolved == nil:
		return o + "，诉求人未确认"
	case *c.Resolved:
		return o + "，已解决"
	}
	return o + "，未解决"
}

// summaryLength bounds what of a description an entry shows.
const summaryLength = 80

// Snapshot describes an answered complaint for a board: its category, the
// unit, where (the street, never the address beyond it), when it came in
// and was answered, whether in time, the person's confirmation, a
// summary of what it asked and the unit's latest reply (a public entry of
// its log). Decision: the description is the complainant's free text and
// says more about them the longer it runs, so an entry shows its opening
// (summaryLength characters, to a sentence's end where one falls), not
// the whole; the title and the complainant's confirmation comment are not
// shown (the category says what it is about). Personal values for the
// board to remove: the complainant's name and mobile number (opened in
// memory, never stored), the account's name, the address, and the case
// number the complaint is about.
func (b boardSource) Snapshot(ctx context.Context, who policy.Subject, id int64) (board.Snapshot, error) {
	s := b.s
	c, err := load(ctx, s.db.Read(), `c.id = ?`, id)
	if err != nil {
		return board.Snapshot{}, err
	}
	if err := policy.Check(who, policy.View, c.resource()); err != nil {
		return board.Snapshot{}, err
	}
	if c.Status != Replied && c.Status != Closed || c.RepliedAt == nil {
		return board.Snapshot{}, apperr.New(apperr.Invalid, "只有已答复或已办结的诉求可以发布。")
	}
	snap := board.Snapshot{SourceID: c.ID, RegionCode: c.RegionCode, Subject: c.CategoryName, Department: c.Department, Region: c.RegionName}
	p := &snap.Personal
	for _, v := range []struct{ sealed, ctx string }{{c.nameSealed, ctxName}, {c.mobileSealed, ctxMobile}} {
		if v.sealed == "" {
			continue
		}
		plain, err := s.opt.Keys.Open(v.sealed, v.ctx)
		if err != nil {
			return board.Snapshot{}, err
		}
		if v.ctx == ctxName {
			p.Names = append(p.Names, plain)
		} else {
			p.Other = append(p.Other, plain)
		}
	}
	if c.AccountID != 0 {
		var name string
		if err := s.db.Read().QueryRow(ctx, `SELECT name FROM accounts WHERE id = ?`, c.AccountID).Scan(&name); err != nil {
			return board.Snapshot{}, fmt.Errorf("complaint %d: board snapshot: %w", c.ID, err)
		}
		p.Names = append(p.Names, name)
	}
	p.Addresses = append(p.Addresses, c.Address)
	p.Other = append(p.Other, c.CaseNumber)

	snap.Facts = []board.Fact{{Label: "诉求类别", Value: c.CategoryName}, {Label: "承办单位", Value: c.Department},
		{Label: "所在地区", Value: c.RegionName}}
	if c.Address != "" {
		snap.Facts = append(snap.Facts, board.Fact{Label: "发生地点", Value: c.Address}) // cut to the street by Redact
	}
	snap.Facts = append(snap.Facts, board.Fact{Label: "反映渠道", Value: c.Channel.Name()},
		board.Fact{Label: "受理时间", Value: chineseTime(c.CreatedAt)},
		board.Fact{Label: "答复时限", Value: chineseTime(c.FeedbackDue)},
		board.Fact{Label: "答复时间", Value: chineseTime(*c.RepliedAt)})
	timing := "在答复时限内答复"
	if c.RepliedAt.After(c.FeedbackDue) {
		timing = "超过答复时限 " + overBy(c.RepliedAt.Sub(c.FeedbackDue))
	}
	snap.Facts = append(snap.Facts, board.Fact{Label: "答复时效", Value: timing})
	if c.ClosedAt != nil {
		snap.Facts = append(snap.Facts, board.Fact{Label: "办结时间", Value: chineseTime(*c.ClosedAt)})
	}
	switch {
	case c.Status != Closed:
		snap.Facts = append(snap.Facts, board.Fact{Label: "诉求人确认", Value: "待确认"})
	case c.Resolved == nil:
		snap.Facts = append(snap.Facts, board.Fact{Label: "诉求人确认", Value: "逾期未确认，自动办结"})
	default:
		v := map[bool]string{true: "已解决", false: "未解决"}[*c.Resolved]
		if c.Satisfied != nil {
			v += "，" + map[bool]string{true: "满意", false: "不满意"}[*c.Satisfied]
		}
		snap.Facts = append(snap.Facts, board.Fact{Label: "诉求人确认", Value: v})
	}
	if c.Reopens > 0 {
		snap.Facts = append(snap.Facts, board.Fact{Label: "重新办理", Value: fmt.Sprintf("%d 次", c.Reopens)})
	}
	evs, err := events(ctx, s.db.Read(), c.ID, true)
	if err != nil {
		return board.Snapshot{}, err
	}
	var reply string
	for _, e := range evs {
		if e.Action == Reply {
			reply = strings.TrimSpace(e.Detail)
		}
	}
	// Redacted before it is cut: a cut through a name or a number would
	// leave a piece that neither the values nor the patterns recognise.
	snap.Text = "诉求摘要：" + summary(board.Redact(c.Description, snap.Personal))
	if reply != "" {
		snap.Text += "\n答复：" + reply
	}
	return snap, nil
}

// summary is the opening of a description: up to summaryLength
// characters, cut after the last sentence's end within them if there is
// one, with an ellipsis when something is left out.
func summary(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= summaryLength {
		return text
	}
	head := string([]rune(text)[:summaryLength])
	if i := strings.LastIndexAny(head, "。！？；"); i > 0 {
		_, size := utf8.DecodeRuneInString(head[i:])
		return head[:i+size] + "……"
	}
	return head + "……"
}

// chineseTime is a moment as an entry states it, Beijing time.
func chineseTime(t time.Time) string {
	d := calendar.DateOf(t)
	h := t.In(clock.China)
	return fmt.Sprintf("%d年%d月%d日 %02d:%02d", d.Y, int(d.M), d.D, h.Hour(), h.Minute())
}

// overBy says how late: in hours under two days, in days after.
func overBy(d time.Duration) string {
	if h := int(d.Hours()); h < 48 {
		return fmt.Sprintf("%d 小时", max(h, 1))
	}
	return fmt.Sprintf("%d 天", int(d.Hours()/24))
}
