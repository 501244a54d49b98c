package staging_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// noisyPDF is a PDF of size bytes that does not compress (as scans and
// photos do not), distinct per seed.
func noisyPDF(seed uint64, size int) []byte {
	b := make([]byte, size)
	copy(b, "%PDF-1.7\n")
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24), byte(seed >> 32)})
	r.Read(b[9:])
	return b
}

// stage writes n files of size bytes to the stage, ten to a transaction
// as ten applications' files would be.
func stage(tb testing.TB, db *store.DB, first, n, size int) {
	tb.Helper()
	ctx := context.Background()
	for i := 0; i < n; i += 10 {
		var files []staging.File
		for j := i; j < min(i+10, n); j++ {
			data := noisyPDF(uint64(first+j), size)
			obj, err := filestore.Inspect(data, staging.MaxBytes)
			if err != nil {
				tb.Fatal(err)
			}
			files = append(files, staging.File{Object: obj, Data: data})
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return staging.Stage(ctx, tx, time.Now(), files...) }); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkDrain is the mover's throughput: 200 staged files of 200 KB
// (the applications carry two) moved into a local file store,
// fsynced there, and deleted from the stage. files/s is the figure in
// docs/PERFORMANCE.md.
//
//	ZWFW_TEST_POSTGRES=… go test -run '^$' -bench BenchmarkDrain -benchtime 5x -count 3 ./internal/staging/
func BenchmarkDrain(b *testing.B) {
	const files, size = 200, 200 << 10
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db := storetest.SQLite(b)
			if name == "postgres" {
				db = storetest.Postgres(b)
			}
			local, err := filestore.NewLocal(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			s := staging.New(db, local)
			ctx := context.Background()
			var moved int
			var took time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				stage(b, db, i*files, files, size)
				b.StartTimer()
				start := time.Now()
				for {
					n, err := s.Drain(ctx, 200)
					if err != nil {
						b.Fatal(err)
					}
					if n == 0 {
						break
					}
					moved += n
				}
				took += time.Since(start)
			}
			b.ReportMetric(float64(moved)/took.Seconds(), "files/s")
		})
	}
}
