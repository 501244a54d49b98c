// Package ident validates, normalises and masks the identifiers that
// Chinese government services ask for: the resident identity card number
// (居民身份证号码, GB 11643-1999), the unified social credit code
// (统一社会信用代码, GB 32100-2015) and mobile phone numbers.
//
// Every check is offline and uses the standard library only, so forms can
// reject typos before anything is stored or sent to a shared-data interface.
// The region codes are checked against the GB/T 2260 list embedded from
// gb2260.txt, which holds current and former codes (see Region).
// A number that passes is well formed, not necessarily issued: whether it
// belongs to a real person or organisation is for the authoritative
// verification services to say.
//
// Errors are *Error values whose Message is Chinese text fit to show the
// applicant as is. The package does not import the project's apperr so that
// it stays a leaf; callers wrap an *Error as apperr.Invalid.
package ident

import (
	_ "embed"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Field names put in Error.Field, one per kind of identifier. A form whose
// input has another name may overwrite Field on the returned error.
const (
	FieldIDCard     = "id_card"
	FieldCreditCode = "credit_code"
	FieldMobile     = "mobile"
)

// Messages shown to users. Kept in one place so that wording stays
// consistent across the platform.
const (
	msgIDCardEmpty   = "请填写身份证号码"
	msgIDCardLength  = "身份证号码应为18位"
	msgIDCardChars   = "身份证号码格式不正确：前17位应为数字，最后一位为数字或X"
	msgIDCardFirst17 = "身份证号码前17位应为17位数字"
	msgIDCardRegion  = "身份证号码前6位不是有效的县级行政区划代码"
	msgIDCardBirth   = "身份证号码中的出生日期无效"
	msgIDCardFuture  = "身份证号码中的出生日期不能晚于今天"
	msgIDCardCheck   = "身份证号码校验位错误"
	msgCreditEmpty   = "请填写统一社会信用代码"
	msgCreditLength  = "统一社会信用代码应为18位"
	msgCreditChars   = "统一社会信用代码含有无效字符：只能是数字和大写字母（不含I、O、Z、S、V）"
	msgCreditFirst17 = "统一社会信用代码前17位应为17个有效字符（数字和除I、O、Z、S、V外的大写字母）"
	msgCreditRegion  = "统一社会信用代码第3至8位不是有效的行政区划代码"
	msgCreditCheck   = "统一社会信用代码校验位错误"
	msgCreditOrg     = "统一社会信用代码第9至17位（组织机构代码）的校验位错误"
	msgOrgBody       = "组织机构代码本体应为8位数字或大写字母"
	msgMobileEmpty   = "请填写手机号码"
	msgMobileFormat  = "手机号码格式不正确"
)

const (
	idCardLen         = 18
	creditCodeLen     = 18
	mobileLen         = 11
	minBirthYear      = 1870
	idCardCheckChars  = "10X98765432"
	creditCodeCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
)

// Error is a validation failure. Message is the user-facing text; Field
// names the kind of identifier (FieldIDCard, FieldCreditCode, FieldMobile).
type Error struct {
	Field   string
	Message string
}

// Error returns Message alone, with no field name or prefix, because the
// text goes straight to the applicant.
func (e *Error) Error() string { return e.Message }

func newError(field, msg string) *Error { return &Error{Field: field, Message: msg} }

// IDCard is a parsed resident identity card number.
type IDCard struct {
	// Number is the normalised 18-character number (a trailing x upper-cased).
	Number string
	// Birth is the birth date, at midnight UTC: it is a calendar date, not an
	// instant, so compare it with Year/Month/Day rather than with Before/After
	// against times in other zones.
	Birth time.Time
	// Female is true when the sequence digit (the 17th character) is even,
	// as GB 11643 assigns odd numbers to men and even to women.
	Female bool
	// Region is the first 6 digits: the GB/T 2260 county where the number
	// was first issued, not necessarily the holder's current address.
	Region string
}

var idCardWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// ParseIDCard validates an 18-character resident identity card number and
// returns its parts. Surrounding white space (including the ideographic space
// an IME may add) is ignored and a final lowercase x is accepted and stored
// as X.
//
// The region (characters 1–6) must be a county-level GB/T 2260 code, current
// or former (see Region): a province-level code such as 110000 is refused,
// as no card is issued under one, except the 810000, 820000 and 830000 of
// residence permits for Hong Kong, Macao and Taiwan residents, and the
// 9 + province + nationality of a foreigner's permanent residence card
// (2023 design).
//
// The birth date (characters 7–14) must be a real calendar date from 1870
// onward and not after now's date. 1870 leaves room for the oldest people
// ever recorded (born 1875) and the standard's own example (born 1880),
// while a year such as 1790 is still caught as a typo. now is passed in,
// rather than read from the system clock, so that tests and the platform's
// clock agree; its own location decides what "today" is, so pass a Beijing
// time (clock.China). A zero now rejects every number as born in the future.
//
// The region and the birth date are checked before the check character: a
// one-character typo always breaks the checksum, and when the typo is in the
// region or the date, saying so tells the applicant where to look.
// 15-digit first-generation numbers are rejected: those cards stopped being
// valid in 2013.
func ParseIDCard(s string, now time.Time) (IDCard, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return IDCard{}, newError(FieldIDCard, msgIDCardEmpty)
	}
	// Count runes, not bytes, so that an 18-character input with a
	// full-width digit gets the charset message rather than a wrong count.
	if utf8.RuneCountInString(s) != idCardLen {
		return IDCard{}, newError(FieldIDCard, msgIDCardLength)
	}
	if len(s) != idCardLen { // 18 runes but some of them multi-byte
		return IDCard{}, newError(FieldIDCard, msgIDCardChars)
	}
	if s[17] == 'x' {
		s = s[:17] + "X"
	}
	if !allDigits(s[:17]) || !(isDigit(s[17]) || s[17] == 'X') {
		return IDCard{}, newError(FieldIDCard, msgIDCardChars)
	}
	if !idCardRegion(s[:6]) {
		return IDCard{}, newError(FieldIDCard, msgIDCardRegion)
	}

	year, month, day := atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14])
	birth := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	// time.Date normalises out-of-range values (Feb 29 1990 becomes Mar 1),
	// so a date is real exactly when it survives the round trip.
	if year < minBirthYear || birth.Year() != year || int(birth.Month()) != month || birth.Day() != day {
		return IDCard{}, newError(FieldIDCard, msgIDCardBirth)
	}
	ny, nm, nd := now.Date()
	if birth.After(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)) {
		return IDCard{}, newError(FieldIDCard, msgIDCardFuture)
	}

	if idCardCheck(s[:17]) != s[17] {
		return IDCard{}, newError(FieldIDCard, msgIDCardCheck)
	}
	return IDCard{
		Number: s,
		Birth:  birth,
		Female: (s[16]-'0')%2 == 0,
		Region: s[:6],
	}, nil
}

