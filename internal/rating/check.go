package rating

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/store"
)

// CheckArgs is the periodic durable job that sends the owed reminders to
// rate and the warnings about rectification limits.
type CheckArgs struct{}

func (CheckArgs) Kind() string { return "rating_check" }

// CheckWorker runs CheckArgs.
type CheckWorker struct {
	river.WorkerDefaults[CheckArgs]
	Service *Service
}

// Work runs one check.
func (w *CheckWorker) Work(ctx context.Context, _ *river.Job[CheckArgs]) error {
	if _, err := w.Service.CheckReminders(ctx); err != nil {
		return err
	}
	_, err := w.Service.CheckRectifications(ctx)
	return err
}

// PeriodicCheck schedules the check every interval, on the elected leader.
// Not at start: nothing it sends is urgent to the minute, and the demo
// makes its past weeks' invitations (and sends their reminders into the
// message centres only) in the first minutes after start, which a check
// at start would text to today's phones.
func PeriodicCheck(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return CheckArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: false})
}

// CheckRectifications warns, once per due date, the unit's reviewers and
// heads when one working day is left to rectify a 差评 (or to call it back
// and rectify it), and the region's supervisors once the limit has
// passed. A follow-up under appeal waits for the supervisor and is not
// warned about. It returns how many warnings it wrote.
func (s *Service) CheckRectifications(ctx context.Context) (int, error) {
	today := calendar.DateOf(s.clock.Now())
	soon := s.calendar.AddWorkdays(today, 1).String()
	type owed struct {
		id, dept       int64
		region, due    string
		title, number  string
		warned, passed string
		caseID         int64
	}
	rows, err := s.db.Read().Query(ctx, `SELECT f.id, f.department_id, f.region_code, f.due_on, r.title, r.subject_number, f.warned_for, f.overdue_for,
		CASE WHEN r.subject_kind = 'case' THEN r.subject_id ELSE 0 END
		FROM rating_followups f JOIN ratings r ON r.id = f.rating_id
		WHERE f.state IN ('callback', 'rectify') AND (f.due_on <= ? AND f.warned_for <> f.due_on AND f.due_on >= ? OR f.due_on < ? AND f.overdue_for <> f.due_on)`,
		soon, today.String(), today.String())
	if err != nil {
		return 0, err
	}
	var list []owed
	for rows.Next() {
		var o owed
		if err := rows.Scan(&o.id, &o.dept, &o.region, &o.due, &o.title, &o.number, &o.warned, &o.passed, &o.caseID); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	sent := 0
	for _, o := range list {
		due, err := calendar.ParseDate(o.due)
		if err != nil {
			return sent, err
		}
		late := today.After(due)
		err = s.db.Tx(ctx, func(tx *store.Tx) error {
			title, column, cond, arg := "差评整改即将到期", "warned_for", `r.role IN ('reviewer', 'head') AND a.department_id = ?`, any(o.dept)
			if late {
				title, column, cond, arg = "差评整改已超期", "overdue_for", `r.role = 'supervisor' AND substr(d.region_code, 1, 6) = ?`, o.region[:6]
			}
			// The update claims the warning: another instance's check, or
			// a step taken meanwhile, leaves nothing to send.
			res, err := tx.Exec(ctx, `UPDATE rating_followups SET `+column+` = due_on WHERE id = ? AND `+column+` <> due_on
				AND state IN ('callback', 'rectify')`, o.id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil
			}
			staff, err := casework.StaffWith(ctx, tx, cond, arg)
			if err != nil {
				return err
			}
			body := fmt.Sprintf("%s（编号 %s）的差评整改期限为 %s。", o.title, o.number, o.due)
			for _, id := range staff {
				if err := s.message(ctx, tx, id, o.caseID, title, body); err != nil {
					return err
				}
				sent++
			}
			return nil
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}
