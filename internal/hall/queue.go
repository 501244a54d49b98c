package hall

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Priorities of numbers: a clerk calls the highest first, and within one
// the numbers in the order they were taken. A booked number goes first:
// the person chose a time and came; the bookings a slot takes are few
// (a group's capacity), so the others still move.
const (
	Walkin   = 0
	Priority = 1
)

// Ticket states.
const (
	Waiting = "waiting"
	Called  = "called"
	Served  = "served"
	Absent  = "no_show" // called, and did not come to the window (过号)
)

// TicketStateName names a ticket's state in Chinese.
func TicketStateName(s string) string {
	return map[string]string{Waiting: "等候中", Called: "已叫号", Served: "已办理", Absent: "过号"}[s]
}

// Sources of numbers.
const (
	FromBooking = "booking"
	FromKiosk   = "kiosk"
	FromClerk   = "clerk"
)

// Ticket is a queue number.
type Ticket struct {
	ID       int64
	GroupID  int64
	Group    string
	Day      string
	Number   string // A001
	Source   string
	Priority int
	Item     string
	IDMasked string // the ID number masked, for the clerk; "" when none was given
	State    string
	TakenAt  time.Time
	CalledAt time.Time
	Finished time.Time
	Window   string
	Recalls  int
	Ahead    int // numbers before it in the queue, when taken
}

// ctxIDNumber binds a sealed ID number to its column.
const ctxIDNumber = "hall_tickets.id_number"

// CheckIn checks a booking in at hall's kiosk by its number and gives it a
// number with priority: from CheckInEarly before its slot until the slot
// ends. The kiosk needs no sign-in: the booking's number is the proof.
func (s *Service) CheckIn(ctx context.Context, hallID int64, number string) (Ticket, error) {
	if len(number) != 10 || !digits(number) {
		return Ticket{}, apperr.New(apperr.Invalid, "预约号应为 10 位数字，请核对后重新输入。")
	}
	var t Ticket
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		b, err := s.booking(ctx, tx, `b.number = ?`, number)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.New(apperr.NotFound, "没有找到这个预约号，请核对后重新输入。")
		}
		if err != nil {
			return err
		}
		g, err := s.group(ctx, tx, b.GroupID)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		switch {
		case g.DepartmentID != hallID:
			return apperr.New(apperr.Invalid, "该预约不在本大厅办理，请到“"+b.Hall+"”取号。")
		case b.Status == Cancelled:
			return apperr.New(apperr.Conflict, "该预约已取消，请直接取号。")
		case b.Status == CheckedIn:
			return apperr.New(apperr.Conflict, "该预约已取号，号码为 "+b.Ticket+"，请留意叫号。")
		case b.Status == NoShow:
			return apperr.New(apperr.Conflict, "预约时段已过，请直接取号。")
		case now.Before(b.Start.Add(-CheckInEarly)):
			return apperr.New(apperr.Conflict, fmt.Sprintf("尚未到签到时间，请于 %s 后取号（预约时段 %s 开始）。",
				b.Start.Add(-CheckInEarly).In(clock.China).Format("01月02日 15:04"), b.Start.In(clock.China).Format("15:04")))
		}
		t, err = s.take(ctx, tx, g, FromBooking, Priority, b.ItemID, "", now)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE hall_bookings SET status = 'checked_in', checked_in_at = ?, ticket_id = ? WHERE id = ? AND status = 'booked'`, now, t.ID, b.ID)
		return err
	})
	return t, err
}

// TakeNumber gives a number at the hall's kiosk to the holder of an ID
// number, for one of the hall's groups (and optionally an item of it). The
// ID is stored sealed with its keyed index and shown only masked; one
// person holds one live number per group at a time.
func (s *Service) TakeNumber(ctx context.Context, hallID, groupID int64, idNumber string, itemID int64) (Ticket, error) {
	return s.takeByID(ctx, hallID, groupID, idNumber, itemID, FromKiosk)
}

// TakeAtCounter gives a number for a person at the window, for a clerk of
// the group; the ID number is optional there.
func (s *Service) TakeAtCounter(ctx context.Context, who policy.Subject, groupID int64, idNumber string) (Ticket, error) {
	g, err := s.group(ctx, s.db.Read(), groupID)
	if err != nil {
		return Ticket{}, err
	}
	if err := policy.Check(who, policy.Handle, g.queue()); err != nil {
		return Ticket{}, err
	}
	return s.takeByID(ctx, g.DepartmentID, groupID, idNumber, 0, FromClerk)
}

func (s *Service) takeByID(ctx context.Context, hallID, groupID int64, idNumber string, itemID int64, source string) (Ticket, error) {
	now := s.clock.Now()
	var card ident.IDCard
	if idNumber != "" || source == FromKiosk {
		var err error
		if card, err = ident.ParseIDCard(idNumber, now.In(clock.China)); err != nil {
			return Ticket{}, apperr.Wrap(apperr.Invalid, err.Error(), err)
		}
	}
	var t Ticket
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		g, err := s.group(ctx, tx, groupID)
		if err != nil {
			return err
		}
		if g.DepartmentID != hallID {
			return apperr.New(apperr.NotFound, "本大厅没有这个窗口组。")
		}
		if itemID != 0 && !g.Serves(itemID) {
			return apperr.New(apperr.Invalid, "该窗口组不办理所选事项，请重新选择。")
		}
		sealed, index, masked := "", "", ""
		if card.Number != "" {
			index = s.keys.Index("id_number", card.Number)
			var held string
			err := tx.QueryRow(ctx, `SELECT number FROM hall_tickets WHERE id_number_index = ? AND day = ? AND group_id = ? AND status IN ('waiting', 'called')`,
				index, calendar.DateOf(now).String(), g.ID).Scan(&held)
			if err == nil {
				return apperr.New(apperr.Conflict, "您已取得“"+g.Name+"”的号码 "+held+"，请留意叫号，无需重复取号。")
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if sealed, err = s.keys.Seal(card.Number, ctxIDNumber); err != nil {
				return err
			}
			masked = ident.MaskIDCard(card.Number)
		}
		if t, err = s.take(ctx, tx, g, source, Walkin, itemID, sealed, now); err != nil {
			return err
		}
		if index != "" {
			if _, err := tx.Exec(ctx, `UPDATE hall_tickets SET id_number_index = ?, id_number_masked = ? WHERE id = ?`, index, masked, t.ID); err != nil {
				return err
			}
			t.IDMasked = masked
		}
		return nil
	})
	return t, err
}

// take writes the group's next number of the day.
func (s *Service) take(ctx context.Context, tx *store.Tx, g Group, source string, priority int, itemID int64, sealed string, now time.Time) (Ticket, error) {
	day := calendar.DateOf(now).String()
	var seq int
	if err := tx.QueryRow(ctx, `INSERT INTO hall_counters (group_id, day, last) VALUES (?, ?, 1)
		ON CONFLICT (group_id, day) DO UPDATE SET last = hall_counters.last + 1 RETURNING last`, g.ID, day).Scan(&seq); err != nil {
		return Ticket{}, fmt.Errorf("hall counter: %w", err)
	}
	t := Ticket{GroupID: g.ID, Group: g.Name, Day: day, Number: fmt.Sprintf("%s%03d", g.Prefix, seq), Source: source, Priority: priority, State: Waiting, TakenAt: now}
	var item any
	if itemID != 0 {
		item = itemID
		it, _ := g.Item(itemID)
		t.Item = it.Name
	}
	if err := tx.QueryRow(ctx, `INSERT INTO hall_tickets (group_id, day, seq, number, source, priority, item_id, id_number_sealed, status, taken_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?) RETURNING id`, g.ID, day, seq, t.Number, source, priority, item, sealed, now).Scan(&t.ID); err != nil {
		return Ticket{}, fmt.Errorf("hall ticket: %w", err)
	}
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM hall_tickets WHERE group_id = ? AND day = ? AND status = 'waiting' AND id <> ?
		AND (priority > ? OR priority = ? AND seq < ?)`, g.ID, day, t.ID, priority, priority, seq).Scan(&t.Ahead)
	return t, err
}

