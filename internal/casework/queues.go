package casework

import (
	"context"
	"database/sql"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Queues are the staff work queues, in the order of the work.
var Queues = []Status{Submitted, Prechecked, Correction, Reviewing, Reviewed, Paused, Decided, Completed, Delivered}

// QueueEntry is a case in a work queue.
type QueueEntry struct {
	Summary
	DueOn    calendar.Date
	Deadline calendar.Status // 正常, 预警 or 超期, for accepted cases
	Channel  string          // online or window
	Finish   Finish          // for finished cases: when, and whether in time
	Finished bool
}

// QueueFilter narrows a work queue.
type QueueFilter struct {
	Query   string // part of the case number or of the item's name
	Due     string // "soon": one working day or less left; "late": past due; "": any
	Channel string // "online", "window", or "" for both
}

// Queue lists the cases of who's department in one status that match f,
// the most urgent first (earliest due date, then longest waiting). The
// due dates of paused cases are those DeadlineOf gives (as if the clock
// resumed today); they move while the clock is stopped, so the paused
// queue is filtered and sorted here rather than in SQL: it is short
// (the hearings, inspections and expert reviews under way).
func (s *Service) Queue(ctx context.Context, who policy.Subject, st Status, f QueueFilter, limit int) ([]QueueEntry, error) {
	if err := mayQueue(who, st == Draft); err != nil {
		return nil, err
	}
	// A finished case's queue shows when it finished: the time of the
	// step that ended it (its event's column, which SQLite scans as a time).
	q := `SELECT c.id, c.number, i.name, c.status, c.version, c.updated_at, c.due_on, c.channel, c.item_id, c.item_version, c.accepted_on, c.paused_on, fe.at
		FROM cases c JOIN items i ON i.id = c.item_id
		LEFT JOIN case_events fe ON fe.case_id = c.id AND c.status IN ('completed', 'delivered', 'rejected', 'withdrawn') AND fe.seq = (SELECT MAX(e.seq) FROM case_events e WHERE e.case_id = c.id AND e.action IN (?, ?, ?))
		WHERE c.department_id = ? AND c.status = ?`
	args := []any{finishing[0], finishing[1], finishing[2], who.DepartmentID, st}
	if t := strings.TrimSpace(f.Query); t != "" {
		q += ` AND (c.number LIKE ? ESCAPE '\' OR i.name LIKE ? ESCAPE '\')`
		args = append(args, store.Contains(t), store.Contains(t))
	}
	today := calendar.DateOf(s.clock.Now())
	paused := st == Paused
	switch f.Due {
	case "late":
		if !paused {
			q += ` AND c.due_on <> '' AND c.due_on < ?`
			args = append(args, today.String())
		}
	case "soon":
		if !paused {
			q += ` AND c.due_on >= ? AND c.due_on <= ?`
			args = append(args, today.String(), s.calendar.AddWorkdays(today, 1).String())
		}
	case "":
	default:
		return nil, apperr.New(apperr.Invalid, "时限筛选应为预警或超期。")
	}
	switch f.Channel {
	case "online", "window":
		q += ` AND c.channel = ?`
		args = append(args, f.Channel)
	case "":
	default:
		return nil, apperr.New(apperr.Invalid, "渠道筛选应为网上或窗口。")
	}
	q += ` ORDER BY CASE WHEN c.due_on = '' THEN 1 ELSE 0 END, c.due_on, c.updated_at`
	if !paused {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueueEntry
	var cases []Case // for the paused queue: what DeadlineOf needs
	for rows.Next() {
		var e QueueEntry
		var c Case
		var due, accepted, pausedOn string
		var finished sql.NullTime
		if err := rows.Scan(&e.ID, &e.Number, &e.ItemName, &e.Status, &e.Version, &e.UpdatedAt, &due, &e.Channel,
			&c.ItemID, &c.ItemVersion, &accepted, &pausedOn, &finished); err != nil {
			return nil, err
		}
		if due != "" {
			if e.DueOn, err = calendar.ParseDate(due); err != nil {
				return nil, err
			}
			e.Deadline = s.calendar.StatusOf(today, e.DueOn)
		}
		if e.Status.Finished() && finished.Valid {
			e.Finish, e.Finished = s.finish(e.DueOn, calendar.DateOf(finished.Time)), true
		}
		if paused {
			c.ID, c.Status, c.DueOn = e.ID, e.Status, e.DueOn
			for _, d := range []struct {
				text string
				into *calendar.Date
			}{{accepted, &c.AcceptedOn}, {pausedOn, &c.PausedOn}} {
				if d.text != "" {
					if *d.into, err = calendar.ParseDate(d.text); err != nil {
						return nil, err
					}
				}
			}
			cases = append(cases, c)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if paused {
		return s.pausedDeadlines(ctx, out, cases, f.Due, limit)
	}
	return out, nil
}

// mayQueue says whether who may list their department's cases: a queue
// is a read of every case in it, and a queue of drafts there is not.
func mayQueue(who policy.Subject, drafts bool) error {
	if who.Kind != policy.Staff {
		return apperr.New(apperr.Forbidden, "工作队列只对工作人员开放。")
	}
	return policy.Check(who, policy.View, policy.Resource{Kind: policy.Queue, DepartmentID: who.DepartmentID, RegionCode: who.RegionCode, Draft: drafts})
}

// HasQueues reports whether who works from their department's queues.
func HasQueues(who policy.Subject) bool { return mayQueue(who, false) == nil }

// QueueCounts counts who's department's cases in each queue.
func (s *Service) QueueCounts(ctx context.Context, who policy.Subject) (map[Status]int, error) {
	if err := mayQueue(who, false); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT status, COUNT(*) FROM cases WHERE department_id = ? AND status <> 'draft' GROUP BY status`, who.DepartmentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[Status]int{}
	for rows.Next() {
		var st Status
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
