package complaint

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/zwfw/zwfw/internal/store"
)

// Reads for Open311 (internal/open311): longer public lists than a page,
// the public entries of every log in a period, and when the categories
// last changed. None of them holds personal data.

// PublicPage is PublicList over as many pages as it takes to give up to
// max public views matching f, newest first. Each page costs three
// queries, not two per complaint: the categories' codes once, the
// complaints, and their public log entries together.
func (s *Service) PublicPage(ctx context.Context, f Filter, max int) ([]Public, error) {
	codes := map[int64]string{}
	cats, err := s.Categories(ctx, true)
	if err != nil {
		return nil, err
	}
	for _, c := range cats {
		codes[c.ID] = c.Code
	}
	var out []Public
	f.Limit = 100
	for len(out) < max {
		if rest := max - len(out); rest < f.Limit {
			f.Limit = rest
		}
		list, err := s.List(ctx, systemSubject, f)
		if err != nil {
			return nil, err
		}
		evs, err := publicEvents(ctx, s.db.Read(), list)
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			out = append(out, publicOf(c, codes[c.CategoryID], evs[c.ID]))
		}
		if len(list) < f.Limit {
			break
		}
		f.After = list[len(list)-1].ID
	}
	return out, nil
}

// publicEvents reads the public log entries of the complaints in list,
// by complaint, in order.
func publicEvents(ctx context.Context, q store.Querier, list []Complaint) (map[int64][]Event, error) {
	out := map[int64][]Event{}
	if len(list) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(list)+1)
	for _, c := range list {
		args = append(args, c.ID)
	}
	args = append(args, true)
	rows, err := q.Query(ctx, `SELECT complaint_id, id, at, COALESCE(actor_id, 0), actor, COALESCE(department_id, 0), action, status, detail, public
		FROM complaint_events WHERE complaint_id IN (`+marks(len(list))+`) AND public = ? ORDER BY complaint_id, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var e Event
		if err := rows.Scan(&id, &e.ID, &e.At, &e.ActorID, &e.Actor, &e.DepartmentID, &e.Action, &e.Status, &e.Detail, &e.Public); err != nil {
			return nil, err
		}
		out[id] = append(out[id], e)
	}
	return out, rows.Err()
}

// PublicUpdate is a public entry of a complaint's log, with the
// complaint's number and the status after it.
type PublicUpdate struct {
	ID     int64 // the entry's: unique and stable
	Number string
	At     time.Time
	Action string // the step in Chinese
	Status Status
	Detail string // with mobile and identity numbers hidden
}

// PublicUpdates lists the public log entries made in [from, to), oldest
// first, at most max.
func (s *Service) PublicUpdates(ctx context.Context, from, to time.Time, max int) ([]PublicUpdate, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT e.id, c.number, e.at, e.action, e.status, e.detail
		FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id
		WHERE e.at >= ? AND e.at < ? AND e.public = ? ORDER BY e.at, e.id LIMIT ?`, from, to, true, max)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PublicUpdate
	for rows.Next() {
		var u PublicUpdate
		var a Action
		if err := rows.Scan(&u.ID, &u.Number, &u.At, &a, &u.Status, &u.Detail); err != nil {
			return nil, err
		}
		u.Action, u.Detail = a.Name(), Redact(u.Detail)
		out = append(out, u)
	}
	return out, rows.Err()
}

// CategoriesChanged is when a category was last added or changed (zero
// when there are none): Open311's discovery changeset.
func (s *Service) CategoriesChanged(ctx context.Context) (time.Time, error) {
	// Not MAX(): SQLite gives an aggregate without the column's type.
	var t time.Time
	err := s.db.Read().QueryRow(ctx, `SELECT updated_at FROM complaint_categories ORDER BY updated_at DESC LIMIT 1`).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return t, err
}
