package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Finished cases as a source of the praise and exposure boards. The
// adapter lives here, not in board, so that board imports no domain
// package: complaint and rating implement board.Source the same way, in
// their own packages, and app hands them all to board.New.

// BoardSource is the finished cases as the boards publish them.
func (s *Service) BoardSource() board.Source { return boardSource{s} }

type boardSource struct{ s *Service }

func (boardSource) Kind() string { return "case" }
func (boardSource) Name() string { return "办件" }

// boardCandidates bounds the cases read for one list before the late or
// in-time filter, which needs each case's finishing step.
const boardCandidates = 200

// Candidates lists finished cases (办结, 已送达, 不予受理) in who's scope,
// latest first, along the cases_finished index; f.Query matches the
// number (whole, its date and serial, its serial) or a word of the item's name.
func (b boardSource) Candidates(ctx context.Context, who policy.Subject, f board.Filter) ([]board.Candidate, error) {
	s := b.s
	var c conds
	c.add(`c.status IN ('completed', 'delivered', 'rejected')`) // the partial index's predicate
	if p := policy.BoardRegion(who); p != "" {
		c.inRegion(p)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		// As the queues' search (search.go): digits are the number, read
		// from its index; other text a word of the item's name, whose
		// items are read first, so that the walk along cases_finished
		// tests each case against a set rather than joining its item.
		if digits := strings.Join(strings.Fields(q), ""); strings.Trim(digits, "0123456789") == "" {
			arm, err := numberArm(digits)
			if err != nil {
				return nil, err
			}
			c.add(arm.sql, arm.args...)
		} else {
			c.add(`c.item_id IN (SELECT id FROM items WHERE name LIKE ? ESCAPE '\')`, store.Contains(q))
		}
	}
	if !f.From.IsZero() {
		c.add(`c.updated_at >= ?`, f.From.Time())
	}
	if !f.To.IsZero() {
		c.add(`c.updated_at < ?`, f.To.AddDays(1).Time())
	}
	rows, err := s.db.Read().Query(ctx, `SELECT c.id, c.number, i.name, d.name, r.name, c.status, c.due_on FROM cases c
		JOIN items i ON i.id = c.item_id JOIN departments d ON d.id = c.department_id JOIN regions r ON r.code = c.region_code`+
		c.where()+` ORDER BY c.updated_at DESC, c.id DESC LIMIT ?`, append(c.args, boardCandidates)...)
	if err != nil {
		return nil, fmt.Errorf("board candidates: %w", err)
	}
	type row struct {
		board.Candidate
		status Status
		due    string
	}
	var found []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.ID, &r.Number, &r.Subject, &r.Department, &r.Region, &r.status, &r.due); err != nil {
			rows.Close()
			return nil, err
		}
		found = append(found, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []board.Candidate
	for _, r := range found {
		if len(out) == f.Limit {
			break
		}
		fin, err := b.finish(ctx, r.ID, r.due)
		if err != nil {
			return nil, err
		}
		if f.Late == "late" && fin.Late == 0 || f.Late == "ontime" && (fin.Late > 0 || !fin.Timed) {
			continue
		}
		r.Finished, r.Outcome = fin.On, outcome(r.status, fin)
		out = append(out, r.Candidate)
	}
	return out, nil
}

// finish is when the case ended, from its finishing step.
func (b boardSource) finish(ctx context.Context, id int64, due string) (Finish, error) {
	var dueOn calendar.Date
	if due != "" {
		var err error
		if dueOn, err = calendar.ParseDate(due); err != nil {
			return Finish{}, err
		}
	}
	var e Event
	err := b.s.db.Read().QueryRow(ctx, `SELECT at FROM case_events WHERE case_id = ? AND action IN (?, ?, ?) ORDER BY seq DESC LIMIT 1`,
		id, Complete, Refuse, Withdraw).Scan(&e.At)
	if errors.Is(err, sql.ErrNoRows) { // a row written without its record (a bulk load): no finish to tell
		return Finish{}, nil
	}
	if err != nil {
		return Finish{}, fmt.Errorf("case %d: finishing step: %w", id, err)
	}
	return b.s.finish(dueOn, calendar.DateOf(e.At)), nil
}

// outcome is how a finished case ended, for a supervisor's list and a
// board entry.
func outcome(status Status, f Finish) string {
	if status == Rejected {
		return "不予受理"
	}
	return f.Timing()
}

