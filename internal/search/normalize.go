package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxQueryRunes is the longest query text that is looked at; the rest is
// cut off. No service name is this long, and the bound keeps the cost of
// one query small whatever a client sends (the web layer checks it too).
const MaxQueryRunes = 50

// fold maps a rune to its search form: full-width ASCII (ＡＢＣ１２３, as a
// Chinese input method types it) to half-width, Latin to lower case. It
// reports false for anything that is not a letter or a digit: spaces,
// punctuation such as 《》（）、， and symbols, which separate the words of
// a query and are left out of indexed text, so that "《食品经营许可证》核发"
// is found by 食品经营许可证核发.
func fold(r rune) (rune, bool) {
	if r >= 0xFF01 && r <= 0xFF5E {
		r -= 0xFEE0
	}
	if r >= 0x4E00 && r <= 0x9FFF { // CJK Unified Ideographs, the common case
		return r, true
	}
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return r, true
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A', true
		}
		return 0, false
	}
	if unicode.IsLetter(r) || unicode.IsNumber(r) {
		if l := unicode.ToLower(r); l != 0 {
			return l, true
		}
		return r, true
	}
	return 0, false
}

// normField folds a document field. When withPos is true and runes were
// dropped, pos[k] is the index in s (in runes) of the k-th rune of the
// result, so that highlights found in the folded name can be given in the
// caller's Name; pos is nil when the k-th rune is the k-th rune of s.
func normField(s string, withPos bool) (string, []int32) {
	var b strings.Builder
	b.Grow(len(s))
	var pos []int32
	i, k := 0, 0
	for _, r := range s {
		if f, ok := fold(r); ok {
			if withPos && pos == nil && k != i {
				pos = make([]int32, k, k+8)
				for j := range pos {
					pos[j] = int32(j)
				}
			}
			if pos != nil {
				pos = append(pos, int32(i))
			}
			b.WriteRune(f)
			k++
		}
		i++
	}
	return b.String(), pos
}

// normJoin folds s and drops separators: the form in which synonym keys and
// values are compared with query terms.
func normJoin(s string) string {
	n, _ := normField(s, false)
	return n
}

// term is one word of a query, folded.
type term struct {
	text  string
	rs    []rune
	latin bool // only a–z: may be pinyin
	han   bool // only Chinese characters: may be typo-corrected
}

// maxTerms bounds the words of one query; the rest are ignored. Fifty runes
// rarely hold more than a few words, and each word costs a few set
// operations.
const maxTerms = 8

// parseQuery trims and cuts the text, folds it and splits it into terms at
// spaces and punctuation. Adjacent Latin words are joined, because people
// type pinyin with or without spaces ("She Bao", "shebao"). Repeated terms
// are dropped: they would not change the result.
func parseQuery(s string) []term {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > MaxQueryRunes {
		n := 0
		for i := range s {
			if n == MaxQueryRunes {
				s = s[:i]
				break
			}
			n++
		}
	}
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	for _, r := range s {
		if f, ok := fold(r); ok {
			cur = append(cur, f)
		} else {
			flush()
		}
	}
	flush()

	var terms []term
	seen := map[string]bool{}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if isLatin(w) {
			for i+1 < len(words) && isLatin(words[i+1]) {
				i++
				w += words[i]
			}
		}
		if seen[w] {
			continue
		}
		seen[w] = true
		terms = append(terms, newTerm(w))
		if len(terms) == maxTerms {
			break
		}
	}
	return terms
}

func newTerm(w string) term {
	t := term{text: w, rs: []rune(w), latin: isLatin(w), han: true}
	for _, r := range t.rs {
		if !unicode.Is(unicode.Han, r) {
			t.han = false
			break
		}
	}
	return t
}

func isLatin(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}
