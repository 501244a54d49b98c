package search

import (
	"cmp"
	"hash/maphash"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"
)

// Query is one search.
type Query struct {
	Text          string
	Tags          []string // every tag must match; empty tags are ignored
	Offset, Limit int      // Limit 0 means DefaultLimit
	// Collapse gives one hit per group (Doc.Group): its best-ranked
	// matching document, with the others in Hit.Others. Offset, Limit
	// and Result.Total then count groups.
	Collapse bool
}

// Hit is one matching document.
type Hit struct {
	ID    int64
	Score float64
	// NameMarks are the rune ranges [start,end) of Name to highlight: where
	// the query, a synonym of it or the characters its pinyin spells occur
	// in Name. A document found through its alias alone has none unless
	// the alias occurs in its name.
	NameMarks [][2]int
	// Via says how the document matched, for the UI: "" (the words
	// themselves, in the name or the text), "alias", "pinyin", "synonym"
	// or "typo" (after Result.Corrected).
	Via string
	// Others are the IDs of the other matching documents of the hit's
	// group, most popular first (only when the query collapses).
	Others []int64
}

// Result is a page of hits.
type Result struct {
	Total     int // all matching documents, not only this page
	Hits      []Hit
	Corrected string // the query as corrected for a typo, or ""
}

// Paging bounds.
const (
	DefaultLimit = 20
	MaxLimit     = 1000
)

// Weights of the kinds of match. A document's score is the sum, over the
// words of the query, of the weight of the best way it matched that word,
// plus wExact when its whole name is the query, plus a fraction below 1
// that falls with its popularity rank. So the kind of match decides (name
// above alias above text; the words as typed above their synonyms or
// pinyin in the same field) and popularity orders equal matches.
const (
	wName        = 30
	wPinyinName  = 28
	wSynName     = 27
	wAlias       = 20
	wPinyinAlias = 19
	wSynAlias    = 18
	wText        = 10
	wSynText     = 9
	wExact       = 100
)

// maxCombos bounds the ranking of multi-word queries by kind of match (see
// rank); beyond it every match is scored one by one.
const maxCombos = 64

// level is the documents whose best match of one query word is of one kind.
// A word's levels are disjoint.
type level struct {
	w    int
	via  string
	bits bitset
}

// termEval is what one query word matches.
type termEval struct {
	levels []level // by weight, descending
	union  bitset
	marks  []mark // strings to highlight in names
}

type mark struct {
	s      string
	prefix bool // only at the start of the name
}

// Search runs q. It never panics on any input, and it allocates little
// beyond the hits it returns. The result is shared with later callers
// of the same query (see resultCache): read it, do not change it.
func (ix *Index) Search(q Query) Result {
	if ix == nil || ix.n == 0 {
		return Result{}
	}
	off, lim := bounds(q)
	key := cacheKey(q, off, lim)
	if r, ok := ix.results.get(key); ok {
		return r
	}
	r := ix.search(q, off, lim)
	ix.results.put(key, r)
	return r
}

// bounds is q's page: its offset and limit within the bounds.
func bounds(q Query) (off, lim int) {
	off, lim = max(q.Offset, 0), q.Limit
	if lim <= 0 {
		lim = DefaultLimit
	}
	return off, min(lim, MaxLimit)
}

// search runs q, not cached.
func (ix *Index) search(q Query, off, lim int) Result {
	c := ix.getCtx()
	defer ix.putCtx(c)
	filter, ok := ix.tagFilter(c, q.Tags)
	if !ok {
		return Result{}
	}
	terms := parseQuery(q.Text)
	if len(terms) == 0 {
		if q.Collapse {
			return ix.browseCollapsed(c, filter, off, lim)
		}
		return ix.browse(filter, off, lim)
	}
	res, empty := ix.run(c, terms, filter, off, lim, false, q.Collapse)
	if res.Total > 0 {
		return res
	}
	// Nothing matched in any way: try one wrong character.
	fixed, ok := ix.correctTerms(c, terms, empty)
	if !ok {
		return res
	}
	c.release()
	if filter, ok = ix.tagFilter(c, q.Tags); !ok {
		return Result{}
	}
	res2, _ := ix.run(c, fixed, filter, off, lim, true, q.Collapse)
	if res2.Total == 0 {
		return res
	}
	words := make([]string, len(fixed))
	for i, t := range fixed {
		words[i] = t.text
	}
	res2.Corrected = strings.Join(words, " ")
	return res2
}

