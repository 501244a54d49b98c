package casework_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// seeded is a case row written straight into the table, for the lists:
// what they read of a case, nothing of its history.
type seeded struct {
	dept        int64
	region      string
	status      casework.Status
	due         string // YYYY-MM-DD or ""
	visits      int
	corrections int
	applicant   int64
	enterprise  int64 // 0: none
	updated     time.Time
	number      string // "": prefix and index
	item        int64  // 0: the fixture's
}

// district is the departments and regions of the seeded district: every
// department with its region, and the streets (level 2 regions).
type district struct {
	depts   []deptAt
	streets []string
}

type deptAt struct {
	id     int64
	region string
}

func readDistrict(t testing.TB, db *store.DB) district {
	t.Helper()
	ctx := context.Background()
	var d district
	rows, err := db.Read().Query(ctx, `SELECT id, region_code FROM departments ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var x deptAt
		if err := rows.Scan(&x.id, &x.region); err != nil {
			t.Fatal(err)
		}
		d.depts = append(d.depts, x)
	}
	rows.Close()
	rows, err = db.Read().Query(ctx, `SELECT code FROM regions WHERE level = 2 ORDER BY code`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			t.Fatal(err)
		}
		d.streets = append(d.streets, code)
	}
	rows.Close()
	if len(d.depts) < 2 || len(d.streets) < 2 {
		t.Fatalf("the district has %d departments and %d streets", len(d.depts), len(d.streets))
	}
	return d
}

// seedCases inserts cases in bulk (multi-row INSERTs of 500, in
// transactions of 20,000 rows) and returns their ids in order. Numbers are
// unique per prefix.
func seedCases(t testing.TB, db *store.DB, f fixture, prefix string, n int, spec func(i int) seeded) []int64 {
	t.Helper()
	ctx := context.Background()
	const cols = 16
	ids := make([]int64, 0, n)
	for start := 0; start < n; start += 20000 {
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for b := start; b < min(start+20000, n); b += 500 {
				end := min(b+500, n, start+20000)
				var q strings.Builder
				q.WriteString(`INSERT INTO cases (number, item_id, item_version, applicant_id, enterprise_id, department_id, region_code,
					status, channel, accepted_on, due_on, visits, corrections, version, created_at, updated_at) VALUES `)
				args := make([]any, 0, (end-b)*cols)
				for i := b; i < end; i++ {
					s := spec(i)
					if i > b {
						q.WriteString(", ")
					}
					q.WriteString("(?" + strings.Repeat(", ?", cols-1) + ")")
					var firm any
					if s.enterprise != 0 {
						firm = s.enterprise
					}
					applicant := s.applicant
					if applicant == 0 {
						applicant = f.citizen.AccountID
					}
					accepted := ""
					if s.due != "" {
						accepted = "2026-11-01"
					}
					number, item := s.number, s.item
					if number == "" {
						number = fmt.Sprintf("%s%08d", prefix, i)
					}
					if item == 0 {
						item = f.itemID
					}
					args = append(args, number, item, f.item.Version, applicant, firm, s.dept, s.region,
						s.status, "online", accepted, s.due, s.visits, s.corrections, 1, s.updated, s.updated)
				}
				q.WriteString(" RETURNING id")
				rows, err := tx.Query(ctx, q.String(), args...)
				if err != nil {
					return err
				}
				for rows.Next() {
					var id int64
					if err := rows.Scan(&id); err != nil {
						rows.Close()
						return err
					}
					ids = append(ids, id)
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// A street supervisor's late cases are listed even when the district has
// more than a page-limit of others due earlier: the region is filtered in
// SQL before the LIMIT (before, LIMIT 500 came first and they were lost).
func TestLateListFiltersTheRegionBeforeTheLimit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db) // today: 2026-11-25
		d := readDistrict(t, db)
		mine, other := d.streets[0], d.streets[1]
		ids := seedCases(t, db, f, "L", 605, func(i int) seeded {
			s := seeded{dept: d.depts[0].id, region: other, status: casework.Reviewing, due: "2026-11-02", updated: f.clk.Now()}
			if i >= 600 { // due later than all 600 others: beyond any first 500
				s.region, s.due = mine, "2026-11-20"
			}
			return s
		})
		street := policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: 1, RegionCode: mine, Roles: []policy.Role{policy.Supervisor}}
		page, err := f.svc.Late(ctx, street, casework.LateFilter{}, 500)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, e := range page.Rows {
			got = append(got, e.ID)
		}
		if !slices.Equal(got, ids[600:]) || page.Total != 5 || page.Next != "" {
			t.Fatalf("the street's late cases: %v (total %d, next %q), want %v", got, page.Total, page.Next, ids[600:])
		}
		if page.Rows[0].Deadline.DaysLate() == 0 || page.Rows[0].Department == "" || page.Rows[0].Region == "" {
			t.Fatalf("row %+v", page.Rows[0])
		}
		// A region outside the supervisor's is refused, not silently empty.
		if _, err := f.svc.Late(ctx, street, casework.LateFilter{SupervisionFilter: casework.SupervisionFilter{Region: other}}, 10); err == nil {
			t.Fatal("a street supervisor filtered to another street")
		}
	})
}

// pageAll walks a list page by page (of size 7) and fails on a row seen
// twice or a total that changes from page to page.
func pageAll[T any](t *testing.T, name string, id func(T) int64, list func(after string) (casework.Page[T], error)) ([]int64, int) {
	t.Helper()
	var ids []int64
	seen := map[int64]bool{}
	total := -2
	after := ""
	for pages := 0; ; pages++ {
		p, err := list(after)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if total != -2 && p.Total != total {
			t.Fatalf("%s: total %d then %d", name, total, p.Total)
		}
		total = p.Total
		for _, r := range p.Rows {
			if seen[id(r)] {
				t.Fatalf("%s: case %d on two pages", name, id(r))
			}
			seen[id(r)] = true
			ids = append(ids, id(r))
		}
		if p.Next == "" {
			return ids, total
		}
		if len(p.Rows) != 7 || pages > 1000 {
			t.Fatalf("%s: a page of %d rows before the last", name, len(p.Rows))
		}
		after = p.Next
	}
}

// want lists the ids of the seeded cases that keep says belong to a list.
func want(ids []int64, specs []seeded, keep func(seeded) bool) []int64 {
	var out []int64
	for i, s := range specs {
		if keep(s) {
			out = append(out, ids[i])
		}
	}
	return out
}

func sameSet(a, b []int64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// Every list, paged 7 at a time, shows each of its cases once, in its
// order, with a total that counts them; ties in the sort keys (the same
// due date, the same update time) are broken by id, so no row is lost
// between pages.
func TestListsPageWithoutLossOrRepeat(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db) // today: 2026-11-25
		d := readDistrict(t, db)
		firm := enterprise(t, db, f)
		base := f.clk.Now().Add(-100 * time.Hour)
		statuses := []casework.Status{casework.Reviewing, casework.Decided, casework.Submitted, casework.Completed, casework.Rejected, casework.Draft}
		dues := []string{"", "2026-11-20", "2026-11-24", "2026-11-25", "2026-11-26", "2026-12-20"}
		var specs []seeded
		for i := range 150 {
			dept := d.depts[i%2]
			if i%5 == 0 {
				dept = deptAt{f.reviewer.DepartmentID, d.streets[i%len(d.streets)]}
			}
			s := seeded{dept: dept.id, region: dept.region, status: statuses[i%len(statuses)], due: dues[(i/3)%len(dues)],
				visits: i % 4, corrections: (i / 2) % 3, updated: base.Add(time.Duration(i%9) * 8 * time.Hour)}
			if s.status == casework.Submitted || s.status == casework.Draft {
				s.due = ""
			}
			if i%7 == 0 {
				s.enterprise = firm
			}
			specs = append(specs, s)
		}
		ids := seedCases(t, db, f, "P", len(specs), func(i int) seeded { return specs[i] })
		admin := policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}
		street := policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: 1, RegionCode: d.streets[0], Roles: []policy.Role{policy.Supervisor}}
		inStreet := func(s seeded) bool { return strings.HasPrefix(s.region, policy.RegionPrefix(d.streets[0])) }
		running := func(s seeded) bool {
			return (s.status == casework.Reviewing || s.status == casework.Decided) && s.due != "" && s.due <= "2026-11-26"
		}
		for _, sup := range []struct {
			name  string
			who   policy.Subject
			scope func(seeded) bool
		}{{"admin", admin, func(seeded) bool { return true }}, {"street", street, inStreet}} {
			for _, newest := range []bool{false, true} {
				got, total := pageAll(t, "late", func(e casework.LateEntry) int64 { return e.ID }, func(after string) (casework.Page[casework.LateEntry], error) {
					return f.svc.Late(ctx, sup.who, casework.LateFilter{SupervisionFilter: casework.SupervisionFilter{After: after}, Newest: newest}, 7)
				})
				exp := want(ids, specs, func(s seeded) bool { return sup.scope(s) && running(s) })
				if !sameSet(got, exp) || total != len(exp) {
					t.Fatalf("%s late (newest %v): %d rows, total %d, want %d", sup.name, newest, len(got), total, len(exp))
				}
			}
			got, total := pageAll(t, "late in a department", func(e casework.LateEntry) int64 { return e.ID }, func(after string) (casework.Page[casework.LateEntry], error) {
				return f.svc.Late(ctx, sup.who, casework.LateFilter{SupervisionFilter: casework.SupervisionFilter{DepartmentID: d.depts[1].id, After: after}, Due: "late"}, 7)
			})
			exp := want(ids, specs, func(s seeded) bool {
				return sup.scope(s) && running(s) && s.dept == d.depts[1].id && s.due < "2026-11-25"
			})
			if !sameSet(got, exp) || total != len(exp) {
				t.Fatalf("%s late in a department: %d rows, total %d, want %d", sup.name, len(got), total, len(exp))
			}
			// Each sort order of the other lists, in its order, and a
			// period on the list's date: the middle one of the Beijing
			// days the seeded cases' 64 hours cross.
			day := calendar.DateOf(base.Add(32 * time.Hour))
			inPeriod := func(s seeded) bool { return calendar.DateOf(s.updated) == day }
			for _, v := range []struct {
				name           string
				byDate, oldest bool
				period         bool
			}{{"by count", false, false, false}, {"by date", true, true, false}, {"by date in a period", true, true, true}, {"by count in a period", false, false, true}} {
				lf := casework.SupervisionFilter{ByDate: v.byDate, Oldest: v.oldest}
				if v.period {
					lf.From, lf.To = day, day
				}
				period := func(s seeded) bool { return !v.period || inPeriod(s) }
				var prevKey [2]int64
				inOrder := func(list string, key [2]int64, id int64) int64 {
					// Descending by (key, id) unless ascending (oldest
					// archives); pageAll asks for a row's id more than once.
					asc := list == "archives" && v.oldest
					if prevKey != [2]int64{} && (!asc && (key[0] > prevKey[0] || key[0] == prevKey[0] && key[1] > prevKey[1]) ||
						asc && (key[0] < prevKey[0] || key[0] == prevKey[0] && key[1] < prevKey[1])) {
						t.Fatalf("%s %s %s: %v after %v", sup.name, list, v.name, key, prevKey)
					}
					prevKey = key
					return id
				}
				countKey := func(n int, at time.Time) int64 {
					if v.byDate {
						return at.UnixNano()
					}
					return int64(n)
				}
				prevKey = [2]int64{}
				got, total = pageAll(t, "visits "+v.name, func(e casework.MultiVisit) int64 {
					return inOrder("visits", [2]int64{countKey(e.Visits, e.CreatedAt), e.ID}, e.ID)
				}, func(after string) (casework.Page[casework.MultiVisit], error) {
					lf.After = after
					return f.svc.MultiVisits(ctx, sup.who, lf, 7)
				})
				exp = want(ids, specs, func(s seeded) bool { return sup.scope(s) && period(s) && s.visits > 1 && s.status != casework.Draft })
				if !sameSet(got, exp) || total != len(exp) || len(exp) == 0 {
					t.Fatalf("%s visits %s: %d rows, total %d, want %d", sup.name, v.name, len(got), total, len(exp))
				}
				prevKey = [2]int64{}
				got, total = pageAll(t, "corrections "+v.name, func(e casework.Corrected) int64 {
					return inOrder("corrections", [2]int64{countKey(e.Corrections, e.CreatedAt), e.ID}, e.ID)
				}, func(after string) (casework.Page[casework.Corrected], error) {
					lf.After = after
					return f.svc.RepeatedCorrections(ctx, sup.who, lf, 7)
				})
				exp = want(ids, specs, func(s seeded) bool {
					return sup.scope(s) && period(s) && s.corrections > 1 && s.status != casework.Draft
				})
				if !sameSet(got, exp) || total != len(exp) || len(exp) == 0 {
					t.Fatalf("%s corrections %s: %d rows, total %d, want %d", sup.name, v.name, len(got), total, len(exp))
				}
				// No seeded case has its required material: every finished one lacks it.
				prevKey = [2]int64{}
				got, total = pageAll(t, "archives "+v.name, func(e casework.Incomplete) int64 {
					return inOrder("archives", [2]int64{e.UpdatedAt.UnixNano(), e.ID}, e.ID)
				}, func(after string) (casework.Page[casework.Incomplete], error) {
					lf.After = after
					return f.svc.IncompleteArchives(ctx, sup.who, lf, 7)
				})
				exp = want(ids, specs, func(s seeded) bool {
					return sup.scope(s) && period(s) && (s.status == casework.Completed || s.status == casework.Rejected)
				})
				if !sameSet(got, exp) || total != -1 || len(exp) == 0 {
					t.Fatalf("%s archives %s: %d rows, want %d", sup.name, v.name, len(got), len(exp))
				}
				// The self-evaluation's manifest: the same cases, all
				// incomplete, earliest finished first.
				var manifest []int64
				var last time.Time
				lf.After = ""
				if err := f.svc.ArchiveManifest(ctx, sup.who, lf, func(a casework.ArchiveStatus) error {
					if a.Complete || a.UpdatedAt.Before(last) {
						t.Fatalf("manifest row %+v (after %s)", a, last)
					}
					last = a.UpdatedAt
					manifest = append(manifest, a.ID)
					return nil
				}); err != nil || !sameSet(manifest, exp) {
					t.Fatalf("%s manifest %s: %d rows, want %d (%v)", sup.name, v.name, len(manifest), len(exp), err)
				}
			}
		}
		// Queues, in their order: dated cases by due date, then the undated.
		for _, st := range []casework.Status{casework.Reviewing, casework.Submitted, casework.Completed} {
			var prev casework.QueueEntry
			n := 0
			got, total := pageAll(t, "queue "+string(st), func(e casework.QueueEntry) int64 {
				if n > 0 && (prev.DueOn.IsZero() && !e.DueOn.IsZero() || !prev.DueOn.IsZero() && !e.DueOn.IsZero() && e.DueOn.Before(prev.DueOn)) {
					t.Fatalf("queue %s out of order: %s after %s", st, e.DueOn, prev.DueOn)
				}
				prev, n = e, n+1
				return e.ID
			}, func(after string) (casework.Page[casework.QueueEntry], error) {
				return f.svc.Queue(ctx, f.reviewer, st, casework.QueueFilter{After: after}, 7)
			})
			exp := want(ids, specs, func(s seeded) bool { return s.dept == f.reviewer.DepartmentID && s.status == st })
			if !sameSet(got, exp) || total != len(exp) || len(exp) == 0 {
				t.Fatalf("queue %s: %d rows, total %d, want %d", st, len(got), total, len(exp))
			}
		}
		// A search across every queue finds the department's cases in any state but drafts.
		got, total := pageAll(t, "search", func(e casework.QueueEntry) int64 { return e.ID }, func(after string) (casework.Page[casework.QueueEntry], error) {
			return f.svc.Queue(ctx, f.reviewer, casework.AllQueues, casework.QueueFilter{Query: "工商户", After: after}, 7)
		})
		// Every case is of the item 个体工商户设立登记.
		exp := want(ids, specs, func(s seeded) bool { return s.dept == f.reviewer.DepartmentID && s.status != casework.Draft })
		if !sameSet(got, exp) || total != len(exp) {
			t.Fatalf("search: %d rows, total %d, want %d", len(got), total, len(exp))
		}
		// 我的办件: the person's own, then the enterprise's while acting for it.
		got, total = pageAll(t, "mine", func(e casework.Summary) int64 { return e.ID }, func(after string) (casework.Page[casework.Summary], error) {
			return f.svc.Mine(ctx, f.citizen, after, 7)
		})
		exp = want(ids, specs, func(s seeded) bool { return s.enterprise == 0 })
		if !sameSet(got, exp) || total != len(exp) {
			t.Fatalf("mine: %d rows, total %d, want %d", len(got), total, len(exp))
		}
		acting := f.citizen
		acting.ActingFor = firm
		got, total = pageAll(t, "mine (enterprise)", func(e casework.Summary) int64 { return e.ID }, func(after string) (casework.Page[casework.Summary], error) {
			return f.svc.Mine(ctx, acting, after, 7)
		})
		exp = want(ids, specs, func(s seeded) bool { return s.enterprise == firm })
		if !sameSet(got, exp) || total != len(exp) {
			t.Fatalf("mine (enterprise): %d rows, total %d, want %d", len(got), total, len(exp))
		}
		if _, err := f.svc.Mine(ctx, f.citizen, "garbage", 7); err == nil {
			t.Fatal("a malformed cursor was taken")
		}
	})
}

// enterprise adds an enterprise the citizen acts for.
func enterprise(t testing.TB, db *store.DB, f fixture) int64 {
	t.Helper()
	var id int64
	if err := db.Tx(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(context.Background(), `INSERT INTO enterprises (name, credit_code, legal_rep_name, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			"测试商贸有限公司", "91410411MA0000000X", "张三", f.clk.Now()).Scan(&id)
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// The counters kept on the case (visits, corrections) equal a recount of
// the history they summarise after a mixed history, and the chains still
// verify: visits is not part of the state the events commit to.
func TestCaseCountersMatchARecount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		for i := range 4 {
			c, err := f.svc.Intake(ctx, f.window, f.itemID, known(f.citizen), map[string]string{"name": "张三"})
			if err != nil {
				t.Fatal(err)
			}
			if c, err = f.svc.Attach(ctx, f.window, c.ID, c.Version, 0, pdf, "扫描件.pdf", 0); err != nil {
				t.Fatal(err)
			}
			for range i {
				if c, err = f.svc.RecordVisit(ctx, f.window, c.ID, c.Version, "补交原件"); err != nil {
					t.Fatal(err)
				}
			}
			if c, err = f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Submit, ""); err != nil {
				t.Fatal(err)
			}
			if i%2 == 1 {
				if c, err = f.svc.AskCorrection(ctx, f.window, c.ID, c.Version, "身份证明不清晰", []int{0}); err != nil {
					t.Fatal(err)
				}
				if c, err = f.svc.Attach(ctx, f.window, c.ID, c.Version, 0, pdf, "清晰.pdf", 0); err != nil {
					t.Fatal(err)
				}
				if _, err = f.svc.RecordVisit(ctx, f.window, c.ID, c.Version, "送补正材料"); err != nil {
					t.Fatal(err)
				}
			}
		}
		c := draftWithMaterial(t, f, f.citizen) // online: no visit
		if _, err := f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, ""); err != nil {
			t.Fatal(err)
		}
		recount := func(when string) {
			t.Helper()
			var wrong int
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases c WHERE
				c.visits <> (SELECT COUNT(*) FROM case_visits v WHERE v.case_id = c.id) OR
				c.corrections <> (SELECT COUNT(*) FROM case_events e WHERE e.case_id = c.id AND e.action = ?)`, casework.AskCorrect).Scan(&wrong); err != nil {
				t.Fatal(err)
			}
			var visits int
			if err := db.Read().QueryRow(ctx, `SELECT SUM(visits) FROM cases`).Scan(&visits); err != nil {
				t.Fatal(err)
			}
			if wrong != 0 || visits != 4+6+2 {
				t.Fatalf("%s: %d cases whose counters differ from a recount; %d visits kept, want 12", when, wrong, visits)
			}
		}
		recount("kept by the steps")
		// The migration's backfill gives the same counts for cases from before it.
		ms, err := store.Migrations(db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(ms, func(m store.Migration) bool { return m.Name == "list_indexes" })
		if i < 0 {
			t.Fatal("no migration list_indexes")
		}
		_, backfill, _ := strings.Cut(ms[i].SQL, "\nUPDATE cases SET visits")
		backfill, _, _ = strings.Cut("UPDATE cases SET visits"+backfill, ";")
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE cases SET visits = 0`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, backfill)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		recount("backfilled by the migration")
		if n, broken, err := casework.VerifyChains(ctx, db, db.ChainKeys()); err != nil || n != 5 || len(broken) != 0 {
			t.Fatalf("verify: %d cases, broken %+v, %v", n, broken, err)
		}
	})
}

