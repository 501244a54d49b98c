// Package httpx is the HTTP plumbing shared by the pages and the API: the
// one table from error codes to statuses, request IDs, access logs, panic
// recovery, the client's address behind trusted proxies, security
// headers, body limits, cross-origin protection and the
// check of input characters.
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
)

var statusByCode = map[apperr.Code]int{
	apperr.Invalid:      http.StatusBadRequest,
	apperr.NotFound:     http.StatusNotFound,
	apperr.Conflict:     http.StatusConflict,
	apperr.Forbidden:    http.StatusForbidden,
	apperr.Unauthorized: http.StatusUnauthorized,
	apperr.TooLarge:     http.StatusRequestEntityTooLarge,
	apperr.TooMany:      http.StatusTooManyRequests,
	apperr.Unavailable:  http.StatusServiceUnavailable,
	apperr.Internal:     http.StatusInternalServerError,
}

// Status is the HTTP status for an error.
func Status(err error) int { return statusByCode[apperr.CodeOf(err)] }

// LogError logs err if it is the server's fault; errors that are the
// client's (bad input, not found …) are answered, not logged.
func LogError(log *slog.Logger, r *http.Request, err error) {
	if Status(err) >= 500 {
		log.ErrorContext(r.Context(), "request failed", "request_id", RequestID(r.Context()), "route", r.Pattern, "err", err)
	}
}

// ErrorBody is the JSON shape of every API error.
type ErrorBody struct {
	Code    apperr.Code `json:"code"`
	Message string      `json:"message"`
	// Fields is a message per form field, when the request's form is wrong.
	Fields map[string]string `json:"fields,omitempty"`
}

// WriteJSON writes v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// WriteJSONError answers err as {"code", "message"} with its status.
func WriteJSONError(w http.ResponseWriter, err error) {
	WriteJSON(w, Status(err), ErrorBody{Code: apperr.CodeOf(err), Message: apperr.MessageOf(err), Fields: apperr.FieldsOf(err)})
}

type ctxKey int

const requestIDKey ctxKey = 0

// RequestID returns the request's ID, or "" outside a request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// validRequestID accepts an ID from a load balancer if it is short and
// plain, so that a log line cannot be forged through it.
func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Observer is told of every finished request, for metrics. Route is the
// ServeMux pattern that matched ("" when none did).
type Observer interface {
	Observe(route, method string, status int, elapsed time.Duration)
}

// Options configure the middleware chain.
type Options struct {
	Log          *slog.Logger
	Observer     Observer
	MaxBodyBytes int64
	// LargeBody gives some requests (file uploads) a larger limit than
	// MaxBodyBytes: it returns that limit, or 0 for the default.
	LargeBody      func(*http.Request) int64
	TrustedOrigins []string
	// OnPanic answers a request whose handler panicked, after it is logged.
	OnPanic http.Handler
	// OnCrossOrigin answers a refused cross-origin state-changing request.
	OnCrossOrigin http.Handler
	// MultiLine says which form fields may hold line breaks (nil: none).
	MultiLine MultiLineFunc
	// OnInvalid answers a request refused for its characters (400); the
	// default answers JSON under /api/ and plain text elsewhere.
	OnInvalid func(http.ResponseWriter, *http.Request, error)
	// HSTS sends Strict-Transport-Security: the site is served over https.
	HSTS bool
	// TrustedProxies are the load balancers and proxies whose
	// X-Forwarded-For is believed (see ClientIP); none: the peer is the client.
	TrustedProxies []netip.Prefix
	// Context, if set, prepares each request's context (the database's
	// per-request memo of cache versions, store.WithVersions).
	Context func(context.Context) context.Context
}

// Wrap puts the middleware chain around h, outermost first: request ID,
// access log and metrics with the client's address, panic recovery, security headers, body limit,
// cross-origin protection, input characters.
func Wrap(h http.Handler, opt Options) (http.Handler, error) {
	cop := http.NewCrossOriginProtection()
	for _, o := range opt.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("trusted origin %s: %w", o, err)
		}
	}
	if opt.OnCrossOrigin != nil {
		cop.SetDenyHandler(opt.OnCrossOrigin)
	}
	onInvalid := opt.OnInvalid
	if onInvalid == nil {
		onInvalid = func(w http.ResponseWriter, r *http.Request, err error) {
			if IsAPI(r) {
				WriteJSONError(w, err)
				return
			}
			http.Error(w, apperr.MessageOf(err), Status(err))
		}
	}
	h = checkInput(h, opt.MultiLine, onInvalid)
	h = cop.Handler(h)
	h = limitBody(h, opt.MaxBodyBytes, opt.LargeBody)
	h = securityHeaders(h, opt.HSTS)
	h = recoverPanics(h, opt.Log, opt.OnPanic)
	h = logRequests(h, opt.Log, opt.Observer, opt.TrustedProxies, opt.Context)
	return h, nil
}

// logRequests also puts the request ID, the client's address and what
// prepare adds in the context: here, because the access log reads the route pattern from the
// request the mux is given, so nothing between them may copy it.
func logRequests(next http.Handler, log *slog.Logger, obs Observer, trusted []netip.Prefix, prepare func(context.Context) context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		if prepare != nil {
			ctx = prepare(ctx)
		}
		r = r.WithContext(context.WithValue(ctx, clientIPKey, clientAddress(r, trusted)))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		elapsed := time.Since(start)
		if obs != nil {
			obs.Observe(r.Pattern, r.Method, sw.status, elapsed)
		}
		// The query string and the client address are left out: they can
		// carry personal data (a phone number in a lookup, say).
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", r.Pattern),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.Duration("elapsed", elapsed))
	})
}

func recoverPanics(next http.Handler, log *slog.Logger, onPanic http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil || p == http.ErrAbortHandler {
				if p != nil {
					panic(p)
				}
				return
			}
			log.ErrorContext(r.Context(), "panic", "request_id", RequestID(r.Context()), "route", r.Pattern,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if onPanic != nil {
				onPanic.ServeHTTP(w, r)
			} else {
				http.Error(w, "系统内部错误", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// ContentSecurityPolicy allows nothing inline and nothing from elsewhere:
// every script and style is a file the binary serves itself.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func securityHeaders(next http.Handler, hsts bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if hsts {
			// A year, as browsers' preload lists ask; subdomains are
			// left out, since the portal may share a domain with sites
			// that are not served over https.
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

func limitBody(next http.Handler, def int64, large func(*http.Request) int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := def
		if large != nil {
			if l := large(r); l > 0 {
				limit = l
			}
		}
		if limit > 0 && r.Body != nil {
			if r.ContentLength > limit {
				writeTooLarge(w, r)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

func writeTooLarge(w http.ResponseWriter, r *http.Request) {
	err := apperr.New(apperr.TooLarge, "提交的内容超过大小限制。")
	if IsAPI(r) {
		WriteJSONError(w, err)
		return
	}
	http.Error(w, apperr.MessageOf(err), Status(err))
}

// IsAPI reports whether r is a JSON API request, which is answered in JSON
// even when it fails in the middleware.
func IsAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/")
}
