package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
)

// sessionCookie holds the session token. HttpOnly, SameSite=Lax, Secure
// over TLS; state-changing requests are also guarded by cross-origin
// protection in httpx.
const sessionCookie = "zwfw_session"

type sessionKey struct{}

// withSession resolves the session cookie, if any, into the request's
// context. A stale cookie is cleared, and the visitor is anonymous.
func (s *Server) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err == nil && c.Value != "" {
			sess, err := s.identity.Authenticate(r.Context(), c.Value)
			switch {
			case err == nil:
				r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, &sess))
			case apperr.Is(err, apperr.Unauthorized):
				s.clearSession(w, r)
			default:
				s.Error(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// subject is who is asking: the signed-in account, or anonymous.
func subject(r *http.Request) policy.Subject {
	if sess, ok := r.Context().Value(sessionKey{}).(*identity.Session); ok {
		return sess.Subject
	}
	return policy.Subject{Kind: policy.Anonymous}
}

func (s *Server) setSession(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil || strings.HasPrefix(s.publicURL, "https://"), SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil || strings.HasPrefix(s.publicURL, "https://"), SameSite: http.SameSiteLaxMode})
}

func token(r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// requireSignIn sends an anonymous visitor to the right sign-in page and
// comes back afterwards.
func requireSignIn(w http.ResponseWriter, r *http.Request, staff bool) bool {
	if subject(r).Kind != policy.Anonymous {
		return false
	}
	page := "/signin"
	if staff {
		page = "/staff/signin"
	}
	http.Redirect(w, r, page+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return true
}
