package hall

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Slot is a time a group takes bookings for.
type Slot struct {
	Start    time.Time `json:"starts_at"`
	End      time.Time `json:"ends_at"`
	Booked   int       `json:"booked"`
	Capacity int       `json:"capacity"`
	// Open: it can still be booked (not full, not past the cut-off).
	Open bool `json:"open"`
}

// Left is how many places are left.
func (s Slot) Left() int { return max(0, s.Capacity-s.Booked) }

// slotTimes are the group's slots of a day: each office period cut into
// slots of SlotMinutes (a remainder too short for one is left out); none
// on a day the calendar says is not a working day.
func (s *Service) slotTimes(g Group, d calendar.Date) []Slot {
	if !s.calendar.IsWorkday(d) {
		return nil
	}
	var out []Slot
	for _, p := range g.Hours.Periods {
		for m := p.Start; m+g.SlotMinutes <= p.End; m += g.SlotMinutes {
			start := d.Time().Add(time.Duration(m) * time.Minute)
			out = append(out, Slot{Start: start, End: start.Add(time.Duration(g.SlotMinutes) * time.Minute), Capacity: g.Capacity})
		}
	}
	return out
}

// Days are the days a person may book for: today and the next BookAhead
// days that are working days.
func (s *Service) Days() []calendar.Date {
	today := s.today()
	var out []calendar.Date
	for i := 0; i <= BookAhead; i++ {
		if d := today.AddDays(i); s.calendar.IsWorkday(d) {
			out = append(out, d)
		}
	}
	return out
}

// Slots returns a group's slots of day with their places taken.
func (s *Service) Slots(ctx context.Context, groupID int64, day calendar.Date) (Group, []Slot, error) {
	g, err := s.group(ctx, s.db.Read(), groupID)
	if err != nil {
		return g, nil, err
	}
	slots := s.slotTimes(g, day)
	if len(slots) == 0 {
		return g, nil, nil
	}
	rows, err := s.db.Read().Query(ctx, `SELECT starts_at, booked FROM hall_slots WHERE group_id = ? AND starts_at >= ? AND starts_at < ?`,
		g.ID, slots[0].Start, slots[len(slots)-1].End)
	if err != nil {
		return g, nil, fmt.Errorf("hall slots: %w", err)
	}
	defer rows.Close()
	booked := map[int64]int{}
	for rows.Next() {
		var at time.Time
		var n int
		if err := rows.Scan(&at, &n); err != nil {
			return g, nil, err
		}
		booked[at.Unix()] = n
	}
	now := s.clock.Now()
	last := s.today().AddDays(BookAhead)
	for i := range slots {
		slots[i].Booked = booked[slots[i].Start.Unix()]
		slots[i].Open = slots[i].Booked < slots[i].Capacity && !now.After(slots[i].Start.Add(-BookingCutoff)) && !day.After(last)
	}
	return g, slots, rows.Err()
}

// Status of a booking as people see it.
type Status string

const (
	Booked    Status = "booked"     // waiting for its slot
	Cancelled Status = "cancelled"  // by the person
	CheckedIn Status = "checked_in" // took its number at the kiosk
	NoShow    Status = "no_show"    // still booked when its slot ended
)

// Name is the status's Chinese name.
func (s Status) Name() string {
	return map[Status]string{Booked: "待签到", Cancelled: "已取消", CheckedIn: "已取号", NoShow: "未到（爽约）"}[s]
}

// Booking is an appointment.
type Booking struct {
	ID        int64
	Number    string // 10 digits, given at the kiosk or in the QR code
	GroupID   int64
	Group     string
	Hall      string // the hall's name
	HallSlug  string
	Address   string
	ItemID    int64
	Item      string
	AccountID int64
	Start     time.Time
	End       time.Time
	Status    Status
	CreatedAt time.Time
	Ticket    string // the number taken at check-in
}

// Cancellable reports whether the booking can still be cancelled at now.
func (b Booking) Cancellable(now time.Time) bool { return b.Status == Booked && now.Before(b.Start) }

const bookingColumns = `b.id, b.number, b.group_id, g.name, d.name, d.slug, d.address, b.item_id, i.name, b.account_id, b.starts_at, b.ends_at,
	b.status, b.created_at, COALESCE(t.number, '')`

const bookingFrom = ` FROM hall_bookings b JOIN hall_groups g ON g.id = b.group_id JOIN departments d ON d.id = g.department_id
	JOIN items i ON i.id = b.item_id LEFT JOIN hall_tickets t ON t.id = b.ticket_id`

func (s *Service) scanBooking(row interface{ Scan(...any) error }) (Booking, error) {
	var b Booking
	err := row.Scan(&b.ID, &b.Number, &b.GroupID, &b.Group, &b.Hall, &b.HallSlug, &b.Address, &b.ItemID, &b.Item, &b.AccountID, &b.Start, &b.End,
		&b.Status, &b.CreatedAt, &b.Ticket)
	if b.Status == Booked && !s.clock.Now().Before(b.End) {
		b.Status = NoShow
	}
	return b, err
}

