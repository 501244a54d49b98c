package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/httpx"
)

// meta is where a request comes from, for sign-in history, limits and the
// audit log: the client's address as httpx resolved it behind the proxies.
func meta(r *http.Request) audit.Meta {
	return audit.Meta{IP: httpx.ClientIP(r.Context()), Client: r.UserAgent()}
}

func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return apperr.New(apperr.TooLarge, "提交的内容超过大小限制。")
		}
		return apperr.New(apperr.Invalid, "提交的表单无法识别。")
	}
	return nil
}

// pathID reads a numeric ID from the URL path; anything else is not found.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.NotFound, "没有找到。")
	}
	return id, nil
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
