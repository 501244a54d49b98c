package georeport

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/clock"
)

// Parameters as the specification reads them: "Optional means that the
// response should be the same whether a parameter is passed and is empty
// or is not passed at all", so an empty value is an absent one, and so is
// one of blanks.

// Invalid is a refused parameter, with its message in Chinese.
func Invalid(format string, args ...any) error {
	return apperr.New(apperr.Invalid, fmt.Sprintf(format, args...))
}

// w3Time is the W3C subset of ISO 8601 that the specification asks for:
// a date, or a date and a time (hh:mm, hh:mm:ss, with fractions of a
// second) with its zone, Z or ±hh:mm.
var w3Time = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$`)

// ParseTime reads a start_date or end_date. A date alone is midnight in
// Beijing (the jurisdiction's day). A "+08:00" whose "+" a client forgot
// to encode arrives as " 08:00", and is read as meant.
func ParseTime(name, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if n := len(v); n > 6 && v[n-6] == ' ' && v[n-3] == ':' {
		v = v[:n-6] + "+" + v[n-5:]
	}
	m := w3Time.FindStringSubmatch(v)
	if m == nil {
		return time.Time{}, Invalid("参数 %s 的时间格式不正确：应为 W3C 格式（如 2026-12-01T00:00:00+08:00 或 2026-12-01T00:00:00Z），带时区。", name)
	}
	layout := "2006-01-02"
	if m[4] != "" {
		layout += "T15:04"
		if m[6] != "" {
			layout += ":05"
		}
		layout += "Z07:00"
	}
	// Parse takes the fraction of a second after the seconds by itself.
	t, err := time.ParseInLocation(layout, v, clock.China)
	if err != nil { // a month 13, a 25th hour
		return time.Time{}, Invalid("参数 %s 不是有效的日期时间：%s。", name, v)
	}
	return t, nil
}

// CommaList reads a comma-delimited parameter, which may also be given
// several times: service_request_id, service_code, status.
func CommaList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" && !contains(out, part) {
				out = append(out, part)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Period is the range of requested_datetime (or of the updates) a query
// covers: "earliest" and "latest datetime to include", both included.
type Period struct{ Start, End time.Time }

// MaxSpan is how long a period may be: the specification's 90 days.
const MaxSpan = 90 * 24 * time.Hour

// ParsePeriod reads start_date and end_date. Without either, the period
// is the span before now; with one, the span from or to it; the span is
// at most MaxSpan, as the specification says, and otherwise refused.
func ParsePeriod(start, end string, now time.Time, span time.Duration) (Period, error) {
	var p Period
	var err error
	if strings.TrimSpace(start) != "" {
		if p.Start, err = ParseTime("start_date", start); err != nil {
			return p, err
		}
	}
	if strings.TrimSpace(end) != "" {
		if p.End, err = ParseTime("end_date", end); err != nil {
			return p, err
		}
	}
	switch {
	case p.Start.IsZero() && p.End.IsZero():
		p.End = now
		p.Start = now.Add(-span)
	case p.Start.IsZero():
		p.Start = p.End.Add(-span)
	case p.End.IsZero():
		p.End = p.Start.Add(span)
	}
	if !p.End.After(p.Start) {
		return p, Invalid("end_date 应晚于 start_date。")
	}
	if p.End.Sub(p.Start) > MaxSpan {
		return p, Invalid("start_date 与 end_date 相隔不能超过 90 天。")
	}
	return p, nil
}

// decimal is how a coordinate is written: no exponent, no hexadecimal,
// no "Inf" or "NaN", which ParseFloat would take.
var decimal = regexp.MustCompile(`^[+-]?\d{1,3}(\.\d{1,15})?$`)

// ParseCoordinate reads lat or long: a decimal number within ±limit.
func ParseCoordinate(name, v string, limit float64) (float64, error) {
	v = strings.TrimSpace(v)
	f, err := strconv.ParseFloat(v, 64)
	if !decimal.MatchString(v) || err != nil || math.Abs(f) > limit {
		return 0, Invalid("参数 %s 应为 -%g 到 %g 之间的十进制数（WGS84）。", name, limit, limit)
	}
	return f, nil
}

// MaxDescription is the specification's limit on a description.
const MaxDescription = 4000

// Submission is a POST service request's parameters, read and checked;
// the service_code is the caller's to look up first.
type Submission struct {
	Lat, Long   *float64 // both or neither
	Address     string
	Description string // with the media_url appended, for the unit to open
	Title       string // the description's first line, shortened
	Name, Phone string
}

// ReadSubmission reads a POST service request through param (a form
// value, trimmed). What the specification makes optional but a complaint
// needs — a description, and the phone the unit calls back on — is
// refused when missing, with a message that names the parameter.
func ReadSubmission(param func(string) string) (Submission, error) {
	var n Submission
	lat, long := param("lat"), param("long")
	n.Address = param("address_string")
	switch {
	case lat != "" || long != "":
		if lat == "" || long == "" {
			return n, Invalid("参数 lat 和 long 须同时提供。")
		}
		la, err := ParseCoordinate("lat", lat, 90)
		if err != nil {
			return n, err
		}
		lo, err := ParseCoordinate("long", long, 180)
		if err != nil {
			return n, err
		}
		n.Lat, n.Long = &la, &lo
	case n.Address == "" && param("address_id") != "":
		return n, Invalid("本平台没有地址库，不支持 address_id：请提供 lat 和 long，或 address_string。")
	case n.Address == "":
		return n, Invalid("缺少位置：请提供 lat 和 long，或 address_string。")
	}
	n.Description = param("description")
	if n.Description == "" {
		return n, Invalid("缺少参数 description：请描述诉求的具体情况。")
	}
	if utf8.RuneCountInString(n.Description) > MaxDescription {
		return n, Invalid("参数 description 不能超过 %d 个字。", MaxDescription)
	}
	n.Title = title(n.Description)
	if media := param("media_url"); media != "" {
		if !strings.HasPrefix(media, "https://") && !strings.HasPrefix(media, "http://") || len(media) > 2000 {
			return n, Invalid("参数 media_url 应为 http 或 https 地址（不超过 2000 个字符）。")
		}
		// Kept with the description for the unit to open; the platform
		// fetches nothing from it (a URL is not a file it can vouch for).
		n.Description += "\n\n图片链接：" + media
	}
	// Chinese names put the family name first.
	n.Name = strings.TrimSpace(param("last_name") + param("first_name"))
	n.Phone = param("phone")
	if n.Phone == "" {
		return n, Invalid("缺少参数 phone：承办单位须电话联系诉求人，请提供手机号。")
	}
	return n, nil
}

// title is the first line of the description, shortened to what a
// complaint's title holds.
func title(description string) string {
	line, _, _ := strings.Cut(description, "\n")
	line = strings.TrimSpace(line)
	if utf8.RuneCountInString(line) <= 40 {
		return line
	}
	return string([]rune(line)[:39]) + "…"
}
