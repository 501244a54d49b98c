package generate_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/generate"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

type fixture struct {
	deps  generate.Deps
	svc   *casework.Service
	files filestore.Store
}

func setup(t testing.TB, db *store.DB, now time.Time) fixture {
	t.Helper()
	chain, err := chainhash.Parse("a1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))))
	if err != nil {
		t.Fatal(err)
	}
	db.SetChainKeys(chain)
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.ParseKeys(enc, idx)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(now)
	ids := identity.New(db, identity.Options{Keys: keys, SMS: sms.NewDev(slog.New(slog.DiscardHandler), 10), Clock: clk})
	files, err := filestore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cal := calendar.New(nil)
	svc := casework.New(db, catalog.NewStore(db, region.NewStore(db), clk), clk, cal)
	svc.UseKeys(keys)
	return fixture{deps: generate.Deps{DB: db, Clock: clk, Identity: ids, Calendar: cal, Files: files, Keys: keys}, svc: svc, files: files}
}

// Generated cases are whole: every status in the proportions asked for,
// every chain verifies against the rows, each finished case's archive is
// complete, and the workflow carries on from them — the next step on a
// generated case and a new application take numbers of their own.
func TestGenerate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 10, 0, 0, 0, clock.China)
		f := setup(t, db, now)
		const n = 2000 // a multiple of the weights' sum: the counts are exact
		res, err := generate.Run(ctx, f.deps, generate.Options{Cases: n, Seed: 7, Batch: 700})
		if err != nil {
			t.Fatal(err)
		}
		got := map[casework.Status]int{}
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
			got[st] = k
		}
		rows.Close()
		for _, s := range generate.DefaultMix {
			if want := n * s.Weight / 100; got[s.Status] != want || res.ByStatus[s.Status] != want {
				t.Errorf("%s: %d cases, reported %d, want %d", s.Status, got[s.Status], res.ByStatus[s.Status], want)
			}
		}
		if checked, broken, err := casework.VerifyChains(ctx, db, db.ChainKeys()); err != nil || checked != n || len(broken) != 0 {
			t.Fatalf("chains: %d checked, %d broken (first %+v), %v", checked, len(broken), first(broken), err)
		}
		var denied, late, sealed int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE decision = 'denied'`).Scan(&denied)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE due_on <> '' AND due_on < ? AND status IN ('reviewing', 'decided')`,
			now.Format("2006-01-02")).Scan(&late)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE form_data LIKE ?`, `%"sealed":"v1.%`).Scan(&sealed)
		if denied == 0 || late == 0 || sealed < n/2 {
			t.Errorf("denied %d, late %d, sealed forms %d", denied, late, sealed)
		}

		// The archive of a case of every finished kind is complete.
		for _, st := range []casework.Status{casework.Completed, casework.Delivered, casework.Rejected, casework.Withdrawn, casework.Decided} {
			var id, dept int64
			if err := db.Read().QueryRow(ctx, `SELECT id, department_id FROM cases WHERE status = ? ORDER BY id LIMIT 1`, st).Scan(&id, &dept); err != nil {
				t.Fatal(st, err)
			}
			clerk, err := demo.DepartmentStaff(ctx, db, f.deps.Identity, dept)
			if err != nil {
				t.Fatal(err)
			}
			m, err := f.svc.Archive(ctx, clerk, audit.Meta{IP: "test"}, id, f.files, io.Discard)
			if err != nil || !m.Complete {
				t.Errorf("%s case %d: archive %+v, %v", st, id, m.Missing, err)
			}
		}

		// The workflow goes on: a generated case is accepted (its notice
		// takes the next number), a new application takes the next case
		// number, and every chain still holds.
		var id, dept int64
		var version int
		if err := db.Read().QueryRow(ctx, `SELECT id, department_id, version FROM cases WHERE status = 'prechecked' ORDER BY id LIMIT 1`).Scan(&id, &dept, &version); err != nil {
			t.Fatal(err)
		}
		clerk, err := demo.DepartmentStaff(ctx, db, f.deps.Identity, dept)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Act(ctx, clerk, id, version, casework.Accept, ""); err != nil {
			t.Fatal(err)
		}
		var item int64
		var applicant int64
		db.Read().QueryRow(ctx, `SELECT item_id, applicant_id FROM cases WHERE status = 'draft' ORDER BY id LIMIT 1`).Scan(&item, &applicant)
		var name string
		db.Read().QueryRow(ctx, `SELECT name FROM accounts WHERE id = ?`, applicant).Scan(&name)
		if _, err := f.svc.CreateDraft(ctx, personSubject(applicant, name), item, nil); err != nil {
			t.Fatal(err)
		}
		if checked, broken, err := casework.VerifyChains(ctx, db, db.ChainKeys()); err != nil || checked != n+1 || len(broken) != 0 {
			t.Fatalf("after the workflow: %d checked, broken %+v, %v", checked, first(broken), err)
		}

		// A second run adds to the first.
		if _, err := generate.Run(ctx, f.deps, generate.Options{Cases: 300, Seed: 8}); err != nil {
			t.Fatal(err)
		}
		if checked, broken, err := casework.VerifyChains(ctx, db, db.ChainKeys()); err != nil || checked != n+301 || len(broken) != 0 {
			t.Fatalf("after a second run: %d checked, broken %+v, %v", checked, first(broken), err)
		}
	})
}

func first(b []casework.Broken) casework.Broken {
	if len(b) == 0 {
		return casework.Broken{}
	}
	return b[0]
}

// BenchmarkGenerate measures the rate of generation into a database that
// already holds some cases: ZWFW_GENERATE_CASES cases per operation
// (default 20,000), on SQLite and, with ZWFW_TEST_POSTGRES, PostgreSQL.
// Besides the rate it reports this process's CPU time per case, which
// other work on a shared machine disturbs less (PostgreSQL's own is not
// in it).
func BenchmarkGenerate(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("ZWFW_GENERATE_CASES"))
	if n == 0 {
		n = 20000
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var db *store.DB
			if name == "sqlite" {
				db = storetest.SQLite(b)
			} else {
				db = storetest.Postgres(b)
			}
			ctx := context.Background()
			f := setup(b, db, time.Now())
			if _, err := generate.Run(ctx, f.deps, generate.Options{Cases: 1000, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			var elapsed time.Duration
			cpu0 := cpuTime()
			for i := range b.N {
				res, err := generate.Run(ctx, f.deps, generate.Options{Cases: n, Seed: uint64(i + 2)})
				if err != nil {
					b.Fatal(err)
				}
				elapsed += res.Elapsed
			}
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "cases/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n*b.N), "cpu-µs/case")
		})
	}
}

func personSubject(id int64, name string) policy.Subject {
	return policy.Subject{AccountID: id, Kind: policy.Person, Name: name}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
