package georeport_test

import (
	"encoding/json"
	"encoding/xml"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/open311/georeport"
)

// TestMain caps the minimisation of a new fuzz input, as the catalog's
// file parsers do (docs/ARCHITECTURE.md, Tests).
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.fuzzminimizetime" })
	if !set {
		if err := flag.Set("test.fuzzminimizetime", "100x"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

func render(t *testing.T, format string, v any) (string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := georeport.Write(rec, format, 200, v); err != nil {
		t.Fatal(err)
	}
	return rec.Body.String(), rec.Header()
}

// The shapes of the specification's examples: JSON arrays of objects with
// null for what is empty; XML with the declaration, a root and one
// element per entry, empty elements for what is empty.
func TestEncoding(t *testing.T) {
	lat, long := 33.7288, 113.2925
	at := time.Date(2026, 12, 7, 1, 30, 0, 500, time.UTC)
	reqs := georeport.Requests([]georeport.Request{
		{ID: "TS202612070001", Status: georeport.Open, ServiceName: "一般类", ServiceCode: "general", Description: "路灯不亮 <b>&",
			Requested: georeport.W3(at), Updated: georeport.W3(at), Expected: georeport.W3(at.Add(48 * time.Hour)),
			Address: "湛河区马庄街道", Lat: georeport.Coord(&lat), Long: georeport.Coord(&long)},
		{ID: "TS202612070002", Status: georeport.Closed, ServiceName: "紧急类", ServiceCode: "emergency"},
	})
	js, h := render(t, georeport.JSON, reqs)
	if h.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("JSON content type %q", h.Get("Content-Type"))
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(js), &got); err != nil || len(got) != 2 {
		t.Fatalf("requests JSON is not an array of two: %v\n%s", err, js)
	}
	if got[0]["service_request_id"] != "TS202612070001" || got[0]["requested_datetime"] != "2026-12-07T09:30:00+08:00" ||
		got[0]["expected_datetime"] != "2026-12-09T09:30:00+08:00" || got[0]["lat"] != 33.7288 || got[0]["long"] != 113.2925 ||
		got[0]["description"] != "路灯不亮 <b>&" {
		t.Errorf("first request %v", got[0])
	}
	for _, k := range []string{"lat", "long", "description", "status_notes", "address_id", "zipcode", "media_url", "expected_datetime"} {
		if v, ok := got[1][k]; !ok || v != nil {
			t.Errorf("empty %s = %v (present %v), want null", k, v, ok)
		}
	}
	x, h := render(t, georeport.XML, reqs)
	if h.Get("Content-Type") != "text/xml; charset=utf-8" || !strings.HasPrefix(x, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<service_requests>\n  <request>\n    <service_request_id>TS202612070001</service_request_id>") {
		t.Errorf("requests XML:\n%s", x)
	}
	for _, want := range []string{"<description>路灯不亮 &lt;b&gt;&amp;</description>", "<lat>33.7288</lat>", "<long>113.2925</long>",
		"<lat></lat>", "<status>closed</status>", "<requested_datetime>2026-12-07T09:30:00+08:00</requested_datetime>"} {
		if !strings.Contains(x, want) {
			t.Errorf("requests XML lacks %s:\n%s", want, x)
		}
	}
	var parsed struct {
		Requests []struct {
			ID  string `xml:"service_request_id"`
			Lat string `xml:"lat"`
		} `xml:"request"`
	}
	if err := xml.Unmarshal([]byte(x), &parsed); err != nil || len(parsed.Requests) != 2 || parsed.Requests[1].ID != "TS202612070002" {
		t.Errorf("requests XML does not parse back: %v %+v", err, parsed)
	}

	// An empty list is [] and an empty root, not null.
	if js, _ := render(t, georeport.JSON, georeport.Services(nil)); strings.TrimSpace(js) != "[]" {
		t.Errorf("no services in JSON: %q", js)
	}
	if x, _ := render(t, georeport.XML, georeport.Updates(nil)); !strings.Contains(x, "<service_request_updates></service_request_updates>") {
		t.Errorf("no updates in XML: %q", x)
	}

	// Errors: the status as the code, a description.
	errs := georeport.Errors(georeport.Error{Code: 403, Description: "api_key 无效或已停用。"})
	if js, _ := render(t, georeport.JSON, errs); strings.TrimSpace(js) != `[{"code":403,"description":"api_key 无效或已停用。"}]` {
		t.Errorf("error JSON %s", js)
	}
	if x, _ := render(t, georeport.XML, errs); !strings.Contains(x, "<errors>\n  <error>\n    <code>403</code>\n    <description>api_key 无效或已停用。</description>\n  </error>\n</errors>") {
		t.Errorf("error XML %s", x)
	}

	// Discovery and a service definition are objects, not lists.
	d := georeport.Discovery{Changeset: "2026-12-07T09:00:00+08:00", Contact: "c", KeyService: "k",
		Endpoints: []georeport.Endpoint{{Specification: georeport.Specification, URL: "https://zw.example/open311/v2", Changeset: "x", Type: "production", Formats: georeport.Formats}}}
	if x, _ := render(t, georeport.XML, d); !strings.Contains(x, "<discovery>") || !strings.Contains(x, "<endpoints>\n    <endpoint>") ||
		!strings.Contains(x, "<formats>\n        <format>text/xml</format>\n        <format>application/json</format>") {
		t.Errorf("discovery XML %s", x)
	}
	if js, _ := render(t, georeport.JSON, d); !strings.Contains(js, `"endpoints":[{"specification":"http://wiki.open311.org/GeoReport_v2"`) ||
		!strings.Contains(js, `"formats":["text/xml","application/json"]`) {
		t.Errorf("discovery JSON %s", js)
	}
	def := georeport.ServiceDefinition{Code: "general", Attributes: []georeport.Attribute{}}
	if js, _ := render(t, georeport.JSON, def); strings.TrimSpace(js) != `{"service_code":"general","attributes":[]}` {
		t.Errorf("definition JSON %s", js)
	}
	if x, _ := render(t, georeport.XML, def); !strings.Contains(x, "<service_definition>\n  <service_code>general</service_code>\n  <attributes></attributes>\n</service_definition>") {
		t.Errorf("definition XML %s", x)
	}
}

func TestStatus(t *testing.T) {
	for code, want := range map[apperr.Code]int{apperr.NotFound: 404, apperr.Forbidden: 403, apperr.Unauthorized: 403,
		apperr.Invalid: 400, apperr.Conflict: 400, apperr.Internal: 400, apperr.Unavailable: 400} {
		if got := georeport.Status(apperr.New(code, "x")); got != want {
			t.Errorf("%s → %d, want %d", code, got, want)
		}
	}
	if georeport.FormatOf("/open311/v2/requests.json") != georeport.JSON || georeport.FormatOf("/open311/v2/requests") != georeport.XML {
		t.Error("FormatOf")
	}
	for file, want := range map[string][2]string{"services.json": {"services", "json"}, "TS1.xml": {"TS1", "xml"}, "a.b.json": {"a.b", "json"}} {
		name, format, ok := georeport.SplitFormat(file)
		if !ok || name != want[0] || format != want[1] {
			t.Errorf("SplitFormat(%q) = %q, %q, %v", file, name, format, ok)
		}
	}
	for _, file := range []string{"services", ".json", "services.csv", "services.JSON", ""} {
		if _, _, ok := georeport.SplitFormat(file); ok {
			t.Errorf("SplitFormat(%q) accepted", file)
		}
	}
}

func TestParseTime(t *testing.T) {
	beijing := func(y int, m time.Month, d, h, min, s int) time.Time {
		return time.Date(y, m, d, h, min, s, 0, clock.China)
	}
	for in, want := range map[string]time.Time{
		"2026-12-01T00:00:00Z":          time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		"2026-12-01T08:00:00+08:00":     beijing(2026, 12, 1, 8, 0, 0),
		"2026-12-01T08:00:00 08:00":     beijing(2026, 12, 1, 8, 0, 0), // an unencoded "+"
		"2026-12-01T08:00+08:00":        beijing(2026, 12, 1, 8, 0, 0),
		"2026-11-30T19:00:00-05:00":     time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		"2026-12-01T00:00:00.250Z":      time.Date(2026, 12, 1, 0, 0, 0, 250e6, time.UTC),
		"2026-12-01":                    beijing(2026, 12, 1, 0, 0, 0),
		" 2026-12-01T00:00:00+08:00 \t": beijing(2026, 12, 1, 0, 0, 0),
	} {
		got, err := georeport.ParseTime("start_date", in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"2026-12-01T00:00:00", "2026-13-01T00:00:00Z", "2026-12-01T25:00:00Z", "2026-02-30", "yesterday",
		"1733011200", "2026-12-01 00:00:00Z", "2026-12-01T00:00:00+8", "2026-12-01T00:00:00+08:00junk"} {
		_, err := georeport.ParseTime("end_date", in)
		if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.MessageOf(err), "end_date") {
			t.Errorf("ParseTime(%q) = %v, want a refusal naming end_date", in, err)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, clock.China)
	day := 24 * time.Hour
	p, err := georeport.ParsePeriod("", " ", now, georeport.MaxSpan)
	if err != nil || !p.End.Equal(now) || !p.Start.Equal(now.Add(-90*day)) {
		t.Fatalf("no dates: %+v %v", p, err)
	}
	p, err = georeport.ParsePeriod("2026-12-01T00:00:00+08:00", "", now, georeport.MaxSpan)
	if err != nil || !p.End.Equal(p.Start.Add(90*day)) {
		t.Fatalf("start only: %+v %v", p, err)
	}
	p, err = georeport.ParsePeriod("", "2026-12-01T00:00:00+08:00", now, day)
	if err != nil || !p.Start.Equal(p.End.Add(-day)) {
		t.Fatalf("end only, a day's span: %+v %v", p, err)
	}
	for _, c := range [][2]string{{"2026-12-01", "2026-12-01"}, {"2026-12-02", "2026-12-01"}, {"2026-01-01", "2026-12-01"}, {"x", ""}, {"", "x"}} {
		if _, err := georeport.ParsePeriod(c[0], c[1], now, georeport.MaxSpan); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("ParsePeriod(%q, %q) = %v, want invalid", c[0], c[1], err)
		}
	}
}

func TestCommaListAndCoordinates(t *testing.T) {
	if got := strings.Join(georeport.CommaList([]string{"open, closed", "", "open,,", " closed "}), "|"); got != "open|closed" {
		t.Errorf("CommaList = %q", got)
	}
	if georeport.CommaList([]string{"", " , "}) != nil {
		t.Error("an empty list is absent")
	}
	for in, want := range map[string]float64{"33.7288": 33.7288, "-90": -90, "+113.2925": 113.2925, " 0.5 ": 0.5} {
		if got, err := georeport.ParseCoordinate("lat", in, 180); err != nil || got != want {
			t.Errorf("ParseCoordinate(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"90.1", "1e2", "0x1p-2", "NaN", "Inf", "", "33,7", "1_0", "1234"} {
		if _, err := georeport.ParseCoordinate("lat", in, 90); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("ParseCoordinate(%q) accepted", in)
		}
	}
}

// FuzzParseTime: whatever a client sends as a date, the parser answers a
// time or a refusal in Chinese, never a panic; a time it accepts it gives
// back the same when written in W3 form.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-12-01T00:00:00Z", "2026-12-01T08:00:00+08:00", "2026-12-01", "2026-12-01T08:00 08:00",
		"2026-12-01T00:00:00.123456789-05:00", "9999-99-99T99:99:99+99:99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := georeport.ParseTime("start_date", s)
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid || apperr.MessageOf(err) == "" {
				t.Fatalf("ParseTime(%q): %v is not a refusal", s, err)
			}
			return
		}
		back, err := georeport.ParseTime("start_date", string(georeport.W3(got)))
		if err != nil || !back.Equal(got.Truncate(time.Second)) {
			t.Fatalf("ParseTime(%q) = %v, written %q, read back %v, %v", s, got, georeport.W3(got), back, err)
		}
	})
}

