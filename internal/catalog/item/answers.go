package item

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/ident"
)

// CheckAnswers checks answers to the item's application form and returns
// the answers trimmed and a Chinese message per field that is wrong; none
// means the form is complete. Only the item's own fields are kept.
func (it Item) CheckAnswers(answers map[string]string, now time.Time) (clean, problems map[string]string) {
	clean, problems = map[string]string{}, map[string]string{}
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			v := strings.TrimSpace(answers[f.Key])
			clean[f.Key] = v
			if msg := checkField(f, v, now); msg != "" {
				problems[f.Key] = msg
			}
		}
	}
	return clean, problems
}

func checkField(f FormField, v string, now time.Time) string {
	if v == "" {
		if !f.Required {
			return ""
		}
		if f.Type == "select" || f.Type == "radio" || f.Type == "checkbox" {
			return "请选择" + f.Label
		}
		return "请填写" + f.Label
	}
	max := f.MaxLength
	if max == 0 {
		max = 500
	}
	if utf8.RuneCountInString(v) > max {
		return fmt.Sprintf("%s不能超过%d个字", f.Label, max)
	}
	switch f.Type {
	case "number":
		if msg := checkNumber(f.Label, v); msg != "" {
			return msg
		}
	case "date":
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return f.Label + "应为日期，如 2026-01-31"
		}
	case "idcard":
		if _, err := ident.ParseIDCard(v, now); err != nil {
			return err.Error()
		}
	case "mobile":
		if _, err := ident.ParseMobile(v); err != nil {
			return err.Error()
		}
	case "creditcode":
		if _, err := ident.ParseCreditCode(v); err != nil {
			return err.Error()
		}
	case "email":
		if at := strings.Index(v, "@"); at < 1 || !strings.Contains(v[at:], ".") {
			return f.Label + "格式不正确"
		}
	case "select", "radio":
		if !slices.Contains(f.Options, v) {
			return f.Label + "请从选项中选择"
		}
	case "checkbox":
		for _, part := range strings.Split(v, "、") {
			if !slices.Contains(f.Options, part) {
				return f.Label + "请从选项中选择"
			}
		}
	}
	return ""
}

// MaxNumber is the largest answer a number field takes: 一万亿, beyond
// any amount, area or count a district's forms ask for. Form fields have
// no bounds of their own.
const MaxNumber = 1e12

// plainNumber is how people write a number on a form: digits with an
// optional decimal part. It leaves out what strconv.ParseFloat would also
// take — NaN, Inf, exponents (-1e308), hexadecimal, underscores.
var plainNumber = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// checkNumber says what is wrong with a number answer: it must be a
// finite decimal, not negative (the forms count and measure things) and
// at most MaxNumber.
func checkNumber(label, v string) string {
	if rest, neg := strings.CutPrefix(v, "-"); neg && plainNumber.MatchString(rest) {
		return label + "不能为负数"
	}
	if !plainNumber.MatchString(v) {
		return label + "应为数字，如 120 或 85.5"
	}
	if n, err := strconv.ParseFloat(v, 64); err != nil || n > MaxNumber {
		return label + "不能超过一万亿（1000000000000）"
	}
	return ""
}