// clerkTicket is the number a clerk has called and not yet finished.
func (s *Service) clerkTicket(ctx context.Context, q store.Querier, who policy.Subject, groupID int64, day string) (Ticket, bool, error) {
	t, err := scanTicket(q.QueryRow(ctx, `SELECT `+ticketColumns+ticketFrom+` WHERE t.group_id = ? AND t.day = ? AND t.status = 'called' AND t.called_by = ?
		ORDER BY t.called_at DESC LIMIT 1`, groupID, day, who.AccountID))
	if errors.Is(err, sql.ErrNoRows) {
		return t, false, nil
	}
	return t, err == nil, err
}

// CallNext calls the next number of a group to window, for a clerk of the
// group who has no called number left to finish. Booked numbers first,
// then in the order taken; two clerks calling at once get two numbers.
func (s *Service) CallNext(ctx context.Context, who policy.Subject, groupID int64, window string) (Ticket, error) {
	g, err := s.group(ctx, s.db.Read(), groupID)
	if err != nil {
		return Ticket{}, err
	}
	if err := policy.Check(who, policy.Handle, g.queue()); err != nil {
		return Ticket{}, err
	}
	if !slices.Contains(g.Windows, window) {
		return Ticket{}, apperr.New(apperr.Invalid, "请选择您所在的窗口。")
	}
	var t Ticket
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		now := s.clock.Now()
		day := calendar.DateOf(now).String()
		if cur, ok, err := s.clerkTicket(ctx, tx, who, g.ID, day); err != nil {
			return err
		} else if ok {
			return apperr.New(apperr.Conflict, "请先将当前号码 "+cur.Number+" 标为“已办理”或“过号”，再叫下一号。")
		}
		for range 10 {
			var id int64
			var taken time.Time
			err := tx.QueryRow(ctx, `SELECT id, taken_at FROM hall_tickets WHERE group_id = ? AND day = ? AND status = 'waiting'
				ORDER BY priority DESC, seq LIMIT 1`, g.ID, day).Scan(&id, &taken)
			if errors.Is(err, sql.ErrNoRows) {
				return apperr.New(apperr.Conflict, "“"+g.Name+"”当前没有等候的号码。")
			}
			if err != nil {
				return err
			}
			res, err := tx.Exec(ctx, `UPDATE hall_tickets SET status = 'called', called_at = ?, announced_at = ?, window_name = ?, called_by = ?
				WHERE id = ? AND status = 'waiting'`, now, now, window, who.AccountID, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // another clerk called it first
			}
			wait := seconds(now.Sub(taken))
			if _, err := tx.Exec(ctx, `INSERT INTO hall_waits (group_id, day, called, wait_seconds, wait_max) VALUES (?, ?, 1, ?, ?)
				ON CONFLICT (group_id, day) DO UPDATE SET called = hall_waits.called + 1, wait_seconds = hall_waits.wait_seconds + excluded.wait_seconds,
				wait_max = CASE WHEN excluded.wait_max > hall_waits.wait_max THEN excluded.wait_max ELSE hall_waits.wait_max END`, g.ID, day, wait, wait); err != nil {
				return fmt.Errorf("hall waits: %w", err)
			}
			t, err = s.ticket(ctx, tx, id)
			return err
		}
		return apperr.New(apperr.Unavailable, "叫号繁忙，请稍后再试。")
	})
	return t, err
}