// FuzzParseCoordinate: a lat or long a client sends is a number within
// its bounds, written back the same, or a refusal; never a panic, NaN or
// infinity.
func FuzzParseCoordinate(f *testing.F) {
	for _, s := range []string{"33.7288", "-122.4651145", "+90", "1e2", "NaN", "0x1p-2", " 12.5 ", "180.0000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := georeport.ParseCoordinate("long", s, 180)
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("ParseCoordinate(%q): %v is not a refusal", s, err)
			}
			return
		}
		if v < -180 || v > 180 || v != v {
			t.Fatalf("ParseCoordinate(%q) = %v", s, v)
		}
		if back, err := georeport.ParseCoordinate("long", georeport.Coord(&v).String(), 180); err != nil || back != v {
			t.Fatalf("ParseCoordinate(%q) = %v, written %q, read back %v, %v", s, v, georeport.Coord(&v).String(), back, err)
		}
	})
}

// FuzzParsePeriod: start_date and end_date as a client sends them give a
// period that begins before it ends, spans at most 90 days and keeps the
// dates given, or a refusal in Chinese.
func FuzzParsePeriod(f *testing.F) {
	f.Add("2026-12-01", "2026-12-07T08:00:00+08:00")
	f.Add("", "2026-12-07")
	f.Add("2026-12-07", "")
	f.Add("2026-01-01", "2026-12-31")
	f.Add("9999-12-31T23:59:59Z", "")
	f.Add("0000-01-01", "")
	now := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, start, end string) {
		p, err := georeport.ParsePeriod(start, end, now, 24*time.Hour)
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid || !hasHan(apperr.MessageOf(err)) {
				t.Fatalf("ParsePeriod(%q, %q): %v is not a refusal", start, end, err)
			}
			return
		}
		if !p.End.After(p.Start) || p.End.Sub(p.Start) > georeport.MaxSpan {
			t.Fatalf("ParsePeriod(%q, %q) = %v … %v", start, end, p.Start, p.End)
		}
		if s, err := georeport.ParseTime("start_date", start); err == nil && !s.Equal(p.Start) {
			t.Fatalf("start_date %q read as %v", start, p.Start)
		}
		if e, err := georeport.ParseTime("end_date", end); err == nil && !e.Equal(p.End) {
			t.Fatalf("end_date %q read as %v", end, p.End)
		}
	})
}

