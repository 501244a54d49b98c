package search

import "math/bits"

// Documents are numbered 0..n-1 in order of static rank (most popular
// first), so every posting list and every set below is sorted by
// popularity as well as by number: the first k members of a set are its k
// most popular documents, and "rank by popularity" never needs a sort.

// bitset is a set of document numbers, one bit each. Query-time sets are
// bitsets: at 100,000 documents one is 1,563 words, and AND, OR, AND NOT and
// counting take well under a microsecond whatever the sets hold, so a word
// found in half the catalog costs no more than a rare one.
type bitset []uint64

func (b bitset) set(i uint32)      { b[i>>6] |= 1 << (i & 63) }
func (b bitset) has(i uint32) bool { return b[i>>6]&(1<<(i&63)) != 0 }

func (b bitset) or(o []uint64) {
	o = o[:len(b)]
	for i := range b {
		b[i] |= o[i]
	}
}

func (b bitset) and(o []uint64) {
	o = o[:len(b)]
	for i := range b {
		b[i] &= o[i]
	}
}

func (b bitset) andNot(o []uint64) {
	o = o[:len(b)]
	for i := range b {
		b[i] &^= o[i]
	}
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// each calls f for the members in ascending order until f returns false.
func (b bitset) each(f func(uint32) bool) {
	for wi, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			if !f(uint32(wi<<6 + t)) {
				return
			}
			w &= w - 1
		}
	}
}

// post is a posting list: the documents holding one gram or one tag.
// Lists longer than n/32 are stored as a bitset (it is then the smaller
// form, and set operations on it are word-parallel); shorter ones as a
// sorted array of document numbers. off indexes the array arena or, for a
// bitset, counts bitsets in the bitset arena.
type post struct{ off, n uint32 }

func (ix *Index) dense(p post) bool { return int(p.n)*32 > ix.n }

func (ix *Index) ids(p post) []uint32 { return ix.idArena[p.off : p.off+p.n] }

func (ix *Index) bitsOf(p post) []uint64 {
	o := int(p.off) * ix.words
	return ix.bitArena[o : o+ix.words]
}

// orPost adds the members of p to dst.
func (ix *Index) orPost(dst bitset, p post) {
	if ix.dense(p) {
		dst.or(ix.bitsOf(p))
		return
	}
	for _, id := range ix.ids(p) {
		dst.set(id)
	}
}

// eachPost calls f for the members of p in order until f returns false.
func (ix *Index) eachPost(p post, f func(uint32) bool) {
	if ix.dense(p) {
		bitset(ix.bitsOf(p)).each(f)
		return
	}
	for _, d := range ix.ids(p) {
		if !f(d) {
			return
		}
	}
}

// andPost keeps in dst only the members of p.
func (ix *Index) andPost(c *qctx, dst bitset, p post) {
	if ix.dense(p) {
		dst.and(ix.bitsOf(p))
		return
	}
	t := c.scratch(ix.words)
	for _, id := range ix.ids(p) {
		if dst.has(id) {
			t.set(id)
		}
	}
	copy(dst, t)
}

// cursor walks a sorted list of numbers forward, answering membership of
// ascending numbers in amortised logarithmic time; i is where the last
// number asked is, or would be.
type cursor struct {
	ids []uint32
	i   int
}

// has reports whether id is in the list; ids must be asked in ascending
// order.
func (c *cursor) has(id uint32) bool {
	// Gallop: skip ahead in growing steps, then search the last step.
	lo, step := c.i, 1
	for lo+step < len(c.ids) && c.ids[lo+step] < id {
		lo += step
		step <<= 1
	}
	hi := min(lo+step, len(c.ids))
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.ids[m] < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	c.i = lo
	return lo < len(c.ids) && c.ids[lo] == id
}

// qctx holds one query's scratch bitsets, reused through a pool so that a
// query allocates little.
type qctx struct {
	free, used []bitset
	tmp        [2]bitset
	tmpUsed    int
	runes      []rune
	found      []rune
}

func (ix *Index) getCtx() *qctx {
	if v := ix.pool.Get(); v != nil {
		return v.(*qctx)
	}
	return &qctx{}
}

func (ix *Index) putCtx(c *qctx) {
	c.release()
	if len(c.free) > 64 {
		c.free = c.free[:64]
	}
	ix.pool.Put(c)
}

// get returns a cleared bitset that lives until release.
func (c *qctx) get(words int) bitset {
	var b bitset
	if n := len(c.free); n > 0 {
		b = c.free[n-1]
		c.free = c.free[:n-1]
		clear(b)
	} else {
		b = make(bitset, words)
	}
	c.used = append(c.used, b)
	return b
}

// scratch returns a cleared bitset for short use inside one function
// (andPost); it is overwritten by the next call.
func (c *qctx) scratch(words int) bitset {
	if c.tmp[0] == nil {
		c.tmp[0] = make(bitset, words)
		c.tmp[1] = make(bitset, words)
	}
	c.tmpUsed ^= 1
	b := c.tmp[c.tmpUsed]
	clear(b)
	return b
}

func (c *qctx) release() {
	c.free = append(c.free, c.used...)
	clear(c.used)
	c.used = c.used[:0]
}