func (s *Service) booking(ctx context.Context, q store.Querier, where string, arg any) (Booking, error) {
	b, err := s.scanBooking(q.QueryRow(ctx, `SELECT `+bookingColumns+bookingFrom+` WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return b, apperr.New(apperr.NotFound, "没有找到这个预约。")
	}
	return b, err
}

// Booking returns one of who's bookings.
func (s *Service) Booking(ctx context.Context, who policy.Subject, id int64) (Booking, error) {
	b, err := s.booking(ctx, s.db.Read(), `b.id = ?`, id)
	if err != nil {
		return b, err
	}
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Booking, OwnerID: b.AccountID}); err != nil {
		return Booking{}, err
	}
	return b, nil
}

// MyBookings lists who's bookings, the latest slot first.
func (s *Service) MyBookings(ctx context.Context, who policy.Subject) ([]Booking, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Booking, OwnerID: who.AccountID}); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT `+bookingColumns+bookingFrom+` WHERE b.account_id = ? ORDER BY b.starts_at DESC, b.id DESC LIMIT 100`, who.AccountID)
	if err != nil {
		return nil, fmt.Errorf("bookings: %w", err)
	}
	defer rows.Close()
	var out []Booking
	for rows.Next() {
		b, err := s.scanBooking(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// BookInput is what a person asks to book.
type BookInput struct {
	GroupID int64
	ItemID  int64
	Start   time.Time // one of the group's slots
}

// Book books a slot for who. Refused, with a Chinese message and nothing
// changed: a slot that is not one of the group's (a holiday has none), past
// its cut-off or beyond BookAhead; a full slot; the same item twice on one
// day or two bookings whose slots overlap; a person with NoShowLimit
// no-shows in NoShowDays days.
func (s *Service) Book(ctx context.Context, who policy.Subject, in BookInput) (Booking, error) {
	if err := policy.Check(who, policy.Create, policy.Resource{Kind: policy.Booking, OwnerID: who.AccountID}); err != nil {
		return Booking{}, err
	}
	if who.Kind != policy.Person {
		return Booking{}, apperr.New(apperr.Forbidden, "预约须使用个人账户登录。")
	}
	g, err := s.group(ctx, s.db.Read(), in.GroupID)
	if err != nil {
		return Booking{}, err
	}
	it, ok := g.Item(in.ItemID)
	if !ok {
		return Booking{}, apperr.New(apperr.Invalid, "该窗口组不办理所选事项，请重新选择事项。")
	}
	day := calendar.DateOf(in.Start)
	i := -1
	for j, sl := range s.slotTimes(g, day) {
		if sl.Start.Equal(in.Start) {
			i = j
		}
	}
	now := s.clock.Now()
	switch {
	case i < 0:
		return Booking{}, apperr.New(apperr.Invalid, fmt.Sprintf("%s 没有这个预约时段（节假日和非办公时间不开放预约），请重新选择。", day))
	case now.After(in.Start.Add(-BookingCutoff)):
		return Booking{}, apperr.New(apperr.Conflict, fmt.Sprintf("该时段已截止预约：须在时段开始前 %d 分钟预约，请选择较晚的时段。", int(BookingCutoff/time.Minute)))
	case day.After(s.today().AddDays(BookAhead)):
		return Booking{}, apperr.New(apperr.Invalid, fmt.Sprintf("最多可预约 %d 天内的时段。", BookAhead))
	}
	slot := s.slotTimes(g, day)[i]
	var b Booking
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// The person's row first: their bookings are checked one at a time.
		if _, err := tx.Exec(ctx, `INSERT INTO hall_people (account_id, bookings) VALUES (?, 1)
			ON CONFLICT (account_id) DO UPDATE SET bookings = hall_people.bookings + 1`, who.AccountID); err != nil {
			return fmt.Errorf("hall people: %w", err)
		}
		if err := s.noShowBar(ctx, tx, who.AccountID, now); err != nil {
			return err
		}
		var other struct {
			item        string
			start       time.Time
			sameItemDay bool
		}
		err := tx.QueryRow(ctx, `SELECT i.name, b.starts_at, b.item_id = ? AND b.day = ? FROM hall_bookings b JOIN items i ON i.id = b.item_id
			WHERE b.account_id = ? AND b.status <> 'cancelled' AND (b.item_id = ? AND b.day = ? OR b.starts_at < ? AND b.ends_at > ?)
			ORDER BY b.starts_at LIMIT 1`, it.ID, day.String(), who.AccountID, it.ID, day.String(), slot.End, slot.Start).Scan(&other.item, &other.start, &other.sameItemDay)
		switch {
		case err == nil && other.sameItemDay:
			return apperr.New(apperr.Conflict, fmt.Sprintf("您已预约 %s 办理“%s”，同一事项同一天只能预约一次。", day, it.Name))
		case err == nil:
			return apperr.New(apperr.Conflict, fmt.Sprintf("您在 %s 已有“%s”的预约，与所选时段重叠，请选择其他时段。", other.start.In(clock.China).Format("01月02日 15:04"), other.item))
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("hall bookings: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO hall_slots (group_id, starts_at, booked) VALUES (?, ?, 0) ON CONFLICT (group_id, starts_at) DO NOTHING`, g.ID, slot.Start); err != nil {
			return fmt.Errorf("hall slot: %w", err)
		}
		res, err := tx.Exec(ctx, `UPDATE hall_slots SET booked = booked + 1 WHERE group_id = ? AND starts_at = ? AND booked < ?`, g.ID, slot.Start, g.Capacity)
		if err != nil {
			return fmt.Errorf("hall slot: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return apperr.New(apperr.Conflict, "该时段已约满，请选择其他时段。")
		}
		number, err := s.newBookingNumber(ctx, tx)
		if err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO hall_bookings (number, group_id, item_id, account_id, day, starts_at, ends_at, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'booked', ?) RETURNING id`, number, g.ID, it.ID, who.AccountID, day.String(), slot.Start, slot.End, now).Scan(&id); err != nil {
			if store.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, fmt.Sprintf("您已预约 %s 办理“%s”，同一事项同一天只能预约一次。", day, it.Name))
			}
			return fmt.Errorf("hall booking: %w", err)
		}
		b, err = s.booking(ctx, tx, `b.id = ?`, id)
		return err
	})
	return b, err
}

// noShowBar refuses a person NoShowLimit no-shows (bookings still booked
// after their slot ended) on the last NoShowDays days; a no-show counts
// until NoShowDays days after its day, when the bar lifts.
func (s *Service) noShowBar(ctx context.Context, q store.Querier, account int64, now time.Time) error {
	rows, err := q.Query(ctx, `SELECT ends_at FROM hall_bookings WHERE account_id = ? AND status = 'booked' AND ends_at <= ? AND day > ?
		ORDER BY ends_at DESC LIMIT ?`, account, now, calendar.DateOf(now).AddDays(-NoShowDays).String(), NoShowLimit)
	if err != nil {
		return fmt.Errorf("no-shows: %w", err)
	}
	defer rows.Close()
	var ends []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			return err
		}
		ends = append(ends, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ends) < NoShowLimit {
		return nil
	}
	until := calendar.DateOf(ends[NoShowLimit-1]).AddDays(NoShowDays)
	return apperr.New(apperr.Forbidden, fmt.Sprintf("您在 %d 天内有 %d 次预约未按时到场，%s 起方可再次预约。在此之前，可直接到大厅取号办理。", NoShowDays, NoShowLimit, until))
}

// NoShows counts who's no-shows within NoShowDays days.
func (s *Service) NoShows(ctx context.Context, who policy.Subject) (int, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Booking, OwnerID: who.AccountID}); err != nil {
		return 0, err
	}
	now := s.clock.Now()
	var n int
	err := s.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM hall_bookings WHERE account_id = ? AND status = 'booked' AND ends_at <= ? AND day > ?`,
		who.AccountID, now, calendar.DateOf(now).AddDays(-NoShowDays).String()).Scan(&n)
	return n, err
}

// newBookingNumber draws 10 random digits not yet given: the number is
// what checks a booking in at the kiosk, so it is not guessable from
// another's.
func (s *Service) newBookingNumber(ctx context.Context, tx *store.Tx) (string, error) {
	limit := big.NewInt(9_000_000_000)
	for range 5 {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return "", err
		}
		number := fmt.Sprintf("%010d", n.Int64()+1_000_000_000)
		var taken int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM hall_bookings WHERE number = ?`, number).Scan(&taken); err != nil {
			return "", err
		}
		if taken == 0 {
			return number, nil
		}
	}
	return "", errors.New("hall: no free booking number")
}

// Cancel cancels one of who's bookings before its slot starts, and gives
// its place back.
func (s *Service) Cancel(ctx context.Context, who policy.Subject, id int64) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		b, err := s.booking(ctx, tx, `b.id = ?`, id)
		if err != nil {
			return err
		}
		if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Booking, OwnerID: b.AccountID}); err != nil {
			return err
		}
		switch {
		case b.Status == Cancelled:
			return apperr.New(apperr.Conflict, "该预约已取消。")
		case b.Status == CheckedIn:
			return apperr.New(apperr.Conflict, "该预约已签到取号，不能取消。")
		case !s.clock.Now().Before(b.Start):
			return apperr.New(apperr.Conflict, "预约时段已开始，不能再取消。")
		}
		if _, err := tx.Exec(ctx, `UPDATE hall_bookings SET status = 'cancelled', cancelled_at = ? WHERE id = ? AND status = 'booked'`, s.clock.Now(), id); err != nil {
			return fmt.Errorf("cancel booking: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE hall_slots SET booked = booked - 1 WHERE group_id = ? AND starts_at = ? AND booked > 0`, b.GroupID, b.Start)
		return err
	})
}