// IDCardCheckChar returns the check character ('0'–'9' or 'X') for the first
// 17 digits of an identity card number. It is for generating test and demo
// data and for telling an applicant which character is wrong.
func IDCardCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 || !allDigits(first17) {
		return 0, newError(FieldIDCard, msgIDCardFirst17)
	}
	return idCardCheck(first17), nil
}

// idCardCheck assumes 17 ASCII digits.
func idCardCheck(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idCardWeights[i]
	}
	return idCardCheckChars[sum%11]
}

// CreditCode is a parsed unified social credit code.
type CreditCode struct {
	// Code is the normalised (upper-case) 18-character code.
	Code string
	// Authority is the registering-authority character: '1' 机构编制,
	// '5' 民政, '9' 工商/市场监管, 'Y' 其他, among others.
	Authority byte
	// Category is the organisation category within that authority, e.g.
	// '1' 企业 under '9'.
	Category byte
	// Region is characters 3–8: the GB/T 2260 code of the registering
	// authority's area.
	Region string
}

var creditCodeWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// creditCodeValue maps an ASCII byte to its index in creditCodeCharset, or -1.
// The letters I, O, Z, S and V are excluded by the standard because they are
// easily confused with 1, 0, 2, 5 and U.
var creditCodeValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(creditCodeCharset); i++ {
		t[creditCodeCharset[i]] = int8(i)
	}
	return t
}()