// Counts stop at CountCap, so that a view of a long list costs the same
// at any size of history; the pages go on past it, and a list under the
// cap keeps its exact count (the tests above).
func TestCountsStopAtTheCap(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		d := readDistrict(t, db)
		seedCases(t, db, f, "K", casework.CountCap+3, func(i int) seeded {
			return seeded{dept: f.reviewer.DepartmentID, region: d.streets[0], status: casework.Completed, due: "2026-11-02",
				visits: 2, updated: f.clk.Now().Add(-time.Duration(i) * time.Second)}
		})
		q, err := f.svc.Queue(ctx, f.reviewer, casework.Completed, casework.QueueFilter{}, casework.PageSize)
		if err != nil {
			t.Fatal(err)
		}
		if q.Total != casework.CountCap || !q.More || q.Count().String() != "10000+" || len(q.Rows) != casework.PageSize || q.Next == "" {
			t.Fatalf("queue: total %d, more %v (%s), %d rows, next %q", q.Total, q.More, q.Count(), len(q.Rows), q.Next)
		}
		// A search that finds more than CountCap (every case is of the item)
		// walks the department's queue in order (search.go): its pages are
		// the queue's.
		q2, err := f.svc.Queue(ctx, f.reviewer, casework.Completed, casework.QueueFilter{After: q.Next}, casework.PageSize)
		if err != nil {
			t.Fatal(err)
		}
		after := ""
		for _, want := range [][]casework.QueueEntry{q.Rows, q2.Rows} {
			p, err := f.svc.Queue(ctx, f.reviewer, casework.AllQueues, casework.QueueFilter{Query: "工商户", After: after}, casework.PageSize)
			if err != nil || p.Total != casework.CountCap || !p.More || !slices.Equal(entryIDs(p.Rows), entryIDs(want)) {
				t.Fatalf("search 工商户: total %d, more %v, %v; want %v (%v)", p.Total, p.More, entryIDs(p.Rows), entryIDs(want), err)
			}
			after = p.Next
		}
		counts, err := f.svc.QueueCounts(ctx, f.reviewer)
		if err != nil {
			t.Fatal(err)
		}
		if c := counts[casework.Completed]; c != (casework.Count{N: casework.CountCap, More: true}) || counts[casework.Reviewing].More {
			t.Fatalf("queue counts: %v", counts)
		}
		admin := policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Admin}}
		v, err := f.svc.MultiVisits(ctx, admin, casework.SupervisionFilter{}, casework.PageSize)
		if err != nil {
			t.Fatal(err)
		}
		if !v.More || v.Total != casework.CountCap {
			t.Fatalf("visits: total %d, more %v", v.Total, v.More)
		}
		// The last page is reached past the cap.
		last, err := f.svc.MultiVisits(ctx, admin, casework.SupervisionFilter{After: v.Next}, casework.CountCap)
		if err != nil || last.Next != "" || len(last.Rows) != casework.CountCap+3-casework.PageSize {
			t.Fatalf("the rest: %d rows, next %q, %v", len(last.Rows), last.Next, err)
		}
	})
}
