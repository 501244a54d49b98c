package demo_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The demo's complaints are made through the service in every state, with
// bounces, helpers, reopenings and late ones, once.
func TestSeedComplaintsCoverEveryState(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 15, 0, 0, 0, clock.China)
		clk := clock.NewManual(now)
		if _, err := demo.SeedDistrict(ctx, db, clk); err != nil {
			t.Fatal(err)
		}
		enc, idx, _ := pii.GenerateKeys()
		keys, _ := pii.ParseKeys(enc, idx)
		ids := identity.New(db, identity.Options{Keys: keys, SMS: sms.NewDev(slog.New(slog.DiscardHandler), 10), Clock: clk})
		cal := calendar.New(nil)
		svc := complaint.New(db, complaint.Options{Clock: clk, Calendar: cal, Keys: keys})
		n, err := demo.SeedComplaints(ctx, db, ids, svc, clk, cal)
		if err != nil || n != 30 {
			t.Fatalf("seeded %d: %v", n, err)
		}
		if !clk.Now().Equal(now) {
			t.Errorf("clock left at %s", clk.Now())
		}
		all := policy.Subject{Kind: policy.Staff, Name: "测试", Roles: []policy.Role{policy.Admin}}
		list, err := svc.List(ctx, all, complaint.Filter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		status := map[complaint.Status]int{}
		var bounced, reopened, helped, late, unresolved int
		for _, c := range list {
			status[c.Status]++
			if c.Bounces > 0 {
				bounced++
			}
			if c.Reopens > 0 {
				reopened++
			}
			if c.Overdue(now) {
				late++
			}
			if c.Satisfied != nil && !*c.Satisfied {
				unresolved++
			}
			if c.UpdatedAt.After(now) || c.CreatedAt.After(now) {
				t.Errorf("%s made in the future", c.Number)
			}
		}
		for _, st := range complaint.Statuses {
			if status[st] == 0 {
				t.Errorf("no complaint %s: %v", st.Name(), status)
			}
		}
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM complaint_helpers`).Scan(&helped)
		if bounced == 0 || reopened == 0 || helped == 0 || late == 0 || unresolved == 0 {
			t.Errorf("bounced %d, reopened %d, helped %d, late %d, unsatisfied %d", bounced, reopened, helped, late, unresolved)
		}
		st, err := svc.Stats(ctx, all, now.AddDate(0, -1, 0), now)
		if err != nil || st.Total.Received != 30 || st.Total.Bounces == 0 {
			t.Errorf("stats: %+v %v", st.Total, err)
		}
		// Once only.
		if n, err := demo.SeedComplaints(ctx, db, ids, svc, clk, cal); n != 0 || err != nil {
			t.Errorf("seeded again: %d %v", n, err)
		}
	})
}
