package httpx_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
