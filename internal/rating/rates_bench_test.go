package rating_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// BenchmarkRates reads the rates over 100,000 ratings spread over the
// district's departments and 60 days, as the district's supervisor sees
// them (every department: the whole table), by department and by item,
// and the follow-up rates over their 差评 (one in twelve). The ratings are
// written in bulk: the benchmark measures the reads.
//
//	ZWFW_TEST_POSTGRES=… go test -run '^$' -bench BenchmarkRates -benchtime 20x ./internal/rating/
func BenchmarkRates(b *testing.B) {
	const n = 100_000
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db := storetest.SQLite(b)
			if name == "postgres" {
				db = storetest.Postgres(b)
			}
			ctx := context.Background()
			f := newFixture(b, db, rating.Options{})
			seedRatings(b, db, f, n)
			for _, c := range []struct {
				name string
				run  func() error
			}{
				{"by-department", func() error { _, err := f.ratings.Rates(ctx, f.supervisor, rating.RateFilter{}); return err }},
				{"by-item", func() error { _, err := f.ratings.Rates(ctx, f.supervisor, rating.RateFilter{By: "item"}); return err }},
				{"one-month", func() error {
					_, err := f.ratings.Rates(ctx, f.supervisor, rating.RateFilter{From: calendar.Date{Y: 2026, M: 10, D: 26}, To: calendar.Date{Y: 2026, M: 11, D: 25}})
					return err
				}},
				{"follow-ups", func() error {
					_, err := f.ratings.FollowUpRatesOf(ctx, f.supervisor, calendar.Date{}, calendar.Date{})
					return err
				}},
				{"head-own-department", func() error { _, err := f.ratings.Rates(ctx, f.head, rating.RateFilter{}); return err }},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						if err := c.run(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// seedRatings writes n ratings of the fixture's citizen in bulk, over the
// district's departments and the 60 days before the fixture's day, with a
// follow-up for each 差评.
func seedRatings(b *testing.B, db *store.DB, f fixture, n int) {
	b.Helper()
	ctx := context.Background()
	var depts []int64
	rows, err := db.Read().Query(ctx, `SELECT id FROM departments ORDER BY id`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		depts = append(depts, id)
	}
	rows.Close()
	start := f.clk.Now().AddDate(0, 0, -60)
	const batch = 500
	for from := 0; from < n; from += batch {
		err := db.Tx(ctx, func(tx *store.Tx) error {
			var values []string
			var args []any
			var bad []int
			for i := from; i < from+batch && i < n; i++ {
				level := 5 - i%5
				if i%12 == 7 {
					level = 1 + i%2
					bad = append(bad, i)
				}
				values = append(values, "('case', ?, ?, '个体工商户设立登记', ?, ?, '410411000000', ?, 'web', 'online', ?, '{}', ?)")
				args = append(args, i+1, fmt.Sprintf("N%d", i), f.itemID, depts[i%len(depts)], f.citizen.AccountID, level,
					start.Add(time.Duration(i)*60*24*time.Hour/time.Duration(n)))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ratings (subject_kind, subject_id, subject_number, title, item_id, department_id, region_code,
				rater_id, channel, scene, level, dimensions, rated_at) VALUES `+strings.Join(values, ", "), args...); err != nil {
				return err
			}
			for _, i := range bad {
				if _, err := tx.Exec(ctx, `INSERT INTO rating_followups (rating_id, department_id, region_code, state, opened_at, due_on)
					SELECT id, department_id, region_code, 'rectify', rated_at, '2026-11-30' FROM ratings WHERE subject_kind = 'case' AND subject_id = ?`, i+1); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
