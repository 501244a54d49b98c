package httpx

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/zwfw/zwfw/internal/apperr"
)

// DecodeJSON reads a JSON request body into v: one value, with no field v
// does not have and nothing after it (the input check reads the first
// value only, so what follows it is never let through). invalid is the
// Chinese message for a body that is not that; a body over the request's
// limit is too large.
func DecodeJSON(body io.Reader, v any, invalid string) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, end := dec.Token(); end != io.EOF {
			err = errors.New("json: data after the body's value")
			var mbe *http.MaxBytesError
			if errors.As(end, &mbe) {
				err = end
			}
		}
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &mbe):
		return apperr.Wrap(apperr.TooLarge, "提交的内容超过大小限制。", err)
	default:
		return apperr.Wrap(apperr.Invalid, invalid, err)
	}
}
