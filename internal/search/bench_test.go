package search

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const benchDocs = 100_000

// benchIndex is built once for the query benchmarks. The generated
// documents are not kept, so that the heap the garbage collector marks is
// the index's, as in a server where the catalog's items live elsewhere.
var benchIndex = sync.OnceValue(func() *Index {
	return Build(genCatalog(benchDocs), Options{Synonyms: genSynonyms})
})

// BenchmarkSearch runs the query mix over 100,000 items and reports the
// latency percentiles of single queries (p50-µs, p99-µs, max-µs); ns/op is
// one pass over the whole mix. Run it with GOMAXPROCS=1: the targets are
// for one core.
func BenchmarkSearch(b *testing.B) {
	ix := benchIndex()
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		for _, q := range benchQueries {
			t0 := time.Now()
			ix.uncached(q)
			lat = append(lat, time.Since(t0))
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds())/1e3, "max-µs")
}

// BenchmarkQuery times each query of the mix alone, to see which ones cost.
func BenchmarkQuery(b *testing.B) {
	ix := benchIndex()
	for _, q := range benchQueries {
		name := q.Text
		if name == "" {
			name = "tags"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ix.uncached(q)
			}
		})
	}
}

// BenchmarkBuild builds the index of 100,000 items and reports the heap it
// keeps (index-MB).
func BenchmarkBuild(b *testing.B) {
	docs := genCatalog(benchDocs)
	var ix *Index
	b.ReportAllocs()
	for b.Loop() {
		ix = Build(docs, Options{Synonyms: genSynonyms})
	}
	b.StopTimer()
	ix = nil
	heap := func() int64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	before := heap()
	ix = Build(docs, Options{Synonyms: genSynonyms})
	after := heap()
	b.ReportMetric(float64(after-before)/(1<<20), "index-MB")
	runtime.KeepAlive(ix)
	runtime.KeepAlive(docs)
}

// hostileQueries are inputs that try to be slow: long pinyin-like strings,
// repeated words, many single characters, long names with one wrong
// character.
var hostileQueries = []Query{
	{Text: strings.Repeat("a", 60)},
	{Text: strings.Repeat("shi", 20)},
	{Text: strings.Repeat("zhang", 10)},
	{Text: strings.Repeat("登记", 30)},
	{Text: "登 记 许 可 证 申 请 表 核 发"},
	{Text: "设立登记 变更登记 注销登记 许可 审批 备案 核发 认定"},
	{Text: "城乡居民养老保险待遇申令"},
	{Text: strings.Repeat("证", 50)},
	{Text: "ｓｈｅｂａｏｚｈｅｎｇｍｉｎｇｋａｉｊｕ"},
	{Text: "登记", Offset: 30000, Limit: MaxLimit},
}

// BenchmarkHostile reports the median time of the slowest of
// hostileQueries (worst-p50-µs), a figure that scheduling noise on a
// shared machine does not move much, and the slowest single run (max-µs).
func BenchmarkHostile(b *testing.B) {
	ix := benchIndex()
	lat := make([][]time.Duration, len(hostileQueries))
	for b.Loop() {
		for i, q := range hostileQueries {
			t0 := time.Now()
			ix.uncached(q)
			lat[i] = append(lat[i], time.Since(t0))
		}
	}
	var worst, longest time.Duration
	for _, l := range lat {
		slices.Sort(l)
		worst = max(worst, l[len(l)/2])
		longest = max(longest, l[len(l)-1])
	}
	b.ReportMetric(float64(worst.Nanoseconds())/1e3, "worst-p50-µs")
	b.ReportMetric(float64(longest.Nanoseconds())/1e3, "max-µs")
}
