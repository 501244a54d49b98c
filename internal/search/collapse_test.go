package search

import (
	"fmt"
	"slices"
	"testing"
)

// TestCollapse checks collapsed queries against grouping the whole ranked
// list by hand: the same groups in the same order, each shown by its
// best-ranked document with the others listed, totals and pages in groups.
func TestCollapse(t *testing.T) {
	docs := genCatalog(3000)
	// Groups of varied sizes: names repeat in the generated catalog (the
	// same service in several places), and some documents have none.
	for i := range docs {
		if i%7 != 0 {
			docs[i].Group = docs[i].Name
		}
	}
	ix := Build(docs, Options{Synonyms: testSynonyms})
	groupOf := map[int64]string{}
	pop := map[int64]int{}
	for d := range ix.n {
		id := ix.docs[d].id
		pop[id] = d
		for _, doc := range docs {
			if doc.ID == id {
				groupOf[id] = doc.Group
				if doc.Group == "" {
					groupOf[id] = fmt.Sprint("#", id)
				}
				break
			}
		}
	}
	queries := append(slices.Clone(benchQueries), Query{}, Query{Text: "营业执找"})
	for _, q := range queries {
		full := q
		full.Offset, full.Limit = 0, MaxLimit
		var all []Hit
		for off := 0; ; off += MaxLimit {
			full.Offset = off
			r := ix.Search(full)
			all = append(all, r.Hits...)
			if len(r.Hits) < MaxLimit {
				break
			}
		}
		type group struct {
			first  Hit
			others []int64
		}
		var want []group
		at := map[string]int{}
		for _, h := range all {
			g := groupOf[h.ID]
			if i, ok := at[g]; ok {
				want[i].others = append(want[i].others, h.ID)
				continue
			}
			at[g] = len(want)
			want = append(want, group{first: h})
		}
		for _, w := range want {
			slices.SortFunc(w.others, func(a, b int64) int { return pop[a] - pop[b] })
		}
		for _, page := range [][2]int{{0, 20}, {20, 20}, {0, 1}, {len(want) - 3, 10}, {len(want), 5}} {
			c := q
			c.Offset, c.Limit, c.Collapse = max(page[0], 0), page[1], true
			r := ix.Search(c)
			name := fmt.Sprintf("%q %v offset %d", q.Text, q.Tags, c.Offset)
			if r.Total != len(want) {
				t.Fatalf("%s: total %d groups, want %d", name, r.Total, len(want))
			}
			end := min(c.Offset+c.Limit, len(want))
			if c.Offset >= end {
				if len(r.Hits) != 0 {
					t.Fatalf("%s: %d hits past the end", name, len(r.Hits))
				}
				continue
			}
			exp := want[c.Offset:end]
			if len(r.Hits) != len(exp) {
				t.Fatalf("%s: %d hits, want %d", name, len(r.Hits), len(exp))
			}
			for i, h := range r.Hits {
				if h.ID != exp[i].first.ID || h.Score != exp[i].first.Score || h.Via != exp[i].first.Via {
					t.Fatalf("%s: hit %d is %d (%v %q), want %d (%v %q)", name, i, h.ID, h.Score, h.Via, exp[i].first.ID, exp[i].first.Score, exp[i].first.Via)
				}
				if !slices.Equal(h.Others, exp[i].others) {
					t.Fatalf("%s: hit %d others %v, want %v", name, i, h.Others, exp[i].others)
				}
			}
		}
	}
}
