package catalog_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/catalog/catalogtest"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func seedCatalog(tb testing.TB, db *store.DB, s *catalog.Store, n int) catalog.Item {
	it := goodItem()
	catalogtest.Seed(tb, db, s, &it, n)
	return it
}

// BenchmarkSearcherStart is an instance starting over a catalog of
// 100 000 published items (ZWFW_BENCH_ITEMS to change), and its rebuild
// after one publication on another instance. Issue 18's goals: start
// < 2 s, memory < 200 MB. start-s is NewSearcher; live-MB the heap the
// searcher keeps (after a GC); alloc-MB what its start allocated in all;
// refresh-ms the rebuild after one item's new version is published;
// full-decode-s, in the same run, is decoding every published guide in
// full (AllPublished), what the start did before issue 18. The -cpu-
// figures are the process's CPU time over the same spans (for SQLite the
// database's work included): on a shared machine they move less than the
// wall times.
func BenchmarkSearcherStart(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("ZWFW_BENCH_ITEMS")); err == nil && v > 1 {
		n = v
	}
	for _, c := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(c.name, func(b *testing.B) {
			db := c.open(b)
			ctx := context.Background()
			s, _ := newStore(b, db)
			first := seedCatalog(b, db, s, n)
			log := slog.New(slog.DiscardHandler)
			var start, refresh, full, startCPU, refreshCPU, fullCPU time.Duration
			var live, alloc, rss, grown, peak float64
			for b.Loop() {
				var m0, m1, m2 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m0)
				// The process's resident memory: the seed's garbage given back
				// to the system first, and the peak counted from here.
				debug.FreeOSMemory()
				resetPeakRSS(b)
				rss0 := residentMB(b, "VmRSS")
				t0, c0 := time.Now(), storetest.ProcessCPU()
				sr, err := catalog.NewSearcher(ctx, catalog.NewStore(db, region.NewStore(db), clock.System{}), log)
				if err != nil {
					b.Fatal(err)
				}
				start, startCPU = start+time.Since(t0), startCPU+storetest.ProcessCPU()-c0
				runtime.ReadMemStats(&m1)
				runtime.GC()
				runtime.ReadMemStats(&m2)
				live += float64(m2.HeapAlloc-m0.HeapAlloc) / (1 << 20)
				peak += residentMB(b, "VmHWM")
				debug.FreeOSMemory()
				rss1 := residentMB(b, "VmRSS")
				rss, grown = rss+rss1, grown+rss1-rss0
				alloc += float64(m1.TotalAlloc-m0.TotalAlloc) / (1 << 20)
				if sr.Len() != n {
					b.Fatalf("%d items indexed, want %d", sr.Len(), n)
				}

				next := first
				next.Name = fmt.Sprintf("个体工商户开业登记（第%d次）", b.N)
				if _, err := s.SaveDraft(ctx, editor("甲"), audit.Meta{}, &next); err != nil {
					b.Fatal(err)
				}
				if err := review(ctx, s, next.ID, next.Version); err != nil {
					b.Fatal(err)
				}
				t1, c1 := time.Now(), storetest.ProcessCPU()
				if ok, err := sr.Refresh(ctx); err != nil || !ok || catalog.Decoded(sr) != 1 {
					b.Fatalf("refresh: %v %v, decoded %d", ok, err, catalog.Decoded(sr))
				}
				refresh, refreshCPU = refresh+time.Since(t1), refreshCPU+storetest.ProcessCPU()-c1

				t2, c2 := time.Now(), storetest.ProcessCPU()
				if all, err := s.AllPublished(ctx); err != nil || len(all) != n {
					b.Fatalf("full decode: %d items, %v", len(all), err)
				}
				full, fullCPU = full+time.Since(t2), fullCPU+storetest.ProcessCPU()-c2
				runtime.KeepAlive(sr)
			}
			k := float64(b.N)
			b.ReportMetric(start.Seconds()/k, "start-s")
			b.ReportMetric(live/k, "live-MB")
			b.ReportMetric(alloc/k, "alloc-MB")
			b.ReportMetric(rss/k, "rss-MB")
			b.ReportMetric(grown/k, "rss-grown-MB")
			b.ReportMetric(peak/k, "peak-rss-MB")
			b.ReportMetric(float64(refresh.Milliseconds())/k, "refresh-ms")
			b.ReportMetric(full.Seconds()/k, "full-decode-s")
			b.ReportMetric(startCPU.Seconds()/k, "start-cpu-s")
			b.ReportMetric(float64(refreshCPU.Milliseconds())/k, "refresh-cpu-ms")
			b.ReportMetric(fullCPU.Seconds()/k, "full-decode-cpu-s")
		})
	}
}

// residentMB reads a memory figure of this process from /proc/self/status:
// VmRSS (resident now) or VmHWM (the peak since resetPeakRSS).
func residentMB(b *testing.B, field string) float64 {
	b.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatalf("%s: %q", field, line)
			}
			return kb / 1024
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// resetPeakRSS starts VmHWM again from the resident memory now (Linux:
// "5" to clear_refs).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak: %v", err)
	}
}

// BenchmarkSearchGrouped is the search results page's one call into the
// catalog (one result per service) for a word that about one item in ten
// holds, over 100 000 published items (ZWFW_BENCH_ITEMS to change); the
// index is in memory, so one database is enough.
func BenchmarkSearchGrouped(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("ZWFW_BENCH_ITEMS")); err == nil && v > 1 {
		n = v
	}
	db := storetest.SQLite(b)
	s, _ := newStore(b, db)
	seedCatalog(b, db, s, n)
	sr, err := catalog.NewSearcher(context.Background(), s, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"营业执照", "登记"} {
		b.Run(q, func(b *testing.B) {
			var r catalog.GroupedResults
			for b.Loop() {
				r = sr.SearchGrouped(q, catalog.Filter{}, "410411001000", 0, 20)
			}
			b.ReportMetric(float64(r.Total), "services")
		})
	}
}
