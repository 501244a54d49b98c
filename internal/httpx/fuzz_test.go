package httpx_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/httpx"
)

// acceptable is the rule of TestInputCharacters, written again from the
// character classes: what a handler is given holds valid UTF-8 and no
// control character but TAB (and CR, LF in a multi-line field), no
// bidirectional override or isolate.
func acceptable(s string, multiLine bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		switch {
		case c == '\t', multiLine && (c == '\r' || c == '\n'):
		case unicode.Is(unicode.Cc, c), c >= 0x202a && c <= 0x202e, c >= 0x2066 && c <= 0x2069:
			return false
		}
	}
	return true
}

// fuzzTypes are the bodies the middleware sees: forms, multipart (pages
// and API), JSON, and others it leaves alone.
var fuzzTypes = []string{"application/x-www-form-urlencoded", "multipart/form-data; boundary=B", "application/json",
	"text/plain", ""}

// Every form, query and JSON body passes this middleware before a handler
// reads it. Whatever it lets through, the handler's own parsing (ParseForm,
// ParseMultipartForm, a json.Decoder's first value, as the API's handlers
// read bodies) finds only characters people type, in a body no longer than
// the limit and byte for byte as sent; whatever it refuses is answered 400
// in Chinese (413 beyond the limit).
func FuzzCheckRequest(f *testing.F) {
	const limit = 4 << 10
	var seen func(r *http.Request)
	h, err := httpx.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen(r) }),
		httpx.Options{Log: slog.New(slog.DiscardHandler), MaxBodyBytes: limit,
			MultiLine: func(r *http.Request, field string) bool { return field == "note" }})
	if err != nil {
		f.Fatal(err)
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.SetBoundary("B")
	mw.WriteField("note", "第一行\r\n第二行")
	fw, _ := mw.CreateFormFile("file", "合同.pdf")
	fw.Write([]byte("%PDF-\x00 binary"))
	mw.Close()
	f.Add(false, uint8(0), "q=%E5%BC%A0", []byte("name=%E5%BC%A0%E4%B8%89&note=%0A"))
	f.Add(false, uint8(1), "", mp.Bytes())
	f.Add(true, uint8(1), "", mp.Bytes())
	f.Add(true, uint8(2), "", []byte(`{"title":"路灯不亮","note":"一\n二","lat":33.7,"tags":["a"]}`))
	f.Add(true, uint8(2), "", []byte(`{"title":"a"} {"title":"\u0000"}`))
	f.Add(true, uint8(2), "", []byte(`{"title":"\u0000"} and more`))
	f.Add(true, uint8(2), "", []byte(`{"title":"a\u202eb"}`))
	f.Add(true, uint8(3), "x=%00", []byte("\x00"))
	f.Add(true, uint8(3), "", []byte(` {"title":"\u0000"}`))
	f.Add(true, uint8(4), "", []byte(`[{"title":"\u202e"}]`))
	f.Fuzz(func(t *testing.T, api bool, kind uint8, query string, body []byte) {
		target := "/p"
		if api {
			target = "/api/v1/p"
		}
		r := httptest.NewRequest("POST", target, bytes.NewReader(body))
		r.URL.RawQuery = query
		ctype := fuzzTypes[int(kind)%len(fuzzTypes)]
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		reached := false
		seen = func(r *http.Request) {
			reached = true
			for k, vs := range r.URL.Query() {
				for _, v := range vs {
					if !acceptable(k, false) || !acceptable(v, false) {
						t.Fatalf("query %q=%q let through", k, v)
					}
				}
			}
			switch {
			case strings.HasPrefix(ctype, "multipart/") && api:
				// Streamed by the handler, which checks each part itself.
			case strings.HasPrefix(ctype, "multipart/") || strings.HasPrefix(ctype, "application/x-www-form-urlencoded"):
				if r.ParseMultipartForm(1<<20) != nil {
					return // the handler answers a broken body itself
				}
				for k, vs := range r.PostForm {
					for _, v := range vs {
						if !acceptable(k, false) || !acceptable(v, k == "note") {
							t.Fatalf("form %q=%q let through", k, v)
						}
					}
				}
			case ctype == "application/json" || api:
				// (The API's handlers decode JSON whatever the type.)
				got, err := io.ReadAll(r.Body)
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("the handler read %q (%v), not the body sent", got, err)
				}
				var v any
				if json.NewDecoder(bytes.NewReader(got)).Decode(&v) == nil {
					checkJSON(t, "", v)
				}
			default:
				if got, _ := io.ReadAll(r.Body); len(got) > limit {
					t.Fatalf("the handler read %d bytes over a limit of %d", len(got), limit)
				}
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		switch {
		case reached:
		case rec.Code == http.StatusRequestEntityTooLarge:
			if len(body) <= limit {
				t.Fatalf("%d bytes refused as too large", len(body))
			}
		case rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "重新提交") && !strings.Contains(rec.Body.String(), "请求格式不正确"):
			t.Fatalf("refused with %d %s", rec.Code, rec.Body)
		}
	})
}

