package ident

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// cst is Beijing time, as the platform's clock uses.
var cst = time.FixedZone("CST", 8*60*60)

// testNow is the "today" of these tests: 15 June 2025, noon in Beijing.
var testNow = time.Date(2025, 6, 15, 12, 0, 0, 0, cst)

// refIDCheck computes the GB 11643 check character from the standard's own
// definition rather than from the package's tables: weight i (counting the
// check character as position 1 from the right) is 2^(i-1) mod 11, and the
// check value is (12 - Σ mod 11) mod 11, with 10 written X.
func refIDCheck(t testing.TB, first17 string) byte {
	t.Helper()
	if len(first17) != 17 {
		t.Fatalf("refIDCheck(%q): need 17 digits", first17)
	}
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1
		for k := 0; k < 17-i; k++ { // 2^(17-i) mod 11
			w = w * 2 % 11
		}
		sum += int(first17[i]-'0') * w
	}
	v := (12 - sum%11) % 11
	if v == 10 {
		return 'X'
	}
	return byte('0' + v)
}

// refCreditCheck computes the GB 32100 check character from the standard's
// definition: weight i (from the left, starting at 0) is 3^i mod 31.
func refCreditCheck(t testing.TB, first17 string) byte {
	t.Helper()
	const charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	sum, w := 0, 1
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(charset, first17[i])
		if v < 0 {
			t.Fatalf("refCreditCheck(%q): bad char %q", first17, first17[i])
		}
		sum += v * w
		w = w * 3 % 31
	}
	return charset[(31-sum%31)%31]
}

// id returns first17 completed with its reference check character, after
// making sure the package computes the same one.
func id(t testing.TB, first17 string) string {
	t.Helper()
	want := refIDCheck(t, first17)
	got, err := IDCardCheckChar(first17)
	if err != nil || got != want {
		t.Fatalf("IDCardCheckChar(%q) = %q, %v; reference %q", first17, got, err, want)
	}
	return first17 + string(want)
}

// refOrgCheck computes the GB 11714 check character from the standard's
// definition: C9 = 11 − (Σ Ci·Wi mod 11) with weights 3 7 9 10 5 8 4 2, letters
// worth 10–35, 10 written X and 11 written 0.
func refOrgCheck(body string) byte {
	const values = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	sum := 0
	for i, w := range []int{3, 7, 9, 10, 5, 8, 4, 2} {
		sum += strings.IndexByte(values, body[i]) * w
	}
	return "0123456789X0"[11-sum%11]
}

// usc builds a credit code from the authority and category (2), the region
// (6) and an organisation code body (8), with both check characters.
func usc(t testing.TB, head, region, body string) string {
	t.Helper()
	k, err := OrgCodeCheckChar(body)
	if err != nil || k != refOrgCheck(body) {
		t.Fatalf("OrgCodeCheckChar(%q) = %q, %v; reference %q", body, k, err, refOrgCheck(body))
	}
	return cc(t, head+region+body+string(k))
}

// cc is id for credit codes.
func cc(t testing.TB, first17 string) string {
	t.Helper()
	want := refCreditCheck(t, first17)
	got, err := CreditCodeCheckChar(first17)
	if err != nil || got != want {
		t.Fatalf("CreditCodeCheckChar(%q) = %q, %v; reference %q", first17, got, err, want)
	}
	return first17 + string(want)
}

// wrongLast replaces the last character of s with another from alphabet.
func wrongLast(s, alphabet string) string {
	last := s[len(s)-1]
	for i := 0; i < len(alphabet); i++ {
		if alphabet[i] != last {
			return s[:len(s)-1] + string(alphabet[i])
		}
	}
	panic("alphabet too small")
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// checkErr asserts that err is an *Error for field with the given message.
func checkErr(t *testing.T, err error, field, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %#v, want *Error %q", err, msg)
	}
	if e.Field != field || e.Message != msg || e.Error() != msg {
		t.Fatalf("error = {%q %q} (Error() %q), want {%q %q}", e.Field, e.Message, e.Error(), field, msg)
	}
}