// FuzzReadSubmission: a POST service request is anyone's form. It is
// refused in Chinese, or read as a complaint needs it: a location (both
// coordinates in range, or an address), a description within the limit
// whose title is its first line, at most 40 characters, and a phone.
func FuzzReadSubmission(f *testing.F) {
	f.Add("33.7288", "113.3021", "", "路灯不亮\n已经三天了", "", "13800138000", "https://example.org/a.jpg")
	f.Add("", "", "湛河区光明路", "井盖缺失", "张", "13800138000", "")
	f.Add("91", "0", "", "x", "", "1", "ftp://x")
	f.Add("", "", "", "x", "", "1", "")
	f.Add("1e2", "NaN", "a", strings.Repeat("长", 4001), "", "", "")
	f.Fuzz(func(t *testing.T, lat, long, address, description, name, phone, media string) {
		form := map[string]string{"lat": lat, "long": long, "address_string": address, "description": description,
			"last_name": name, "phone": phone, "media_url": media}
		for _, v := range form {
			if !utf8.ValidString(v) {
				t.Skip("refused before: the middleware lets no invalid UTF-8 through (FuzzCheckRequest)")
			}
		}
		param := func(k string) string { return strings.TrimSpace(form[k]) }
		n, err := georeport.ReadSubmission(param)
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid || !hasHan(apperr.MessageOf(err)) {
				t.Fatalf("%v is not a refusal", err)
			}
			return
		}
		switch {
		case (n.Lat == nil) != (n.Long == nil):
			t.Fatalf("one coordinate: %+v", n)
		case n.Lat != nil && (*n.Lat < -90 || *n.Lat > 90 || *n.Long < -180 || *n.Long > 180):
			t.Fatalf("coordinates out of range: %v %v", *n.Lat, *n.Long)
		case n.Lat == nil && n.Address == "":
			t.Fatalf("no location: %+v", n)
		case n.Phone == "" || param("description") == "" || utf8.RuneCountInString(param("description")) > georeport.MaxDescription:
			t.Fatalf("accepted %+v", n)
		case !strings.HasPrefix(n.Description, param("description")):
			t.Fatalf("description %q kept as %q", param("description"), n.Description)
		case utf8.RuneCountInString(n.Title) > 40 || strings.Contains(n.Title, "\n"):
			t.Fatalf("title %q", n.Title)
		}
		if first, _, _ := strings.Cut(param("description"), "\n"); !strings.HasPrefix(strings.TrimSpace(first), strings.TrimSuffix(n.Title, "…")) {
			t.Fatalf("title %q is not the first line of %q", n.Title, param("description"))
		}
	})
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