// Recall announces a called number again (a person who did not hear it).
func (s *Service) Recall(ctx context.Context, who policy.Subject, ticketID int64) (Ticket, error) {
	return s.step(ctx, who, ticketID, func(tx *store.Tx, t Ticket, now time.Time) error {
		_, err := tx.Exec(ctx, `UPDATE hall_tickets SET announced_at = ?, recalls = recalls + 1 WHERE id = ?`, now, t.ID)
		return err
	})
}

// Finish marks a called number served (办理完毕) or absent (过号), and adds
// its time at the window to the day's figures.
func (s *Service) Finish(ctx context.Context, who policy.Subject, ticketID int64, served bool) (Ticket, error) {
	return s.step(ctx, who, ticketID, func(tx *store.Tx, t Ticket, now time.Time) error {
		state := Absent
		if served {
			state = Served
		}
		if _, err := tx.Exec(ctx, `UPDATE hall_tickets SET status = ?, finished_at = ? WHERE id = ?`, state, now, t.ID); err != nil {
			return err
		}
		if !served {
			_, err := tx.Exec(ctx, `UPDATE hall_waits SET no_shows = no_shows + 1 WHERE group_id = ? AND day = ?`, t.GroupID, t.Day)
			return err
		}
		took := seconds(now.Sub(t.CalledAt))
		_, err := tx.Exec(ctx, `UPDATE hall_waits SET served = served + 1, serve_seconds = serve_seconds + ?,
			serve_max = CASE WHEN ? > serve_max THEN ? ELSE serve_max END WHERE group_id = ? AND day = ?`, took, took, took, t.GroupID, t.Day)
		return err
	})
}

// step changes a called number, for a clerk of its group.
func (s *Service) step(ctx context.Context, who policy.Subject, ticketID int64, change func(tx *store.Tx, t Ticket, now time.Time) error) (Ticket, error) {
	var t Ticket
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if t, err = s.ticket(ctx, tx, ticketID); err != nil {
			return err
		}
		g, err := s.group(ctx, tx, t.GroupID)
		if err != nil {
			return err
		}
		if err := policy.Check(who, policy.Handle, g.queue()); err != nil {
			return err
		}
		if t.State != Called {
			return apperr.New(apperr.Conflict, "号码 "+t.Number+" "+TicketStateName(t.State)+"，不能再操作。")
		}
		if err := change(tx, t, s.clock.Now()); err != nil {
			return err
		}
		t, err = s.ticket(ctx, tx, ticketID)
		return err
	})
	return t, err
}

func seconds(d time.Duration) int { return int(max(0, d.Round(time.Second)/time.Second)) }

const ticketColumns = `t.id, t.group_id, g.name, t.day, t.number, t.source, t.priority, COALESCE(i.name, ''), t.id_number_masked, t.status,
	t.taken_at, t.called_at, t.finished_at, t.window_name, t.recalls`

const ticketFrom = ` FROM hall_tickets t JOIN hall_groups g ON g.id = t.group_id LEFT JOIN items i ON i.id = t.item_id`

func scanTicket(row interface{ Scan(...any) error }) (Ticket, error) {
	var t Ticket
	var called, finished sql.NullTime
	err := row.Scan(&t.ID, &t.GroupID, &t.Group, &t.Day, &t.Number, &t.Source, &t.Priority, &t.Item, &t.IDMasked, &t.State,
		&t.TakenAt, &called, &finished, &t.Window, &t.Recalls)
	t.CalledAt, t.Finished = called.Time, finished.Time
	return t, err
}

func (s *Service) ticket(ctx context.Context, q store.Querier, id int64) (Ticket, error) {
	t, err := scanTicket(q.QueryRow(ctx, `SELECT `+ticketColumns+ticketFrom+` WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, apperr.New(apperr.NotFound, "没有这个号码。")
	}
	return t, err
}

func digits(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}