// Fixed numbers whose check characters were computed by a separate script
// (and, for the first ones, match published examples: 11010519491231002X
// and 440524188001010014 are the GB 11643 examples, 91350100M000100Y43 the
// GB 32100 example; the other credit codes are of the form published by
// real bodies, with both check characters right).
func TestKnownGoodLiterals(t *testing.T) {
	for _, n := range []string{
		"11010519491231002X",
		"440524188001010014",
		"440304198405031236",
		"410411199001011237",
		"320106200002290043",
		"510107198002293019",
	} {
		if _, err := ParseIDCard(n, testNow); err != nil {
			t.Errorf("ParseIDCard(%q): %v", n, err)
		}
		if c := refIDCheck(t, n[:17]); c != n[17] {
			t.Errorf("reference check of %q = %q", n, c)
		}
	}
	for _, c := range []string{
		"91350100M000100Y43",
		"9144030071526726XG",
		"91110000802100433B",
		"12100000400000624D",
		"91110108551385082Q",
		"914403001922038216",
	} {
		if _, err := ParseCreditCode(c); err != nil {
			t.Errorf("ParseCreditCode(%q): %v", c, err)
		}
		if k := refCreditCheck(t, c[:17]); k != c[17] {
			t.Errorf("reference check of %q = %q", c, k)
		}
	}
}

func TestParseIDCardValid(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		number string
		birth  time.Time
		female bool
		region string
	}{
		{"standard example", "11010519491231002X", "11010519491231002X", date(1949, 12, 31), true, "110105"},
		{"lowercase x", "11010519491231002x", "11010519491231002X", date(1949, 12, 31), true, "110105"},
		{"surrounding spaces", " \t11010519491231002x\u3000\n", "11010519491231002X", date(1949, 12, 31), true, "110105"},
		{"male", "410411199001011237", "410411199001011237", date(1990, 1, 1), false, "410411"},
		{"leap day 2000", "320106200002290043", "320106200002290043", date(2000, 2, 29), true, "320106"},
		{"computed male", id(t, "44030419840503123"), id(t, "44030419840503123"), date(1984, 5, 3), false, "440304"},
		{"computed female", id(t, "33010219751108002"), id(t, "33010219751108002"), date(1975, 11, 8), true, "330102"},
		{"first allowed day", id(t, "11010118700101001"), id(t, "11010118700101001"), date(1870, 1, 1), false, "110101"},
		{"standard example born 1880", "440524188001010014", "440524188001010014", date(1880, 1, 1), false, "440524"},
		{"former county code (崇文区, merged 2010)", id(t, "11010319650304002"), id(t, "11010319650304002"), date(1965, 3, 4), true, "110103"},
		{"city without districts (东莞市)", id(t, "44190019880808001"), id(t, "44190019880808001"), date(1988, 8, 8), false, "441900"},
		{"born today", id(t, "11010120250615002"), id(t, "11010120250615002"), date(2025, 6, 15), true, "110101"},
		{"leap day 2024", id(t, "31011520240229003"), id(t, "31011520240229003"), date(2024, 2, 29), false, "310115"},
		{"HK residence permit", id(t, "81000019950707004"), id(t, "81000019950707004"), date(1995, 7, 7), true, "810000"},
		{"foreigner's permanent residence card (2023)", id(t, "93184019850101001"), id(t, "93184019850101001"), date(1985, 1, 1), false, "931840"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIDCard(tt.in, testNow)
			if err != nil {
				t.Fatalf("ParseIDCard(%q): %v", tt.in, err)
			}
			want := IDCard{Number: tt.number, Birth: tt.birth, Female: tt.female, Region: tt.region}
			if got != want {
				t.Fatalf("ParseIDCard(%q) = %+v, want %+v", tt.in, got, want)
			}
		})
	}
}

