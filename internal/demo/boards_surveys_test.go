package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/survey"
)

// The demo's survey is answered through the service by a few hundred
// residents with a realistic overall rate, and its boards hold finished
// cases — in time on the 表扬台, late on the 曝光台 — without the
// applicants' names; seeding again adds nothing.
func TestSeedBoardsAndSurvey(t *testing.T) {
	t.Parallel()
	storetest.EachSeeded(t, "demo with cases", seedDemoWithCases, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 10, 0, 0, 0, clock.China)
		clk := clock.NewManual(now)
		keys := testKeys(t)
		ids := demoIdentity(db, keys, clk)
		id, err := demo.SeedSurvey(ctx, db, clk, keys)
		if err != nil || id == 0 {
			t.Fatalf("survey %d: %v", id, err)
		}
		if again, err := demo.SeedSurvey(ctx, db, clk, keys); err != nil || again != 0 {
			t.Fatalf("a second survey: %d %v", again, err)
		}
		made, err := demo.SeedSurveyAnswers(ctx, db, ids, keys, id, now, 320)
		if err != nil || made != 320 {
			t.Fatalf("made %d answers: %v", made, err)
		}
		admin := policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}
		res, err := survey.New(db, clk, keys).Results(ctx, admin, id)
		if err != nil {
			t.Fatal(err)
		}
		if res.Responses != 320 || res.Rate() < 0.94 || res.Rate() > 0.98 {
			t.Errorf("%d answers, overall rate %s", res.Responses, res.Percent())
		}
		if more, err := demo.SeedSurveyAnswers(ctx, db, ids, keys, id, now, 320); err != nil || more != 0 {
			t.Errorf("answering again: %d %v", more, err)
		}

		// The boards' entries come from the cases the district was seeded
		// with.
		cases := casework.New(db, catalog.NewStore(db, region.NewStore(db), clk), clk, calendar.New(nil))
		cases.UseKeys(keys)
		boards := board.New(db, clk, cases.BoardSource())
		n, err := demo.SeedBoards(ctx, boards)
		if err != nil || n == 0 {
			t.Fatalf("%d board entries: %v", n, err)
		}
		var names []string
		rows, err := db.Read().Query(ctx, `SELECT DISTINCT a.name FROM cases c JOIN accounts a ON a.id = c.applicant_id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
		rows.Close()
		for _, b := range board.Boards {
			p, err := boards.List(ctx, b, "")
			if err != nil || len(p.Entries) == 0 {
				t.Fatalf("%s: %d entries, %v", b.Name(), len(p.Entries), err)
			}
			for _, e := range p.Entries {
				text := e.Title + e.Note + e.Text
				for _, f := range e.Facts {
					text += f.Value
				}
				for _, name := range names {
					if strings.Contains(text, name) {
						t.Errorf("entry %d names the applicant %s: %s", e.ID, name, text)
					}
				}
				if want := map[board.Board]string{board.Praise: "按时办结", board.Exposure: "超期"}[b]; !strings.Contains(text, want) {
					t.Errorf("%s entry %d does not say %s: %s", b.Name(), e.ID, want, text)
				}
			}
		}
		if more, err := demo.SeedBoards(ctx, boards); err != nil || more != 0 {
			t.Errorf("seeding the boards again: %d %v", more, err)
		}
	})
}