// tagFilter is the documents that carry every tag, or nil for no tags. It
// reports false when no document can match (a tag nobody carries).
func (ix *Index) tagFilter(c *qctx, tags []string) (bitset, bool) {
	var ps []post
	for _, t := range tags {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		p, ok := ix.tags[t]
		if !ok {
			return nil, false
		}
		ps = append(ps, ix.posts[p])
	}
	if len(ps) == 0 {
		return nil, true
	}
	slices.SortFunc(ps, func(a, b post) int { return cmp.Compare(a.n, b.n) })
	b := c.get(ix.words)
	ix.orPost(b, ps[0])
	for _, p := range ps[1:] {
		ix.andPost(c, b, p)
	}
	return b, true
}

// browse lists the documents of filter (all without one) by popularity.
func (ix *Index) browse(filter bitset, off, lim int) Result {
	var res Result
	if filter == nil {
		res.Total = ix.n
		for d := off; d < ix.n && len(res.Hits) < lim; d++ {
			res.Hits = append(res.Hits, Hit{ID: ix.docs[d].id, Score: ix.pop(uint32(d))})
		}
		return res
	}
	res.Total = filter.count()
	skip := off
	eachFrom(filter, &skip, func(d uint32) bool {
		res.Hits = append(res.Hits, Hit{ID: ix.docs[d].id, Score: ix.pop(uint32(d))})
		return len(res.Hits) < lim
	})
	return res
}

// browseCollapsed is browse with one hit per group.
func (ix *Index) browseCollapsed(c *qctx, filter bitset, off, lim int) Result {
	m := c.get(ix.words)
	if filter != nil {
		copy(m, filter)
	} else {
		for i := range m {
			m[i] = ^uint64(0)
		}
		if r := ix.n % 64; r != 0 {
			m[len(m)-1] = 1<<r - 1
		}
	}
	col := ix.collapse(c, m, off)
	res := Result{Total: col.total}
	m.each(func(d uint32) bool {
		if !col.take(d) {
			return true
		}
		res.Hits = append(res.Hits, Hit{ID: ix.docs[d].id, Score: ix.pop(d), Others: col.others(d)})
		return len(res.Hits) < lim
	})
	return res
}

// collapsing is one collapsed query's state: which groups were met.
type collapsing struct {
	ix    *Index
	all   bitset // every match
	seen  bitset // groups met so far
	skip  int    // groups still to pass over (the offset)
	total int    // groups among the matches
}

// collapse starts collapsing the matches m, of which the first off groups
// are passed over. It costs one pass over m, to count the groups.
func (ix *Index) collapse(c *qctx, m bitset, off int) *collapsing {
	// A bitset of groups is allocated as one of documents (there are no
	// more groups than documents), as the context's free list expects.
	col := &collapsing{ix: ix, all: c.get(ix.words), seen: c.get(ix.words), skip: off}
	copy(col.all, m)
	m.each(func(d uint32) bool {
		col.seen.set(ix.group[d])
		return true
	})
	col.total = col.seen.count()
	clear(col.seen)
	return col
}

// take reports whether document d, met in rank order, is a hit: the first
// of its group, past the offset.
func (col *collapsing) take(d uint32) bool {
	g := col.ix.group[d]
	if col.seen.has(g) {
		return false
	}
	col.seen.set(g)
	if col.skip > 0 {
		col.skip--
		return false
	}
	return true
}

// others is the matching documents of d's group but d.
func (col *collapsing) others(d uint32) []int64 {
	ix := col.ix
	g := ix.group[d]
	var out []int64
	for _, e := range ix.groupDocs[ix.groupOff[g]:ix.groupOff[g+1]] {
		if e != d && col.all.has(e) {
			out = append(out, ix.docs[e].id)
		}
	}
	return out
}

// pop is the popularity part of a score: below 1, falling with rank.
func (ix *Index) pop(d uint32) float64 { return float64(ix.n-int(d)) / float64(ix.n+1) }

// eachFrom calls f for the members of b in order, after passing over *skip
// of them (whole words at a time).
func eachFrom(b bitset, skip *int, f func(uint32) bool) bool {
	for wi, w := range b {
		if w == 0 {
			continue
		}
		if *skip > 0 {
			if pc := bits.OnesCount64(w); pc <= *skip {
				*skip -= pc
				continue
			}
		}
		for w != 0 {
			t := bits.TrailingZeros64(w)
			w &= w - 1
			if *skip > 0 {
				*skip--
				continue
			}
			if !f(uint32(wi<<6 + t)) {
				return false
			}
		}
	}
	return true
}

