// Package search is the in-memory search index over the service catalog.
//
// It knows nothing of databases or HTTP: the catalog gives Build the
// published items as Docs, and swaps the returned Index in when items are
// published. An Index never changes after Build, so any number of
// goroutines may search it at once without locks; a rebuild makes a new
// one.
//
// Chinese has no spaces between words, so the index holds the characters
// and character pairs (unigrams and bigrams) of names, aliases and other
// text rather than words: a query of one or two characters is one posting
// list, and a longer one intersects the lists of its pairs over the
// distinct strings of the catalog, whose recorded pair positions tell
// whether the characters are adjacent. 施工许可 is thus found inside
// 建设工程施工许可 without a dictionary. On top of that, a query may be
// pinyin or initials, may be widened by the catalog's synonyms, and may be
// corrected when one character is wrong.
//
// Documents are numbered by popularity, and every set is a sorted list or a
// bitset of those numbers, so ranking by (kind of match, popularity) walks
// sets in order and stops after one page, however many documents match.
package search

import (
	"cmp"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Doc is one catalog item as the index sees it.
type Doc struct {
	ID         int64
	Name       string   // 事项名称: matches here rank highest
	Aliases    []string // what people call it: 营业执照, 开店, 社保, 低保 …
	Text       string   // lower-weight text: department name, conditions, result name …
	Popularity int      // e.g. cases in the last year: popular items rank up
	Tags       []string // filter values such as "level:1", "dept:scjgj", "theme:就业创业"
	// Group joins documents that are one result when a query collapses
	// (Query.Collapse): the implementations of one service in every
	// street and community. "" is a group of its own.
	Group string
}

// Options is catalog data that shapes matching.
type Options struct {
	// Synonyms widens a query word to others: 身份证 → [居民身份证],
	// 开店 → [食品经营许可, 个体工商户设立登记]. It is applied to whole
	// query words, on the query side only.
	Synonyms map[string][]string
}

// field is where in a document a gram occurs.
type field uint8

const (
	fName field = iota
	fAlias
	fText
)

// Gram keys: the field in bits 62–63, a start-of-word flag in bit 61 (the
// first pair of a name or alias, for initials that must begin a word), the
// first rune in bits 21–41 and the second in bits 0–20, 0 for a unigram.
func uniKey(f field, r rune) uint64 { return uint64(f)<<62 | uint64(r)<<21 }

func biKey(f field, a, b rune, start bool) uint64 {
	k := uint64(f)<<62 | uint64(a)<<21 | uint64(b)
	if start {
		k |= 1 << 61
	}
	return k
}

// Index is a built search index. It is safe for concurrent use.
type Index struct {
	n, words int
	docs     []docInfo // by document number (popularity rank)

	results resultCache // the latest queries' results

	// Groups (Doc.Group) for collapsing: each document's group number,
	// and each group's documents, groupDocs[groupOff[g]:groupOff[g+1]] in
	// document order.
	group               []uint32
	groupOff, groupDocs []uint32

	// Document level: the documents holding each gram, and each tag.
	grams    map[uint64]uint32 // gram → posting number
	tags     map[string]uint32 // tag → posting number
	posts    []post
	idArena  []uint32
	bitArena []uint64

	// Unit level. A unit is a distinct string of one field: a name, an
	// alias, or a segment of text between punctuation. Catalogs repeat
	// themselves (the same department names, standard conditions and
	// result names in every item; the same item names in every district),
	// so there are far fewer units than documents × fields. Strings of
	// three or more characters are matched against units, each at most
	// once, and the documents of the units that match are then added as
	// whole posting lists: "营业执照", in the text of 11,000 items, costs
	// one unit, not 11,000 string checks. The unit lists also record where
	// in the unit each pair is, so that adjacency is mostly known without
	// looking at the string.
	units     []unitInfo
	unitText  string            // the units' strings, one after the other
	nameUnit  map[uint64]uint32 // hash of a name → its unit, for the exact-name rule
	seed      maphash.Seed
	posArena  []int32
	gramUnits []uint32 // posting number of a gram → its unit posting number
	uposts    []post
	uidArena  []uint32
	uposArena []uint8 // where in the unit the gram is, in runes; see noPos

	syn      map[string][]string // folded synonyms
	synByLen map[int][][]rune    // synonym keys by length, for typo correction
	py       *pyIndex

	pool sync.Pool // *qctx
}

// docInfo and unitInfo hold no pointers, nor do the maps and arenas
// above, so that the garbage collector has next to nothing to scan in an
// index that lives for hours: its marking would otherwise stall queries.
type docInfo struct {
	id        int64
	name      uint32 // unit of the folded name, or noUnit
	pos, nPos uint32 // posArena[pos:pos+nPos]: see normField; empty when the folded name lines up with Name
}

type unitInfo struct {
	off, n uint32 // unitText[off:off+n]
	docs   uint32 // posting number of the documents that hold it
}

const noUnit = ^uint32(0)

func (ix *Index) unitStr(u uint32) string {
	x := ix.units[u]
	return ix.unitText[x.off : x.off+x.n]
}

// name is document d's folded name.
func (ix *Index) name(d uint32) string {
	if u := ix.docs[d].name; u != noUnit {
		return ix.unitStr(u)
	}
	return ""
}

// Len is the number of documents.
func (ix *Index) Len() int {
	if ix == nil {
		return 0
	}
	return ix.n
}

// builder holds what Build needs only while it runs.
type builder struct {
	ix      *Index
	counts  []uint32 // per posting: documents
	lastDoc []int32  // per posting: the last document added, to add each once
	refs    []uint32 // postings of document 0, then of document 1, …
	docOff  []uint32

	gramArena []uint32 // the document-level postings of the grams of unit 0, of unit 1, …
	gramOff   []uint32 // unit u's grams are gramArena[gramOff[u]:gramOff[u+1]]
	uCounts   []uint32
	uLast     []int32
	uRefs     []uint32 // unit postings of unit 0, then of unit 1, …
	uPos      []uint8  // the gram's position for each of uRefs
	uOff      []uint32
	buf       []byte

	unitOf [3]map[string]uint32 // field → string → unit
	text   strings.Builder      // becomes Index.unitText
}

// Build indexes docs. It does not keep docs or anything they point to.
//
// 100,000 items take about 0.4 s on one core and 25 MB (see
// docs/PERFORMANCE.md). Each distinct unit is split into grams once; a
// document then only lists the postings of its units' grams into one flat
// array, which a counting sort lays out, so there is no per-list
// allocation and no map look-up per document gram.
func Build(docs []Doc, opt Options) *Index {
	n := len(docs)
	ix := &Index{
		n:     n,
		words: (n + 63) / 64,
		docs:  make([]docInfo, n),
		grams: make(map[uint64]uint32, 1024),
		tags:  make(map[string]uint32),
	}
	// About two grams per character of names and aliases, one per
	// character of text (three bytes a character).
	size := 0
	for i := range docs {
		size += 2 * len(docs[i].Name) / 3
		for _, a := range docs[i].Aliases {
			size += 2 * len(a) / 3
		}
		size += len(docs[i].Text)/3 + len(docs[i].Tags) + 4
	}
	b := &builder{ix: ix, refs: make([]uint32, 0, size), docOff: make([]uint32, n+1), gramOff: []uint32{0}}
	for f := range b.unitOf {
		b.unitOf[f] = make(map[string]uint32)
	}

	// Static rank: popularity, then ID for a stable order.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		if c := cmp.Compare(docs[y].Popularity, docs[x].Popularity); c != 0 {
			return c
		}
		return cmp.Compare(docs[x].ID, docs[y].ID)
	})

	for d, oi := range order {
		src := &docs[oi]
		di := &ix.docs[d]
		di.id = src.ID
		b.docOff[d] = uint32(len(b.refs))

		name, pos := normField(src.Name, true)
		di.name = noUnit
		if len(pos) > 0 {
			di.pos, di.nPos = uint32(len(ix.posArena)), uint32(len(pos))
			ix.posArena = append(ix.posArena, pos...)
		}
		if name != "" {
			u := b.unit(fName, name)
			di.name = u
			b.addUnit(u, d)
		}
		for _, a := range src.Aliases {
			b.segments(fAlias, a, d, false)
		}
		b.segments(fText, src.Text, d, true)
		for _, t := range src.Tags {
			p, ok := ix.tags[t]
			if !ok {
				p = b.newPost()
				ix.tags[t] = p
			}
			b.ref(p, d)
		}
	}
	b.docOff[n] = uint32(len(b.refs))
	ix.buildGroups(docs, order)
	b.uOff = append(b.uOff, uint32(len(b.uRefs)))
	b.layout()
	ix.unitText = b.text.String()
	ix.seed = maphash.MakeSeed()
	ix.nameUnit = make(map[uint64]uint32, len(b.unitOf[fName]))
	for s, u := range b.unitOf[fName] {
		// Two names with one 64-bit hash (unlikely) would only cost one
		// of them the exact-name rule: the look-up compares the string.
		if _, dup := ix.nameUnit[maphash.String(ix.seed, s)]; !dup {
			ix.nameUnit[maphash.String(ix.seed, s)] = u
		}
	}

	ix.buildSynonyms(opt.Synonyms)
	ix.buildPinyin()
	return ix
}

