package hall

import (
	"context"
	"fmt"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Call is a number being called, as the hall's screen shows it: no
// personal data, only the number, the group and the window.
type Call struct {
	Number string    `json:"number"`
	Group  string    `json:"group"`
	Window string    `json:"window"`
	At     time.Time `json:"announced_at"`
}

// GroupQueue is how many wait in a group.
type GroupQueue struct {
	Group   string `json:"group"`
	Prefix  string `json:"prefix"`
	Waiting int    `json:"waiting"`
}

// Screen is what the hall's screen shows.
type Screen struct {
	Hall   string       `json:"hall"`
	Calls  []Call       `json:"calls"` // the latest announcement first
	Queues []GroupQueue `json:"queues"`
}

// ScreenCalls is how many calls the screen shows.
const ScreenCalls = 8

// Screen returns today's calls and queues of a hall. Public.
func (s *Service) Screen(ctx context.Context, slug string) (Screen, error) {
	h, err := s.Hall(ctx, slug)
	if err != nil {
		return Screen{}, err
	}
	out := Screen{Hall: h.Name, Calls: []Call{}, Queues: []GroupQueue{}}
	day := s.today().String()
	rows, err := s.db.Read().Query(ctx, `SELECT t.number, g.name, t.window_name, t.announced_at FROM hall_tickets t JOIN hall_groups g ON g.id = t.group_id
		WHERE g.department_id = ? AND t.day = ? AND t.status = 'called' ORDER BY t.announced_at DESC, t.id DESC LIMIT ?`, h.ID, day, ScreenCalls)
	if err != nil {
		return out, fmt.Errorf("hall screen: %w", err)
	}
	for rows.Next() {
		var c Call
		if err := rows.Scan(&c.Number, &c.Group, &c.Window, &c.At); err != nil {
			rows.Close()
			return out, err
		}
		out.Calls = append(out.Calls, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	waiting, err := s.waiting(ctx, s.db.Read(), h.ID, day)
	if err != nil {
		return out, err
	}
	for _, g := range h.Groups {
		out.Queues = append(out.Queues, GroupQueue{Group: g.Name, Prefix: g.Prefix, Waiting: waiting[g.ID]})
	}
	return out, nil
}

// waiting counts the waiting numbers of a hall's groups on day.
func (s *Service) waiting(ctx context.Context, q store.Querier, hall int64, day string) (map[int64]int, error) {
	rows, err := q.Query(ctx, `SELECT t.group_id, COUNT(*) FROM hall_tickets t JOIN hall_groups g ON g.id = t.group_id
		WHERE g.department_id = ? AND t.day = ? AND t.status = 'waiting' GROUP BY t.group_id`, hall, day)
	if err != nil {
		return nil, fmt.Errorf("hall queues: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var g int64
		var n int
		if err := rows.Scan(&g, &n); err != nil {
			return nil, err
		}
		out[g] = n
	}
	return out, rows.Err()
}

// Desk is one group as a clerk's workbench shows it.
type Desk struct {
	Hall    Hall
	Group   Group
	Current *Ticket  // the number this clerk called and has not finished
	Waiting []Ticket // in the order they will be called
	Done    []Ticket // today's finished and called numbers, the latest first
}

// Desks are the groups who may call numbers for, with today's queue.
func (s *Service) Desks(ctx context.Context, who policy.Subject) ([]Desk, error) {
	halls, err := s.Halls(ctx)
	if err != nil {
		return nil, err
	}
	day := s.today().String()
	var out []Desk
	for _, h := range halls {
		for _, g := range h.Groups {
			if policy.Check(who, policy.Handle, g.queue()) != nil {
				continue
			}
			d := Desk{Hall: h, Group: g}
			cur, ok, err := s.clerkTicket(ctx, s.db.Read(), who, g.ID, day)
			if err != nil {
				return nil, err
			}
			if ok {
				d.Current = &cur
			}
			if d.Waiting, err = s.tickets(ctx, `t.group_id = ? AND t.day = ? AND t.status = 'waiting' ORDER BY t.priority DESC, t.seq LIMIT 50`, g.ID, day); err != nil {
				return nil, err
			}
			if d.Done, err = s.tickets(ctx, `t.group_id = ? AND t.day = ? AND t.status <> 'waiting' ORDER BY t.called_at DESC, t.id DESC LIMIT 20`, g.ID, day); err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *Service) tickets(ctx context.Context, where string, args ...any) ([]Ticket, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT `+ticketColumns+ticketFrom+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("hall tickets: %w", err)
	}
	defer rows.Close()
	var out []Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Wait is the waiting figures of one group on one day.
type Wait struct {
	Hall     string `json:"hall"`
	HallSlug string `json:"hall_slug"`
	Group    string `json:"group"`
	Day      string `json:"day"`
	Called   int    `json:"called"`
	// Seconds from taking a number to its call: average and longest.
	WaitAvg int `json:"wait_avg_seconds"`
	WaitMax int `json:"wait_max_seconds"`
	Served  int `json:"served"`
	// Seconds at the window, from the call to 办理完毕.
	ServeAvg int `json:"serve_avg_seconds"`
	ServeMax int `json:"serve_max_seconds"`
	NoShows  int `json:"no_shows"`
}

// Waits returns the waiting figures from one day to another (inclusive),
// of the halls who may see: supervisors their region's, a head their own
// department's hall, administrators all. The latest day first.
func (s *Service) Waits(ctx context.Context, who policy.Subject, from, to calendar.Date) ([]Wait, error) {
	halls, err := s.Halls(ctx)
	if err != nil {
		return nil, err
	}
	mayHall := map[int64]bool{}
	for _, h := range halls {
		mayHall[h.ID] = policy.Check(who, policy.View, policy.Resource{Kind: policy.HallWaits, DepartmentID: h.ID, RegionCode: h.RegionCode}) == nil
	}
	rows, err := s.db.Read().Query(ctx, `SELECT d.id, d.name, d.slug, g.name, w.day, w.called, w.wait_seconds, w.wait_max, w.served, w.serve_seconds, w.serve_max, w.no_shows
		FROM hall_waits w JOIN hall_groups g ON g.id = w.group_id JOIN departments d ON d.id = g.department_id
		WHERE w.day >= ? AND w.day <= ? ORDER BY w.day DESC, d.id, g.prefix`, from.String(), to.String())
	if err != nil {
		return nil, fmt.Errorf("hall waits: %w", err)
	}
	defer rows.Close()
	var out []Wait
	for rows.Next() {
		var w Wait
		var hall int64
		var waitSum, serveSum int
		if err := rows.Scan(&hall, &w.Hall, &w.HallSlug, &w.Group, &w.Day, &w.Called, &waitSum, &w.WaitMax, &w.Served, &serveSum, &w.ServeMax, &w.NoShows); err != nil {
			return nil, err
		}
		if !mayHall[hall] {
			continue
		}
		if w.Called > 0 {
			w.WaitAvg = (waitSum + w.Called/2) / w.Called
		}
		if w.Served > 0 {
			w.ServeAvg = (serveSum + w.Served/2) / w.Served
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Minutes formats seconds as the pages show a wait: "12 分 5 秒".
func Minutes(sec int) string {
	if sec < 60 {
		return fmt.Sprintf("%d 秒", sec)
	}
	return fmt.Sprintf("%d 分 %d 秒", sec/60, sec%60)
}