// Snapshot describes a finished case for a board: the item, who handled
// it, where and when, how long it took and how it ended, and the reasons
// staff recorded at its decision; with every value the record knows to be
// the applicant's (their name, their enterprise's and its representative's,
// every answer of their form) for the board to remove.
func (b boardSource) Snapshot(ctx context.Context, who policy.Subject, id int64) (board.Snapshot, error) {
	s := b.s
	c, events, err := s.Get(ctx, who, id)
	if err != nil {
		return board.Snapshot{}, err
	}
	if c.Status != Completed && c.Status != Delivered && c.Status != Rejected {
		return board.Snapshot{}, apperr.New(apperr.Invalid, "只有已办结或不予受理的办件可以发布。")
	}
	it, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
	if err != nil {
		return board.Snapshot{}, err
	}
	snap := board.Snapshot{SourceID: c.ID, RegionCode: c.RegionCode, Subject: it.Name}
	var applicant, enterprise, rep string
	var visits int
	if err := s.db.Read().QueryRow(ctx, `SELECT d.name, r.name, a.name, COALESCE(e.name, ''), COALESCE(e.legal_rep_name, ''), c.visits
		FROM cases c JOIN departments d ON d.id = c.department_id JOIN regions r ON r.code = c.region_code
		JOIN accounts a ON a.id = c.applicant_id LEFT JOIN enterprises e ON e.id = c.enterprise_id WHERE c.id = ?`, c.ID).
		Scan(&snap.Department, &snap.Region, &applicant, &enterprise, &rep, &visits); err != nil {
		return board.Snapshot{}, fmt.Errorf("case %d: board snapshot: %w", c.ID, err)
	}
	snap.Personal.Names = append(snap.Personal.Names, applicant, enterprise, rep)
	answers, err := s.unseal(c)
	if err != nil {
		return board.Snapshot{}, err
	}
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			v := answers[f.Key]
			switch {
			case v == "" || f.Type == "number" || f.Type == "date" || f.Type == "select" || f.Type == "radio" || f.Type == "checkbox":
				// Choices and figures are the form's words, not the person's.
			case strings.Contains(f.Label, "地址") || strings.Contains(f.Label, "住址") || strings.Contains(f.Label, "住所"):
				snap.Personal.Addresses = append(snap.Personal.Addresses, v)
			case strings.Contains(f.Label, "姓名") || strings.Contains(f.Label, "名称") || strings.Contains(f.Label, "联系人") || strings.Contains(f.Label, "代表人"):
				snap.Personal.Names = append(snap.Personal.Names, v)
			default:
				snap.Personal.Other = append(snap.Personal.Other, v)
			}
		}
	}
	channel := "网上申请"
	if c.Channel == "window" {
		channel = "窗口收件"
	}
	snap.Facts = []board.Fact{{Label: "办理事项", Value: it.Name}, {Label: "办理部门", Value: snap.Department},
		{Label: "所在地区", Value: snap.Region}, {Label: "申请方式", Value: channel}}
	if !c.AcceptedOn.IsZero() {
		snap.Facts = append(snap.Facts, board.Fact{Label: "受理日期", Value: chineseDate(c.AcceptedOn)})
	}
	if !c.DueOn.IsZero() {
		snap.Facts = append(snap.Facts, board.Fact{Label: "承诺办结日期", Value: chineseDate(c.DueOn)})
	}
	if fin, ok := s.FinishOf(c, events); ok {
		snap.Facts = append(snap.Facts, board.Fact{Label: "办结日期", Value: chineseDate(fin.On)})
		if o := outcome(c.Status, fin); o != "" {
			snap.Facts = append(snap.Facts, board.Fact{Label: "办理时效", Value: o})
		}
	}
	switch {
	case c.Status == Rejected:
		snap.Facts = append(snap.Facts, board.Fact{Label: "办理结果", Value: "不予受理"})
	case c.Decision == Approved:
		snap.Facts = append(snap.Facts, board.Fact{Label: "办理结果", Value: "准予"})
	case c.Decision == Denied:
		snap.Facts = append(snap.Facts, board.Fact{Label: "办理结果", Value: "不予"})
	}
	snap.Facts = append(snap.Facts, board.Fact{Label: "到场次数", Value: fmt.Sprintf("%d 次", visits)},
		board.Fact{Label: "补正次数", Value: fmt.Sprintf("%d 次", c.Corrections)})
	var reasons []string
	for _, e := range events {
		if (e.Action == Decide || e.Action == Refuse) && strings.TrimSpace(e.Reason) != "" {
			reasons = append(reasons, strings.TrimSpace(e.Reason))
		}
	}
	snap.Text = strings.Join(reasons, "\n")
	return snap, nil
}
