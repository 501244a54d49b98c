package search

import (
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// readingCache keeps the toneless readings of each character looked up so
// far. go-pinyin's dictionary is compiled in, but each look-up runs
// regular expressions; a rebuild of the index then costs nothing here.
var readingCache sync.Map // rune → []string

var pinyinArgs = pinyin.Args{Style: pinyin.Normal, Heteronym: true, Fallback: func(rune, pinyin.Args) []string { return nil }}

// readings gives every toneless reading of a Chinese character (行: xing,
// hang, heng), with ü written v as on a keyboard, or nil for anything else.
// All readings are kept because people type the one they mean: 银行 yinhang.
func readings(r rune) []string {
	if r < 0x2E80 || !unicode.Is(unicode.Han, r) {
		return nil
	}
	if v, ok := readingCache.Load(r); ok {
		return v.([]string)
	}
	var out []string
	for _, p := range pinyin.SinglePinyin(r, pinyinArgs) {
		p = strings.ReplaceAll(p, "ü", "v")
		if p != "" && isLatin(p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	readingCache.Store(r, out)
	return out
}

// sameSound reports whether two characters share a reading: most typing
// mistakes in Chinese come from choosing the wrong character of a pinyin
// input method's list (居住正 for 居住证).
func sameSound(a, b rune) bool {
	ra := readings(a)
	for _, p := range readings(b) {
		if slices.Contains(ra, p) {
			return true
		}
	}
	return false
}

// pyIndex turns Latin input into the Chinese strings of the catalog it may
// stand for. It holds, for the characters of names, aliases and synonym
// keys, their readings and which character follows which, so that a
// query is spelled out only along character pairs that really occur:
// "shebao" walks 社→保 because 社保 is in the catalog, and never tries the
// hundreds of other she×bao pairs.
type pyIndex struct {
	id        map[rune]int32
	runes     []rune
	syl       [][]uint16 // readings of each character, as syllable numbers
	letters   []uint32   // first letter of the main reading, bit i for 'a'+i
	next      [][]int32  // characters that follow each one anywhere
	startNext [][]int32  // … at the start of a name or alias
	startBy   [26][]int32
	bySyl     [][]int32
	sylNum    map[string]uint16
}

const maxSyllable = 6 // zhuang, chuang, shuang

func (p *pyIndex) add(r rune) int32 {
	if i, ok := p.id[r]; ok {
		return i
	}
	rd := readings(r)
	if rd == nil {
		return -1
	}
	i := int32(len(p.runes))
	p.id[r] = i
	p.runes = append(p.runes, r)
	var syl []uint16
	var letters uint32
	for _, s := range rd {
		n, ok := p.sylNum[s]
		if !ok {
			n = uint16(len(p.bySyl))
			p.sylNum[s] = n
			p.bySyl = append(p.bySyl, nil)
		}
		p.bySyl[n] = append(p.bySyl[n], i)
		syl = append(syl, n)
	}
	// Initials follow the main reading only: rare readings (份 bin beside
	// fen) would make "sb" match 身份 as well as 社保. Full pinyin, which
	// says more, uses them all (yinhang 银行).
	letters = 1 << (rd[0][0] - 'a')
	p.syl = append(p.syl, syl)
	p.letters = append(p.letters, letters)
	p.next = append(p.next, nil)
	p.startNext = append(p.startNext, nil)
	return i
}

// pair records that b follows a (at the start of a word when start).
func (p *pyIndex) pair(a, b rune, start bool) {
	ia, ib := p.add(a), p.add(b)
	if ia < 0 || ib < 0 {
		return
	}
	if start {
		p.startNext[ia] = append(p.startNext[ia], ib)
	} else {
		p.next[ia] = append(p.next[ia], ib)
	}
}

func (p *pyIndex) finish() {
	for i := range p.next {
		p.next[i] = compact(p.next[i])
		p.startNext[i] = compact(p.startNext[i])
		if len(p.startNext[i]) > 0 {
			for l := range 26 {
				if p.letters[i]&(1<<l) != 0 {
					p.startBy[l] = append(p.startBy[l], int32(i))
				}
			}
		}
	}
}

func compact(s []int32) []int32 {
	slices.Sort(s)
	return slices.Clip(slices.Compact(s))
}

func (p *pyIndex) hasSyl(c int32, s uint16) bool {
	return slices.Contains(p.syl[c], s)
}

// Limits on spelling out one Latin word, so that a long or odd one costs
// little: at most maxChains strings, found in at most maxSteps steps.
const (
	maxChains = 32
	maxSteps  = 20000
	maxAbbrev = 8 // longest initials-only word, such as gtgshsldj
)

// chains returns the catalog strings that the Latin word w may be the
// pinyin of: full syllables (shebao → 社保; xian → 县, 西安, …), at least
// two characters long. If abbrev, it returns instead the strings whose
// initials w is (yyzz → 营业执照) and that begin a name or alias; an
// abbreviation is too loose to be matched in the middle of a name.
func (p *pyIndex) chains(w string, abbrev bool) []string {
	if p == nil || len(p.runes) == 0 {
		return nil
	}
	s := chainSearch{p: p, w: w}
	if abbrev {
		if len(w) < 2 || len(w) > maxAbbrev {
			return nil
		}
		s.abbrev()
	} else {
		s.full(0)
	}
	return s.out
}

type chainSearch struct {
	p     *pyIndex
	w     string
	chain []int32
	out   []string
	steps int
}

func (s *chainSearch) emit() {
	rs := make([]rune, len(s.chain))
	for i, c := range s.chain {
		rs[i] = s.p.runes[c]
	}
	str := string(rs)
	if !slices.Contains(s.out, str) {
		s.out = append(s.out, str)
	}
}

func (s *chainSearch) done() bool { return len(s.out) >= maxChains || s.steps >= maxSteps }

func (s *chainSearch) full(pos int) {
	if pos == len(s.w) {
		if len(s.chain) >= 2 {
			s.emit()
		}
		return
	}
	for k := 1; k <= maxSyllable && pos+k <= len(s.w) && !s.done(); k++ {
		sid, ok := s.p.sylNum[s.w[pos:pos+k]]
		if !ok {
			continue
		}
		var cands []int32
		if len(s.chain) == 0 {
			cands = s.p.bySyl[sid]
		} else {
			cands = s.p.next[s.chain[len(s.chain)-1]]
		}
		for _, c := range cands {
			if s.done() {
				return
			}
			s.steps++
			if len(s.chain) > 0 && !s.p.hasSyl(c, sid) {
				continue
			}
			s.chain = append(s.chain, c)
			s.full(pos + k)
			s.chain = s.chain[:len(s.chain)-1]
		}
	}
}

func (s *chainSearch) abbrev() {
	var walk func(pos int)
	walk = func(pos int) {
		if pos == len(s.w) {
			s.emit()
			return
		}
		bit := uint32(1) << (s.w[pos] - 'a')
		var cands []int32
		switch pos {
		case 0:
			cands = s.p.startBy[s.w[0]-'a']
		case 1:
			cands = s.p.startNext[s.chain[0]]
		default:
			cands = s.p.next[s.chain[pos-1]]
		}
		for _, c := range cands {
			if s.done() {
				return
			}
			s.steps++
			if pos > 0 && s.p.letters[c]&bit == 0 {
				continue
			}
			s.chain = append(s.chain, c)
			walk(pos + 1)
			s.chain = s.chain[:len(s.chain)-1]
		}
	}
	walk(0)
}
