package casework

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/store"
)

// DeadlineCheckArgs is the periodic durable job that warns before and
// after deadlines.
type DeadlineCheckArgs struct{}

func (DeadlineCheckArgs) Kind() string { return "deadline_check" }

// DeadlineWorker runs DeadlineCheckArgs.
type DeadlineWorker struct {
	river.WorkerDefaults[DeadlineCheckArgs]
	Service *Service
}

// Work runs one check.
func (w *DeadlineWorker) Work(ctx context.Context, _ *river.Job[DeadlineCheckArgs]) error {
	_, err := w.Service.CheckDeadlines(ctx)
	return err
}

// PeriodicDeadlineCheck schedules the check every interval; River runs a
// periodic job on one instance, its elected leader.
func PeriodicDeadlineCheck(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return DeadlineCheckArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// CheckDeadlines warns, once per due date, the reviewers and heads of the
// handling department when one working day is left, and the supervisors of
// the region when the deadline has passed. Warnings go to their message
// centre. It returns how many warnings it wrote.
func (s *Service) CheckDeadlines(ctx context.Context) (int, error) {
	today := calendar.DateOf(s.clock.Now())
	soon := s.calendar.AddWorkdays(today, 1).String()
	type due struct {
		id, dept       int64
		number, region string
		due            string
		warned, late   string
	}
	// Only the cases whose warning is still owed, each half along its
	// partial index (the predicates spelt as the indexes'): the due ones
	// not yet warned for this due date, the late ones not yet reported; not
	// every running case every hour.
	rows, err := s.db.Read().Query(ctx, `SELECT id, department_id, number, region_code, due_on, warned_for, overdue_for FROM cases
		WHERE status IN ('reviewing', 'reviewed', 'decided') AND due_on <> '' AND warned_for <> due_on AND due_on >= ? AND due_on <= ?
		UNION ALL SELECT id, department_id, number, region_code, due_on, warned_for, overdue_for FROM cases
		WHERE status IN ('reviewing', 'reviewed', 'decided') AND due_on <> '' AND overdue_for <> due_on AND due_on < ?`, today.String(), soon, today.String())
	if err != nil {
		return 0, err
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.dept, &d.number, &d.region, &d.due, &d.warned, &d.late); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range list {
		dueDate, err := calendar.ParseDate(d.due)
		if err != nil {
			return sent, err
		}
		overdue := today.After(dueDate)
		if overdue && d.late == d.due || !overdue && d.warned == d.due {
			continue
		}
		err = s.db.Tx(ctx, func(tx *store.Tx) error {
			now := s.clock.Now()
			var recipients []int64
			var title, column string
			if overdue {
				title, column = "办件已超期", "overdue_for"
				recipients, err = StaffWith(ctx, tx, `r.role = 'supervisor' AND substr(d.region_code, 1, 6) = ?`, d.region[:6])
			} else {
				title, column = "办件即将到期", "warned_for"
				recipients, err = StaffWith(ctx, tx, `r.role IN ('reviewer', 'head') AND a.department_id = ?`, d.dept)
			}
			if err != nil {
				return err
			}
			body := fmt.Sprintf("办件 %s 的承诺办结日期为 %s。", d.number, d.due)
			for _, who := range recipients {
				if _, err := tx.Exec(ctx, `INSERT INTO messages (account_id, case_id, title, body, created_at) VALUES (?, ?, ?, ?, ?)`,
					who, d.id, title, body, now); err != nil {
					return err
				}
				sent++
			}
			_, err := tx.Exec(ctx, `UPDATE cases SET `+column+` = ? WHERE id = ?`, d.due, d.id)
			return err
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// StaffWith lists active staff accounts matching a condition on their
// role (r), account (a) and department (d): whom a warning goes to (the
// rating follow-ups' warnings too).
func StaffWith(ctx context.Context, q store.Querier, cond string, arg any) ([]int64, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT a.id FROM accounts a JOIN staff_roles r ON r.account_id = a.id
		JOIN departments d ON d.id = a.department_id WHERE a.disabled = ? AND `+cond, false, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// How limits count is calendar.Due's rule (working days, natural days,
// hours; pauses). casework fixes the dates with it: at acceptance, with no
// pauses yet, and at resumption (see resumedDue).

// resumedDue is the due date of the paused case c if its clock resumed
// today: the period counted again from acceptance with all its pauses, the
// earlier ones read from the case's events and the running one up to
// today. Counting from acceptance, not from the due date, matters for a
// limit in natural days: the due date may have been moved off a rest day,
// and the push starts from the period's own last day, not from that move.
// For one in working days it gives what pushing the due date would, except
// that a local calendar day changed since acceptance counts too: a due date
// computed afterwards counts with the change.
func (s *Service) resumedDue(c Case, it catalog.Item, events []Event, today calendar.Date) calendar.Date {
	pauses := append(pauseSpans(events), calendar.Span{From: c.PausedOn, To: today})
	return s.calendar.Due(c.AcceptedOn, it.PromiseLimit.Limit(), pauses)
}

// pauseSpans lists the finished pauses in a case's record since its
// acceptance: from the Beijing date of each pause to that of its resumption.
// A pause still running (no resumption after it) is left out.
func pauseSpans(events []Event) []calendar.Span {
	var spans []calendar.Span
	var from calendar.Date
	for _, e := range events {
		switch e.Action {
		case Accept:
			spans, from = nil, calendar.Date{}
		case Pause:
			from = calendar.DateOf(e.At)
		case Resume:
			if !from.IsZero() {
				spans = append(spans, calendar.Span{From: from, To: calendar.DateOf(e.At)})
				from = calendar.Date{}
			}
		}
	}
	return spans
}

// pausedPage gives a page of the paused queue: each entry's due date as
// if its clock resumed today, filtered by due ("late", "soon" or ""),
// sorted as the queue is and paged after the cursor (if any).
func (s *Service) pausedPage(ctx context.Context, entries []QueueEntry, due string, paging bool, after queueKey, limit int) (Page[QueueEntry], error) {
	var page Page[QueueEntry]
	var all []QueueEntry
	for _, e := range entries {
		if !e.DueOn.IsZero() {
			c := *e.paused
			it, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
			if err != nil {
				return page, err
			}
			events, err := Events(ctx, s.db.Read(), c.ID)
			if err != nil {
				return page, err
			}
			d, _ := s.DeadlineOf(c, it, events)
			e.DueOn, e.Deadline = d.Due, d.Status
		}
		e.paused = nil
		switch {
		case due == "late" && (e.DueOn.IsZero() || e.Deadline != calendar.Overdue),
			due == "soon" && (e.DueOn.IsZero() || e.Deadline != calendar.Warning):
			continue
		}
		all = append(all, e)
	}
	sort.Slice(all, func(i, j int) bool { return queueKeyOf(all[i]).less(queueKeyOf(all[j])) })
	page.Total = len(all)
	for _, e := range all {
		if paging && !after.less(queueKeyOf(e)) {
			continue
		}
		if len(page.Rows) == limit {
			page.Next = queueKeyOf(page.Rows[limit-1]).cursor()
			break
		}
		page.Rows = append(page.Rows, e)
	}
	return page, nil
}

// moveDeadline keeps the deadline with the case: acceptance starts the
// count (the promised limit of the item version, from the day after), a
// pause stops it and the resumption pushes the due date by the days paused
// (see resumedDue, which reads the case's earlier pauses from its record
// in q).
func (s *Service) moveDeadline(ctx context.Context, q store.Querier, c *Case, a Action, it catalog.Item, today calendar.Date) error {
	switch a {
	case Accept:
		c.AcceptedOn = today
		c.DueOn = s.calendar.Due(today, it.PromiseLimit.Limit(), nil)
	case Pause:
		c.PausedOn = today
	case Resume:
		events, err := Events(ctx, q, c.ID)
		if err != nil {
			return err
		}
		c.DueOn = s.resumedDue(*c, it, events, today)
		c.PausedOn = calendar.Date{}
	}
	return nil
}

// Deadline says how a case stands against its due date today.
type Deadline struct {
	Due    calendar.Date
	Left   int // working days; negative when late
	Status calendar.Status
}

// DeadlineOf is the case's deadline as of now, or false before acceptance
// and after completion; it is the case's item version and events its
// record (Get). While the case is paused its clock is stopped: the due date
// is the one it would have if it resumed today, so a pause never makes a
// case 预警 or 超期 (one already late when paused stays late).
func (s *Service) DeadlineOf(c Case, it catalog.Item, events []Event) (Deadline, bool) {
	if c.DueOn.IsZero() || c.Status.Finished() {
		return Deadline{}, false
	}
	today := calendar.DateOf(s.clock.Now())
	due := c.DueOn
	if c.Status == Paused && !c.PausedOn.IsZero() {
		due = s.resumedDue(c, it, events, today)
	}
	return Deadline{Due: due, Left: s.calendar.Left(today, due), Status: s.calendar.StatusOf(today, due)}, true
}

// Finish says when a finished case finished and whether in time.
type Finish struct {
	On    calendar.Date
	Timed bool // it had a due date (it was accepted)
	Late  int  // working days past the due date; 0 in time
}

// Text says when, as pages show it: 办结于 2026年11月30日.
func (f Finish) Text() string { return "办结于 " + chineseDate(f.On) }

// Timing says whether in time: 按时办结, 超期 N 个工作日办结, or nothing
// for a case that ended before acceptance (it had no due date).
func (f Finish) Timing() string {
	switch {
	case !f.Timed:
		return ""
	case f.Late > 0:
		return fmt.Sprintf("超期 %d 个工作日办结", f.Late)
	}
	return "按时办结"
}

// Finished reports whether a case is over: completed, delivered, refused
// or withdrawn. Its pages then show its Finish, never a countdown.
func (s Status) Finished() bool {
	return s == Completed || s == Delivered || s == Rejected || s == Withdrawn
}

// finishing are the steps that end a case.
var finishing = []Action{Complete, Refuse, Withdraw}

// FinishOf is when the finished case c finished — the Beijing date of the
// step that ended it, in events (its record) — and whether by its due
// date; false while it runs.
func (s *Service) FinishOf(c Case, events []Event) (Finish, bool) {
	if !c.Status.Finished() {
		return Finish{}, false
	}
	for i := len(events) - 1; i >= 0; i-- {
		if slices.Contains(finishing, events[i].Action) {
			return s.finish(c.DueOn, calendar.DateOf(events[i].At)), true
		}
	}
	return Finish{}, false
}

// finish is a Finish on day of a case due on due (zero: never accepted).
func (s *Service) finish(due, day calendar.Date) Finish {
	f := Finish{On: day, Timed: !due.IsZero()}
	if f.Timed && day.After(due) {
		f.Late = s.calendar.WorkdaysBetween(due, day)
	}
	return f
}

// StepDeadline is one timed step of a case's workflow and by when it
// should be done.
type StepDeadline struct {
	Step    string
	Due     calendar.Date
	Current bool // the step the case waits for
}

// stepOf is the timed step a case in status waits for.
var stepOf = map[Status]string{Reviewing: catalog.StepReview, Paused: catalog.StepReview, Reviewed: catalog.StepDecide, Decided: catalog.StepComplete}

// StepDues gives each timed step of the item's workflow (审查, 决定, 办结)
// its own due date, from its share of the time limit counted from
// acceptance; pauses push them as they push the deadline. None before
// acceptance, after the case finished, or for a limit not in working days.
func (s *Service) StepDues(c Case, it catalog.Item) []StepDeadline {
	limit := it.PromiseLimit.Limit()
	if c.AcceptedOn.IsZero() || c.DueOn.IsZero() || c.Status.Finished() || limit.Unit != calendar.WorkingDays {
		return nil
	}
	shares := it.StepShares()
	pushed := s.calendar.WorkdaysBetween(s.calendar.Due(c.AcceptedOn, limit, nil), c.DueOn)
	var out []StepDeadline
	for _, ws := range it.HandlingSteps() {
		share, ok := shares[ws.Step]
		if !ok {
			continue
		}
		days := calendar.Workdays((limit.Value*share + 99) / 100)
		out = append(out, StepDeadline{Step: ws.Step, Due: s.calendar.AddWorkdays(s.calendar.Due(c.AcceptedOn, days, nil), pushed),
			Current: stepOf[c.Status] == ws.Step})
	}
	return out
}
