package demo_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/hall"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The demo's halls: groups at the district's centre and two street
// centres, bookings coming, checked in and missed, today's numbers in
// every state, a call on the district hall's screen and waiting figures;
// at 10:30 on a working day, just after midnight and on a Sunday alike.
// Seeding again adds nothing.
func TestSeedHall(t *testing.T) {
	t.Parallel()
	storetest.EachSeeded(t, "demo", seedDemo, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 8, 10, 30, 0, 0, clock.China) // a Tuesday
		clk := clock.NewManual(now)
		enc, idx, _ := pii.GenerateKeys()
		keys, err := pii.ParseKeys(enc, idx)
		if err != nil {
			t.Fatal(err)
		}
		ids := identity.New(db, identity.Options{Keys: keys, SMS: sms.NewDev(slog.New(slog.DiscardHandler), 10), Clock: clk})
		if _, err := demo.SeedStaff(ctx, db, ids); err != nil {
			t.Fatal(err)
		}
		cal := calendar.New(nil)
		sum, err := demo.SeedHall(ctx, db, ids, keys, cal, now)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Groups != 5 || sum.Bookings < 12 || sum.Tickets < 30 {
			t.Fatalf("made %+v", sum)
		}
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := db.Read().QueryRow(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, state := range []string{hall.Waiting, hall.Called, hall.Served, hall.Absent} {
			if n := count(`SELECT COUNT(*) FROM hall_tickets WHERE day = '2026-12-08' AND status = ?`, state); n == 0 {
				t.Errorf("no ticket today %s", state)
			}
		}
		if n := count(`SELECT COUNT(*) FROM hall_tickets WHERE day = '2026-12-08' AND source = 'booking'`); n != 1 {
			t.Errorf("%d booked numbers today", n)
		}
		if n := count(`SELECT COUNT(*) FROM hall_bookings WHERE status = 'booked' AND starts_at > ?`, now); n < 6 {
			t.Errorf("%d coming bookings", n)
		}
		if n := count(`SELECT COUNT(*) FROM hall_bookings WHERE status = 'booked' AND ends_at <= ?`, now); n != 3 {
			t.Errorf("%d no-shows", n)
		}
		if n := count(`SELECT COUNT(*) FROM hall_bookings WHERE status = 'checked_in'`); n != 4 {
			t.Errorf("%d checked in", n)
		}
		svc := hall.New(db, clk, cal, keys, region.NewStore(db))
		scr, err := svc.Screen(ctx, "xzfwzx")
		if err != nil || len(scr.Calls) != 3 || len(scr.Queues) != 3 || scr.Queues[0].Waiting == 0 {
			t.Fatalf("screen %+v %v", scr, err)
		}
		admin := policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}
		waits, err := svc.Waits(ctx, admin, calendar.NewDate(2026, 12, 1), calendar.NewDate(2026, 12, 8))
		if err != nil || len(waits) != 4*5 || waits[0].WaitMax == 0 {
			t.Fatalf("%d waits %+v: %v", len(waits), waits, err)
		}
		if again, err := demo.SeedHall(ctx, db, ids, keys, cal, now); err != nil || again.Groups != 0 {
			t.Fatalf("again: %+v %v", again, err)
		}
	})
}

// Just after midnight and on a Sunday the demo's halls are made too.
func TestSeedHallAtOddHours(t *testing.T) {
	t.Parallel()
	for _, now := range []time.Time{time.Date(2026, 12, 9, 0, 20, 0, 0, clock.China), time.Date(2026, 12, 13, 15, 0, 0, 0, clock.China)} {
		db := storetest.SeededSQLite(t, "demo", seedDemo)
		ctx := context.Background()
		clk := clock.NewManual(now)
		enc, idx, _ := pii.GenerateKeys()
		keys, _ := pii.ParseKeys(enc, idx)
		ids := identity.New(db, identity.Options{Keys: keys, SMS: sms.NewDev(slog.New(slog.DiscardHandler), 10), Clock: clk})
		if _, err := demo.SeedStaff(ctx, db, ids); err != nil {
			t.Fatal(err)
		}
		sum, err := demo.SeedHall(ctx, db, ids, keys, calendar.New(nil), now)
		if err != nil || sum.Groups != 5 {
			t.Fatalf("at %s: %+v %v", now, sum, err)
		}
	}
}