func checkJSON(t *testing.T, field string, v any) {
	switch v := v.(type) {
	case string:
		if !acceptable(v, field == "note") {
			t.Fatalf("JSON %q: %q let through", field, v)
		}
	case []any:
		for _, e := range v {
			checkJSON(t, field, e)
		}
	case map[string]any:
		for k, e := range v {
			if !acceptable(k, false) {
				t.Fatalf("JSON key %q let through", k)
			}
			checkJSON(t, k, e)
		}
	}
}

// fuzzBody has a field of each kind the API's bodies have (a 工单, an
// integration client's application and step, a rating, a booking, survey
// answers): strings, pointers to numbers, maps, lists of objects, a time.
type fuzzBody struct {
	ExternalID string            `json:"external_id"`
	Lat        *float64          `json:"lat"`
	ItemID     int64             `json:"item_id"`
	Answers    map[string]string `json:"answers"`
	Scores     map[string]int    `json:"scores"`
	Materials  []struct {
		Position int    `json:"position"`
		Data     string `json:"data"`
	} `json:"materials"`
	Approve  bool      `json:"approve"`
	Choices  []int     `json:"choices"`
	StartsAt time.Time `json:"starts_at"`
}

// Every JSON body of the API is read by DecodeJSON. What it accepts is
// one JSON value of known fields, no longer than the limit, and encodes
// again to what reads back the same; what it refuses is invalid, with the
// handler's Chinese message, or too large only beyond the limit.
func FuzzDecodeJSON(f *testing.F) {
	const limit = 4 << 10
	f.Add([]byte(`{"external_id":"GD20261207001","lat":33.7,"answers":{"name":"张三"},"scores":{"speed":5}}`))
	f.Add([]byte(`{"item_id":1,"materials":[{"position":0,"data":"JVBERi0="}],"approve":true}`))
	f.Add([]byte(`{"starts_at":"2026-12-08T09:00:00+08:00","choices":[0,2]}`))
	f.Add([]byte(`{"item_id":1} {"item_id":2}`))
	f.Add([]byte(`{"unknown":1}`))
	f.Add([]byte(`{"lat":1e400}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"answers":{"a":"` + strings.Repeat("长", limit) + `"}}`))
	const msg = "请求体应为 JSON 对象。"
	f.Fuzz(func(t *testing.T, data []byte) {
		var v fuzzBody
		err := httpx.DecodeJSON(http.MaxBytesReader(nil, io.NopCloser(bytes.NewReader(data)), limit), &v, msg)
		if err != nil {
			switch apperr.CodeOf(err) {
			case apperr.Invalid:
				if apperr.MessageOf(err) != msg {
					t.Fatalf("refused with %q", apperr.MessageOf(err))
				}
			case apperr.TooLarge:
				if len(data) <= limit {
					t.Fatalf("%d bytes refused as too large", len(data))
				}
			default:
				t.Fatalf("refused with %v", err)
			}
			return
		}
		if len(data) > limit || !json.Valid(data) {
			t.Fatalf("accepted %q", data)
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q, which does not encode again: %v", data, err)
		}
		var again fuzzBody
		if err := httpx.DecodeJSON(bytes.NewReader(out), &again, msg); err != nil {
			t.Fatalf("%q re-encoded as %q, refused: %v", data, out, err)
		}
		if out2, _ := json.Marshal(again); !bytes.Equal(out, out2) {
			t.Fatalf("%q re-encoded as %q, then %q", data, out, out2)
		}
	})
}