// ParseCreditCode validates an 18-character unified social credit code.
// Surrounding white space is ignored and lowercase letters are upper-cased,
// since applicants often type codes from paper in lower case.
//
// The authority and category characters are not restricted to the values
// listed in GB 32100-2015 itself: later notices added authorities (for
// example 3 司法行政 for law firms and N 农业 for rural collective economic
// organisations) and real codes use them. Characters 3–8 must be a GB/T 2260
// code, current or former, of any level (a provincial authority registers
// under 110000), or 100000 for national-level authorities. Characters 9–17
// are the organisation's GB 11714 code, whose own check character (the 17th)
// must be right too; it is checked after the credit code's, which catches
// any typo first.
func ParseCreditCode(s string) (CreditCode, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return CreditCode{}, newError(FieldCreditCode, msgCreditEmpty)
	}
	if utf8.RuneCountInString(s) != creditCodeLen {
		return CreditCode{}, newError(FieldCreditCode, msgCreditLength)
	}
	s = asciiUpper(s)
	if !creditCodeChars(s) {
		return CreditCode{}, newError(FieldCreditCode, msgCreditChars)
	}
	if _, ok := Region(s[2:8]); !ok {
		return CreditCode{}, newError(FieldCreditCode, msgCreditRegion)
	}
	if creditCodeCheck(s[:17]) != s[17] {
		return CreditCode{}, newError(FieldCreditCode, msgCreditCheck)
	}
	if orgCodeCheck(s[8:16]) != s[16] {
		return CreditCode{}, newError(FieldCreditCode, msgCreditOrg)
	}
	return CreditCode{Code: s, Authority: s[0], Category: s[1], Region: s[2:8]}, nil
}

// CreditCodeCheckChar returns the check character for the first 17
// characters of a unified social credit code. Lowercase letters are accepted
// as their upper-case forms, as in ParseCreditCode.
func CreditCodeCheckChar(first17 string) (byte, error) {
	first17 = asciiUpper(first17)
	if len(first17) != 17 || !creditCodeChars(first17) {
		return 0, newError(FieldCreditCode, msgCreditFirst17)
	}
	return creditCodeCheck(first17), nil
}

// creditCodeCheck assumes 17 characters from creditCodeCharset.
func creditCodeCheck(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(creditCodeValue[first17[i]]) * creditCodeWeights[i]
	}
	return creditCodeCharset[(31-sum%31)%31]
}

// OrgCodeCheckChar returns the GB 11714 check character of an 8-character
// organisation code body (digits and upper-case letters), as characters
// 9–16 of a credit code carry it: for generating test and demo data.
func OrgCodeCheckChar(body string) (byte, error) {
	if len(body) != 8 {
		return 0, newError(FieldCreditCode, msgOrgBody)
	}
	for i := 0; i < 8; i++ {
		if !isDigit(body[i]) && (body[i] < 'A' || body[i] > 'Z') {
			return 0, newError(FieldCreditCode, msgOrgBody)
		}
	}
	return orgCodeCheck(body), nil
}

var orgCodeWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// orgCodeCheck is GB 11714's check: digits count as their value and letters
// A–Z as 10–35; the check is 11 − Σ mod 11, written X for 10 and 0 for 11.
// It assumes digits and upper-case letters (any other byte yields a value
// that never matches, as callers only compare).
func orgCodeCheck(body string) byte {
	sum := 0
	for i := 0; i < 8; i++ {
		v := int(body[i] - '0')
		if !isDigit(body[i]) {
			v = int(body[i]-'A') + 10
		}
		sum += v * orgCodeWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

//go:embed gb2260.txt
var regionData string

// regions is the embedded list by code, parsed on first use.
var regions = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, 7200)
	for _, line := range strings.Split(regionData, "\n") {
		if code, name, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") {
			m[code] = name
		}
	}
	return m
})

