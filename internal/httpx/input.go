package httpx

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
)

// Text that people type is checked once, here, before any handler sees
// it: NUL (which PostgreSQL refuses in text, failing the request with a
// 500), the other control characters, the bidirectional overrides and
// isolates (U+202A–U+202E, U+2066–U+2069, which make a name read
// backwards on a staff screen) and invalid UTF-8 are refused with 400.
// TAB is allowed everywhere; CR and LF only in multi-line fields.

// MultiLineFunc reports whether the form field of r may hold several
// lines (a <textarea>). Everything else is one line.
type MultiLineFunc func(r *http.Request, field string) bool

// The messages of refused input, in the order of the checks.
const (
	msgBadText    = "提交的内容含有不允许的字符（控制字符、方向控制符或无效编码），请删除后重新提交。"
	msgLineBreaks = "提交的内容在只能填一行的栏目中含有换行，请改为一行后重新提交。"
)

// CheckText returns an invalid error if s holds a character people do not
// type, or a line break when multiLine is false. field names the field in
// the message ("" for none), for the API's callers.
func CheckText(field, s string, multiLine bool) error {
	msg := ""
	if !utf8.ValidString(s) {
		msg = msgBadText
	} else {
		for _, c := range s {
			if c == '\n' || c == '\r' {
				if !multiLine && msg == "" {
					msg = msgLineBreaks
				}
				continue
			}
			if forbidden(c) {
				msg = msgBadText
				break
			}
		}
	}
	if msg == "" {
		return nil
	}
	if field != "" {
		msg = "字段 " + field + "：" + msg
	}
	return apperr.New(apperr.Invalid, msg)
}

// forbidden is a control character other than TAB, CR and LF (C0, DEL,
// C1), or a bidirectional override or isolate.
func forbidden(c rune) bool {
	switch {
	case c == '\t' || c == '\n' || c == '\r':
		return false
	case c < 0x20 || c >= 0x7f && c <= 0x9f:
		return true
	case c >= 0x202a && c <= 0x202e, c >= 0x2066 && c <= 0x2069:
		return true
	}
	return false
}

// checkInput refuses a request whose path, query, form values (URL-encoded
// or multipart text fields; not file contents) or JSON string values hold
// refused characters. Multipart requests under /api/ are streamed by their
// handler so that files are not spooled twice; that handler checks its
// text parts with CheckText.
func checkInput(next http.Handler, multiLine MultiLineFunc, onInvalid func(http.ResponseWriter, *http.Request, error)) http.Handler {
	if multiLine == nil {
		multiLine = func(*http.Request, string) bool { return false }
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := checkRequest(r, multiLine)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			writeTooLarge(w, r)
		case err != nil:
			onInvalid(w, r, err)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func checkRequest(r *http.Request, multiLine MultiLineFunc) error {
	if err := CheckText("", r.URL.Path, false); err != nil {
		return err
	}
	if q, _ := url.ParseQuery(r.URL.RawQuery); q != nil {
		if err := checkValues(r, q, func(*http.Request, string) bool { return false }); err != nil {
			return err
		}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		// Parsed here once; the handler's ParseForm then finds it done.
		if err := r.ParseForm(); err != nil {
			return parseError(err)
		}
		return checkValues(r, r.PostForm, multiLine)
	case "multipart/form-data":
		if IsAPI(r) {
			return nil
		}
		// Pages parse their uploads the same way (files over 1 MiB go
		// to a temporary file); the handler's own call is then a no-op.
		// A body over the limit is left for the handler to answer as it
		// does (its second read fails the same way). Anything else that
		// fails is refused: a handler's second call would go on where
		// this one stopped — after a query it could not parse, past the
		// check, into the parts (found by FuzzCheckRequest).
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil
			}
			return parseError(err)
		}
		if err := checkValues(r, r.MultipartForm.Value, multiLine); err != nil {
			return err
		}
		for field, fhs := range r.MultipartForm.File {
			for _, fh := range fhs {
				if err := CheckText("", fh.Filename, false); err != nil {
					return err
				}
			}
			if err := CheckText("", field, false); err != nil {
				return err
			}
		}
	case "application/json":
		return checkJSONBody(r, multiLine)
	default:
		// The API's handlers decode JSON whatever the Content-Type says
		// (`text/plain`, none): a body that begins like JSON is checked
		// as JSON. Other bodies (a result file) are not read here.
		if !IsAPI(r) {
			return nil
		}
		br := bufio.NewReader(r.Body)
		var lead []byte
		for {
			b, err := br.ReadByte()
			if err != nil {
				break
			}
			lead = append(lead, b)
			if b != ' ' && b != '\t' && b != '\n' && b != '\r' {
				break
			}
		}
		body := struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(lead), br), r.Body}
		r.Body = body
		if len(lead) > 0 && strings.IndexByte(`{["`, lead[len(lead)-1]) >= 0 {
			return checkJSONBody(r, multiLine)
		}
	}
	return nil
}

// checkJSONBody reads the body of r (leaving a copy for the handler) and
// checks its first JSON value.
func checkJSONBody(r *http.Request, multiLine MultiLineFunc) error {
	// JSON bodies are small (the default body limit); one copy is
	// decoded here to see the strings behind \u escapes, and the
	// handler reads the other.
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return err
	}
	if !utf8.Valid(body) {
		return CheckText("", "\xff", false)
	}
	// The first value, as the handlers' json.Decoder reads it: a
	// whole-body Unmarshal fails on anything after it, and used to let
	// `{"title":"\u0000"} x` through unchecked.
	var v any
	if json.NewDecoder(bytes.NewReader(body)).Decode(&v) != nil {
		return nil // not JSON: the handler says so
	}
	return checkJSON(r, "", v, multiLine)
}

func parseError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return apperr.Wrap(apperr.Invalid, "请求格式不正确。", err)
}

func checkValues(r *http.Request, vs url.Values, multiLine MultiLineFunc) error {
	for k, list := range vs {
		if err := CheckText("", k, false); err != nil {
			return err
		}
		ml := multiLine(r, k)
		for _, v := range list {
			if err := CheckText("", v, ml); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkJSON walks a decoded JSON value; a string's field is the key of
// the object that holds it.
func checkJSON(r *http.Request, field string, v any, multiLine MultiLineFunc) error {
	switch v := v.(type) {
	case string:
		return CheckText(field, v, field != "" && multiLine(r, field))
	case []any:
		for _, e := range v {
			if err := checkJSON(r, field, e, multiLine); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range v {
			if err := CheckText("", k, false); err != nil {
				return err
			}
			if err := checkJSON(r, k, e, multiLine); err != nil {
				return err
			}
		}
	}
	return nil
}
