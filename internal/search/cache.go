package search

import (
	"strconv"
	"strings"
	"sync"
)

// An index never changes once built, so a query's result is the same
// every time it is asked of it. A portal's searches are mostly a few
// popular words (营业执照, 社保, 户口), and a word in every item's text
// makes each search pass over every document to count the services it
// matches (a third of a millisecond at 100,000 items): the index keeps
// the results of its latest queries, and a new index (a catalog change)
// starts with none.
type resultCache struct {
	mu sync.Mutex
	m  map[string]Result
}

// cacheSize bounds the results kept: a result is a page of hits, a few
// kilobytes, so a full cache is some megabytes.
const cacheSize = 1024

func (rc *resultCache) get(key string) (Result, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	r, ok := rc.m[key]
	return r, ok
}

func (rc *resultCache) put(key string, r Result) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.m == nil {
		rc.m = make(map[string]Result, cacheSize)
	}
	if len(rc.m) >= cacheSize {
		// Evict one at random (Go's map order): the popular queries come
		// back soon and are kept again; no bookkeeping per hit.
		for k := range rc.m {
			delete(rc.m, k)
			break
		}
	}
	rc.m[key] = r
}

// cacheKey spells q exactly: every field that changes the result.
func cacheKey(q Query, off, lim int) string {
	var b strings.Builder
	b.WriteString(q.Text)
	for _, t := range q.Tags {
		b.WriteByte(0)
		b.WriteString(t)
	}
	b.WriteByte(1)
	b.WriteString(strconv.Itoa(off))
	b.WriteByte(',')
	b.WriteString(strconv.Itoa(lim))
	if q.Collapse {
		b.WriteString(",c")
	}
	return b.String()
}