// Region returns the name of a GB/T 2260 code of any level (province,
// prefecture or county), current or former, and whether the list has it.
//
// The list keeps former codes because an identity number keeps the code of
// the place where it was first issued, and a credit code that of its
// registering authority, after the division is renamed, merged or
// abolished: 110103 崇文区 (merged in 2010) is still on cards. Former names
// are those last used. It also holds 100000, which credit codes carry for
// national-level authorities, and 830000, the prefix of residence permits
// for Taiwan residents.
func Region(code string) (string, bool) {
	name, ok := regions()[code]
	return name, ok
}

// idCardRegion reports whether code may begin an identity number: a listed
// code below province level, a residence-permit prefix, or that of a
// foreigner's permanent residence card of the 2023 design (9, the issuing
// province's two digits, then the holder's three-digit nationality code).
func idCardRegion(code string) bool {
	if code[0] == '9' {
		_, ok := Region(code[1:3] + "0000")
		return ok && "11" <= code[1:3] && code[1:3] <= "65" // a mainland province
	}
	if _, ok := Region(code); !ok {
		return false
	}
	switch code {
	case "810000", "820000", "830000":
		return true
	}
	return !strings.HasSuffix(code, "0000")
}

// creditCodeChars reports whether every byte of s is in creditCodeCharset.
func creditCodeChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if creditCodeValue[s[i]] < 0 {
			return false
		}
	}
	return true
}

// ParseMobile validates a mainland China mobile number and returns it as 11
// digits. Spaces and hyphens anywhere are removed (people write
// "138 1234 5678" and "138-1234-5678"), and so is a leading +86 or 86
// country code. The number must be 1 followed by 3–9 and nine more digits;
// ranges within that are not checked, because operators open new ones
// (e.g. 19x, 16x) faster than a list here would be updated.
func ParseMobile(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", newError(FieldMobile, msgMobileEmpty)
	}
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
	if strings.HasPrefix(s, "+86") {
		s = s[3:]
	} else if len(s) == mobileLen+2 && strings.HasPrefix(s, "86") {
		s = s[2:]
	}
	if len(s) != mobileLen || !allDigits(s) || s[0] != '1' || s[1] < '3' {
		return "", newError(FieldMobile, msgMobileFormat)
	}
	return s, nil
}

// MaskIDCard hides the middle of an identity card number for display:
// "410411199001011234" becomes "410411********1234", keeping the region and
// the last four characters, which staff use to tell people apart, and hiding
// the birth date. It never panics and keeps the number of characters.
//
// Any input is accepted, since masking happens when displaying stored data
// that may be legacy or malformed. Input shorter than 18 characters keeps
// proportionally fewer (a legacy 15-digit number keeps 5 and 3), so at
// least as large a share is hidden as for a full number. Surrounding white
// space is dropped.
func MaskIDCard(s string) string {
	return mask(strings.TrimSpace(s), 6, 4, idCardLen)
}

// MaskMobile hides the middle four digits of a mobile number:
// "13812345678" becomes "138****5678". A number ParseMobile accepts is
// normalised first (so "+86 138-1234-5678" masks to "138****5678"); any
// other input is masked like MaskIDCard does, proportionally and safely.
func MaskMobile(s string) string {
	if m, err := ParseMobile(s); err == nil {
		s = m
	}
	return mask(strings.TrimSpace(s), 3, 4, mobileLen)
}

// MaskName hides a person's name but the first character (the family
// name, mostly): "张三" becomes "张*", "欧阳娜娜" "欧***". A one-character
// name is hidden whole.
func MaskName(s string) string {
	return mask(strings.TrimSpace(s), 1, 0, 2)
}

// mask keeps head leading and tail trailing runes of s and replaces the rest
// with '*'. For an s shorter than full runes, head and tail shrink in
// proportion (rounded down), so a partial value never reveals a larger
// share than a full one does. It works on runes so that non-ASCII input is
// never cut inside a character.
func mask(s string, head, tail, full int) string {
	r := []rune(s)
	n := len(r)
	if n < full {
		head = head * n / full
		tail = tail * n / full
	}
	for i := head; i < n-tail; i++ {
		r[i] = '*'
	}
	return string(r)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// atoi assumes ASCII digits only.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// asciiUpper upper-cases ASCII letters only and leaves every other byte
// alone, so invalid UTF-8 stays invalid (and is then rejected) instead of
// being rewritten the way strings.ToUpper would.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
