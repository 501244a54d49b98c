package search

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestAgainstBruteForce compares matching, Total and order with a plain
// scan, over names made of a few characters so that repeated and
// non-adjacent pairs (登记变更登记 for 记变更登) are everywhere.
func TestAgainstBruteForce(t *testing.T) {
	alphabet := []rune("登记变更许可证")
	rng := rand.New(rand.NewPCG(1, 2))
	str := func(n int) string {
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(rs)
	}
	docs := make([]Doc, 400)
	for i := range docs {
		nameLen := 1 + rng.IntN(12)
		if i%50 == 0 {
			nameLen = 300 // positions past what unit lists record
		}
		d := Doc{ID: int64(i + 1), Name: str(nameLen), Popularity: rng.IntN(20)}
		for range rng.IntN(3) {
			d.Aliases = append(d.Aliases, str(1+rng.IntN(5)))
		}
		d.Text = str(1+rng.IntN(8)) + "，" + str(1+rng.IntN(8)) + " " + str(1+rng.IntN(8))
		docs[i] = d
	}
	ix := Build(docs, Options{})

	for range 3000 {
		q := str(1 + rng.IntN(6))
		type exp struct {
			d   *Doc
			pin bool
			w   int
			via string
		}
		var want []exp
		for i := range docs {
			d := &docs[i]
			e := exp{d: d, pin: d.Name == q}
			switch {
			case strings.Contains(d.Name, q):
				e.w = wName
			case slices.ContainsFunc(d.Aliases, func(a string) bool { return strings.Contains(a, q) }):
				e.w, e.via = wAlias, "alias"
			case len([]rune(q)) >= 2 && slices.ContainsFunc(strings.FieldsFunc(d.Text, func(r rune) bool { return r == '，' || r == ' ' }), func(s string) bool { return strings.Contains(s, q) }):
				e.w = wText
			default:
				continue
			}
			want = append(want, e)
		}
		slices.SortStableFunc(want, func(a, b exp) int {
			if a.pin != b.pin {
				if a.pin {
					return -1
				}
				return 1
			}
			if c := cmp.Compare(b.w, a.w); c != 0 {
				return c
			}
			if c := cmp.Compare(b.d.Popularity, a.d.Popularity); c != 0 {
				return c
			}
			return cmp.Compare(a.d.ID, b.d.ID)
		})

		r := ix.Search(Query{Text: q, Limit: MaxLimit})
		if r.Corrected != "" {
			if len(want) > 0 {
				t.Fatalf("%s: corrected to %s though it matches %d", q, r.Corrected, len(want))
			}
			continue
		}
		if r.Total != len(want) || len(r.Hits) != len(want) {
			t.Fatalf("%s: total %d, %d hits, want %d", q, r.Total, len(r.Hits), len(want))
		}
		for i, h := range r.Hits {
			if h.ID != want[i].d.ID || h.Via != want[i].via {
				t.Fatalf("%s: hit %d is %d via %q, want %d (%s) via %q", q, i, h.ID, h.Via, want[i].d.ID, want[i].d.Name, want[i].via)
			}
		}
	}
}

// TestGeneratedCatalog checks behaviour at scale, on the catalog the
// benchmarks use (smaller, to keep -race quick).
func TestGeneratedCatalog(t *testing.T) {
	docs := genCatalog(20000)
	ix := Build(docs, Options{Synonyms: genSynonyms})
	if ix.Len() != len(docs) {
		t.Fatalf("Len %d", ix.Len())
	}
	byID := map[int64]*Doc{}
	for i := range docs {
		byID[docs[i].ID] = &docs[i]
	}

	// A very common word: Total is exact, the page is the most popular
	// of the name matches.
	n, maxPop := 0, 0
	for _, d := range docs {
		if strings.Contains(d.Name, "登记") || strings.Contains(d.Text, "登记") || slices.ContainsFunc(d.Aliases, func(a string) bool { return strings.Contains(a, "登记") }) {
			n++
		}
		if strings.Contains(d.Name, "登记") {
			maxPop = max(maxPop, d.Popularity)
		}
	}
	r := ix.Search(Query{Text: "登记"})
	if r.Total != n || n < 5000 {
		t.Errorf("登记: total %d, want %d", r.Total, n)
	}
	if d := byID[r.Hits[0].ID]; d.Popularity != maxPop || !strings.Contains(d.Name, "登记") {
		t.Errorf("登记: first %s (%d), want popularity %d", d.Name, d.Popularity, maxPop)
	}

	for _, c := range []struct{ q, corrected, in string }{
		{"营业执找", "营业执照", "营业执照"},
		{"居住正", "居住证", "居住证"},
		{"施工许年", "施工许可", "施工许可"},
	} {
		r := ix.Search(Query{Text: c.q})
		if r.Corrected != c.corrected || len(r.Hits) == 0 {
			t.Errorf("%s: %q, %d hits", c.q, r.Corrected, len(r.Hits))
			continue
		}
		d := byID[r.Hits[0].ID]
		if !strings.Contains(d.Name, c.in) && !slices.Contains(d.Aliases, c.in) || r.Hits[0].Via != "typo" {
			t.Errorf("%s: first hit %s %v via %s", c.q, d.Name, d.Aliases, r.Hits[0].Via)
		}
	}

	for _, c := range []struct{ q, word string }{{"shebao", "社保"}, {"sb", "社保"}, {"yyzz", "营业执照"}, {"dibao", "低保"}} {
		r := ix.Search(Query{Text: c.q})
		if len(r.Hits) == 0 {
			t.Errorf("%s: no hits", c.q)
			continue
		}
		// Every hit has the word (or a synonym of it) in its name or
		// starts an alias with it, and the alias matches are there.
		words := append([]string{c.word}, genSynonyms[c.word]...)
		aliased := false
		for _, h := range ix.Search(Query{Text: c.q, Limit: MaxLimit}).Hits {
			d := byID[h.ID]
			inName := slices.ContainsFunc(words, func(w string) bool { return strings.Contains(d.Name, w) })
			inAlias := slices.ContainsFunc(d.Aliases, func(a string) bool { return strings.HasPrefix(a, c.word) })
			if !inName && !inAlias || h.Via != "pinyin" {
				t.Errorf("%s: hit %s %v via %s", c.q, d.Name, d.Aliases, h.Via)
				break
			}
			aliased = aliased || inAlias
		}
		if !aliased {
			t.Errorf("%s: no item with the alias %s", c.q, c.word)
		}
	}

	// Browsing by tags counts exactly.
	want := 0
	for _, d := range docs {
		if slices.Contains(d.Tags, "dept:d07") && slices.Contains(d.Tags, "depth:4") {
			want++
		}
	}
	if r := ix.Search(Query{Tags: []string{"dept:d07", "depth:4"}}); r.Total != want || want == 0 {
		t.Errorf("tags: %d, want %d", r.Total, want)
	}
}