func TestParseIDCardInvalid(t *testing.T) {
	valid := id(t, "11010519900307447")
	// A number whose correct check character is a digit, given a lowercase x.
	digitCheck := id(t, "11010519900307448")
	if digitCheck[17] == 'X' {
		t.Fatal("test setup: expected a digit check character")
	}
	tests := []struct {
		name string
		in   string
		msg  string
	}{
		{"empty", "", msgIDCardEmpty},
		{"blank", " \u3000\t", msgIDCardEmpty},
		{"17 chars", valid[:17], msgIDCardLength},
		{"19 chars", valid + "1", msgIDCardLength},
		{"legacy 15 digits", "110105491231002", msgIDCardLength},
		{"inner space", valid[:6] + " " + valid[6:], msgIDCardLength},
		{"letter check char", valid[:17] + "Y", msgIDCardChars},
		{"X not last", "1101051949123100X2", msgIDCardChars},
		{"letter in body", "11010A19491231002X", msgIDCardChars},
		{"lowercase x in body", "1101051949123100x2", msgIDCardChars},
		{"full-width digit", "１" + valid[1:], msgIDCardChars},
		{"chinese chars", "一二三四五六七八九十一二三四五六七八", msgIDCardChars},
		{"invalid utf-8", "\xff" + valid[1:], msgIDCardChars},
		{"wrong check digit", wrongLast(valid, "0123456789X"), msgIDCardCheck},
		{"wrong check X", "110105194912310021", msgIDCardCheck},
		{"lowercase x wrong", digitCheck[:17] + "x", msgIDCardCheck},
		{"Feb 29 non-leap", id(t, "11010519900229001"), msgIDCardBirth},
		{"Feb 29 1900 (century not leap)", id(t, "11010519000229001"), msgIDCardBirth},
		{"Feb 30", id(t, "11010520000230001"), msgIDCardBirth},
		{"Apr 31", id(t, "11010519990431001"), msgIDCardBirth},
		{"month 13", id(t, "11010519901301001"), msgIDCardBirth},
		{"month 00", id(t, "11010519900001001"), msgIDCardBirth},
		{"day 00", id(t, "11010519900100001"), msgIDCardBirth},
		{"day 32", id(t, "11010519900132001"), msgIDCardBirth},
		{"before 1870", id(t, "11010518691231001"), msgIDCardBirth},
		{"year 0000", id(t, "11010500000101001"), msgIDCardBirth},
		{"tomorrow", id(t, "11010520250616001"), msgIDCardFuture},
		{"next year", id(t, "11010520260101001"), msgIDCardFuture},
		{"far future", id(t, "11010599991231001"), msgIDCardFuture},
		// The date is checked first: a bad date with a bad check character
		// points the applicant to the date.
		{"bad date and check", wrongLast(id(t, "11010519900229001"), "0123456789X"), msgIDCardBirth},
		// The region comes first of all.
		{"region 000000", id(t, "00000019900307123"), msgIDCardRegion},
		{"region 999999", id(t, "99999919900307123"), msgIDCardRegion},
		{"region unknown (110199)", id(t, "11019919900307123"), msgIDCardRegion},
		{"province-level region 110000", id(t, "11000019900307123"), msgIDCardRegion},
		{"national code 100000", id(t, "10000019900307123"), msgIDCardRegion},
		{"the number /register accepted", "000000199003071236", msgIDCardRegion},
		{"bad region and date", id(t, "99999919900229001"), msgIDCardRegion},
		{"residence card of no province (9 + 99)", id(t, "99984019850101001"), msgIDCardRegion},
		{"residence card of Hong Kong (9 + 81)", id(t, "98184019850101001"), msgIDCardRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIDCard(tt.in, testNow)
			checkErr(t, err, FieldIDCard, tt.msg)
			if got != (IDCard{}) {
				t.Fatalf("ParseIDCard(%q) returned %+v with an error", tt.in, got)
			}
		})
	}
}