// run matches and ranks terms. It also reports which terms match nothing
// at all, for typo correction.
func (ix *Index) run(c *qctx, terms []term, filter bitset, off, lim int, typo, collapse bool) (Result, []bool) {
	evals := make([]termEval, len(terms))
	empty := make([]bool, len(terms))
	none := false
	for i, t := range terms {
		evals[i] = ix.evalTerm(c, t)
		if len(evals[i].levels) == 0 {
			empty[i], none = true, true
		}
	}
	if none {
		return Result{}, empty
	}
	m := c.get(ix.words)
	copy(m, evals[0].union)
	for _, e := range evals[1:] {
		m.and(e.union)
	}
	if filter != nil {
		m.and(filter)
	}
	res := Result{Total: m.count()}
	var col *collapsing
	if collapse {
		col = ix.collapse(c, m, off)
		res.Total = col.total
	}
	if res.Total <= off {
		return res, empty
	}

	// An item whose whole name is the query comes first.
	var whole strings.Builder
	for _, t := range terms {
		whole.WriteString(t.text)
	}
	var pinned []uint32
	if u, ok := ix.nameUnit[maphash.String(ix.seed, whole.String())]; ok && ix.unitStr(u) == whole.String() {
		ix.eachPost(ix.posts[ix.units[u].docs], func(d uint32) bool {
			if m.has(d) {
				pinned = append(pinned, d)
				m[d>>6] &^= 1 << (d & 63)
			}
			return true
		})
	}

	res.Hits = make([]Hit, 0, min(lim, res.Total-off))
	marks := make([][2]int, 0, 2*cap(res.Hits)) // all the hits' marks, in one allocation
	skip := off
	if col != nil {
		skip = 0 // the offset counts groups: col.take passes over them
	}
	emit := func(w int, pin bool) func(uint32) bool {
		return func(d uint32) bool {
			if col != nil && !col.take(d) {
				return true
			}
			h := ix.hit(d, w, pin, evals, typo, &marks)
			if col != nil {
				h.Others = col.others(d)
			}
			res.Hits = append(res.Hits, h)
			return len(res.Hits) < lim
		}
	}
	for _, d := range pinned {
		if skip > 0 {
			skip--
			continue
		}
		if !emit(ix.weight(d, evals), true)(d) {
			return res, empty
		}
	}
	ix.rank(c, evals, m, &skip, emit)
	return res, empty
}

// rank emits the documents of m by score. Documents are numbered by
// popularity, so within one total weight the order is the order of the
// bitset: rank enumerates the combinations of levels (one per word) by
// total weight, builds each weight's set only when the page needs it, and
// stops when the page is full. A query of one word has one combination per
// level, and a page of "登记" (tens of thousands of matches) costs a few
// word-parallel set operations.
func (ix *Index) rank(c *qctx, evals []termEval, m bitset, skip *int, emit func(int, bool) func(uint32) bool) {
	prod := 1
	for _, e := range evals {
		prod *= len(e.levels)
		if prod > maxCombos {
			break
		}
	}
	if prod > maxCombos {
		// Many words, each matched in many ways: score each document.
		type scored struct {
			w int
			d uint32
		}
		var all []scored
		m.each(func(d uint32) bool {
			all = append(all, scored{ix.weight(d, evals), d})
			return true
		})
		slices.SortStableFunc(all, func(a, b scored) int { return cmp.Compare(b.w, a.w) })
		for _, s := range all {
			if *skip > 0 {
				*skip--
				continue
			}
			if !emit(s.w, false)(s.d) {
				return
			}
		}
		return
	}

	type combo struct {
		w   int
		idx [maxTerms]uint8
	}
	combos := make([]combo, 0, prod)
	var enum func(t int, cur combo)
	enum = func(t int, cur combo) {
		if t == len(evals) {
			combos = append(combos, cur)
			return
		}
		for i, l := range evals[t].levels {
			next := cur
			next.w += l.w
			next.idx[t] = uint8(i)
			enum(t+1, next)
		}
	}
	enum(0, combo{})
	slices.SortStableFunc(combos, func(a, b combo) int { return cmp.Compare(b.w, a.w) })

	for i := 0; i < len(combos); {
		j := i
		for j < len(combos) && combos[j].w == combos[i].w {
			j++
		}
		g := c.get(ix.words)
		for _, cb := range combos[i:j] {
			if len(evals) == 1 {
				g.or(evals[0].levels[cb.idx[0]].bits)
				continue
			}
			t := c.scratch(ix.words)
			copy(t, evals[0].levels[cb.idx[0]].bits)
			for k := 1; k < len(evals); k++ {
				t.and(evals[k].levels[cb.idx[k]].bits)
			}
			g.or(t)
		}
		g.and(m)
		if !eachFrom(g, skip, emit(combos[i].w, false)) {
			return
		}
		i = j
	}
}

