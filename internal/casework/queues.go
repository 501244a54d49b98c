package casework

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/policy"
)

// Queues are the staff work queues, in the order of the work.
var Queues = []Status{Submitted, Prechecked, Correction, Reviewing, Reviewed, Paused, Decided, Completed, Delivered}

// QueueEntry is a case in a work queue.
type QueueEntry struct {
	Summary
	DueOn     calendar.Date
	Deadline  calendar.Status // 正常, 预警 or 超期, for accepted cases
	Channel   string          // online or window
	Applicant string          // the enterprise's name, or the person's masked (张*)
	Finish    Finish          // for finished cases: when, and whether in time
	Finished  bool
	paused    *Case // the paused queue: what DeadlineOf needs
}

// QueueFilter narrows a work queue.
type QueueFilter struct {
	Query   string // a case number or part of one, a word of the item's name, the start of the applicant's or enterprise's name (search.go)
	Due     string // "soon": one working day or less left; "late": past due; "": any
	Channel string // "online", "window", or "" for both
	After   string // the cursor of the page (Page.Next); "": the first page
}

// AllQueues, as Queue's status, searches every queue of the department.
const AllQueues Status = ""

// Queue lists a page of the cases of who's department in one status (or
// in every queue: AllQueues) that match f, the most urgent first: by due
// date, then longest waiting; those with no due date yet (not accepted)
// after those with one. It walks the queue index in two runs, the dated
// cases then the undated ones, and its cursor says where in which.
// The due dates of paused cases are those DeadlineOf gives (as if the clock
// resumed today); they move while the clock is stopped, so the paused
// queue is filtered, sorted and paged here rather than in SQL: it is short
// (the hearings, inspections and expert reviews under way).
func (s *Service) Queue(ctx context.Context, who policy.Subject, st Status, f QueueFilter, limit int) (Page[QueueEntry], error) {
	var page Page[QueueEntry]
	limit = max(limit, 1)
	if err := mayQueue(who, st == Draft); err != nil {
		return page, err
	}
	var m *search // the search box's query (search.go), nil when empty
	if t := strings.TrimSpace(f.Query); t != "" {
		parsed, err := s.parseSearch(ctx, t)
		if err != nil {
			return page, err
		}
		m = &parsed
	}
	var c conds
	if m != nil { // written into the SQL: see search
		c.add(`c.department_id = ` + strconv.FormatInt(who.DepartmentID, 10))
	} else {
		c.add(`c.department_id = ?`, who.DepartmentID)
	}
	if st == AllQueues {
		c.add(`c.status NOT IN ('draft', 'waiting', 'closed')`) // Status.Submitted: parts waiting for another are nobody's work yet
	} else {
		c.add(`c.status = ?`, st)
	}
	today := calendar.DateOf(s.clock.Now())
	paused := st == Paused
	switch f.Due {
	case "late":
		if !paused {
			c.add(`c.due_on <> '' AND c.due_on < ?`, today.String())
		}
	case "soon":
		if !paused {
			c.add(`c.due_on >= ? AND c.due_on <= ?`, today.String(), s.calendar.AddWorkdays(today, 1).String())
		}
	case "":
	default:
		return page, apperr.New(apperr.Invalid, "时限筛选应为预警或超期。")
	}
	switch f.Channel {
	case "online", "window":
		c.add(`c.channel = ?`, f.Channel)
	case "":
	default:
		return page, apperr.New(apperr.Invalid, "渠道筛选应为网上或窗口。")
	}
	at, err := parseCursor(f.After, 3)
	if err != nil {
		return page, err
	}
	var after queueKey
	if at != nil {
		due, err1 := at.date(0)
		t, err2 := at.time(1)
		id, err3 := at.int(2)
		if err1 != nil || err2 != nil || err3 != nil {
			return page, errCursor
		}
		after = queueKey{due, t, id}
	}
	// A finished case's queue shows when it finished: the time of the
	// step that ended it (its event's column, which SQLite scans as a time).
	q := `SELECT c.id, c.number, i.name, c.status, c.version, c.updated_at, c.due_on, c.channel, a.name, COALESCE(e.name, ''),
		c.item_id, c.item_version, c.accepted_on, c.paused_on, fe.at
		FROM cases c JOIN items i ON i.id = c.item_id JOIN accounts a ON a.id = c.applicant_id LEFT JOIN enterprises e ON e.id = c.enterprise_id
		LEFT JOIN case_events fe ON fe.case_id = c.id AND c.status IN ('completed', 'delivered', 'rejected', 'withdrawn')
		AND fe.seq = (SELECT MAX(x.seq) FROM case_events x WHERE x.case_id = c.id AND x.action IN ('` + string(finishing[0]) + `', '` +
		string(finishing[1]) + `', '` + string(finishing[2]) + `'))`
	if paused {
		if m != nil { // the paused queue is short: read every match
			var either []string
			for _, arm := range m.arms {
				either = append(either, arm.sql)
				c.args = append(c.args, arm.args...)
			}
			c.sql = append(c.sql, `(`+strings.Join(either, ` OR `)+`)`)
		}
		rows, err := s.queueRows(ctx, q+c.where()+` ORDER BY c.id`, c.args, today, true)
		if err != nil {
			return page, err
		}
		return s.pausedPage(ctx, rows, f.Due, at != nil, after, limit)
	}
	// A search is counted first: how many it finds decides how its page
	// is read (searchPage).
	if m != nil {
		if page.Total, page.More, m.arms, err = s.searchCount(ctx, c, *m); err != nil || len(m.arms) == 0 {
			return page, err
		}
	}
	// The dated run, then the undated one; a cursor in the undated run
	// (its due date "") skips the dated.
	for _, dated := range []bool{true, false} {
		if at != nil && after.due == "" && dated {
			continue
		}
		run := c
		if dated {
			run.add(`c.due_on > ''`) // a range: the undated cases come first in an index
			if at != nil {
				run.add(`(c.due_on, c.updated_at, c.id) > (?, ?, ?)`, after.due, after.updated, after.id)
			}
		} else {
			run.add(`c.due_on = ''`)
			if at != nil && after.due == "" {
				run.add(`(c.updated_at, c.id) > (?, ?)`, after.updated, after.id)
			}
		}
		n := limit + 1 - len(page.Rows)
		if m != nil {
			picked := searchPage(run, *m, page.More, n)
			run = conds{[]string{picked.sql}, picked.args}
		}
		rows, err := s.queueRows(ctx, q+run.where()+` ORDER BY c.due_on, c.updated_at, c.id LIMIT ?`,
			append(run.args, n), today, false)
		if err != nil {
			return page, err
		}
		page.Rows = append(page.Rows, rows...)
		if len(page.Rows) > limit {
			break
		}
	}
	if len(page.Rows) > limit {
		page.Rows = page.Rows[:limit]
		page.Next = queueKeyOf(page.Rows[limit-1]).cursor()
	}
	if m != nil {
		return page, nil
	}
	// A first page that holds the whole list is its count.
	if at == nil && page.Next == "" {
		page.Total = len(page.Rows)
		return page, nil
	}
	page.Total, page.More, err = s.countUpTo(ctx, ` FROM cases c`, c)
	return page, err
}