// "Today" is the date in now's own location: at 04:00 Beijing time on 15
// June it is still 14 June in UTC.
func TestParseIDCardTodayFollowsNowLocation(t *testing.T) {
	n := id(t, "11010120250615002")
	instant := time.Date(2025, 6, 14, 20, 0, 0, 0, time.UTC)
	if _, err := ParseIDCard(n, instant.In(cst)); err != nil {
		t.Fatalf("Beijing now: %v", err)
	}
	_, err := ParseIDCard(n, instant)
	checkErr(t, err, FieldIDCard, msgIDCardFuture)
	_, err = ParseIDCard(n, time.Time{})
	checkErr(t, err, FieldIDCard, msgIDCardFuture)
}

// Every single-character substitution in a valid number is rejected: the
// weights are all non-zero mod 11, so the checksum catches what the date
// check does not.
func TestParseIDCardCatchesEverySubstitution(t *testing.T) {
	valid := id(t, "11010519491231002")
	for i := 0; i < 18; i++ {
		for _, c := range []byte("0123456789X") {
			if c == valid[i] || (c == 'X' && i < 17) {
				continue
			}
			s := valid[:i] + string(c) + valid[i+1:]
			if _, err := ParseIDCard(s, testNow); err == nil {
				t.Errorf("ParseIDCard(%q) accepted a substitution at %d", s, i)
			}
		}
	}
}

