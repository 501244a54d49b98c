package password

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var pe *PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *PolicyError", err, err)
	}
	if got := err.Error(); got != strings.Join(pe.Problems, "；") {
		t.Fatalf("Error() = %q, want problems joined with ；", got)
	}
	return pe.Problems
}

func TestPolicyCheck(t *testing.T) {
	tooShort10 := "密码长度不能少于10个字符"
	tests := []struct {
		name     string
		policy   Policy
		plain    string
		personal []string
		want     []string
	}{
		{name: "good", plain: "Zhengwu#2025"},
		{name: "good three classes without symbol", plain: "Zhengwu2025x"},
		{name: "good three classes without upper", plain: "zhengwu#2025"},
		{name: "good three classes without digit", plain: "Zhengwu#Fuwu"},
		{name: "good three classes without lower", plain: "ZHENGWU#2025"},
		{name: "empty", plain: "", want: []string{msgEmpty}},
		{name: "too short", plain: "Zw#2025x", want: []string{tooShort10}},
		{name: "exactly min length", plain: "Zw#2025xyz"},
		{name: "custom min length", policy: Policy{MinLength: 12}, plain: "Zw#2025xyz", want: []string{"密码长度不能少于12个字符"}},
		{name: "custom min length lower", policy: Policy{MinLength: 8}, plain: "Zw#2025x"},
		{name: "negative min length means default", policy: Policy{MinLength: -1}, plain: "Zw#2025x", want: []string{tooShort10}},
		{name: "exactly max length", plain: strings.Repeat("Ab1#", 32)},
		{name: "too long", plain: strings.Repeat("Ab1#", 32) + "x", want: []string{"密码长度不能超过128个字符"}},
		{name: "only lowercase", plain: "zhengwufuwu", want: []string{msgClasses}},
		{name: "only digits", plain: "20250615739", want: []string{msgClasses}},
		{name: "two classes", plain: "zhengwu2025", want: []string{msgClasses}},
		{name: "four in a row", plain: "Zhengwu#2222", want: []string{msgRun}},
		{name: "three in a row is fine", plain: "Zhengwu#2225"},
		{name: "four symbols in a row", plain: "Zhengwu!!!!5", want: []string{msgRun}},
		{name: "case differs is not a run", plain: "ZzZzhengwu#1"},
		{name: "control character", plain: "Zhengwu#\n2025", want: []string{msgInvalid}},
		{name: "NUL", plain: "Zhengwu#\x002025", want: []string{msgInvalid}},
		{name: "invalid UTF-8", plain: "Zhengwu#\xff2025", want: []string{msgInvalid}},
		{name: "real U+FFFD is a symbol", plain: "zhengwu\uFFFD2025"},
		{name: "common", plain: "Aa123456789", want: []string{msgCommon}},
		{name: "common ignoring case", plain: "PASSWORD@123", want: []string{msgCommon}},
		{name: "common short", plain: "woaini1314", want: []string{msgClasses, msgCommon}},
		{name: "common short custom", policy: Policy{MinLength: 8}, plain: "P@ssw0rd", want: []string{msgCommon}},
		{
			name:  "everything at once",
			plain: "111111",
			want:  []string{tooShort10, msgClasses, msgRun, msgCommon},
		},
		{
			name:     "mobile",
			plain:    "Zw#13812345678",
			personal: []string{"13812345678"},
			want:     []string{msgPersonal},
		},
		{
			name:     "user name ignoring case",
			plain:    "ZHANGsan#2025",
			personal: []string{"13812345678", "zhangsan"},
			want:     []string{msgPersonal},
		},
		{
			name:     "ID number tail with x",
			plain:    "Zhengwu#12345X",
			personal: []string{"12345x"},
			want:     []string{msgPersonal},
		},
		{
			name:     "reported once for several matches",
			plain:    "zhangsan13812345678A",
			personal: []string{"13812345678", "zhangsan"},
			want:     []string{msgPersonal},
		},
		{
			name:     "short personal strings ignored",
			plain:    "Zhengwu#2025",
			personal: []string{"wu", "Zhe", " 202 ", ""},
		},
		{
			name:     "personal trimmed",
			plain:    "Zhengwu#2025",
			personal: []string{"  2025  "},
			want:     []string{msgPersonal},
		},
		{
			name:     "Chinese personal string",
			plain:    "欧阳娜娜Zheng#2025",
			personal: []string{"张三丰", "欧阳娜娜"}, // a 3-character name is too short to check
			want:     []string{msgPersonal},
		},
		{
			name:     "personal and other problems",
			plain:    "zhangsan",
			personal: []string{"ZhangSan"},
			want:     []string{tooShort10, msgClasses, msgPersonal},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check(tt.plain, tt.personal...)
			if tt.want == nil && err != nil {
				t.Fatalf("Check(%q) = %v (%T), want nil", tt.plain, err, err)
			}
			if got := problems(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Check(%q) problems\n got %q\nwant %q", tt.plain, got, tt.want)
			}
		})
	}
}