// weight is the total weight of document d's best matches.
func (ix *Index) weight(d uint32, evals []termEval) int {
	w := 0
	for _, e := range evals {
		for _, l := range e.levels {
			if l.bits.has(d) {
				w += l.w
				break
			}
		}
	}
	return w
}

var viaRank = map[string]int{"": 0, "alias": 1, "synonym": 2, "pinyin": 3}

func (ix *Index) hit(d uint32, w int, pin bool, evals []termEval, typo bool, marks *[][2]int) Hit {
	h := Hit{ID: ix.docs[d].id, Score: float64(w) + ix.pop(d)}
	if pin {
		h.Score += wExact
	}
	for _, e := range evals {
		for _, l := range e.levels {
			if l.bits.has(d) {
				if viaRank[l.via] > viaRank[h.Via] {
					h.Via = l.via
				}
				break
			}
		}
	}
	if typo {
		h.Via = "typo"
	}
	h.NameMarks = ix.marks(d, evals, marks)
	return h
}

// marks finds the highlight strings of the query in document d's name. It
// appends them to buf and returns them.
func (ix *Index) marks(d uint32, evals []termEval, buf *[][2]int) [][2]int {
	di := &ix.docs[d]
	name := ix.name(d)
	pos := ix.posArena[di.pos : di.pos+di.nPos]
	start := len(*buf)
	add := func(b0, b1 int) {
		k0 := utf8.RuneCountInString(name[:b0])
		k1 := k0 + utf8.RuneCountInString(name[b0:b1])
		if len(pos) > 0 {
			k0, k1 = int(pos[k0]), int(pos[k1-1])+1
		}
		*buf = append(*buf, [2]int{k0, k1})
	}
	for _, e := range evals {
		for _, m := range e.marks {
			if m.s == "" {
				continue
			}
			if m.prefix {
				if strings.HasPrefix(name, m.s) {
					add(0, len(m.s))
				}
				continue
			}
			for i := 0; i < len(name); {
				j := strings.Index(name[i:], m.s)
				if j < 0 {
					break
				}
				add(i+j, i+j+len(m.s))
				i += j + len(m.s)
			}
		}
	}
	out := (*buf)[start:]
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
	merged := out[:1]
	for _, r := range out[1:] {
		last := &merged[len(merged)-1]
		if r[0] <= last[1] {
			last[1] = max(last[1], r[1])
		} else {
			merged = append(merged, r)
		}
	}
	*buf = (*buf)[:start+len(merged)]
	return merged[:len(merged):len(merged)]
}

// evalTerm finds what one query word matches: the word itself in names,
// aliases and text; its synonyms; and, for a Latin word, the catalog
// strings it is the pinyin or the initials of.
func (ix *Index) evalTerm(c *qctx, t term) termEval {
	var e termEval
	add := func(w int, via string, f field, s string, prefix bool) {
		rs := []rune(s)
		if f == fText && len(rs) < 2 {
			return // text is indexed by pairs only
		}
		ix.orPhrase(c, e.level(c, ix.words, w, via), f, s, rs, prefix)
	}
	addSyn := func(via, s string) {
		for _, v := range ix.syn[s] {
			add(wSynName, via, fName, v, false)
			add(wSynAlias, via, fAlias, v, false)
			add(wSynText, via, fText, v, false)
			e.marks = append(e.marks, mark{s: v})
		}
	}

	add(wName, "", fName, t.text, false)
	add(wAlias, "alias", fAlias, t.text, false)
	add(wText, "", fText, t.text, false)
	e.marks = append(e.marks, mark{s: t.text})
	addSyn("synonym", t.text)

	if t.latin && len(t.text) >= 2 {
		for _, s := range ix.py.chains(t.text, false) {
			add(wPinyinName, "pinyin", fName, s, false)
			add(wPinyinAlias, "pinyin", fAlias, s, false)
			e.marks = append(e.marks, mark{s: s})
			addSyn("pinyin", s)
		}
		for _, s := range ix.py.chains(t.text, true) {
			add(wPinyinName, "pinyin", fName, s, true)
			add(wPinyinAlias, "pinyin", fAlias, s, true)
			e.marks = append(e.marks, mark{s: s, prefix: true})
			addSyn("pinyin", s)
		}
	}
	e.finish(c, ix.words)
	return e
}

