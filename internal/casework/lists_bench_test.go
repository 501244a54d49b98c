package casework_test

// Benchmarks of the lists and of the deadline check on a district of
// ZWFW_BENCH_CASES cases (default 100 000), written by bulk INSERTs in the
// setup, on SQLite and (when ZWFW_TEST_POSTGRES is set) PostgreSQL. They
// run only with -bench; the figures and commands are in docs/PERFORMANCE.md.
//
//	go test -run='^$' -bench=Lists -benchtime=20x ./internal/casework
//
// Each list has a first page and a later one (the fifth, reached by its
// cursors), so that a regression to OFFSET or to reading the whole list
// before LIMIT shows.

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// benchCases is the district's size: ZWFW_BENCH_CASES, or 100 000.
func benchCases(b *testing.B) int {
	if v := os.Getenv("ZWFW_BENCH_CASES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("ZWFW_BENCH_CASES=%q: want a number of at least 1000", v)
		}
		return n
	}
	return 100_000
}

// benchDistrict seeds n cases over the district's departments and regions
// in proportions like a year's work: most finished, a tenth under review,
// a few late, a few with a second visit or correction, and one applicant
// with many cases (a 代办 agent).
func benchDistrict(b *testing.B, db *store.DB, n int) (fixture, district) {
	f := newFixture(b, db)
	d := readDistrict(b, db)
	base := f.clk.Now()
	start := time.Now()
	seedCases(b, db, f, "B", n, func(i int) seeded {
		dept := d.depts[i%len(d.depts)]
		if i%3 == 0 {
			dept = deptAt{f.reviewer.DepartmentID, d.streets[i%len(d.streets)]}
		}
		s := seeded{dept: dept.id, region: dept.region, visits: 1, updated: base.Add(-time.Duration(i%(365*24)) * time.Hour)}
		switch r := i % 100; {
		case r < 60:
			s.status = casework.Completed
		case r < 70:
			s.status = casework.Rejected
		case r < 80:
			s.status = casework.Reviewing
		case r < 85:
			s.status = casework.Decided
		case r < 90:
			s.status = casework.Submitted
		case r < 95:
			s.status = casework.Delivered
		default:
			s.status = casework.Draft
		}
		if s.status != casework.Submitted && s.status != casework.Draft {
			// Due from two years back to a month ahead: among the running
			// cases, one in ten is late.
			s.due = f.clk.Now().AddDate(0, 0, 30-(i*7919)%300).Format("2006-01-02")
		}
		if i%37 == 0 {
			s.visits = 2
		}
		if i%53 == 0 {
			s.corrections = 2
		}
		if i%50 == 0 {
			s.applicant = f.other.AccountID // 2% of the district: 2 000 cases at 100k
		}
		return s
	})
	b.Logf("seeded %d cases in %s", n, time.Since(start).Round(time.Millisecond))
	return f, d
}

