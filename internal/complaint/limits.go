package complaint

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/store"
)

// The limit check. Each complaint keeps the moment the check must next
// look at it (next_check_at, set by every step from its limits and what
// was already said): a warning when a quarter of a limit is left, the
// report when it has passed, the end of the time to confirm a reply. A
// periodic job (on the elected leader, every minute) reads only the
// complaints whose moment has come, along a partial index, and for each
// writes its messages and log entry in one transaction. A periodic check
// rather than one scheduled job per limit: a step that moves a limit
// (a reopening) or ends it (the signature, the reply) changes one column
// instead of cancelling and inserting jobs, and a changed calendar never
// leaves a job at the wrong hour.

// CheckArgs is the periodic durable job that runs CheckLimits.
type CheckArgs struct{}

func (CheckArgs) Kind() string { return "complaint_limits" }

// CheckWorker runs CheckArgs.
type CheckWorker struct {
	river.WorkerDefaults[CheckArgs]
	Service *Service
}

// Work runs one check.
func (w *CheckWorker) Work(ctx context.Context, _ *river.Job[CheckArgs]) error {
	_, err := w.Service.CheckLimits(ctx)
	return err
}

// PeriodicCheck schedules the check every interval.
func PeriodicCheck(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return CheckArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// CheckLimits warns and reports every complaint whose moment has come, and
// closes replies left unconfirmed past the time to reopen. It returns how
// many log entries it wrote.
func (s *Service) CheckLimits(ctx context.Context) (int, error) {
	now := s.clock.Now()
	rows, err := s.db.Read().Query(ctx, `SELECT id FROM complaints WHERE next_check_at IS NOT NULL AND next_check_at <= ? ORDER BY next_check_at LIMIT 500`, now)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			c, err := load(ctx, tx, `c.id = ?`, id)
			if err != nil {
				return err
			}
			read := c.Version
			k, err := s.checkOne(ctx, tx, &c, now)
			if err != nil {
				return err
			}
			n += k
			return s.write(ctx, tx, c, read)
		})
		if err != nil && err != errChanged { // a step in between: the next round sees it
			return n, err
		}
	}
	return n, nil
}

func at(t time.Time) string { return t.In(clock.China).Format("01月02日 15:04") }

// checkOne says what is due for c at now, in tx.
func (s *Service) checkOne(ctx context.Context, tx *store.Tx, c *Complaint, now time.Time) (int, error) {
	n := 0
	note := func(a Action, detail string) error {
		n++
		return s.log(ctx, tx, *c, systemSubject, "系统", a, detail, false, now)
	}
	supervisors := `r.role = 'supervisor' AND substr(d.region_code, 1, 6) = ?`
	dispatchers := `r.role = 'dispatcher'`
	waiting := c.Status == Pending || c.Status == Dispatched
	if waiting && !c.dispatchLate && !now.Before(c.DispatchDue) {
		c.dispatchLate, c.dispatchWarned = true, true
		msg := "超过派单签收时限（" + at(c.DispatchDue) + "）"
		if err := s.tellRole(ctx, tx, *c, msg, supervisors, c.RegionCode[:6], now); err != nil {
			return n, err
		}
		if err := s.tellUnit(ctx, tx, *c, msg, now); err != nil {
			return n, err
		}
		if err := note(Late, msg+"，已报督查人员"); err != nil {
			return n, err
		}
	} else if waiting && !c.dispatchWarned && !now.Before(c.dispatchWarn) {
		c.dispatchWarned = true
		msg := "即将超过派单签收时限（" + at(c.DispatchDue) + "）"
		var err error
		if c.Status == Pending {
			err = s.tellRole(ctx, tx, *c, msg+"，请尽快派单", dispatchers, nil, now)
		} else {
			err = s.tellUnit(ctx, tx, *c, msg+"，请尽快签收", now)
		}
		if err != nil {
			return n, err
		}
		if err := note(Warn, msg); err != nil {
			return n, err
		}
	}
	open := waiting || c.Status == Handling
	if open && !c.feedbackLate && !now.Before(c.FeedbackDue) {
		c.feedbackLate, c.feedbackWarned = true, true
		msg := "超过反馈时限（" + at(c.FeedbackDue) + "）"
		if err := s.tellRole(ctx, tx, *c, msg, supervisors, c.RegionCode[:6], now); err != nil {
			return n, err
		}
		if err := s.tellUnit(ctx, tx, *c, msg, now); err != nil {
			return n, err
		}
		if err := note(Late, msg+"，已报督查人员"); err != nil {
			return n, err
		}
	} else if open && !c.feedbackWarned && !now.Before(c.feedbackWarn) {
		c.feedbackWarned = true
		msg := "即将超过反馈时限（" + at(c.FeedbackDue) + "），请尽快办结答复"
		if err := s.tellUnit(ctx, tx, *c, msg, now); err != nil {
			return n, err
		}
		if err := note(Warn, msg); err != nil {
			return n, err
		}
	}
	if c.Status == Replied && c.RepliedAt != nil && !now.Before(c.RepliedAt.AddDate(0, 0, s.opt.ReopenDays)) {
		if err := s.close(ctx, tx, c, now); err != nil {
			return n, err
		}
		c.Version++
		c.UpdatedAt = now
		n++
		if err := s.log(ctx, tx, *c, systemSubject, "系统", AutoEnd, fmt.Sprintf("诉求人 %d 天内未确认，自动办结", s.opt.ReopenDays), true, now); err != nil {
			return n, err
		}
	}
	return n, nil
}