func (e *termEval) level(c *qctx, words, w int, via string) bitset {
	for _, l := range e.levels {
		if l.w == w && l.via == via {
			return l.bits
		}
	}
	b := c.get(words)
	if e.levels == nil {
		e.levels = make([]level, 0, 8)
	}
	e.levels = append(e.levels, level{w: w, via: via, bits: b})
	return b
}

// finish makes the levels disjoint (a document counts at its best level
// only), drops empty ones and computes the union.
func (e *termEval) finish(c *qctx, words int) {
	slices.SortStableFunc(e.levels, func(a, b level) int { return cmp.Compare(b.w, a.w) })
	e.union = c.get(words)
	kept := e.levels[:0]
	for _, l := range e.levels {
		l.bits.andNot(e.union)
		if l.bits.empty() {
			continue
		}
		e.union.or(l.bits)
		kept = append(kept, l)
	}
	e.levels = kept
}

// orPhrase adds to dst the documents whose field f contains s (rs is s as
// runes), or, if prefix, where s begins the name or an alias.
//
// One or two runes are one posting list. Longer strings are matched
// against units (see Index): the units holding all the string's character
// pairs are checked for the string itself (holding the pairs does not make
// them adjacent), and the documents of those that have it are added.
func (ix *Index) orPhrase(c *qctx, dst bitset, f field, s string, rs []rune, prefix bool) {
	switch len(rs) {
	case 0:
		return
	case 1:
		if p, ok := ix.grams[uniKey(f, rs[0])]; ok && !prefix {
			ix.orPost(dst, ix.posts[p])
		}
		return
	case 2:
		if p, ok := ix.grams[biKey(f, rs[0], rs[1], prefix)]; ok {
			ix.orPost(dst, ix.posts[p])
		}
		return
	}
	var buf [16]post
	ps := buf[:0]
	for j := 0; j+1 < len(rs); j++ {
		p, ok := ix.unitList(biKey(f, rs[j], rs[j+1], prefix && j == 0))
		if !ok {
			return
		}
		ps = append(ps, p)
	}
	ix.eachPhraseUnit(ps, func(u uint32, sure bool) {
		if !sure {
			us := ix.unitStr(u)
			if prefix && !strings.HasPrefix(us, s) || !prefix && !strings.Contains(us, s) {
				return
			}
		}
		ix.orPost(dst, ix.posts[ix.units[u].docs])
	})
}

// eachPhraseUnit calls f for the units that may hold the string whose
// successive character pairs have the unit lists ps: those on every list.
// Unit lists record where each pair is, so f is told when the pairs are
// known to be adjacent (sure); otherwise, when a pair occurs more than once
// in the unit, f must check the string. Units whose pairs each occur once
// but apart are left out.
func (ix *Index) eachPhraseUnit(ps []post, f func(u uint32, sure bool)) {
	// Walk the shortest list; look the unit up in the others.
	s := 0
	for j, p := range ps {
		if p.n < ps[s].n {
			s = j
		}
	}
	var cbuf [16]cursor
	curs := cbuf[:0]
	for _, p := range ps {
		curs = append(curs, cursor{ids: ix.uidArena[p.off : p.off+p.n]})
	}
	short := ps[s]
next:
	for i, u := range ix.uidArena[short.off : short.off+short.n] {
		// A pair found once, at p, puts the string at p-j; two such
		// pairs must agree.
		base, sure := -1, true
		for j := range curs {
			var pj uint8
			if j == s {
				pj = ix.uposArena[short.off+uint32(i)]
			} else {
				if !curs[j].has(u) {
					continue next
				}
				pj = ix.uposArena[ps[j].off+uint32(curs[j].i)]
			}
			if pj == noPos {
				sure = false
				continue
			}
			at := int(pj) - j
			if at < 0 || base >= 0 && at != base {
				continue next
			}
			base = at
		}
		f(u, sure)
	}
}

// eachUnit calls f for each unit on all the lists ps, in order, until f
// returns false.
func (ix *Index) eachUnit(ps []post, f func(uint32) bool) {
	slices.SortFunc(ps, func(a, b post) int { return cmp.Compare(a.n, b.n) })
	var cbuf [16]cursor
	curs := cbuf[:0]
	for _, p := range ps[1:] {
		curs = append(curs, cursor{ids: ix.uidArena[p.off : p.off+p.n]})
	}
next:
	for _, u := range ix.uidArena[ps[0].off : ps[0].off+ps[0].n] {
		for i := range curs {
			if !curs[i].has(u) {
				continue next
			}
		}
		if !f(u) {
			return
		}
	}
}
