package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/store"
)

// testSeedRatings checks the demo's ratings, made on the demo's finished
// cases (TestSeedCasesCoverEveryState calls it): most rated, the rest
// reminded, some 差评 with follow-ups in every state, nothing in the future.
func testSeedRatings(t *testing.T, db *store.DB, ids *identity.Service, ratings *rating.Service, clk *clock.Manual, cal *calendar.Calendar, now time.Time) {
	t.Helper()
	ctx := context.Background()
	made, err := demo.SeedRatings(ctx, db, ids, ratings, clk, cal, now)
	if err != nil || made == 0 {
		t.Fatalf("ratings: %d %v", made, err)
	}
	if again, err := demo.SeedRatings(ctx, db, ids, ratings, clk, cal, now); err != nil || again != 0 {
		t.Fatalf("seeded twice: %d %v", again, err)
	}
	count := func(q string, args ...any) int {
		var n int
		if err := db.Read().QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	invited, rated := count(`SELECT COUNT(*) FROM rating_invitations`), count(`SELECT COUNT(*) FROM ratings`)
	if rated != made || rated < invited/2 || rated == invited {
		t.Errorf("%d invitations, %d rated (%d made)", invited, rated, made)
	}
	if n := count(`SELECT COUNT(*) FROM rating_invitations WHERE rating_id IS NULL AND reminded_at IS NULL AND invited_at <= ?`, now.Add(-rating.RemindAfter)); n != 0 {
		t.Errorf("%d old invitations neither rated nor reminded", n)
	}
	if n := count(`SELECT COUNT(*) FROM ratings WHERE rated_at > ?`, now) + count(`SELECT COUNT(*) FROM rating_followups WHERE rectified_at > ? OR called_at > ?`, now, now); n != 0 {
		t.Errorf("%d ratings or steps in the future", n)
	}
	for _, state := range []string{rating.AwaitCallback, rating.AwaitRectify, rating.Appealed, rating.Rectified, rating.Excluded} {
		if n := count(`SELECT COUNT(*) FROM rating_followups WHERE state = ?`, state); n == 0 {
			t.Errorf("no demo follow-up is %s", rating.StateName(state))
		}
	}
	if n := count(`SELECT COUNT(*) FROM rating_followups WHERE state = 'rectified' AND rectified_on > due_on`); n == 0 {
		t.Error("no demo rectification is late")
	}
	if n := count(`SELECT COUNT(*) FROM ratings WHERE comment_sealed <> '' AND comment_sealed NOT LIKE 'v1.%'`); n != 0 {
		t.Errorf("%d comments in clear", n)
	}
}
