package generate_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	k, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	db.SetChainKeys(k.chain)
	keys := k.pii
	clk := clock.NewManual(now)
	files, err := filestore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cal := calendar.New(nil)
	svc := casework.New(db, catalog.NewStore(db, region.NewStore(db), clk), clk, cal)
	svc.UseKeys(keys)
	return fixture{deps: generate.Deps{DB: db, Clock: clk, Identity: testIdentity(db, keys, clk), Calendar: cal, Files: files, Keys: keys}, svc: svc, files: files}
}

// testKeys are the chain and personal-data keys of every test: the seeded
// district (seedDistrict) is sealed with them.
var testKeys = sync.OnceValues(func() (keySet, error) {
	chain, err := chainhash.Parse("a1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))))
	if err != nil {
		return keySet{}, err
	}
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		return keySet{}, err
	}
	keys, err := pii.ParseKeys(enc, idx)
	return keySet{chain, keys}, err
})

type keySet struct {
	chain *chainhash.Keys
	pii   *pii.Keys
}

func testIdentity(db *store.DB, keys *pii.Keys, clk clock.Clock) *identity.Service {
	return identity.New(db, identity.Options{Keys: keys, SMS: sms.NewDev(slog.New(slog.DiscardHandler), 10), Clock: clk})
}

// seedDistrict makes what generate.Run makes first in an empty database —
// the demo district, its catalog and one clerk per department (their
// argon2id hashes) — once per database kind for the tests that start from
// it (storetest.EachSeeded), rather than in each of them.
func seedDistrict(ctx context.Context, db *store.DB) error {
	k, err := testKeys()
	if err != nil {
		return err
	}
	db.SetChainKeys(k.chain)
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
	if _, err := demo.Seed(ctx, db, clk); err != nil {
		return err
	}
	_, err = demo.SeedStaff(ctx, db, testIdentity(db, k.pii, clk))
	return err
}

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

// Generated cases are whole: every status in the proportions asked for,
// every chain verifies against the rows, each finished case's archive is
// complete, and the workflow carries on from them — the next step on a
// generated case and a new application take numbers of their own.
func TestGenerate(t *testing.T) {
	t.Parallel()
	storetest.EachSeeded(t, "district", seedDistrict, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 10, 0, 0, 0, clock.China)
		f := setup(t, db, now)
		const n = 1000 // a multiple of the weights' sum: the counts are exact
		before := schema(t, db)
		var dropped int // secondary indexes missing while the cases were written
		res, err := generate.Run(ctx, f.deps, generate.Options{Cases: n, Seed: 7, Batch: 350, Progress: func(int) {
			dropped = max(dropped, len(missing(before, schema(t, db))))
		}})
		if err != nil {
			t.Fatal(err)
		}
		// Into a database without cases, the rows went in without the
		// secondary indexes (and on PostgreSQL the foreign keys), which
		// are all back, checked, as the migrations made them.
		if dropped < 10 {
			t.Errorf("%d indexes dropped for the load", dropped)
		}
		if gone := missing(before, schema(t, db)); len(gone) > 0 {
			t.Errorf("after the load the schema lacks %q", gone)
		}
		if db.Dialect == store.SQLite { // the writer's settings are back
			var keys, sync, checkpoint int
			db.WritePool().QueryRow(`PRAGMA foreign_keys`).Scan(&keys)
			db.WritePool().QueryRow(`PRAGMA synchronous`).Scan(&sync)
			db.WritePool().QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&checkpoint)
			if keys != 1 || sync != 2 || checkpoint != 1000 {
				t.Errorf("after the load foreign_keys = %d, synchronous = %d, wal_autocheckpoint = %d", keys, sync, checkpoint)
			}
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

		// A second run adds to the first, in small batches that the writers
		// (two at once on PostgreSQL) commit in any order.
		if _, err := generate.Run(ctx, f.deps, generate.Options{Cases: 300, Seed: 8, Batch: 20}); err != nil {
			t.Fatal(err)
		}
		if checked, broken, err := casework.VerifyChains(ctx, db, db.ChainKeys()); err != nil || checked != n+301 || len(broken) != 0 {
			t.Fatalf("after a second run: %d checked, broken %+v, %v", checked, first(broken), err)
		}
	})
}

// A load stopped half-way leaves the schema whole, the cases it wrote
// with valid chains, and counters that the next load carries on from.
func TestGenerateInterrupted(t *testing.T) {
	t.Parallel()
	storetest.EachSeeded(t, "district", seedDistrict, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 11, 25, 10, 0, 0, 0, clock.China)
		f := setup(t, db, now)
		before := schema(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res, err := generate.Run(ctx, f.deps, generate.Options{Cases: 3000, Seed: 3, Batch: 300, Progress: func(int) { cancel() }})
		if !errors.Is(err, context.Canceled) || res.Cases == 0 || res.Cases == 3000 {
			t.Fatalf("stopped load: %d cases, %v", res.Cases, err)
		}
		if gone := missing(before, schema(t, db)); len(gone) > 0 {
			t.Errorf("after a stopped load the schema lacks %q", gone)
		}
		if _, err := generate.Run(context.Background(), f.deps, generate.Options{Cases: 500, Seed: 4}); err != nil {
			t.Fatal(err)
		}
		var total int
		db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&total)
		if checked, broken, err := casework.VerifyChains(context.Background(), db, db.ChainKeys()); err != nil || checked != total || total < res.Cases+500 || len(broken) != 0 {
			t.Fatalf("%d cases, %d checked, broken %+v, %v", total, checked, first(broken), err)
		}
	})
}

