package web

import (
	"html/template"
	"sync"
)

// resultCache keeps the search page's results as rendered (the list, the
// counts, the pager, the department and region matches), so that a
// popular search costs about what the home page does (issue 18.4): its
// template was most of the page's cost. A search's results depend only on
// the search (words, filters, page), the place the person chose and what
// they were worked out from: the catalog's index and the region
// directory. The entries are kept for one pair of their versions; the
// first rendering at newer versions drops every older entry, and one
// rendered at older versions is not kept. Nothing of the person who asks
// (their name, their roles, 关怀模式) is in the results: the layout
// around them is rendered for each request.
type resultCache struct {
	mu   sync.Mutex
	at   [2]int64 // the catalog's and the directory's versions of the entries
	m    map[string]template.HTML
	size int // bytes held
	max  int
}

// resultCacheBytes bounds the cache: a page of results is some
// kilobytes (with the place chooser, tens), so this holds about a
// thousand searches.
const resultCacheBytes = 8 << 20

func newResultCache(max int) *resultCache {
	return &resultCache{m: map[string]template.HTML{}, max: max}
}

func (c *resultCache) get(at [2]int64, key string) (template.HTML, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at != c.at {
		return "", false
	}
	h, ok := c.m[key]
	return h, ok
}

func (c *resultCache) put(at [2]int64, key string, h template.HTML) {
	n := len(key) + len(h)
	if n > c.max/8 { // an outsized page is not worth the room
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case at == c.at:
	case at[0] >= c.at[0] && at[1] >= c.at[1]:
		c.at, c.m, c.size = at, map[string]template.HTML{}, 0
	default:
		return
	}
	if old, ok := c.m[key]; ok {
		c.size -= len(key) + len(old)
		delete(c.m, key)
	}
	// Evict at random (Go's map order): popular searches come back soon
	// and are kept again; no bookkeeping per hit.
	for k, v := range c.m {
		if c.size+n <= c.max {
			break
		}
		c.size -= len(k) + len(v)
		delete(c.m, k)
	}
	c.m[key] = h
	c.size += n
}
