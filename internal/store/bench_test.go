package store_test

// Benchmarks of the durable write path and of a point read, on SQLite with
// synchronous=FULL and NORMAL, and on PostgreSQL when ZWFW_TEST_POSTGRES is
// set. They run only with -bench; the figures and the commands that produce
// them are in docs/PERFORMANCE.md.
//
//	go test -run='^$' -bench=. ./internal/store
//
// Sub-benchmarks are named database[/sync=MODE]/serial|parallel, so that
// benchstat can put FULL and NORMAL side by side:
//
//	benchstat -filter .name:WriteTx -col /sync out.txt
//
// Besides ns/op each reports rows/s (or reads/s) and the median and 99th
// percentile latency of a single operation (p50-µs, p99-µs).

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// benchParallelism multiplies GOMAXPROCS to give the goroutines of the
// parallel benchmarks: a server answers many requests at once, more than it
// has cores, and most of their time is spent waiting on the disk.
const benchParallelism = 8

// benchPayload is about the size of a small case submission's form data.
var benchPayload = `{"form":"` + strings.Repeat("办事材料", 40) + `"}`

type benchDB struct {
	name string
	open func(b *testing.B) *store.DB
}

func sqliteBench(sync string) benchDB {
	return benchDB{"sqlite/sync=" + sync, func(b *testing.B) *store.DB {
		return benchOpen(b, storetest.SQLiteURL(b), store.Options{SQLiteSynchronous: sync})
	}}
}

var postgresBench = benchDB{"postgres", func(b *testing.B) *store.DB {
	return benchOpen(b, storetest.PostgresURL(b), store.Options{})
}}

// benchOpen opens dsn and creates the benchmark table; no migrations are
// needed for it.
func benchOpen(b *testing.B, dsn string, opt store.Options) *store.DB {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, opt)
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	b.Cleanup(func() { db.Close() })
	id := `id INTEGER PRIMARY KEY`
	if db.Dialect == store.Postgres {
		id = `id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY`
	}
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE bench_rows (
	`+id+`,
	payload    TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
)`)
		return err
	}); err != nil {
		b.Fatalf("create table: %v", err)
	}
	return db
}

// insertOne is the operation measured: one row, one transaction, committed
// (and, where the database is configured so, on disk) when it returns.
func insertOne(ctx context.Context, db *store.DB) error {
	return db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO bench_rows (payload) VALUES (?)`, benchPayload)
		return err
	})
}

// latencies collects the duration of every operation of a benchmark run,
// from any number of goroutines, and reports throughput and percentiles.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d...)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B, unit string) {
	b.Helper()
	el := b.Elapsed()
	if len(l.all) == 0 || el <= 0 {
		return
	}
	b.ReportMetric(float64(len(l.all))/el.Seconds(), unit+"/s")
	slices.Sort(l.all)
	pct := func(p float64) float64 {
		i := min(len(l.all)-1, int(p*float64(len(l.all))))
		return float64(l.all[i]) / float64(time.Microsecond)
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkWriteTx measures the durable single-row write: BEGIN (IMMEDIATE
// on SQLite), one INSERT, COMMIT. "serial" is one caller after another, so
// ns/op is the latency of one acknowledged write; "parallel" has
// benchParallelism×GOMAXPROCS callers at once, so rows/s is the throughput
// of the database under concurrent requests.
func BenchmarkWriteTx(b *testing.B) {
	for _, bd := range []benchDB{sqliteBench("FULL"), sqliteBench("NORMAL"), postgresBench} {
		b.Run(bd.name, func(b *testing.B) {
			db := bd.open(b)
			ctx := context.Background()
			b.Run("serial", func(b *testing.B) {
				var lat latencies
				d := make([]time.Duration, 0, 1024)
				for b.Loop() {
					t0 := time.Now()
					if err := insertOne(ctx, db); err != nil {
						b.Fatal(err)
					}
					d = append(d, time.Since(t0))
				}
				lat.add(d)
				lat.report(b, "rows")
			})
			b.Run("parallel", func(b *testing.B) {
				var lat latencies
				b.SetParallelism(benchParallelism)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					d := make([]time.Duration, 0, 256)
					for pb.Next() {
						t0 := time.Now()
						if err := insertOne(ctx, db); err != nil {
							b.Error(err)
							return
						}
						d = append(d, time.Since(t0))
					}
					lat.add(d)
				})
				b.StopTimer()
				if b.Failed() {
					b.FailNow()
				}
				lat.report(b, "rows")
			})
		})
	}
}

// benchReadRows is the number of rows the read benchmark looks up among.
const benchReadRows = 10_000

// BenchmarkReadByID measures a point read by primary key through the read
// pool, the shape of looking up one case.
func BenchmarkReadByID(b *testing.B) {
	for _, bd := range []benchDB{sqliteBench("FULL"), postgresBench} {
		b.Run(bd.name, func(b *testing.B) {
			db := bd.open(b)
			ctx := context.Background()
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				for range benchReadRows {
					if _, err := tx.Exec(ctx, `INSERT INTO bench_rows (payload) VALUES (?)`, benchPayload); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatalf("fill table: %v", err)
			}
			read := func(r *rand.Rand) error {
				id := r.Int64N(benchReadRows) + 1
				var payload string
				var created time.Time
				if err := db.Read().QueryRow(ctx, `SELECT payload, created_at FROM bench_rows WHERE id = ?`, id).Scan(&payload, &created); err != nil {
					return err
				}
				if len(payload) != len(benchPayload) || created.IsZero() {
					b.Errorf("row %d: payload of %d bytes, created_at %v", id, len(payload), created)
				}
				return nil
			}
			b.Run("serial", func(b *testing.B) {
				var lat latencies
				d := make([]time.Duration, 0, 1024)
				r := rand.New(rand.NewPCG(1, 2))
				for b.Loop() {
					t0 := time.Now()
					if err := read(r); err != nil {
						b.Fatal(err)
					}
					d = append(d, time.Since(t0))
				}
				lat.add(d)
				lat.report(b, "reads")
			})
			b.Run("parallel", func(b *testing.B) {
				var lat latencies
				b.SetParallelism(benchParallelism)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
					d := make([]time.Duration, 0, 1024)
					for pb.Next() {
						t0 := time.Now()
						if err := read(r); err != nil {
							b.Error(err)
							return
						}
						d = append(d, time.Since(t0))
					}
					lat.add(d)
				})
				b.StopTimer()
				if b.Failed() {
					b.FailNow()
				}
				lat.report(b, "reads")
			})
		})
	}
}
