package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// seedCatalog publishes n items through the store's own rows: one item is
// saved and published the ordinary way, then n-1 copies of its guide with
// other names and codes are written in batches (the ordinary way would
// take minutes at 100 000).
func seedCatalog(tb testing.TB, db *store.DB, s *catalog.Store, n int) catalog.Item {
	tb.Helper()
	ctx := context.Background()
	it := goodItem()
	who := editor("甲")
	if _, err := s.SaveDraft(ctx, who, audit.Meta{}, &it); err != nil {
		tb.Fatal(err)
	}
	if err := s.Publish(ctx, who, audit.Meta{}, it.ID, it.Version); err != nil {
		tb.Fatal(err)
	}
	subjects := []string{"个体工商户", "食品经营", "建设工程", "城乡居民养老保险", "最低生活保障", "机动车", "居住证", "出版物经营", "道路运输", "药品零售"}
	actions := []string{"设立登记", "变更登记", "注销登记", "许可", "审批", "备案", "核发", "延续", "补办", "查询"}
	now := time.Now()
	const batch = 200
	for from := 1; from < n; from += batch {
		err := db.Tx(ctx, func(tx *store.Tx) error {
			var items, versions []string
			var iargs, vargs []any
			for i := from; i < min(from+batch, n); i++ {
				c := it
				c.ID = int64(it.ID) + int64(i)
				c.Name = fmt.Sprintf("%s%s（%d）", subjects[i%len(subjects)], actions[i/len(subjects)%len(actions)], i)
				c.ImplCode = fmt.Sprintf("%sB%d", it.ImplCode, i)
				c.Aliases = []string{subjects[i%len(subjects)]}
				body, err := json.Marshal(c)
				if err != nil {
					return err
				}
				entry, err := json.Marshal(catalog.EntryOf(c))
				if err != nil {
					return err
				}
				items = append(items, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'published', 1, 1, ?, ?, ?, ?, ?)")
				iargs = append(iargs, c.ID, c.ImplCode, c.BaseCode, c.Name, c.Type, c.Level, c.DepartmentID, c.RegionCode, c.Depth,
					c.CaseKind, c.Visits, i%1000, string(entry), now, now, now)
				versions = append(versions, "(?, 1, ?, '甲', ?)")
				vargs = append(vargs, c.ID, string(body), now)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO items (id, impl_code, base_code, name, type, level, department_id, region_code, depth,
				case_kind, visits, status, published_version, latest_version, popularity, search_entry, created_at, updated_at, published_at) VALUES `+
				strings.Join(items, ", "), iargs...); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO item_versions (item_id, version, body, created_by, created_at) VALUES `+
				strings.Join(versions, ", "), vargs...)
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return it
}

// BenchmarkSearcherStart is an instance starting over a catalog of
// 100 000 published items (ZWFW_BENCH_ITEMS to change), and its rebuild
// after one publication on another instance. Issue 18's goals: start
// < 2 s, memory < 200 MB. start-s is NewSearcher; live-MB the heap the
// searcher keeps (after a GC); alloc-MB what its start allocated in all;
// refresh-ms the rebuild after one item's new version is published;
// full-decode-s, in the same run, is decoding every published guide in
// full (AllPublished), what the start did before issue 18.
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
			var start, refresh, full time.Duration
			var live, alloc float64
			for b.Loop() {
				var m0, m1, m2 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m0)
				t0 := time.Now()
				sr, err := catalog.NewSearcher(ctx, catalog.NewStore(db, region.NewStore(db), clock.System{}), log)
				if err != nil {
					b.Fatal(err)
				}
				start += time.Since(t0)
				runtime.ReadMemStats(&m1)
				runtime.GC()
				runtime.ReadMemStats(&m2)
				live += float64(m2.HeapAlloc-m0.HeapAlloc) / (1 << 20)
				alloc += float64(m1.TotalAlloc-m0.TotalAlloc) / (1 << 20)
				if sr.Len() != n {
					b.Fatalf("%d items indexed, want %d", sr.Len(), n)
				}

				next := first
				next.Name = fmt.Sprintf("个体工商户开业登记（第%d次）", b.N)
				if _, err := s.SaveDraft(ctx, editor("甲"), audit.Meta{}, &next); err != nil {
					b.Fatal(err)
				}
				if err := s.Publish(ctx, editor("甲"), audit.Meta{}, next.ID, next.Version); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if ok, err := sr.Refresh(ctx); err != nil || !ok || catalog.Decoded(sr) != 1 {
					b.Fatalf("refresh: %v %v, decoded %d", ok, err, catalog.Decoded(sr))
				}
				refresh += time.Since(t1)

				t2 := time.Now()
				if all, err := s.AllPublished(ctx); err != nil || len(all) != n {
					b.Fatalf("full decode: %d items, %v", len(all), err)
				}
				full += time.Since(t2)
				runtime.KeepAlive(sr)
			}
			k := float64(b.N)
			b.ReportMetric(start.Seconds()/k, "start-s")
			b.ReportMetric(live/k, "live-MB")
			b.ReportMetric(alloc/k, "alloc-MB")
			b.ReportMetric(float64(refresh.Milliseconds())/k, "refresh-ms")
			b.ReportMetric(full.Seconds()/k, "full-decode-s")
		})
	}
}
