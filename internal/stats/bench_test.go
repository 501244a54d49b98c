package stats_test

// BenchmarkStatsViews times every view of the statistics on a generated
// district of ZWFW_BENCH_CASES cases (default 20 000; the figures in
// docs/PERFORMANCE.md are at 100 000 and 1 000 000), written by
// internal/generate over two years and counted by stats.Recount, on SQLite
// and (when ZWFW_TEST_POSTGRES is set) PostgreSQL:
//
//	ZWFW_TEST_POSTGRES=... ZWFW_BENCH_CASES=100000 go test -run '^$' -bench StatsViews -benchtime 50x ./internal/stats
//
// A view reads case_stats, whose size is bounded by months × items ×
// channels, not by the cases; the "saturated" variant fills it with a row
// for every item in every month on both channels — the most any number of
// cases over two years can make — so that its figures bound what 10
// million cases cost. The drill-downs read the cases through their
// partial indexes, a page at a time.
//
// The views read the cases' rows and the counters alone, so at 10 million
// cases ZWFW_BENCH_CASES_ONLY=1 writes the rows without their materials,
// notices and events (generate.Options.CasesOnly): the full records would
// take some 57 GB of disk.

import (
	"context"
	"encoding/base64"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/generate"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/stats"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// benchCases is the district's size: ZWFW_BENCH_CASES, or 20 000.
func benchCases(b *testing.B) int {
	if v := os.Getenv("ZWFW_BENCH_CASES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("ZWFW_BENCH_CASES=%q: want a number of at least 1000", v)
		}
		return n
	}
	return 20_000
}

// generated fills db with n generated cases over two years before now and
// counts them, as zwfw generate does.
func generated(b *testing.B, db *store.DB, n int, now time.Time) *casework.Service {
	ctx := context.Background()
	chain, err := chainhash.Parse("a1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))))
	if err != nil {
		b.Fatal(err)
	}
	db.SetChainKeys(chain)
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		b.Fatal(err)
	}
	keys, err := pii.ParseKeys(enc, idx)
	if err != nil {
		b.Fatal(err)
	}
	clk := clock.NewManual(now)
	ids := identity.New(db, identity.Options{Keys: keys, SMS: sms.NewDev(slog.New(slog.DiscardHandler), 10), Clock: clk})
	files, err := filestore.NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	cal := calendar.New(nil)
	began := time.Now()
	res, err := generate.Run(ctx, generate.Deps{DB: db, Clock: clk, Identity: ids, Calendar: cal, Files: files, Keys: keys},
		generate.Options{Cases: n, Seed: 10, Days: 730, CasesOnly: os.Getenv("ZWFW_BENCH_CASES_ONLY") != ""})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d cases in %s", res.Cases, time.Since(began).Round(time.Second))
	began = time.Now()
	if err := stats.Recount(ctx, db); err != nil {
		b.Fatal(err)
	}
	var rows, units int
	db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM case_stats`).Scan(&rows)
	db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM case_stats_units`).Scan(&units)
	b.Logf("recounted into %d rows of case_stats and %d of case_stats_units in %s", rows, units, time.Since(began).Round(time.Millisecond))
	if err := db.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	if db.Dialect == store.Postgres {
		if _, err := db.WritePool().ExecContext(ctx, `VACUUM ANALYZE cases, case_stats, case_stats_units, case_stats_items`); err != nil {
			b.Fatal(err)
		}
	}
	return casework.New(db, catalog.NewStore(db, region.NewStore(db), clk), clk, cal)
}

// kept opens a database that is kept between runs (ZWFW_BENCH_DB_SQLITE,
// a file; ZWFW_BENCH_DB_POSTGRES, a URL), so that 10 million cases are
// generated once and timed many times: it migrates it, so that the views
// have the indexes of this code, and generates the cases if it has none.
func kept(b *testing.B, dsn string, n int, now time.Time) (*store.DB, *casework.Service) {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := db.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	var have int
	db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&have)
	if have == 0 {
		return db, generated(b, db, n, now)
	}
	b.Logf("kept database: %d cases", have)
	clk := clock.NewManual(now)
	return db, casework.New(db, catalog.NewStore(db, region.NewStore(db), clk), clk, calendar.New(nil))
}