func TestIDCardCheckChar(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want byte
	}{
		{"11010519491231002", 'X'},
		{"44030419840503123", '6'},
		{"41041119900101123", '7'},
		{"32010620000229004", '3'},
		{"00000000000000000", '1'},
	} {
		got, err := IDCardCheckChar(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("IDCardCheckChar(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "1101051949123100", "110105194912310021", "1101051949123100X", "１101051949123100", "11010519491231 02"} {
		got, err := IDCardCheckChar(in)
		checkErr(t, err, FieldIDCard, msgIDCardFirst17)
		if got != 0 {
			t.Errorf("IDCardCheckChar(%q) = %q with an error", in, got)
		}
	}
}

func TestParseCreditCodeValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want CreditCode
	}{
		{"standard example", "91350100M000100Y43", CreditCode{"91350100M000100Y43", '9', '1', "350100"}},
		{"lowercase", "91350100m000100y43", CreditCode{"91350100M000100Y43", '9', '1', "350100"}},
		{"spaces", "\u3000 9144030071526726xg\n", CreditCode{"9144030071526726XG", '9', '1', "440300"}},
		{"public institution, national", "12100000400000624D", CreditCode{"12100000400000624D", '1', '2', "100000"}},
		{"social organisation, provincial", usc(t, "51", "110000", "50000000"), CreditCode{usc(t, "51", "110000", "50000000"), '5', '1', "110000"}},
		{"other authority", usc(t, "Y1", "110000", "MA000000"), CreditCode{usc(t, "Y1", "110000", "MA000000"), 'Y', '1', "110000"}},
		{"law firm (authority 3)", usc(t, "31", "110000", "E0000001"), CreditCode{usc(t, "31", "110000", "E0000001"), '3', '1', "110000"}},
		{"rural collective (N)", usc(t, "N2", "330106", "MA2B3C4D"), CreditCode{usc(t, "N2", "330106", "MA2B3C4D"), 'N', '2', "330106"}},
		{"farmers' cooperative", usc(t, "93", "410411", "MA9XYWUT"), CreditCode{usc(t, "93", "410411", "MA9XYWUT"), '9', '3', "410411"}},
		{"prefecture-level authority", "91350100M000100Y43", CreditCode{"91350100M000100Y43", '9', '1', "350100"}},
		{"former county code", usc(t, "92", "110104", "L1234567"), CreditCode{usc(t, "92", "110104", "L1234567"), '9', '2', "110104"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCreditCode(tt.in)
			if err != nil {
				t.Fatalf("ParseCreditCode(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseCreditCode(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseCreditCodeInvalid(t *testing.T) {
	valid := "91350100M000100Y43"
	tests := []struct {
		name string
		in   string
		msg  string
	}{
		{"empty", "", msgCreditEmpty},
		{"blank", "\t \u3000", msgCreditEmpty},
		{"17 chars", valid[:17], msgCreditLength},
		{"19 chars", valid + "0", msgCreditLength},
		{"15-digit business licence number", "110000000000000", msgCreditLength},
		{"inner space", valid[:8] + " " + valid[8:], msgCreditLength},
		{"letter I", "91350100MI00100Y43", msgCreditChars},
		{"letter O", "91350100MO00100Y43", msgCreditChars},
		{"letter Z", "91350100MZ00100Y43", msgCreditChars},
		{"letter S", "91350100MS00100Y43", msgCreditChars},
		{"letter V", "91350100MV00100Y43", msgCreditChars},
		{"lowercase o", "91350100mo00100y43", msgCreditChars},
		{"check char I", valid[:17] + "I", msgCreditChars},
		{"punctuation", "91350100M-00100Y43", msgCreditChars},
		{"full-width letter", "91350100Ｍ000100Y43", msgCreditChars},
		{"invalid utf-8", "\xff1350100M000100Y43", msgCreditChars},
		{"letter in region", cc(t, "913501A0M000100Y4"), msgCreditRegion},
		{"letters region", cc(t, "91ABCDEFM000100Y4"), msgCreditRegion},
		{"region 000000", usc(t, "91", "000000", "MA000000"), msgCreditRegion},
		{"region 999999", usc(t, "91", "999999", "MA000000"), msgCreditRegion},
		{"region unknown (410499)", usc(t, "91", "410499", "MA000000"), msgCreditRegion},
		// Right credit-code check character, wrong organisation code check.
		{"bad GB 11714 check", cc(t, "91350100M000100Y5"), msgCreditOrg},
		{"bad GB 11714 check, made-up code", cc(t, "11410411MB1234567"), msgCreditOrg},
		{"wrong check", wrongLast(valid, creditCodeCharset), msgCreditCheck},
		{"wrong check lowercase", strings.ToLower(wrongLast(valid, creditCodeCharset)), msgCreditCheck},
		{"transposed", "91350100M001000Y43", msgCreditCheck},
		{"transposed region", "91351000M000100Y43", msgCreditRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCreditCode(tt.in)
			checkErr(t, err, FieldCreditCode, tt.msg)
			if got != (CreditCode{}) {
				t.Fatalf("ParseCreditCode(%q) returned %+v with an error", tt.in, got)
			}
		})
	}
}

// Every single-character substitution outside the region is rejected (the
// weights 3^i mod 31 are non-zero and 31 is prime).
func TestParseCreditCodeCatchesEverySubstitution(t *testing.T) {
	valid := "91350100M000100Y43"
	for i := 0; i < 18; i++ {
		for _, c := range []byte(creditCodeCharset) {
			if c == valid[i] {
				continue
			}
			s := valid[:i] + string(c) + valid[i+1:]
			if _, err := ParseCreditCode(s); err == nil {
				t.Errorf("ParseCreditCode(%q) accepted a substitution at %d", s, i)
			}
		}
	}
}

func TestCreditCodeCheckChar(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want byte
	}{
		{"91350100M000100Y4", '3'},
		{"91350100m000100y4", '3'},
		{"9144030071526726X", 'G'},
		{"91110000802100433", 'B'},
		{"00000000000000000", '0'},
	} {
		got, err := CreditCodeCheckChar(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CreditCodeCheckChar(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "91350100M000100Y", "91350100M000100Y43", "91350100MI00100Y4", "91350100M-00100Y4", "91350100Ｍ00100Y4"} {
		got, err := CreditCodeCheckChar(in)
		checkErr(t, err, FieldCreditCode, msgCreditFirst17)
		if got != 0 {
			t.Errorf("CreditCodeCheckChar(%q) = %q with an error", in, got)
		}
	}
}

func TestParseMobile(t *testing.T) {
	valid := []struct{ in, want string }{
		{"13812345678", "13812345678"},
		{" 13812345678\u3000", "13812345678"},
		{"138 1234 5678", "13812345678"},
		{"138-1234-5678", "13812345678"},
		{"+8613812345678", "13812345678"},
		{"+86 138 1234 5678", "13812345678"},
		{"+86-138-1234-5678", "13812345678"},
		{"8613812345678", "13812345678"},
		{"86 13812345678", "13812345678"},
		{"19912345678", "19912345678"},
		{"16612345678", "16612345678"},
		{"14712345678", "14712345678"},
	}
	for _, tt := range valid {
		got, err := ParseMobile(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseMobile(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	invalid := []struct{ in, msg string }{
		{"", msgMobileEmpty},
		{"  ", msgMobileEmpty},
		{"1381234567", msgMobileFormat},
		{"138123456789", msgMobileFormat},
		{"12812345678", msgMobileFormat},
		{"10012345678", msgMobileFormat},
		{"11012345678", msgMobileFormat},
		{"23812345678", msgMobileFormat},
		{"1381234567a", msgMobileFormat},
		{"138.1234.5678", msgMobileFormat},
		{"１3812345678", msgMobileFormat},
		{"+85212345678", msgMobileFormat},
		{"+8612812345678", msgMobileFormat},
		{"86138123456", msgMobileFormat},
		{"008613812345678", msgMobileFormat},
		{"+86", msgMobileFormat},
		{"010-12345678", msgMobileFormat},
	}
	for _, tt := range invalid {
		got, err := ParseMobile(tt.in)
		checkErr(t, err, FieldMobile, tt.msg)
		if got != "" {
			t.Errorf("ParseMobile(%q) = %q with an error", tt.in, got)
		}
	}
}

func TestMaskIDCard(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"410411199001011234", "410411********1234"},
		{"11010519491231002X", "110105********002X"},
		{" 11010519491231002X\n", "110105********002X"},
		{"410411900101123", "41041*******123"}, // legacy 15 digits: 5 + 3
		{"4104111990010112345", "410411*********2345"},
		{"12345", "1***5"},
		{"123", "1**"},
		{"1", "*"},
		{"", ""},
		{"张三李四", "张***"},
		{"\xff\xfe", "**"},
	} {
		if got := MaskIDCard(tt.in); got != tt.want {
			t.Errorf("MaskIDCard(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskMobile(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"13812345678", "138****5678"},
		{"+86 138-1234-5678", "138****5678"},
		{"8613812345678", "138****5678"},
		{"12345678901", "123****8901"}, // not a valid mobile, same shape
		{"1234567890123456", "123*********3456"},
		{"12345", "1***5"},
		{"12", "**"},
		{"", ""},
		{"电话", "**"},
	} {
		if got := MaskMobile(tt.in); got != tt.want {
			t.Errorf("MaskMobile(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"张三", "张*"},
		{"欧阳娜娜", "欧***"},
		{" 李小明 ", "李**"},
		{"买买提·艾力", "买*****"},
		{"王", "*"},
		{"", ""},
	} {
		if got := MaskName(tt.in); got != tt.want {
			t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// checkMaskShape asserts the masking guarantees for any input: the rune
// count is kept and no more than visible/full of the characters show.
func checkMaskShape(t *testing.T, in, out string, visible, full int) {
	t.Helper()
	n := utf8.RuneCountInString(in)
	if got := utf8.RuneCountInString(out); got != n {
		t.Fatalf("mask(%q) = %q: %d runes, want %d", in, out, got, n)
	}
	shown := 0
	for _, r := range out {
		if r != '*' {
			shown++
		}
	}
	if shown*full > visible*n {
		t.Fatalf("mask(%q) = %q shows %d of %d characters", in, out, shown, n)
	}
}

var idSeeds = []string{
	"11010519491231002X", "11010519491231002x", "410411199001011237", "320106200002290043",
	"440304198405031236", " 510107198002293019 ", "11010519900229001X", "110105491231002",
	"", "x", "１10105194912310021", "\xff\xfe\xfd", "99999999999999999X", "00000019000101000X",
}

func FuzzParseIDCard(f *testing.F) {
	for _, s := range idSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseIDCard(s, testNow)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Field != FieldIDCard || e.Message == "" {
				t.Fatalf("ParseIDCard(%q) error %#v", s, err)
			}
			if got != (IDCard{}) {
				t.Fatalf("ParseIDCard(%q) returned %+v with an error", s, got)
			}
			return
		}
		n := got.Number
		want := strings.TrimSpace(s)
		if strings.HasSuffix(want, "x") {
			want = want[:len(want)-1] + "X"
		}
		if n != want || len(n) != 18 {
			t.Fatalf("ParseIDCard(%q).Number = %q, want %q", s, n, want)
		}
		if c, err := IDCardCheckChar(n[:17]); err != nil || c != n[17] {
			t.Fatalf("accepted %q but IDCardCheckChar = %q, %v", n, c, err)
		}
		if c := refIDCheck(t, n[:17]); c != n[17] {
			t.Fatalf("accepted %q but reference check char is %q", n, c)
		}
		if got.Birth.Format("20060102") != n[6:14] || got.Birth.Year() < 1870 || got.Birth.After(date(2025, 6, 15)) {
			t.Fatalf("accepted %q with birth %v", n, got.Birth)
		}
		// A listed region, or a foreigner's permanent residence card (2023):
		// 9, a mainland province, a nationality (not checked).
		if name, ok := Region(n[:6]); (!ok || name == "") && (n[0] != '9' || n[1:3] < "11" || n[1:3] > "65") {
			t.Fatalf("accepted %q with region %q", n, n[:6])
		}
		if _, ok := Region(n[1:3] + "0000"); n[0] == '9' && !ok {
			t.Fatalf("accepted %q, a residence card of no province", n)
		}
		if got.Region != n[:6] || got.Female != ((n[16]-'0')%2 == 0) {
			t.Fatalf("accepted %q as %+v", n, got)
		}
		again, err := ParseIDCard(n, testNow)
		if err != nil || again != got {
			t.Fatalf("re-parse of %q = %+v, %v; want %+v", n, again, err, got)
		}
		if m := MaskIDCard(n); m != n[:6]+"********"+n[14:] {
			t.Fatalf("MaskIDCard(%q) = %q", n, m)
		}
	})
}

var creditSeeds = []string{
	"91350100M000100Y43", "91350100m000100y43", "9144030071526726XG", "91110000802100433B",
	"12100000400000624D", "121000004000007735", "91110108551385082Q", "31110000E0000001XE",
	" 91350100M000100Y43\t", "91350100MI00100Y43", "", "91350100Ｍ000100Y43", "\xff\xfe",
}

func FuzzParseCreditCode(f *testing.F) {
	for _, s := range creditSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseCreditCode(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Field != FieldCreditCode || e.Message == "" {
				t.Fatalf("ParseCreditCode(%q) error %#v", s, err)
			}
			if got != (CreditCode{}) {
				t.Fatalf("ParseCreditCode(%q) returned %+v with an error", s, got)
			}
			return
		}
		c := got.Code
		if want := strings.ToUpper(strings.TrimSpace(s)); c != want || len(c) != 18 {
			t.Fatalf("ParseCreditCode(%q).Code = %q, want %q", s, c, want)
		}
		for i := 0; i < len(c); i++ {
			if strings.IndexByte(creditCodeCharset, c[i]) < 0 || strings.IndexByte("IOZSV", c[i]) >= 0 {
				t.Fatalf("accepted %q with character %q", c, c[i])
			}
		}
		if k, err := CreditCodeCheckChar(c[:17]); err != nil || k != c[17] {
			t.Fatalf("accepted %q but CreditCodeCheckChar = %q, %v", c, k, err)
		}
		if k := refCreditCheck(t, c[:17]); k != c[17] {
			t.Fatalf("accepted %q but reference check char is %q", c, k)
		}
		if k := refOrgCheck(c[8:16]); k != c[16] {
			t.Fatalf("accepted %q but its organisation code's check char is %q", c, k)
		}
		if _, ok := Region(c[2:8]); !ok {
			t.Fatalf("accepted %q with region %q", c, c[2:8])
		}
		if got.Authority != c[0] || got.Category != c[1] || got.Region != c[2:8] || !allDigits(got.Region) {
			t.Fatalf("accepted %q as %+v", c, got)
		}
		again, err := ParseCreditCode(c)
		if err != nil || again != got {
			t.Fatalf("re-parse of %q = %+v, %v; want %+v", c, again, err, got)
		}
	})
}

func FuzzParseMobile(f *testing.F) {
	for _, s := range []string{"13812345678", "+86 138-1234-5678", "8613812345678", "12812345678", "", "+86", "１3812345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseMobile(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Field != FieldMobile || e.Message == "" || got != "" {
				t.Fatalf("ParseMobile(%q) = %q, %#v", s, got, err)
			}
			return
		}
		if len(got) != 11 || !allDigits(got) || got[0] != '1' || got[1] < '3' {
			t.Fatalf("ParseMobile(%q) = %q", s, got)
		}
		if again, err := ParseMobile(got); err != nil || again != got {
			t.Fatalf("re-parse of %q = %q, %v", got, again, err)
		}
		if m := MaskMobile(s); m != got[:3]+"****"+got[7:] {
			t.Fatalf("MaskMobile(%q) = %q", s, m)
		}
	})
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{"410411199001011234", "13812345678", "", "12345", "张三李四", "\xff\xfe", " 1 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkMaskShape(t, strings.TrimSpace(s), MaskIDCard(s), 10, 18)
		if _, err := ParseMobile(s); err != nil {
			checkMaskShape(t, strings.TrimSpace(s), MaskMobile(s), 7, 11)
		}
	})
}

// The embedded list is well formed: sorted, one six-digit code and a name a
// line, no code twice; and it holds what the checks rely on.
func TestRegionData(t *testing.T) {
	prev := ""
	n := 0
	for i, line := range strings.Split(strings.TrimSuffix(regionData, "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		code, name, ok := strings.Cut(line, " ")
		if !ok || len(code) != 6 || !allDigits(code) || name == "" || strings.ContainsAny(name, " \t") || code <= prev {
			t.Fatalf("gb2260.txt line %d %q: want \"code name\", codes in rising order", i+1, line)
		}
		prev = code
		n++
	}
	if n < 7000 {
		t.Errorf("only %d codes", n)
	}
	for code, want := range map[string]string{"410411": "湛河区", "410400": "平顶山市", "410000": "河南省", "110103": "崇文区", "100000": "全国（中央国家机关）"} {
		if got, ok := Region(code); !ok || got != want {
			t.Errorf("Region(%q) = %q, %v; want %q", code, got, ok, want)
		}
	}
	for _, code := range []string{"000000", "999999", "410499", "41041", "4104111", ""} {
		if got, ok := Region(code); ok {
			t.Errorf("Region(%q) = %q, want none", code, got)
		}
	}
}

func TestOrgCodeCheckChar(t *testing.T) {
	// 12100000400000624D carries 40000062-4, 9144030071526726XG 71526726-X
	// (10 written X), and 00000000 sums to 0, whose check 11 is written 0.
	for body, want := range map[string]byte{"40000062": '4', "71526726": 'X', "M000100Y": '4', "00000000": '0', "00000001": '9'} {
		if got, err := OrgCodeCheckChar(body); err != nil || got != want || got != refOrgCheck(body) {
			t.Errorf("OrgCodeCheckChar(%q) = %q, %v; want %q", body, got, err, want)
		}
	}
	for _, in := range []string{"", "4000006", "400000624", "4000006a", "4000-062"} {
		if _, err := OrgCodeCheckChar(in); err == nil {
			t.Errorf("OrgCodeCheckChar(%q) accepted", in)
		}
	}
}