// buildGroups numbers the groups of docs (document d is docs[order[d]])
// and lists each group's documents with a counting sort.
func (ix *Index) buildGroups(docs []Doc, order []int) {
	ix.group = make([]uint32, ix.n)
	num := make(map[string]uint32)
	var ng uint32
	for d, oi := range order {
		g := docs[oi].Group
		if g == "" {
			ix.group[d], ng = ng, ng+1
			continue
		}
		k, ok := num[g]
		if !ok {
			k, ng = ng, ng+1
			num[g] = k
		}
		ix.group[d] = k
	}
	ix.groupOff = make([]uint32, ng+1)
	for _, g := range ix.group {
		ix.groupOff[g+1]++
	}
	for g := range ng {
		ix.groupOff[g+1] += ix.groupOff[g]
	}
	ix.groupDocs = make([]uint32, ix.n)
	fill := slices.Clone(ix.groupOff[:ng])
	for d, g := range ix.group {
		ix.groupDocs[fill[g]] = uint32(d)
		fill[g]++
	}
}

func (b *builder) newPost() uint32 {
	b.ix.gramUnits = append(b.ix.gramUnits, noUnit)
	b.counts = append(b.counts, 0)
	b.lastDoc = append(b.lastDoc, -1)
	return uint32(len(b.counts) - 1)
}

