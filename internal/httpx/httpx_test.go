package httpx_test

import (
	"bytes"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/httpx"
)

type recordingObserver struct{ routes []string }

func (o *recordingObserver) Observe(route, method string, status int, _ time.Duration) {
	o.routes = append(o.routes, route+" "+method+" "+http.StatusText(status))
}

func TestMiddleware(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	obs := &recordingObserver{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(httpx.RequestID(r.Context())))
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(r.Body); err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		w.Write(buf.Bytes())
	})
	h, err := httpx.Wrap(mux, httpx.Options{Log: log, Observer: obs, MaxBodyBytes: 100})
	if err != nil {
		t.Fatal(err)
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/ok?phone=13812345678", nil))
	id := rec.Header().Get("X-Request-ID")
	if rec.Code != 200 || id == "" || rec.Body.String() != id {
		t.Fatalf("request ID %q, body %q", id, rec.Body.String())
	}
	for _, hdr := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if rec.Header().Get(hdr) == "" {
			t.Errorf("missing %s", hdr)
		}
	}
	if strings.Contains(logs.String(), "13812345678") {
		t.Error("the access log holds the query string, which may carry personal data")
	}
	if !strings.Contains(logs.String(), "route=\"GET /ok\"") {
		t.Errorf("access log lacks the route: %s", logs.String())
	}

	// A sane incoming ID is kept; a forged one is replaced.
	req := httptest.NewRequest("GET", "/ok", nil)
	req.Header.Set("X-Request-ID", "lb-123")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("X-Request-ID") != "lb-123" {
		t.Errorf("incoming request ID not kept: %q", rec.Header().Get("X-Request-ID"))
	}
	req.Header.Set("X-Request-ID", "bad id\nlevel=ERROR")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if strings.Contains(rec.Header().Get("X-Request-ID"), " ") {
		t.Errorf("forged request ID kept: %q", rec.Header().Get("X-Request-ID"))
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/panic", nil))
	if rec.Code != 500 || !strings.Contains(logs.String(), "boom") {
		t.Errorf("panic: status %d; logged: %v", rec.Code, strings.Contains(logs.String(), "boom"))
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/echo", strings.NewReader(strings.Repeat("x", 101))))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("large body: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("POST", "/api/v1/x", strings.NewReader(strings.Repeat("x", 101)))
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"code":"too_large"`) {
		t.Errorf("large API body: %d %s", rec.Code, rec.Body.String())
	}

	if len(obs.routes) == 0 || obs.routes[0] != "GET /ok GET OK" {
		t.Errorf("observer saw %v", obs.routes)
	}
}

func TestStatusTable(t *testing.T) {
	cases := map[apperr.Code]int{apperr.Invalid: 400, apperr.Unauthorized: 401, apperr.Forbidden: 403, apperr.NotFound: 404,
		apperr.Conflict: 409, apperr.TooLarge: 413, apperr.TooMany: 429, apperr.Internal: 500, apperr.Unavailable: 503}
	for code, want := range cases {
		if got := httpx.Status(apperr.New(code, "x")); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
	}
	if httpx.Status(http.ErrNoCookie) != 500 {
		t.Error("a plain error must be a 500")
	}
	if apperr.MessageOf(http.ErrNoCookie) == http.ErrNoCookie.Error() {
		t.Error("an internal error's text leaked to the user")
	}
}

func TestInputCharacters(t *testing.T) {
	mux := http.NewServeMux()
	var got string
	echo := func(w http.ResponseWriter, r *http.Request) {
		got = r.FormValue("name") + r.FormValue("note")
		if r.Header.Get("Content-Type") == "application/json" {
			var buf bytes.Buffer
			buf.ReadFrom(r.Body)
			got = buf.String()
		}
	}
	mux.HandleFunc("/p/{x}", echo)
	mux.HandleFunc("/api/p/{x}", echo)
	h, err := httpx.Wrap(mux, httpx.Options{Log: slog.New(slog.DiscardHandler), MaxBodyBytes: 1 << 20,
		MultiLine: func(r *http.Request, field string) bool { return field == "note" }})
	if err != nil {
		t.Fatal(err)
	}
	multipartBody := func(field, value, filename string) (string, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField(field, value)
		fw, _ := mw.CreateFormFile("file", filename)
		fw.Write([]byte("%PDF-\x00\x1b binary is fine"))
		mw.Close()
		return b.String(), mw.FormDataContentType()
	}
	type req struct {
		name, method, target, ctype, body string
		want                              int
	}
	form := "application/x-www-form-urlencoded"
	var cases []req
	for _, bad := range []string{"\x00", "\x1b[31m", "\x7f", "\u0085", "\u202e", "\u2066", "\xff\xfe"} {
		q := url.QueryEscape("张三" + bad)
		mp, mpType := multipartBody("name", "张三"+bad, "a.pdf")
		cases = append(cases,
			req{"path " + q, "GET", "/p/" + q, "", "", 400},
			req{"query " + q, "GET", "/p/x?name=" + q, "", "", 400},
			req{"query key " + q, "GET", "/p/x?" + q + "=1", "", "", 400},
			req{"form " + q, "POST", "/p/x", form, "name=" + q, 400},
			req{"multiline form " + q, "POST", "/p/x", form, "note=" + q, 400},
			req{"multipart " + q, "POST", "/p/x", mpType, mp, 400},
			req{"api path " + q, "GET", "/api/p/" + q, "", "", 400},
		)
		if bad[0] >= 0x80 {
			// (mime/multipart already drops a part whose header holds an
			// ASCII control character.)
			mpName, mpNameType := multipartBody("name", "张三", "a"+bad+".pdf")
			cases = append(cases, req{"file name " + q, "POST", "/p/x", mpNameType, mpName, 400})
		}
	}
	mpOK, mpOKType := multipartBody("note", "第一行\r\n第二行\t完", "合同.pdf")
	mpLF, mpLFType := multipartBody("name", "张\n三", "a.pdf")
	cases = append(cases,
		req{"plain", "GET", "/p/%E5%BC%A0?name=%E5%BC%A0%09%E4%B8%89", "", "", 200},
		req{"newline in a multi-line field", "POST", "/p/x", form, "note=" + url.QueryEscape("一\r\n二"), 200},
		req{"newline in a one-line field", "POST", "/p/x", form, "name=" + url.QueryEscape("一\n二"), 400},
		req{"newline in the query", "GET", "/p/x?name=%0A", "", "", 400},
		req{"multipart newline in a multi-line field, binary file", "POST", "/p/x", mpOKType, mpOK, 200},
		req{"multipart newline in a one-line field", "POST", "/p/x", mpLFType, mpLF, 400},
		req{"json escape NUL", "POST", "/api/p/x", "application/json", `{"name":"a\u0000b"}`, 400},
		req{"json escape RLO in a list", "POST", "/api/p/x", "application/json", `{"names":["a\u202eb"]}`, 400},
		req{"json newline in a one-line field", "POST", "/api/p/x", "application/json", `{"name":"a\nb"}`, 400},
		req{"json newline in a multi-line field", "POST", "/api/p/x", "application/json", `{"note":"a\nb"}`, 200},
		req{"json invalid UTF-8", "POST", "/api/p/x", "application/json", "{\"name\":\"\xff\"}", 400},
		req{"json fine", "POST", "/api/p/x", "application/json", `{"name":"张三"}`, 200},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got = ""
			r := httptest.NewRequest(c.method, "/", strings.NewReader(c.body))
			r.URL, _ = url.Parse(c.target)
			r.RequestURI = c.target
			if c.ctype != "" {
				r.Header.Set("Content-Type", c.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.want, rec.Body)
			}
			if c.want == 400 {
				if !strings.Contains(rec.Body.String(), "重新提交") {
					t.Errorf("no clear message: %s", rec.Body)
				}
				if strings.HasPrefix(c.target, "/api/") && !strings.Contains(rec.Body.String(), `"code":"invalid"`) {
					t.Errorf("API answer is not JSON: %s", rec.Body)
				}
			}
			if c.want == 200 && c.ctype == "application/json" && got != c.body {
				t.Errorf("handler read %q, want the body %q", got, c.body)
			}
		})
	}
}

func TestHSTSOnlyWhenAskedFor(t *testing.T) {
	for _, hsts := range []bool{false, true} {
		h, err := httpx.Wrap(http.NotFoundHandler(), httpx.Options{Log: slog.New(slog.DiscardHandler), HSTS: hsts})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if got := rec.Header().Get("Strict-Transport-Security"); (got == "max-age=31536000") != hsts || (got != "") != hsts {
			t.Errorf("HSTS %v: header %q", hsts, got)
		}
	}
}
