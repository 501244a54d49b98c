package search

import (
	"fmt"
	"reflect"
	"testing"
)

// uncached runs q without the result cache: the engine's own cost, which
// the benchmarks measure.
func (ix *Index) uncached(q Query) Result {
	off, lim := bounds(q)
	return ix.search(q, off, lim)
}

// A cached result is the one the engine gives, for every field of the
// query that changes it, asked in any order; the cache stays bounded.
func TestResultCache(t *testing.T) {
	ix := Build(testDocs, Options{Synonyms: map[string][]string{"社保": {"社会保障"}}})
	queries := []Query{
		{Text: "营业执照"},
		{Text: "营业执照", Offset: 1},
		{Text: "营业执照", Limit: 1},
		{Text: "营业执照", Collapse: true},
		{Text: "营业执照", Tags: []string{"theme:注销"}},
		{Text: "营业执照", Tags: []string{"theme:设立变更"}},
		{Text: "营业执照", Tags: []string{"theme:设立变更", "depth:4"}},
		{Text: "营业执", Tags: []string{"theme:设立变更"}},
		{Text: "yingyezhizhao"},
		{Text: "社保"},
		{Text: "营页执照"}, // a typo, corrected
		{Tags: []string{"dept:rsj"}},
		{},
	}
	for round := range 3 {
		for i, q := range queries {
			if round == 1 {
				q = queries[len(queries)-1-i]
			}
			got, want := ix.Search(q), ix.uncached(q)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, %+v: cached %+v, engine %+v", round, q, got, want)
			}
		}
	}
	for i := range cacheSize + 10 {
		ix.Search(Query{Text: fmt.Sprint("查询", i)})
	}
	if n := len(ix.results.m); n > cacheSize {
		t.Fatalf("%d results kept, at most %d", n, cacheSize)
	}
}
