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
// before LIMIT shows. The staff's search is timed with several kinds of
// query, each beside the search as it was before migration 0034 (its SQL,
// run on the same data).
//
// ZWFW_BENCH_KEEP=1 keeps the district for the next run: on PostgreSQL in
// a database of its own named after the size (zwfw_bench_100000), on
// SQLite in a file of that name in the temporary directory; seeded only
// when it does not hold the cases yet, and not dropped. Drop the database
// (or remove the file) when done.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
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
// with many cases (a 代办 agent). For the search, as a district's are: real
// case numbers (county code, date, serial of the day) over a year; n/10
// applicants with Chinese names (surname first, two or three characters,
// so that names repeat), one case in five for one of n/100 enterprises,
// and five items from common (half the cases) to rare (3%).
func benchDistrict(b *testing.B, db *store.DB, n int) (fixture, district) {
	f := newFixture(b, db)
	d := readDistrict(b, db)
	items := []int64{f.itemID}
	for k, name := range benchItems {
		items = append(items, variant(b, f, db, fmt.Sprintf("0101001009%02d", k), func(it *catalog.Item) { it.Name = name }))
	}
	base := f.clk.Now()
	start := time.Now()
	people := bulkInsert(b, db, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES `, "('person', ?, ?, ?)", max(n/10, 100),
		func(j int) []any { return []any{benchName(j), base, base} })
	firms := bulkInsert(b, db, `INSERT INTO enterprises (name, credit_code, legal_rep_name, created_at) VALUES `, "(?, ?, ?, ?)", max(n/100, 10),
		func(j int) []any { return []any{benchFirm(j), fmt.Sprintf("91410411MA%07dX", j), benchName(j), base} })
	seedCases(b, db, f, "B", n, func(i int) seeded {
		dept := d.depts[i%len(d.depts)]
		if i%3 == 0 {
			dept = deptAt{f.reviewer.DepartmentID, d.streets[i%len(d.streets)]}
		}
		s := seeded{dept: dept.id, region: dept.region, visits: 1, updated: base.Add(-time.Duration(i%(365*24)) * time.Hour),
			number: benchNumber(d, i), applicant: people[(i*7919)%len(people)]}
		switch r := (i / 7) % 100; {
		case r < 50:
			s.item = items[0]
		case r < 75:
			s.item = items[1]
		case r < 90:
			s.item = items[2]
		case r < 97:
			s.item = items[3]
		default:
			s.item = items[4]
		}
		if i%5 == 1 {
			s.enterprise = firms[(i/5*31)%len(firms)]
		}
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

// The seed's items beside the fixture's 个体工商户设立登记, most common first.
var benchItems = []string{"食品经营许可", "公共场所卫生许可", "道路普通货物运输许可", "烟草专卖零售许可"}

var (
	benchSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	benchGiven    = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力宇浩然思雨欣怡轩")
	benchBrands   = []rune("华信达通宏鑫恒盛源泰新兴永安瑞丰金利隆德荣昌广东升汇博嘉中天明阳")
	benchTrades   = []string{"科技", "商贸", "建筑工程", "餐饮管理", "物流", "农业开发", "医药", "文化传媒", "机械制造", "物业服务"}
)

// benchName is the j-th applicant's name: a surname, then one given
// character, or two for three in four.
func benchName(j int) string {
	name := string(benchSurnames[j%len(benchSurnames)]) + string(benchGiven[(j/len(benchSurnames))%len(benchGiven)])
	if (j/800)%4 != 0 {
		name += string(benchGiven[(j/3+j/800)%len(benchGiven)])
	}
	return name
}

// benchFirm is the j-th enterprise's name: a two-character brand, a trade.
func benchFirm(j int) string {
	n := len(benchBrands)
	return "林州市" + string(benchBrands[j%n]) + string(benchBrands[(j/n+j)%n]) + benchTrades[(j/(n*n))%len(benchTrades)] + "有限公司"
}

// benchNumber is the i-th case's number: its region's county code, one of
// the 365 days before today, and a serial of that day.
func benchNumber(d district, i int) string {
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(i % 365))
	return d.streets[0][:6] + day.Format("20060102") + fmt.Sprintf("%06d", i/365+1)
}

// bulkInsert inserts n rows of values (one row's placeholders, with the
// arguments row gives) after prefix, 500 a statement, and returns their ids.
func bulkInsert(b *testing.B, db *store.DB, prefix, values string, n int, row func(j int) []any) []int64 {
	ctx := context.Background()
	ids := make([]int64, 0, n)
	for start := 0; start < n; start += 500 {
		end := min(start+500, n)
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			var args []any
			for j := start; j < end; j++ {
				args = append(args, row(j)...)
			}
			rows, err := tx.Query(ctx, prefix+strings.TrimSuffix(strings.Repeat(values+", ", end-start), ", ")+" RETURNING id", args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return rows.Err()
		}); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// keptDistrict reopens a district seeded by an earlier run in keep mode:
// the fixture's service, item and people, read back by what newFixture
// made them.
func keptDistrict(b *testing.B, db *store.DB) (fixture, district) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
	regions := region.NewStore(db)
	items := catalog.NewStore(db, regions, clk)
	scjg, err := regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
	if err != nil {
		b.Fatal(err)
	}
	var reviewer, other, itemID int64
	if err := db.Read().QueryRow(ctx, `SELECT (SELECT id FROM accounts WHERE username = ?), (SELECT MIN(id) FROM accounts WHERE name = '李四'),
		(SELECT id FROM items WHERE base_code = '010100100001')`, fmt.Sprintf("s%d.%s", scjg.ID, policy.Reviewer)).Scan(&reviewer, &other, &itemID); err != nil {
		b.Fatal(err)
	}
	cal := calendar.New(nil)
	f := fixture{svc: casework.New(db, items, clk, cal), items: items, clk: clk, cal: cal, itemID: itemID,
		other:    policy.Subject{AccountID: other, Kind: policy.Person, Name: "李四"},
		reviewer: policy.Subject{AccountID: reviewer, Name: "工作人员", Kind: policy.Staff, DepartmentID: scjg.ID, DepartmentKind: string(scjg.Kind), RegionCode: scjg.RegionCode, Roles: []policy.Role{policy.Reviewer}}}
	return f, readDistrict(b, db)
}

// benchDB opens the benchmark's database: a fresh one, or in keep mode
// the district's of this size (PostgreSQL: a database of its own;
// SQLite: a file in the temporary directory); seeded says whether it
// already holds the district.
func benchDB(b *testing.B, dbName string, n int) (db *store.DB, seeded bool) {
	keep := os.Getenv("ZWFW_BENCH_KEEP") != ""
	base := os.Getenv(storetest.PostgresEnv)
	name := fmt.Sprintf("zwfw_bench_%d", n)
	var dsn string
	switch {
	case dbName == "sqlite" && !keep:
		return storetest.SQLite(b), false
	case dbName == "sqlite":
		dsn = filepath.Join(os.TempDir(), name+".db")
	case !keep || base == "":
		return storetest.Postgres(b), false
	default:
		if err := storetest.CreateDatabase(base, name, ""); err != nil && !strings.Contains(err.Error(), "already exists") {
			b.Fatal(err)
		}
		dsn = storetest.DatabaseURL(base, name)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var cases int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&cases); err != nil {
		b.Fatal(err)
	}
	if cases != 0 && cases < n {
		b.Fatalf("%s holds %d cases, not %d: drop it and seed again", name, cases, n)
	}
	b.Logf("keep mode: %s (%d cases)", dsn, cases)
	return db, cases >= n
}

func BenchmarkLists(b *testing.B) {
	n := benchCases(b)
	for _, dbName := range []string{"sqlite", "postgres"} {
		b.Run(dbName, func(b *testing.B) {
			ctx := context.Background()
			db, kept := benchDB(b, dbName, n)
			var f fixture
			var d district
			if kept {
				f, d = keptDistrict(b, db)
			} else {
				f, d = benchDistrict(b, db, n)
				if err := db.Optimize(ctx); err != nil {
					b.Fatal(err)
				}
				// What autovacuum does to a table that has settled: statistics
				// for the planner, and the visibility map for index-only scans.
				if db.Dialect == store.Postgres {
					if _, err := db.WritePool().ExecContext(ctx, `VACUUM ANALYZE cases, accounts, enterprises, items`); err != nil {
						b.Fatal(err)
					}
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
			// The search across every queue of the reviewer's department:
			// one case of it (i: a multiple of 3, completed), by its number;
			// one applicant's three-character name (the 901st: in a seed of 10,000 cases or
			// more); the start of an enterprise's name.
			i := 3*(n/6) - (3*(n/6))%300 + 30
			number := benchNumber(d, i)
			for _, q := range []struct{ name, query string }{
				{"number", number},
				{"date-serial", number[6:]},
				{"serial", strings.TrimLeft(number[14:], "0")},
				{"item-common", "工商户"},
				{"item-rare", "烟草"},
				{"applicant", benchName(901)},
				{"applicant-surname-given", "张伟"},
				{"enterprise", string([]rune(benchFirm(77))[:5])},
				{"none", "无此事项"},
			} {
				b.Run("search-"+q.name, func(b *testing.B) {
					var p casework.Page[casework.QueueEntry]
					for b.Loop() {
						var err error
						if p, err = f.svc.Queue(ctx, f.reviewer, casework.AllQueues, casework.QueueFilter{Query: q.query}, casework.PageSize); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(p.Total), "found")
				})
				b.Run("search-before-"+q.name, func(b *testing.B) {
					for b.Loop() {
						searchBefore(b, db, f.reviewer.DepartmentID, q.query)
					}
				})
			}
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

// searchBefore runs the search's SQL as it was before migration 0034 (a
// substring of the number and of three names, LIKE '%…%'), for a first
// page: the dated run, the undated one if the first was short, and the
// capped count when the page is full.
func searchBefore(b *testing.B, db *store.DB, dept int64, q string) {
	ctx := context.Background()
	const from = ` FROM cases c JOIN items i ON i.id = c.item_id JOIN accounts a ON a.id = c.applicant_id
		LEFT JOIN enterprises e ON e.id = c.enterprise_id`
	like := store.Contains(q)
	where := ` WHERE c.department_id = ? AND c.status NOT IN ('draft', 'waiting', 'closed')
		AND (c.number LIKE ? ESCAPE '\' OR i.name LIKE ? ESCAPE '\' OR a.name LIKE ? ESCAPE '\' OR e.name LIKE ? ESCAPE '\')`
	args := []any{dept, like, like, like, like}
	found := 0
	for _, run := range []string{` AND c.due_on <> ''`, ` AND c.due_on = ''`} {
		rows, err := db.Read().Query(ctx, `SELECT c.id, c.number, i.name, a.name, COALESCE(e.name, '')`+from+where+run+
			` ORDER BY c.due_on, c.updated_at, c.id LIMIT ?`, append(args, casework.PageSize+1-found)...)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			found++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
		if found > casework.PageSize {
			break
		}
	}
	if found > casework.PageSize {
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1`+from+where+` LIMIT ?) x`, append(args, casework.CountCap+1)...).Scan(&n); err != nil {
			b.Fatal(err)
		}
	}
}
