package web

import (
	"html/template"
	"strings"
	"testing"
)

// Entries are kept for one pair of versions: newer versions drop them,
// results rendered at older ones are not kept, and the bytes stay within
// the bound.
func TestResultCacheVersionsAndBound(t *testing.T) {
	t.Parallel()
	c := newResultCache(16 << 10)
	page := template.HTML(strings.Repeat("x", 500))
	c.put([2]int64{3, 7}, "a", page)
	if h, ok := c.get([2]int64{3, 7}, "a"); !ok || h != page {
		t.Fatal("an entry is not kept")
	}
	for _, at := range [][2]int64{{4, 7}, {3, 8}, {2, 7}} {
		if _, ok := c.get(at, "a"); ok {
			t.Errorf("an entry of {3 7} is served at %v", at)
		}
	}
	c.put([2]int64{2, 9}, "b", page) // older catalog, newer directory
	c.put([2]int64{3, 6}, "c", page)
	if _, ok := c.get([2]int64{3, 7}, "a"); !ok || len(c.m) != 1 {
		t.Errorf("results rendered at older versions are kept: %d entries", len(c.m))
	}
	c.put([2]int64{4, 7}, "d", page)
	if _, ok := c.get([2]int64{4, 7}, "d"); !ok || len(c.m) != 1 {
		t.Errorf("newer versions keep the older entries: %d entries", len(c.m))
	}
	for i := range 100 {
		c.put([2]int64{4, 7}, strings.Repeat("k", i+1), page)
		if c.size > c.max {
			t.Fatalf("%d bytes kept, bound %d", c.size, c.max)
		}
	}
	if len(c.m) >= 100 || len(c.m) < 16 {
		t.Errorf("%d entries of 100 kept in %d bytes", len(c.m), c.max)
	}
	c.put([2]int64{4, 7}, "huge", template.HTML(strings.Repeat("y", c.max/4)))
	if _, ok := c.get([2]int64{4, 7}, "huge"); ok {
		t.Error("an outsized page is kept")
	}
}