// queueKey is a queue's sort key: due date ("" last), then updated, then id.
type queueKey struct {
	due     string
	updated time.Time
	id      int64
}

func queueKeyOf(e QueueEntry) queueKey {
	due := ""
	if !e.DueOn.IsZero() {
		due = e.DueOn.String()
	}
	return queueKey{due, e.UpdatedAt, e.ID}
}

func (k queueKey) cursor() string { return makeCursor(k.due, k.updated, k.id) }

// less orders keys as the queue does.
func (k queueKey) less(o queueKey) bool {
	if (k.due == "") != (o.due == "") {
		return o.due == ""
	}
	if k.due != o.due {
		return k.due < o.due
	}
	if !k.updated.Equal(o.updated) {
		return k.updated.Before(o.updated)
	}
	return k.id < o.id
}

// queueRows runs a queue query; for the paused queue it also reads what
// DeadlineOf needs.
func (s *Service) queueRows(ctx context.Context, q string, args []any, today calendar.Date, paused bool) ([]QueueEntry, error) {
	rows, err := s.db.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueueEntry
	for rows.Next() {
		var e QueueEntry
		var due, accepted, pausedOn, person, firm string
		var itemID int64
		var itemVersion int
		var finished sql.NullTime
		if err := rows.Scan(&e.ID, &e.Number, &e.ItemName, &e.Status, &e.Version, &e.UpdatedAt, &due, &e.Channel, &person, &firm,
			&itemID, &itemVersion, &accepted, &pausedOn, &finished); err != nil {
			return nil, err
		}
		e.Applicant = firm
		if firm == "" {
			e.Applicant = ident.MaskName(person)
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
			c := Case{ID: e.ID, Status: e.Status, DueOn: e.DueOn, ItemID: itemID, ItemVersion: itemVersion}
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
			e.paused = &c
		}
		out = append(out, e)
	}
	return out, rows.Err()
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

// QueueCounts counts who's department's cases in each queue, each up to
// CountCap (a count reads what it counts: one GROUP BY read a large
// department's whole history on every view of the workbench).
func (s *Service) QueueCounts(ctx context.Context, who policy.Subject) (map[Status]Count, error) {
	if err := mayQueue(who, false); err != nil {
		return nil, err
	}
	out := map[Status]Count{}
	for _, st := range Queues {
		var c conds
		c.add(`c.department_id = ?`, who.DepartmentID)
		c.add(`c.status = ?`, st)
		n, more, err := s.countUpTo(ctx, ` FROM cases c`, c)
		if err != nil {
			return nil, err
		}
		out[st] = Count{n, more}
	}
	return out, nil
}