func BenchmarkLists(b *testing.B) {
	n := benchCases(b)
	for _, dbName := range []string{"sqlite", "postgres"} {
		b.Run(dbName, func(b *testing.B) {
			var db *store.DB
			if dbName == "sqlite" {
				db = storetest.SQLite(b)
			} else {
				db = storetest.Postgres(b)
			}
			ctx := context.Background()
			f, d := benchDistrict(b, db, n)
			if err := db.Optimize(ctx); err != nil {
				b.Fatal(err)
			}
			// What autovacuum does to a table that has settled: statistics
			// for the planner, and the visibility map for index-only scans.
			if db.Dialect == store.Postgres {
				if _, err := db.WritePool().ExecContext(ctx, `VACUUM ANALYZE cases`); err != nil {
					b.Fatal(err)
				}
			}
			admin := policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}
			street := policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: 1, RegionCode: d.streets[0], Roles: []policy.Role{policy.Supervisor}}
			// The district's supervisor (every region, spelt as a range), and
			// a community's, whose few running cases the list must not find
			// by walking the district's.
			district := street
			district.RegionCode = d.streets[0][:6] + "000000"
			community := street
			community.RegionCode = d.streets[1][:9] + "001"
			// fifth walks to the fifth page of a list by its cursors (or its
			// last, if shorter) and returns the cursor that opens it.
			fifth := func(list func(after string) (string, error)) string {
				after := ""
				for range 4 {
					next, err := list(after)
					if err != nil {
						b.Fatal(err)
					}
					if next == "" {
						break
					}
					after = next
				}
				return after
			}
			lists := []struct {
				name string
				page func(after string) (string, error)
			}{
				{"late", func(after string) (string, error) {
					p, err := f.svc.Late(ctx, admin, casework.LateFilter{SupervisionFilter: casework.SupervisionFilter{After: after}}, casework.PageSize)
					return p.Next, err
				}},
				{"late-street", func(after string) (string, error) {
					p, err := f.svc.Late(ctx, street, casework.LateFilter{SupervisionFilter: casework.SupervisionFilter{After: after}}, casework.PageSize)
					return p.Next, err
				}},
				{"late-district", func(after string) (string, error) {
					p, err := f.svc.Late(ctx, district, casework.LateFilter{SupervisionFilter: casework.SupervisionFilter{After: after}}, casework.PageSize)
					return p.Next, err
				}},
				{"late-community", func(after string) (string, error) {
					p, err := f.svc.Late(ctx, community, casework.LateFilter{SupervisionFilter: casework.SupervisionFilter{After: after}}, casework.PageSize)
					return p.Next, err
				}},
				{"late-department", func(after string) (string, error) {
					p, err := f.svc.Late(ctx, admin, casework.LateFilter{SupervisionFilter: casework.SupervisionFilter{DepartmentID: f.reviewer.DepartmentID, After: after}}, casework.PageSize)
					return p.Next, err
				}},
				{"visits", func(after string) (string, error) {
					p, err := f.svc.MultiVisits(ctx, admin, casework.SupervisionFilter{After: after}, casework.PageSize)
					return p.Next, err
				}},
				{"corrections", func(after string) (string, error) {
					p, err := f.svc.RepeatedCorrections(ctx, admin, casework.SupervisionFilter{After: after}, casework.PageSize)
					return p.Next, err
				}},
				{"archives", func(after string) (string, error) {
					p, err := f.svc.IncompleteArchives(ctx, admin, casework.SupervisionFilter{After: after}, casework.PageSize)
					return p.Next, err
				}},
				{"queue-reviewing", func(after string) (string, error) {
					p, err := f.svc.Queue(ctx, f.reviewer, casework.Reviewing, casework.QueueFilter{After: after}, casework.PageSize)
					return p.Next, err
				}},
				{"queue-completed", func(after string) (string, error) {
					p, err := f.svc.Queue(ctx, f.reviewer, casework.Completed, casework.QueueFilter{After: after}, casework.PageSize)
					return p.Next, err
				}},
				{"mine", func(after string) (string, error) {
					p, err := f.svc.Mine(ctx, f.other, after, casework.PageSize)
					return p.Next, err
				}},
			}
			for _, l := range lists {
				later := fifth(l.page)
				for _, at := range []struct{ name, after string }{{"first", ""}, {"page5", later}} {
					b.Run(l.name+"/"+at.name, func(b *testing.B) {
						for b.Loop() {
							if _, err := l.page(at.after); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
			b.Run("queue-search-all", func(b *testing.B) {
				for b.Loop() {
					if _, err := f.svc.Queue(ctx, f.reviewer, casework.AllQueues, casework.QueueFilter{Query: "B0000123"}, casework.PageSize); err != nil {
						b.Fatal(err)
					}
				}
			})
			// The hourly check once its warnings are out: the steady state.
			if _, err := f.svc.CheckDeadlines(ctx); err != nil {
				b.Fatal(err)
			}
			b.Run("deadline-check", func(b *testing.B) {
				for b.Loop() {
					if sent, err := f.svc.CheckDeadlines(ctx); err != nil || sent != 0 {
						b.Fatalf("sent %d, %v", sent, err)
					}
				}
			})
		})
	}
}