// saturate adds to case_stats a row for every item in every month of the
// two years on both channels that has none, to case_stats_items one for
// every item and month, and to case_stats_units one for every department
// and region: the tables as large as any number of cases can make them.
func saturate(b *testing.B, db *store.DB, now time.Time) {
	ctx := context.Background()
	err := db.Tx(ctx, func(tx *store.Tx) error {
		for m := range 24 {
			month := stats.Month(now.AddDate(0, -m, 0))
			for _, ch := range []string{"online", "window"} {
				if _, err := tx.Exec(ctx, `INSERT INTO case_stats (month, item_id, department_id, region_code, channel, submitted, accepted,
					finished, timed, on_time, late, measured, handling_days, promise_days, legal_days, one_visit, one_correction)
					SELECT ?, i.id, i.department_id, i.region_code, ?, 400, 390, 380, 370, 360, 10, 370, 1500, 1800, 5500, 395, 398
					FROM items i WHERE i.status = 'published' ON CONFLICT DO NOTHING`, month, ch); err != nil {
					return err
				}
				if ch == "online" {
					if _, err := tx.Exec(ctx, `INSERT INTO case_stats_items (month, item_id, submitted, accepted,
						finished, timed, on_time, late, measured, handling_days, promise_days, legal_days, one_visit, one_correction, online)
						SELECT ?, i.id, 800, 780, 760, 740, 720, 20, 740, 3000, 3600, 11000, 790, 796, 400
						FROM items i WHERE i.status = 'published' ON CONFLICT DO NOTHING`, month); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(ctx, `INSERT INTO case_stats_units (month, department_id, region_code, channel, submitted, accepted,
					finished, timed, on_time, late, measured, handling_days, promise_days, legal_days, one_visit, one_correction)
					SELECT ?, i.department_id, i.region_code, ?, 400, 390, 380, 370, 360, 10, 370, 1500, 1800, 5500, 395, 398
					FROM items i WHERE i.status = 'published' GROUP BY i.department_id, i.region_code ON CONFLICT DO NOTHING`, month, ch); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if db.Dialect == store.Postgres {
		if _, err := db.WritePool().ExecContext(ctx, `VACUUM ANALYZE case_stats, case_stats_units, case_stats_items`); err != nil {
			b.Fatal(err)
		}
	} else if err := db.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	var rows int
	db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM case_stats`).Scan(&rows)
	var units int
	db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM case_stats_units`).Scan(&units)
	b.Logf("saturated: %d rows of case_stats, %d of case_stats_units", rows, units)
}

func BenchmarkStatsViews(b *testing.B) {
	n := benchCases(b)
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, clock.China)
	for _, dbName := range []string{"sqlite", "postgres"} {
		b.Run(dbName, func(b *testing.B) {
			ctx := context.Background()
			var db *store.DB
			var cases *casework.Service
			if dsn := os.Getenv("ZWFW_BENCH_DB_" + strings.ToUpper(dbName)); dsn != "" {
				db, cases = kept(b, dsn, n, now)
			} else {
				if dbName == "sqlite" {
					db = storetest.SQLite(b)
				} else {
					db = storetest.Postgres(b)
				}
				cases = generated(b, db, n, now)
			}
			s := stats.New(db, clock.NewManual(now))
			regions := region.NewStore(db)
			scjg, err := regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
			if err != nil {
				b.Fatal(err)
			}
			streets, err := regions.Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
			if err != nil || len(streets) == 0 {
				b.Fatalf("streets: %v", err)
			}
			street := streets[0].RegionCode
			admin := policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}
			head := policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: scjg.ID, RegionCode: scjg.RegionCode, Roles: []policy.Role{policy.Head}}
			thisMonth := stats.Month(now)
			year := stats.Filter{From: stats.Month(now.AddDate(-1, 0, 1)), To: thisMonth}
			yearFrom, yearTo := year.Span()
			views := []struct {
				name string
				run  func() error
			}{
				{"summary/all", func() error { _, err := s.Summary(ctx, admin, stats.Filter{}); return err }},
				{"summary/month", func() error {
					_, err := s.Summary(ctx, admin, stats.Filter{From: thisMonth, To: thisMonth})
					return err
				}},
				{"summary/head", func() error { _, err := s.Summary(ctx, head, year); return err }},
				{"summary/street+level", func() error {
					_, err := s.Summary(ctx, admin, stats.Filter{From: year.From, To: year.To, Region: street, Level: 2})
					return err
				}},
				{"by/month", func() error { _, err := s.By(ctx, admin, year, stats.ByMonth); return err }},
				{"by/item", func() error { _, err := s.By(ctx, admin, year, stats.ByItem); return err }},
				{"by/item-online", func() error {
					_, err := s.By(ctx, admin, stats.Filter{From: year.From, To: year.To, Channel: "online"}, stats.ByItem)
					return err
				}},
				{"by/item-head", func() error { _, err := s.By(ctx, head, year, stats.ByItem); return err }},
				{"by/department", func() error { _, err := s.By(ctx, admin, year, stats.ByDepartment); return err }},
				{"by/region", func() error { _, err := s.By(ctx, admin, year, stats.ByRegion); return err }},
				{"by/level", func() error { _, err := s.By(ctx, admin, year, stats.ByLevel); return err }},
				{"public", func() error { _, err := s.Public(ctx); return err }},
				{"cases/submitted", func() error {
					_, err := cases.Behind(ctx, admin, casework.BehindFilter{Figure: "submitted", From: yearFrom, To: yearTo}, casework.PageSize)
					return err
				}},
				{"cases/submitted-street", func() error {
					_, err := cases.Behind(ctx, admin, casework.BehindFilter{Figure: "submitted", Region: street, From: yearFrom, To: yearTo}, casework.PageSize)
					return err
				}},
				{"cases/head-finished", func() error {
					_, err := cases.Behind(ctx, head, casework.BehindFilter{Figure: "finished", From: yearFrom, To: yearTo}, casework.PageSize)
					return err
				}},
				{"cases/late", func() error {
					_, err := cases.Behind(ctx, admin, casework.BehindFilter{Figure: "late"}, casework.PageSize)
					return err
				}},
				{"cases/visits", func() error {
					_, err := cases.Behind(ctx, admin, casework.BehindFilter{Figure: "visits"}, casework.PageSize)
					return err
				}},
				{"cases/corrections", func() error {
					_, err := cases.Behind(ctx, admin, casework.BehindFilter{Figure: "corrections", From: yearFrom, To: yearTo}, casework.PageSize)
					return err
				}},
			}
			run := func(b *testing.B, prefix string) {
				for _, v := range views {
					if prefix != "" && !strings.HasPrefix(v.name, "summary") && !strings.HasPrefix(v.name, "by") && v.name != "public" {
						continue // the saturated table does not change the drill-downs
					}
					b.Run(prefix+v.name, func(b *testing.B) {
						cpu := storetest.ProcessCPU()
						for b.Loop() {
							if err := v.run(); err != nil {
								b.Fatal(err)
							}
						}
						// On a shared machine the wall time counts others' work
						// too; this process's CPU time (SQLite's queries are
						// in it, PostgreSQL's are not) does not.
						b.ReportMetric(float64((storetest.ProcessCPU()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
					})
				}
			}
			run(b, "")
			if os.Getenv("ZWFW_BENCH_DB_"+strings.ToUpper(dbName)) != "" {
				return // a kept database is left as it was generated
			}
			saturate(b, db, now)
			run(b, "saturated/")
		})
	}
}
