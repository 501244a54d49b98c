package casework_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func firm(t testing.TB, db *store.DB, name, code string) int64 {
	t.Helper()
	var id int64
	if err := db.Tx(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(context.Background(), `INSERT INTO enterprises (name, credit_code, legal_rep_name, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			name, code, "张三", time.Now()).Scan(&id)
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// The search across every queue finds a case by its number (whole, its
// date and serial, a day, its serial), by a word of its item's name, and
// by the start of its applicant's or enterprise's name or the enterprise's
// credit code; not by a number's or a name's inner part (the rule of
// search.go). Each search pages 7 at a time in the queue's order without
// loss or repeat, with a total that counts it.
func TestQueueSearch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		d := readDistrict(t, db)
		food := variant(t, f, db, "010100100009", func(it *catalog.Item) { it.Name = "食品经营许可" })
		people := []int64{person(t, db, "张三").AccountID, person(t, db, "张三丰").AccountID, person(t, db, "李张三").AccountID, person(t, db, "王五").AccountID}
		if db.Dialect == store.Postgres {
			// Names as a database made with a Chinese locale orders them
			// (by pinyin), if this server has ICU's: a name's start must
			// still be found (王五 .. 王井 is no range there).
			var icu bool
			if err := db.Read().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'zh-Hans-x-icu')`).Scan(&icu); err != nil {
				t.Fatal(err)
			}
			if icu {
				if err := db.Tx(ctx, func(tx *store.Tx) error {
					_, err := tx.Exec(ctx, `ALTER TABLE accounts ALTER COLUMN name TYPE text COLLATE "zh-Hans-x-icu"`)
					if err == nil {
						_, err = tx.Exec(ctx, `ALTER TABLE enterprises ALTER COLUMN name TYPE text COLLATE "zh-Hans-x-icu"`)
					}
					return err
				}); err != nil {
					t.Fatal(err)
				}
			} else {
				t.Log("no ICU collation on this server: names ordered by its own")
			}
		}
		firms := []int64{firm(t, db, "华为技术有限公司", "91440300MA5F000001"), firm(t, db, "食品百货有限公司", "91440300MA5F000002"),
			firm(t, db, "深圳华为科技有限公司", "91440300MA5F000003")}
		var other int64
		for _, x := range d.depts {
			if x.id != f.reviewer.DepartmentID {
				other = x.id
			}
		}
		county := d.streets[0][:6]
		base := f.clk.Now().Add(-100 * time.Hour)
		statuses := []casework.Status{casework.Reviewing, casework.Completed, casework.Submitted, casework.Draft, casework.Decided, casework.Rejected}
		dues := []string{"", "2026-11-20", "2026-11-26", "2026-12-01"}
		var specs []seeded
		for i := range 90 {
			s := seeded{dept: f.reviewer.DepartmentID, region: d.streets[0], status: statuses[i%len(statuses)], due: dues[(i/4)%len(dues)],
				visits: 1, applicant: people[i%len(people)], updated: base.Add(time.Duration(i%5) * time.Hour),
				number: county + []string{"20261124", "20261125"}[i%2] + fmt.Sprintf("%06d", 120+i/2)}
			if s.status == casework.Submitted || s.status == casework.Draft {
				s.due = ""
			}
			if i%3 == 0 {
				s.item = food
			}
			if i%5 < len(firms) {
				s.enterprise = firms[i%5]
			}
			if i%7 == 6 {
				s.dept = other
			}
			specs = append(specs, s)
		}
		ids := seedCases(t, db, f, "S", len(specs), func(i int) seeded { return specs[i] })
		visible := func(s seeded) bool { return s.dept == f.reviewer.DepartmentID && s.status != casework.Draft }
		k := 8 // a case the department sees
		if !visible(specs[k]) {
			t.Fatal("the seed changed: case 8 is not the department's")
		}
		for _, c := range []struct {
			query string
			match func(s seeded) bool
			old   bool // found by the old rule (a substring of the number or a name), not now
		}{
			{specs[k].number, func(s seeded) bool { return s.number == specs[k].number }, false},
			{specs[k].number[:17], func(s seeded) bool { return strings.HasPrefix(s.number, specs[k].number[:17]) }, false},
			{specs[k].number[6:], func(s seeded) bool { return s.number == specs[k].number }, false},
			{"2026 1125 000123", func(s seeded) bool { return strings.HasSuffix(s.number, "20261125000123") }, false},
			{"20261125", func(s seeded) bool { return s.number[6:14] == "20261125" }, false},
			{"2026112500013", func(s seeded) bool { return strings.HasPrefix(s.number[6:], "2026112500013") }, false},
			{"123", func(s seeded) bool { return strings.HasSuffix(s.number, "000123") }, false},
			{"000123", func(s seeded) bool { return strings.HasSuffix(s.number, "000123") }, false},
			{"工商户", func(s seeded) bool { return s.item == 0 }, false},
			{"经营许可", func(s seeded) bool { return s.item == food }, false},
			{"张三", func(s seeded) bool { return s.applicant == people[0] || s.applicant == people[1] }, false},
			{"张三丰", func(s seeded) bool { return s.applicant == people[1] }, false},
			{"王五", func(s seeded) bool { return s.applicant == people[3] }, false},
			{"华为", func(s seeded) bool { return s.enterprise == firms[0] }, false},
			{"91440300ma5f000003", func(s seeded) bool { return s.enterprise == firms[2] }, false},
			// Two ways at once: a case of the item and of the firm is found once.
			{"食品", func(s seeded) bool { return s.item == food || s.enterprise == firms[1] }, false},
			// No longer found: a number's inner digits, a date without its
			// year, the inner part of a name.
			{"12500012", func(seeded) bool { return false }, true},
			{"1125000123", func(seeded) bool { return false }, true},
			{"00012", func(seeded) bool { return false }, true},
			{"三丰", func(seeded) bool { return false }, true},
			{"为技术", func(seeded) bool { return false }, true},
			{"50%_", func(seeded) bool { return false }, false},
		} {
			var prev casework.QueueEntry
			n := 0
			got, total := pageAll(t, c.query, func(e casework.QueueEntry) int64 {
				if n > 0 && e.ID != prev.ID && !queueBefore(prev, e) { // (pageAll asks twice a row)
					t.Fatalf("%q: case %d (%s, %s) after %d (%s, %s)", c.query, e.ID, e.DueOn, e.UpdatedAt, prev.ID, prev.DueOn, prev.UpdatedAt)
				}
				prev, n = e, n+1
				return e.ID
			}, func(after string) (casework.Page[casework.QueueEntry], error) {
				return f.svc.Queue(ctx, f.reviewer, casework.AllQueues, casework.QueueFilter{Query: c.query, After: after}, 7)
			})
			exp := want(ids, specs, func(s seeded) bool { return visible(s) && c.match(s) })
			if !sameSet(got, exp) || total != len(exp) {
				t.Errorf("%q: %v (total %d), want %v", c.query, got, total, exp)
			}
			if len(exp) == 0 != (c.query == "50%_" || c.old) {
				t.Errorf("%q: finds %d cases", c.query, len(exp))
			}
		}
		// One queue: its matches only; with the deadline filter too.
		page, err := f.svc.Queue(ctx, f.reviewer, casework.Reviewing, casework.QueueFilter{Query: "张三"}, 50)
		exp := want(ids, specs, func(s seeded) bool {
			return visible(s) && s.status == casework.Reviewing && (s.applicant == people[0] || s.applicant == people[1])
		})
		if got := entryIDs(page.Rows); err != nil || !sameSet(got, exp) || page.Total != len(exp) || len(exp) == 0 {
			t.Errorf("审查中, 张三: %v (total %d), %v; want %v", got, page.Total, err, exp)
		}
		page, err = f.svc.Queue(ctx, f.reviewer, casework.AllQueues, casework.QueueFilter{Query: "工商户", Due: "late"}, 50)
		exp = want(ids, specs, func(s seeded) bool { return visible(s) && s.item == 0 && s.due != "" && s.due < "2026-11-25" })
		if got := entryIDs(page.Rows); err != nil || !sameSet(got, exp) || page.Total != len(exp) || len(exp) == 0 {
			t.Errorf("工商户, late: %v (total %d), %v; want %v", got, page.Total, err, exp)
		}
		// A name start shared by more than 10,000 people is too broad to
		// read each one's cases: refused, with what to do instead.
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for i := range 10001 {
				if _, err := tx.Exec(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', ?, ?, ?)`,
					fmt.Sprintf("欧阳%05d", i), base, base); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Queue(ctx, f.reviewer, casework.AllQueues, casework.QueueFilter{Query: "欧阳"}, 50); !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "超过 10000 个") {
			t.Errorf("欧阳: %v", err)
		}
		// Bad input is refused with a message that says what to type.
		for q, msg := range map[string]string{
			"张":                       "至少输入两个字",
			"%%":                      "请输入办件编号",
			"——！":                     "请输入办件编号",
			"2026112":                 "20 位",
			"410411202611250001230":   "20 位",
			"4104112026112500012 3 4": "20 位",
		} {
			_, err := f.svc.Queue(ctx, f.reviewer, casework.AllQueues, casework.QueueFilter{Query: q}, 50)
			if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), msg) {
				t.Errorf("%q: %v, want an error that says %q", q, err, msg)
			}
		}
	})
}

// queueBefore says whether a comes before b in a queue: by due date, those
// without one last, then longest waiting, then id.
func queueBefore(a, b casework.QueueEntry) bool {
	if a.DueOn.IsZero() != b.DueOn.IsZero() {
		return b.DueOn.IsZero()
	}
	if a.DueOn != b.DueOn {
		return a.DueOn.Before(b.DueOn)
	}
	if !a.UpdatedAt.Equal(b.UpdatedAt) {
		return a.UpdatedAt.Before(b.UpdatedAt)
	}
	return a.ID < b.ID
}

func entryIDs(rows []casework.QueueEntry) []int64 {
	var out []int64
	for _, e := range rows {
		out = append(out, e.ID)
	}
	return out
}