// TestPolicyUnicode checks that length is counted in characters, so a
// Chinese character counts as one however many bytes it takes, and that
// Chinese characters count as the symbol class.
func TestPolicyUnicode(t *testing.T) {
	var p Policy
	nine := "政务服务网上Ab1" // 9 characters, 21 bytes
	if utf8.RuneCountInString(nine) != 9 || len(nine) <= 10 {
		t.Fatalf("test string has %d runes, %d bytes", utf8.RuneCountInString(nine), len(nine))
	}
	if got := problems(t, p.Check(nine)); !reflect.DeepEqual(got, []string{"密码长度不能少于10个字符"}) {
		t.Errorf("Check(%q) = %q; want only the length problem", nine, got)
	}
	if err := p.Check(nine + "#"); err != nil {
		t.Errorf("Check(%q) = %v; want nil (10 characters, 4 classes)", nine+"#", err)
	}
	max := strings.Repeat("政务Ab", 32) // 128 characters, 320 bytes
	if err := p.Check(max); err != nil {
		t.Errorf("Check of 128 Chinese/Latin characters = %v; want nil", err)
	}
	if got := problems(t, p.Check(max+"1")); !reflect.DeepEqual(got, []string{"密码长度不能超过128个字符"}) {
		t.Errorf("Check of 129 characters = %q", got)
	}
	// Chinese characters alone are one class.
	if got := problems(t, p.Check("政务服务一网通办全程网办")); !reflect.DeepEqual(got, []string{msgClasses}) {
		t.Errorf("Check(all Chinese) = %q", got)
	}
	// Chinese + lowercase + digits are three classes.
	if err := p.Check("政务服务zwfw2025"); err != nil {
		t.Errorf("Check(Chinese+lower+digits) = %v", err)
	}
	// A run of identical Chinese characters.
	if got := problems(t, p.Check("好好好好Zhengwu1")); !reflect.DeepEqual(got, []string{msgRun}) {
		t.Errorf("Check(好好好好…) = %q", got)
	}
	// Non-ASCII letters have case too.
	if err := p.Check("Ärger über öl1"); err != nil {
		t.Errorf("Check(German) = %v", err)
	}
}

func TestMessagesAreChinese(t *testing.T) {
	for _, m := range []string{msgEmpty, msgTooShort, msgTooLong, msgInvalid, msgClasses, msgRun, msgPersonal, msgCommon} {
		han := false
		for _, r := range m {
			if r >= 0x4E00 && r <= 0x9FFF {
				han = true
				break
			}
		}
		if !han {
			t.Errorf("message %q is not Chinese", m)
		}
	}
}

func TestCommonList(t *testing.T) {
	seen := map[string]int{}
	n := 0
	for i, line := range strings.Split(commonText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		k := strings.ToLower(line)
		if prev, ok := seen[k]; ok {
			t.Errorf("common.txt line %d %q duplicates line %d", i+1, line, prev)
		}
		seen[k] = i + 1
	}
	if n < 200 || len(common) != n {
		t.Errorf("common list has %d lines, %d distinct; want ≥ 200, all distinct", n, len(common))
	}
	for _, pw := range []string{"woaini1314", "123456789", "qwertyuiop", "Aa123456", "abc123456", "P@ssw0rd", "5201314", "1qaz2wsx", "ADMIN@123"} {
		if !IsCommon(pw) {
			t.Errorf("IsCommon(%q) = false", pw)
		}
	}
	if IsCommon("Zhengwu#2025") {
		t.Errorf("IsCommon(Zhengwu#2025) = true")
	}
}

func TestCheckNilError(t *testing.T) {
	// A passing Check must return an untyped nil, not a nil *PolicyError.
	var err error = Policy{}.Check("Zhengwu#2025")
	if err != nil {
		t.Fatalf("Check = %#v, want nil interface", err)
	}
}
