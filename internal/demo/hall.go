package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/hall"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// HallSummary says what SeedHall made.
type HallSummary struct {
	Groups, Bookings, Tickets int
}

// demoGroup is a window group of the demo: the departments whose items it
// serves (the hall's own for a street centre), and the demo staff account
// that calls its numbers ("" for the departments' demo clerks).
type demoGroup struct {
	name, prefix, windows string
	depts                 []string
	clerk                 string
}

var districtGroups = []demoGroup{
	{"综合受理", "A", "1号窗口,2号窗口,3号窗口", []string{"scjgj", "mzj"}, "scjg.window"},
	{"社保医保", "B", "5号窗口,6号窗口", []string{"rsj", "ybj"}, ""},
	{"不动产", "C", "8号窗口,9号窗口", []string{"zrzyfj", "zjj"}, ""},
}

// SeedHall makes the demo's halls unless they exist: window groups at the
// district's centre and two street centres, and over the last working
// days and today (on a clock of its own, through the hall's own methods)
// bookings — past ones checked in or missed, future ones — and numbers in
// every state, called by the groups' clerks, so that the screens, the
// clerks' page and the waiting figures show something. SeedStaff runs
// first: the groups' clerks are its accounts.
func SeedHall(ctx context.Context, db *store.DB, ids *identity.Service, keys *pii.Keys, cal *calendar.Calendar, now time.Time) (HallSummary, error) {
	var sum HallSummary
	var n int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM hall_groups`).Scan(&n); err != nil || n > 0 {
		return sum, err
	}
	regions := region.NewStore(db)
	clk := clock.NewManual(now)
	svc := hall.New(db, clk, cal, keys, regions)
	meta := audit.Meta{IP: "demo", Client: "zwfw demo"}
	center, err := regions.DepartmentBySlug(ctx, db.Read(), "xzfwzx")
	if err != nil {
		return sum, err
	}
	streets, err := regions.Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
	if err != nil || len(streets) < 2 {
		return sum, fmt.Errorf("demo hall: street centres: %v", err)
	}
	type made struct {
		group hall.Group
		clerk policy.Subject
	}
	var groups []made
	add := func(h region.Department, g demoGroup, items []int64) error {
		if len(items) == 0 {
			return nil
		}
		grp, err := svc.SaveGroup(ctx, builder, meta, hall.GroupInput{DepartmentID: h.ID, Name: g.name, Prefix: g.prefix, Windows: g.windows,
			Hours: "09:00-12:00,13:30-17:30", SlotMinutes: 30, Capacity: 3, ItemIDs: items})
		if err != nil {
			return fmt.Errorf("demo hall %s %s: %w", h.Name, g.name, err)
		}
		clerk, err := staffNamed(ctx, db, g.clerk)
		if g.clerk == "" {
			clerk, err = DepartmentStaff(ctx, db, ids, grp.Items[0].DepartmentID)
		}
		if err != nil {
			return err
		}
		groups = append(groups, made{grp, clerk})
		sum.Groups++
		return nil
	}
	for _, g := range districtGroups {
		items, err := itemIDs(ctx, db, `SELECT i.id FROM items i JOIN departments d ON d.id = i.department_id
			WHERE i.status = 'published' AND i.level = 1 AND d.slug IN (?, ?) ORDER BY i.id`, g.depts[0], g.depts[1])
		if err != nil {
			return sum, err
		}
		if err := add(center, g, items); err != nil {
			return sum, err
		}
	}
	clerks := []string{"mazhuang.window", ""}
	for i, st := range streets[:2] {
		items, err := itemIDs(ctx, db, `SELECT id FROM items WHERE status = 'published' AND department_id = ? ORDER BY id`, st.ID)
		if err != nil {
			return sum, err
		}
		if clerks[i] == "" {
			if _, err := DepartmentStaff(ctx, db, ids, st.ID); err != nil {
				return sum, err
			}
			clerks[i] = "demo." + st.Slug
		}
		if err := add(st, demoGroup{"综合窗口", "A", "1号窗口,2号窗口", nil, clerks[i]}, items); err != nil {
			return sum, err
		}
	}
	if len(groups) == 0 {
		return sum, nil
	}

	// Residents who book, and the ID numbers of those who walk in.
	var people []policy.Subject
	for i := range 8 {
		first17 := fmt.Sprintf("410411%04d%02d%02d%03d", 1960+5*i, 1+i, 3+2*i, 20+i) // 020–027: apart from the cases' and surveys' numbers
		check, err := ident.IDCardCheckChar(first17)
		if err != nil {
			return sum, err
		}
		name := []string{"郑华", "冯兰", "邓强", "曹静", "许明", "韩梅", "唐军", "宋丽"}[i]
		id, err := ids.PersonAtCounter(ctx, 0, name, first17+string(check), fmt.Sprintf("1360375%04d", i), identity.Meta{IP: "demo"})
		if err != nil {
			return sum, err
		}
		people = append(people, policy.Subject{AccountID: id, Kind: policy.Person, Name: name})
	}
	walkIn := func(day calendar.Date, k int) string {
		first17 := fmt.Sprintf("410411%04d%02d%02d%03d", 1950+k%50, 1+k%12, 1+day.D%28, 40+k%50)
		check, _ := ident.IDCardCheckChar(first17)
		return first17 + string(check)
	}
	book := func(who policy.Subject, g hall.Group, at time.Time) (hall.Booking, error) {
		clk.Set(at.Add(-24 * time.Hour))
		b, err := svc.Book(ctx, who, hall.BookInput{GroupID: g.ID, ItemID: g.Items[len(g.Items)/2].ID, Start: at})
		if err == nil {
			sum.Bookings++
		}
		return b, err
	}
	// day runs a morning at a group from base, up to end: numbers taken at
	// the kiosk, a booking checked in (when booked is set), calls and
	// services at the windows. What end cuts off stays as it was: waiting,
	// or called and not yet finished.
	day := func(m made, base, end time.Time, scale float64, booked *hall.Booking) error {
		d := calendar.DateOf(base)
		var current int64
		k := 0
		for _, e := range []struct {
			at int
			op string
		}{{0, "take"}, {4, "take"}, {6, "call"}, {14, "served"}, {15, "take"}, {20, "checkin"}, {21, "call"}, {33, "served"},
			{34, "call"}, {36, "absent"}, {38, "take"}, {40, "call"}, {52, "served"}, {55, "take"}, {58, "call"}, {62, "take"}, {66, "served"}} {
			at := base.Add(time.Duration(float64(e.at) * scale * float64(time.Minute)))
			if at.After(end) {
				break
			}
			clk.Set(at)
			var err error
			switch e.op {
			case "take":
				_, err = svc.TakeNumber(ctx, m.group.DepartmentID, m.group.ID, walkIn(d, k+int(m.group.ID)*7), 0)
				k++
				sum.Tickets++
			case "checkin":
				if booked != nil {
					_, err = svc.CheckIn(ctx, m.group.DepartmentID, booked.Number)
					sum.Tickets++
				}
			case "call":
				var t hall.Ticket
				t, err = svc.CallNext(ctx, m.clerk, m.group.ID, m.group.Windows[0])
				current = t.ID
			case "served", "absent":
				_, err = svc.Finish(ctx, m.clerk, current, e.op == "served")
			}
			if err != nil {
				return fmt.Errorf("demo hall %s %s at %s: %w", m.group.Name, e.op, at.In(clock.China).Format("01-02 15:04"), err)
			}
		}
		return nil
	}
	today := calendar.DateOf(now)
	// The last three working days: a morning at each group, a booking
	// checked in at the first group, another missed.
	var past []calendar.Date
	for d := today.AddDays(-1); len(past) < 3; d = d.AddDays(-1) {
		if cal.IsWorkday(d) {
			past = append(past, d)
		}
	}
	for i, d := range past {
		for j, m := range groups {
			base := d.Time().Add(9 * time.Hour)
			var booked *hall.Booking
			if j == 0 {
				b, err := book(people[i], m.group, base)
				if err != nil {
					return sum, err
				}
				booked = &b
				if _, err := book(people[3], m.group, base.Add(90*time.Minute)); err != nil {
					return sum, err
				}
			}
			if err := day(m, base, base.Add(2*time.Hour), 1, booked); err != nil {
				return sum, err
			}
		}
	}
	// Coming bookings on the next two working days.
	var next []calendar.Date
	for d := today.AddDays(1); len(next) < 2 && d.Before(today.AddDays(hall.BookAhead)); d = d.AddDays(1) {
		if cal.IsWorkday(d) {
			next = append(next, d)
		}
	}
	for i, d := range next {
		for j, m := range groups[:min(3, len(groups))] {
			p := people[4+(i*3+j)%4]
			if _, err := book(p, m.group, d.Time().Add(time.Duration(9*60+30*(i+j))*time.Minute)); err != nil {
				return sum, err
			}
		}
	}
	// Today, up to now: the last hour at every group (squeezed after
	// midnight), a booking checked in at the first when a slot is open then;
	// the last number called is left at its window, the last taken waits.
	base, scale := now.Add(-64*time.Minute), 1.0
	if calendar.DateOf(base) != today {
		base = today.Time().Add(time.Minute)
		scale = float64(now.Sub(base)) / float64(64*time.Minute)
	}
	for j, m := range groups {
		var booked *hall.Booking
		if j == 0 && cal.IsWorkday(today) {
			checkIn := base.Add(time.Duration(20 * scale * float64(time.Minute)))
			for _, sl := range slotsOf(ctx, svc, m.group.ID, today) {
				if !checkIn.Before(sl.Start.Add(-hall.CheckInEarly)) && checkIn.Before(sl.End) {
					b, err := book(people[7], m.group, sl.Start)
					if err != nil {
						return sum, err
					}
					booked = &b
					break
				}
			}
		}
		// Each group a minute behind the one before, so that the screen
		// shows its calls in turn.
		if err := day(m, base.Add(time.Duration(j)*time.Minute), now, scale, booked); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

func slotsOf(ctx context.Context, svc *hall.Service, group int64, d calendar.Date) []hall.Slot {
	_, slots, _ := svc.Slots(ctx, group, d)
	return slots
}

func itemIDs(ctx context.Context, db *store.DB, q string, args ...any) ([]int64, error) {
	rows, err := db.Read().Query(ctx, q+` LIMIT 30`, args...)
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

// staffNamed is the demo staff account username as a window clerk.
func staffNamed(ctx context.Context, db *store.DB, username string) (policy.Subject, error) {
	s := policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Window}}
	err := db.Read().QueryRow(ctx, `SELECT a.id, a.name, d.id, d.kind, d.region_code FROM accounts a JOIN departments d ON d.id = a.department_id
		WHERE a.username = ?`, username).Scan(&s.AccountID, &s.Name, &s.DepartmentID, &s.DepartmentKind, &s.RegionCode)
	if err != nil {
		return s, fmt.Errorf("demo hall: clerk %s: %w", username, err)
	}
	return s, nil
}
