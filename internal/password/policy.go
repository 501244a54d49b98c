package password

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultMinLength is the minimum length a zero Policy requires.
const DefaultMinLength = 10

// MaxLength is the longest password any policy accepts, in characters.
const MaxLength = 128

// maxRun is how many identical characters may follow one another.
const maxRun = 3

// minPersonal is the shortest personal string that Check looks for; shorter
// ones (a two-character given name, say) would reject too many passwords.
const minPersonal = 4

// Messages shown to users, in the order Check reports them.
const (
	msgEmpty    = "请设置密码"
	msgTooShort = "密码长度不能少于%d个字符"
	msgTooLong  = "密码长度不能超过%d个字符"
	msgInvalid  = "密码不能包含换行、制表符等控制字符或无效字符"
	msgClasses  = "密码须至少包含小写字母、大写字母、数字、符号中的三类（汉字等其他字符按符号计）"
	msgRun      = "密码中同一字符不能连续出现超过3次"
	msgPersonal = "密码不能包含手机号码、用户名、身份证号码等个人信息"
	msgCommon   = "该密码过于常见，容易被猜中，请换一个"
)

// Policy is the rule set a new password must satisfy. The zero value is
// the platform default.
type Policy struct {
	// MinLength is the minimum number of characters (runes, so a Chinese
	// character counts as one). Zero or less means DefaultMinLength.
	MinLength int
}

// PolicyError lists every rule a password breaks. Each problem is Chinese
// text fit to show the user as is.
type PolicyError struct {
	Problems []string
}

// Error joins the problems with the Chinese semicolon.
func (e *PolicyError) Error() string { return strings.Join(e.Problems, "；") }

// Check reports whether plain satisfies the policy. It returns nil or a
// *PolicyError listing every failure:
//
//   - at least MinLength and at most MaxLength characters;
//   - valid UTF-8 without control characters;
//   - at least three of: lowercase letters, uppercase letters, digits and
//     symbols, where any other character (space, punctuation, Chinese
//     characters…) counts as a symbol;
//   - no character repeated more than three times in a row;
//   - none of the personal strings (mobile number, user name, the last six
//     characters of the ID number…) inside it, ignoring case; strings
//     shorter than four characters after trimming spaces are not checked;
//   - not one of the most common passwords, ignoring case.
//
// An empty password gives the single problem "请设置密码".
func (p Policy) Check(plain string, personal ...string) error {
	if plain == "" {
		return &PolicyError{Problems: []string{msgEmpty}}
	}
	minLen := p.MinLength
	if minLen <= 0 {
		minLen = DefaultMinLength
	}
	var problems []string

	n := utf8.RuneCountInString(plain)
	if n < minLen {
		problems = append(problems, fmt.Sprintf(msgTooShort, minLen))
	}
	if n > MaxLength {
		problems = append(problems, fmt.Sprintf(msgTooLong, MaxLength))
	}

	var lower, upper, digit, symbol, invalid bool
	var prev rune = -1
	run, longest := 0, 0
	for i, r := range plain {
		switch {
		case r == utf8.RuneError && !validAt(plain, i):
			invalid = true
		case unicode.IsControl(r):
			invalid = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			symbol = true
		}
		if r == prev {
			run++
		} else {
			prev, run = r, 1
		}
		longest = max(longest, run)
	}
	if invalid {
		problems = append(problems, msgInvalid)
	}
	classes := 0
	for _, ok := range []bool{lower, upper, digit, symbol} {
		if ok {
			classes++
		}
	}
	if classes < 3 {
		problems = append(problems, msgClasses)
	}
	if longest > maxRun {
		problems = append(problems, msgRun)
	}

	folded := strings.ToLower(plain)
	for _, s := range personal {
		s = strings.ToLower(strings.TrimSpace(s))
		if utf8.RuneCountInString(s) >= minPersonal && strings.Contains(folded, s) {
			problems = append(problems, msgPersonal)
			break
		}
	}
	if IsCommon(plain) {
		problems = append(problems, msgCommon)
	}

	if len(problems) == 0 {
		return nil
	}
	return &PolicyError{Problems: problems}
}

// validAt reports whether the U+FFFD at byte i of s is really there rather
// than the decoding of an invalid byte.
func validAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 3
}

//go:embed common.txt
var commonText string

// common holds the lowercased common passwords.
var common = func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, line := range strings.Split(commonText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = struct{}{}
	}
	return m
}()

// IsCommon reports whether plain is, ignoring case, one of the most common
// passwords in the embedded list (leaked-password rankings, keyboard
// patterns and pinyin favourites such as woaini1314).
func IsCommon(plain string) bool {
	_, ok := common[strings.ToLower(plain)]
	return ok
}