func (b *builder) ref(p uint32, d int) {
	if b.lastDoc[p] == int32(d) {
		return
	}
	b.lastDoc[p] = int32(d)
	b.counts[p]++
	b.refs = append(b.refs, p)
}

func (b *builder) addUnit(u uint32, d int) {
	b.ref(b.ix.units[u].docs, d)
	for _, p := range b.gramArena[b.gramOff[u]:b.gramOff[u+1]] {
		b.ref(p, d)
	}
}

// segments adds the units of s to document d: the whole of s folded (an
// alias), or, if split, each run of letters and digits (text).
func (b *builder) segments(f field, s string, d int, split bool) {
	flush := func() {
		if len(b.buf) > 0 {
			b.addUnit(b.unitBytes(f, b.buf), d)
			b.buf = b.buf[:0]
		}
	}
	for _, r := range s {
		if r, ok := fold(r); ok {
			b.buf = utf8.AppendRune(b.buf, r)
		} else if split {
			flush()
		}
	}
	flush()
}

func (b *builder) unitBytes(f field, s []byte) uint32 {
	if u, ok := b.unitOf[f][string(s)]; ok {
		return u
	}
	return b.unit(f, string(s))
}

// unit returns the unit of folded string s in field f, making it if new:
// it finds the unit's grams once for all the documents that hold it.
func (b *builder) unit(f field, s string) uint32 {
	ix := b.ix
	if u, ok := b.unitOf[f][s]; ok {
		return u
	}
	u := uint32(len(ix.units))
	b.unitOf[f][s] = u
	ix.units = append(ix.units, unitInfo{off: uint32(b.text.Len()), n: uint32(len(s)), docs: b.newPost()})
	b.text.WriteString(s)
	b.uOff = append(b.uOff, uint32(len(b.uRefs)))
	gram := func(k uint64, at int) {
		p, ok := ix.grams[k]
		if !ok {
			p = b.newPost()
			ix.grams[k] = p
			ix.gramUnits[p] = uint32(len(b.uCounts))
			b.uCounts = append(b.uCounts, 0)
			b.uLast = append(b.uLast, -1)
		}
		q := ix.gramUnits[p]
		if b.uLast[q] != int32(u) {
			b.uLast[q] = int32(u)
			b.uCounts[q]++
			b.uRefs = append(b.uRefs, q)
			b.uPos = append(b.uPos, uint8(min(at, noPos)))
			b.gramArena = append(b.gramArena, p)
			return
		}
		// Seen before in this unit: its position is ambiguous.
		for i := int(b.uOff[u]); i < len(b.uRefs); i++ {
			if b.uRefs[i] == q {
				b.uPos[i] = noPos
			}
		}
	}
	var prev rune
	k := 0
	for _, r := range s {
		if f != fText {
			gram(uniKey(f, r), k)
		}
		if prev != 0 {
			gram(biKey(f, prev, r, false), k-1)
			if f != fText && k == 1 {
				gram(biKey(f, prev, r, true), 0)
			}
		}
		prev = r
		k++
	}
	b.gramOff = append(b.gramOff, uint32(len(b.gramArena)))
	return u
}

