package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The demo's cases are made through the service, as real ones are: every
// state is there, some are due soon or late, and each has its record,
// notices and materials, with every chain intact.
func TestSeedCasesCoverEveryState(t *testing.T) {
	t.Parallel()
	storetest.EachSeeded(t, "demo with cases", seedDemoWithCases, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n = seededCases
		now := casesNow
		clk := clock.NewManual(now)
		keys := testKeys(t)
		ids := demoIdentity(db, keys, clk)
		past, cal := clock.NewManual(now), calendar.New(nil)
		ratings := rating.New(db, catalog.NewStore(db, region.NewStore(db), past), past, cal, rating.Options{Keys: keys})
		testSeedRatings(t, db, ids, ratings, past, cal, now)
		// 帮办代办: two of them the community worker's, for elderly
		// residents, each with its signed consent form.
		var assisted, consents int
		if err := db.Read().QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM cases WHERE assisted_by IS NOT NULL),
			(SELECT COUNT(*) FROM case_consents WHERE method = 'form')`).Scan(&assisted, &consents); err != nil || assisted != 2 || consents != 2 {
			t.Errorf("assisted cases %d, consents %d (%v), want 2 and 2", assisted, consents, err)
		}
		states := map[casework.Status]int{}
		rows, err := db.Read().Query(ctx, `SELECT status, COUNT(*) FROM cases GROUP BY status`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var st casework.Status
			var k int
			if err := rows.Scan(&st, &k); err != nil {
				t.Fatal(err)
			}
			states[st] = k
		}
		rows.Close()
		for _, st := range []casework.Status{casework.Draft, casework.Submitted, casework.Prechecked, casework.Correction, casework.Reviewing,
			casework.Reviewed, casework.Paused, casework.Decided, casework.Completed, casework.Delivered, casework.Rejected, casework.Withdrawn} {
			if states[st] == 0 {
				t.Errorf("no demo case is %s (%v)", st.Name(), states)
			}
		}
		var late, soon, denied, docs, mats, noEvents int
		today := now.Format("2006-01-02")
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE due_on <> '' AND due_on < ? AND status IN ('reviewing', 'reviewed', 'paused', 'decided')`, today).Scan(&late)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE due_on >= ? AND due_on <= ? AND status IN ('reviewing', 'reviewed', 'paused', 'decided')`,
			today, now.AddDate(0, 0, 3).Format("2006-01-02")).Scan(&soon)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE decision = 'denied'`).Scan(&denied)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM case_documents`).Scan(&docs)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM case_materials`).Scan(&mats)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id)`).Scan(&noEvents)
		if late == 0 || soon == 0 || denied == 0 || docs < n/2 || mats < n/2 || noEvents != 0 {
			t.Errorf("late %d, due soon %d, denied %d, documents %d, materials %d, cases without a record %d", late, soon, denied, docs, mats, noEvents)
		}
		// The demo's answers are sealed like real ones.
		var plain, sealed int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE form_data LIKE ?`, "%1390375%").Scan(&plain)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE form_data LIKE ?`, `%"sealed":"v1.%`).Scan(&sealed)
		if plain != 0 || sealed < n/2 {
			t.Errorf("demo answers: %d cases hold numbers in clear, %d sealed", plain, sealed)
		}
		// Staff and people act in office hours on working days, never in
		// the future; a 即办件 never waits in review; answers look real.
		rows, err = db.Read().Query(ctx, `SELECT at FROM case_events`)
		if err != nil {
			t.Fatal(err)
		}
		events := 0
		for rows.Next() {
			var at time.Time
			if err := rows.Scan(&at); err != nil {
				t.Fatal(err)
			}
			events++
			local := at.In(clock.China)
			if minutes := local.Hour()*60 + local.Minute(); at.After(now) || minutes < 9*60 || minutes >= 17*60 || !cal.IsWorkday(calendar.DateOf(at)) {
				t.Errorf("a case event at %s (%s)", local.Format("2006-01-02 15:04 Mon"), cal.Explain(calendar.DateOf(at)))
				break
			}
		}
		rows.Close()
		var stuck, placeholder int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases c JOIN items i ON i.id = c.item_id
			WHERE i.case_kind = '即办件' AND c.status IN ('reviewing', 'paused') AND c.updated_at < ?`, now.Add(-time.Hour)).Scan(&stuck)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE form_data LIKE ?`, "%演示内容%").Scan(&placeholder)
		if events < n || stuck != 0 || placeholder != 0 {
			t.Errorf("%d events; %d 即办件 waiting in review; %d cases with placeholder answers", events, stuck, placeholder)
		}
		if checked, broken, err := casework.VerifyChains(ctx, db, db.ChainKeys()); err != nil || checked != n || len(broken) != 0 {
			t.Fatalf("chains: %d checked, broken %v, %v", checked, broken, err)
		}

		// No paused case is 超期 because of its pause: only one already late
		// on the day its clock stopped.
		items := catalog.NewStore(db, region.NewStore(db), clk)
		svc := casework.New(db, items, clk, calendar.New(nil))
		admin := policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}
		var paused []int64
		rows, err = db.Read().Query(ctx, `SELECT id FROM cases WHERE status = 'paused'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			paused = append(paused, id)
		}
		rows.Close()
		for _, id := range paused {
			c, events, err := svc.Get(ctx, admin, id)
			if err != nil {
				t.Fatal(err)
			}
			it, err := items.Version(ctx, c.ItemID, c.ItemVersion)
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := svc.DeadlineOf(c, it, events); d.Status == calendar.Overdue && !c.PausedOn.After(c.DueOn) {
				t.Errorf("paused case %s (paused %s, due %s) is shown 超期: %+v", c.Number, c.PausedOn, c.DueOn, d)
			}
		}
	})
}