// schema is the database's indexes, triggers and constraints, each as
// the statement that makes it.
func schema(t testing.TB, db *store.DB) []string {
	t.Helper()
	q := `SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master WHERE type IN ('index', 'trigger') ORDER BY 1`
	if db.Dialect == store.Postgres {
		q = `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()
			UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
			WHERE connamespace = current_schema()::regnamespace ORDER BY 1`
	}
	rows, err := db.Read().Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// missing is what of want got lacks.
func missing(want, got []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, w)
		}
	}
	return out
}

func first(b []casework.Broken) casework.Broken {
	if len(b) == 0 {
		return casework.Broken{}
	}
	return b[0]
}

// BenchmarkGenerate measures the rate of generation: ZWFW_GENERATE_CASES
// cases per operation (default 20,000), on SQLite and, with
// ZWFW_TEST_POSTGRES, PostgreSQL; "empty" into a database with the demo's
// catalog and staff but no cases yet (zwfw generate's load, which builds
// the secondary indexes after the rows), "more" into one that already
// holds 1,000 cases. The rate is of the writing, the indexes built after
// it included (Result.Elapsed); run-cases/s is of the whole of Run, with
// its set-up (reading the catalog, the applicants' accounts, the files).
// Besides the rates it reports this process's CPU time per case, which
// other work on a shared machine disturbs less, and on PostgreSQL the CPU
// time of the server processes serving the pool's connections.
func BenchmarkGenerate(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("ZWFW_GENERATE_CASES"))
	if n == 0 {
		n = 20000
	}
	for _, name := range []string{"sqlite", "postgres"} {
		for _, load := range []string{"empty", "more"} {
			b.Run(name+"/"+load, func(b *testing.B) {
				ctx := context.Background()
				var elapsed, whole, cpu, server time.Duration
				for i := range b.N {
					var db *store.DB
					if name == "sqlite" {
						db = storetest.SQLite(b)
					} else {
						db = storetest.Postgres(b)
					}
					f := setup(b, db, time.Now())
					if load == "more" {
						if _, err := generate.Run(ctx, f.deps, generate.Options{Cases: 1000, Seed: 1}); err != nil {
							b.Fatal(err)
						}
					} else {
						if _, err := demo.Seed(ctx, db, f.deps.Clock); err != nil {
							b.Fatal(err)
						}
						if _, err := demo.SeedStaff(ctx, db, f.deps.Identity); err != nil {
							b.Fatal(err)
						}
						// The clerks the generated cases are handled by, made
						// with their password hashes before the clock starts.
						rows, err := db.Read().Query(ctx, `SELECT DISTINCT department_id FROM items`)
						if err != nil {
							b.Fatal(err)
						}
						var depts []int64
						for rows.Next() {
							var d int64
							rows.Scan(&d)
							depts = append(depts, d)
						}
						rows.Close()
						for _, d := range depts {
							if _, err := demo.DepartmentStaff(ctx, db, f.deps.Identity, d); err != nil {
								b.Fatal(err)
							}
						}
					}
					server0 := storetest.ServerCPU(b, db)
					cpu0, start := storetest.ProcessCPU(), time.Now()
					res, err := generate.Run(ctx, f.deps, generate.Options{Cases: n, Seed: uint64(i + 2)})
					if err != nil {
						b.Fatal(err)
					}
					whole += time.Since(start)
					cpu += storetest.ProcessCPU() - cpu0
					server += storetest.ServerCPU(b, db).Since(server0)
					elapsed += res.Elapsed
				}
				b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "cases/s")
				b.ReportMetric(float64(n*b.N)/whole.Seconds(), "run-cases/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-µs/case")
				if name == "postgres" {
					b.ReportMetric(float64(server.Microseconds())/float64(n*b.N), "server-cpu-µs/case")
				}
			})
		}
	}
}

func personSubject(id int64, name string) policy.Subject {
	return policy.Subject{AccountID: id, Kind: policy.Person, Name: name}
}

// CasesOnly writes the same cases' rows, the same statuses and figures,
// and nothing else.
func TestGenerateCasesOnly(t *testing.T) {
	t.Parallel()
	storetest.EachSeeded(t, "district", seedDistrict, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 10, 0, 0, 0, clock.China)
		f := setup(t, db, now)
		res, err := generate.Run(ctx, f.deps, generate.Options{Cases: 1000, Seed: 7, CasesOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		for table, want := range map[string]int{"cases": 1000, "case_events": 0, "case_materials": 0, "case_documents": 0} {
			var n int
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != want {
				t.Errorf("%s: %d rows (%v), want %d", table, n, err, want)
			}
		}
		var finished, accepted int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE finished_on <> ''`).Scan(&finished)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE accepted_on <> ''`).Scan(&accepted)
		if finished == 0 || accepted <= finished/2 || res.ByStatus[casework.Completed] == 0 {
			t.Errorf("%d finished, %d accepted, by status %v: the cases' figures were not filled", finished, accepted, res.ByStatus)
		}
	})
}

// BenchmarkBuild measures computing cases without writing them, one
// batch of 500 per operation on one goroutine: what each core does for
// the writers in BenchmarkGenerate.
func BenchmarkBuild(b *testing.B) {
	db := storetest.SQLite(b)
	f := setup(b, db, time.Now())
	generate.BuildOnly(b, context.Background(), f.deps, generate.Options{Batch: 500, Seed: 2, Days: 60, Mix: generate.DefaultMix, Now: time.Now()})
}