// layout turns the reference lists into posting lists: arrays in one
// arena, bitsets in another, unit lists in a third.
func (b *builder) layout() {
	ix := b.ix
	ix.posts = make([]post, len(b.counts))
	var nIDs, nBits uint32
	for p, c := range b.counts {
		ix.posts[p].n = c
		if ix.dense(ix.posts[p]) {
			ix.posts[p].off = nBits
			nBits++
		} else {
			ix.posts[p].off = nIDs
			nIDs += c
		}
	}
	ix.idArena = make([]uint32, nIDs)
	ix.bitArena = make([]uint64, int(nBits)*ix.words)
	fill := make([]uint32, len(b.counts))
	for d := range ix.n {
		for _, p := range b.refs[b.docOff[d]:b.docOff[d+1]] {
			pp := ix.posts[p]
			if ix.dense(pp) {
				bitset(ix.bitsOf(pp)).set(uint32(d))
			} else {
				ix.idArena[pp.off+fill[p]] = uint32(d)
				fill[p]++
			}
		}
	}

	ix.uposts = make([]post, len(b.uCounts))
	var off uint32
	for q, c := range b.uCounts {
		ix.uposts[q] = post{off: off, n: c}
		off += c
	}
	ix.uidArena = make([]uint32, off)
	ix.uposArena = make([]uint8, off)
	fill = make([]uint32, len(b.uCounts))
	for u := range ix.units {
		for i := b.uOff[u]; i < b.uOff[u+1]; i++ {
			q := b.uRefs[i]
			ix.uidArena[ix.uposts[q].off+fill[q]] = uint32(u)
			ix.uposArena[ix.uposts[q].off+fill[q]] = b.uPos[i]
			fill[q]++
		}
	}
}

// unitList is the list of the units that hold gram k.
func (ix *Index) unitList(k uint64) (post, bool) {
	p, ok := ix.grams[k]
	if !ok || ix.gramUnits[p] == noUnit {
		return post{}, false
	}
	return ix.uposts[ix.gramUnits[p]], true
}

// noPos marks a gram that occurs more than once in a unit, or too far
// into it to say where.
const noPos = 255

func (ix *Index) buildSynonyms(syn map[string][]string) {
	ix.syn = make(map[string][]string, len(syn))
	ix.synByLen = make(map[int][][]rune)
	keys := make([]string, 0, len(syn))
	for k := range syn {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic
	for _, k := range keys {
		fk := normJoin(k)
		if fk == "" {
			continue
		}
		for _, v := range syn[k] {
			if fv := normJoin(v); fv != "" && fv != fk && !slices.Contains(ix.syn[fk], fv) {
				ix.syn[fk] = append(ix.syn[fk], fv)
			}
		}
		if _, ok := ix.syn[fk]; ok {
			rs := []rune(fk)
			if !slices.ContainsFunc(ix.synByLen[len(rs)], func(o []rune) bool { return string(o) == fk }) {
				ix.synByLen[len(rs)] = append(ix.synByLen[len(rs)], rs)
			}
		}
	}
}

func (ix *Index) buildPinyin() {
	p := &pyIndex{id: make(map[rune]int32), sylNum: make(map[string]uint16)}
	keys := make([]uint64, 0, len(ix.grams))
	for k := range ix.grams {
		if field(k>>62) != fText {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // deterministic numbering
	for _, k := range keys {
		a, b := rune(k>>21&0x1FFFFF), rune(k&0x1FFFFF)
		if b == 0 {
			p.add(a)
			continue
		}
		p.pair(a, b, k&(1<<61) != 0)
	}
	// Synonym keys are words people type (开店 kaidian) though no item
	// holds them.
	synKeys := make([]string, 0, len(ix.syn))
	for k := range ix.syn {
		synKeys = append(synKeys, k)
	}
	slices.Sort(synKeys)
	for _, k := range synKeys {
		rs := []rune(k)
		for i := 1; i < len(rs); i++ {
			p.pair(rs[i-1], rs[i], false)
			if i == 1 {
				p.pair(rs[0], rs[1], true)
			}
		}
	}
	p.finish()
	ix.py = p
}
