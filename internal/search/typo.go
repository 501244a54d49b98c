package search

import (
	"cmp"
	"slices"
)

// Typo correction. It runs only when a query matches nothing in any way
// (never when it has hits), only for words of three to maxTypoRunes Chinese
// characters (two characters with one wrong leave one: any correction
// would be a guess), and only where the answer is clear.
//
// A word with one wrong character at position i still has its other
// characters in place, and so all its character pairs that do not touch
// i. For each i whose remaining pairs all occur in names (or aliases), the
// units holding them are scanned for windows that differ from the word
// at i alone; each such window is a candidate. The word's pairs that do
// not occur at all rule most positions out at once, and at most
// maxTypoUnits units (distinct names or aliases) are scanned per position, so a correction costs
// about as much as a search.
//
// A candidate whose new character sounds like the typed one (居住正 →
// 居住证, 营业执找 → 营业执照: the pinyin input method offered both) is
// preferred over others; for three-character words it is required. Of the
// remaining candidates one must stand alone or be found in at least twice
// as many documents as the next, else the query is left as it is.
const (
	maxTypoRunes = 30
	maxTypoUnits = 256
)

type typoCand struct {
	i     int  // the position corrected
	r     rune // the character put there
	docs  int
	sound bool
}

// correctTerms corrects the words that match nothing. It reports false if
// none could be corrected.
func (ix *Index) correctTerms(c *qctx, terms []term, empty []bool) ([]term, bool) {
	out := slices.Clone(terms)
	changed := false
	for i, t := range terms {
		if !empty[i] {
			continue
		}
		if s, ok := ix.correct(c, t); ok {
			out[i] = newTerm(s)
			changed = true
		}
	}
	return out, changed
}

func (ix *Index) correct(c *qctx, t term) (string, bool) {
	n := len(t.rs)
	if !t.han || n < 3 || n > maxTypoRunes {
		return "", false
	}
	var cands []typoCand
	record := func(i int, r rune, docs int) {
		for k := range cands {
			if cands[k].i == i && cands[k].r == r {
				cands[k].docs += docs
				return
			}
		}
		cands = append(cands, typoCand{i: i, r: r, docs: docs, sound: sameSound(t.rs[i], r)})
	}
	fixed := func(c typoCand) (string, bool) {
		rs := slices.Clone(t.rs)
		rs[c.i] = c.r
		return string(rs), true
	}

	for _, f := range []field{fName, fAlias} {
		// Which pairs of the word occur in this field at all.
		var pairs [maxTypoRunes]post
		var have [maxTypoRunes]bool
		for j := 0; j+1 < n; j++ {
			pairs[j], have[j] = ix.unitList(biKey(f, t.rs[j], t.rs[j+1], false))
		}
		for i := range n {
			var ps []post
			ok := true
			for j := 0; j+1 < n; j++ {
				if j == i || j+1 == i {
					continue
				}
				if !have[j] {
					ok = false
					break
				}
				ps = append(ps, pairs[j])
			}
			if !ok {
				continue
			}
			if len(ps) == 0 {
				// Three characters, the middle one wrong: the other
				// two are not adjacent, so use their single lists.
				for _, r := range []rune{t.rs[0], t.rs[n-1]} {
					p, found := ix.unitList(uniKey(f, r))
					if !found {
						ok = false
						break
					}
					ps = append(ps, p)
				}
				if !ok {
					continue
				}
			}
			ix.typoScan(c, t.rs, i, ps, record)
		}
	}
	// Synonym keys are words too (户口 → 户籍).
	for _, k := range ix.synByLen[n] {
		diff := -1
		for j := range k {
			if k[j] != t.rs[j] {
				if diff != -1 {
					diff = -2
					break
				}
				diff = j
			}
		}
		if diff >= 0 {
			record(diff, k[diff], 1)
		}
	}

	if slices.ContainsFunc(cands, func(x typoCand) bool { return x.sound }) {
		cands = slices.DeleteFunc(cands, func(x typoCand) bool { return !x.sound })
	} else if n == 3 {
		return "", false
	}
	switch len(cands) {
	case 0:
		return "", false
	case 1:
		return fixed(cands[0])
	}
	slices.SortStableFunc(cands, func(a, b typoCand) int { return cmp.Compare(b.docs, a.docs) })
	if cands[0].docs >= 2*cands[1].docs {
		return fixed(cands[0])
	}
	return "", false
}

// typoScan looks through the units on all lists ps (at most maxTypoUnits
// of them) for windows that equal rs except at i.
func (ix *Index) typoScan(c *qctx, rs []rune, i int, ps []post, record func(int, rune, int)) {
	n := len(rs)
	seen := 0
	ix.eachUnit(ps, func(u uint32) bool {
		seen++
		fr := c.runes[:0]
		for _, r := range ix.unitStr(u) {
			fr = append(fr, r)
		}
		c.runes = fr
		found := c.found[:0]
	window:
		for p := 0; p+n <= len(fr); p++ {
			for k := range n {
				if k != i && fr[p+k] != rs[k] {
					continue window
				}
			}
			if r := fr[p+i]; r != rs[i] && !slices.Contains(found, r) {
				found = append(found, r)
				record(i, r, int(ix.posts[ix.units[u].docs].n))
			}
		}
		c.found = found
		return seen < maxTypoUnits
	})
}
