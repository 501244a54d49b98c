package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/oidc"
)

// formPage is a sign-in or registration form with what was typed (never a
// password) and the outcome of the last step.
type formPage struct {
	Error  string
	Notice string
	Values url.Values
	Next   string
	OIDC   bool
	Demo   bool
	// Registration: the privacy notice's version to agree to, and whether
	// the mobile number was already proven by a sign-in code (Values has it).
	Privacy  string
	Verified bool
}

func (p formPage) Get(k string) string { return p.Values.Get(k) }

// failForm re-renders a form with a user error, or fails the request for
// anything else.
func (s *Server) failForm(w http.ResponseWriter, r *http.Request, page string, p formPage, err error) error {
	// A sign-in form too large to read has nothing to show again.
	if apperr.Is(err, apperr.TooLarge) {
		return err
	}
	return formError(err, func(status int, message string) error {
		p.Error = message
		for _, secret := range []string{"password", "new_password", "current_password"} {
			p.Values.Del(secret)
		}
		return s.render(w, r, status, page, "signin", p)
	})
}

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "signin", "signin", formPage{Values: r.URL.Query(), Next: localPath(r.URL.Query().Get("next")),
		Demo: s.demo, OIDC: s.oidc != nil})
}

func (s *Server) sendSigninCode(w http.ResponseWriter, r *http.Request) error {
	p := formPage{Values: r.PostForm, Next: r.PostForm.Get("next"), Demo: s.demo}
	if err := s.identity.SendCode(r.Context(), r.PostForm.Get("mobile"), identity.PurposeSignIn, meta(r)); err != nil {
		return s.failForm(w, r, "signin", p, err)
	}
	p.Notice = "验证码已发送，5分钟内有效。"
	return s.render(w, r, http.StatusOK, "signin", "signin", p)
}

func (s *Server) signinWithCode(w http.ResponseWriter, r *http.Request) error {
	p := formPage{Values: r.PostForm, Next: r.PostForm.Get("next"), Demo: s.demo}
	tok, err := s.identity.SignInWithCode(r.Context(), r.PostForm.Get("mobile"), r.PostForm.Get("code"), meta(r))
	if errors.Is(err, identity.ErrUnregistered) {
		// The code proved the number theirs: registration follows at
		// once, with the same code.
		reg := formPage{Values: url.Values{"mobile": {r.PostForm.Get("mobile")}, "code": {r.PostForm.Get("code")}},
			Demo: s.demo, Privacy: identity.PrivacyVersion, Verified: true, Notice: apperr.MessageOf(err)}
		return s.render(w, r, http.StatusOK, "register", "signin", reg)
	}
	if err != nil {
		return s.failForm(w, r, "signin", p, err)
	}
	return s.signedIn(w, r, tok, p.Next, "/me")
}

func (s *Server) signinWithPassword(w http.ResponseWriter, r *http.Request) error {
	p := formPage{Values: r.PostForm, Next: r.PostForm.Get("next"), Demo: s.demo}
	tok, err := s.identity.SignInWithPassword(r.Context(), r.PostForm.Get("mobile"), r.PostForm.Get("password"), meta(r))
	if err != nil {
		return s.failForm(w, r, "signin", p, err)
	}
	return s.signedIn(w, r, tok, p.Next, "/me")
}

func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, tok, next, fallback string) error {
	s.setSession(w, r, tok)
	dest := localPath(next)
	if dest == "/" {
		dest = fallback
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
	return nil
}

func (s *Server) registerPage(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "register", "signin", formPage{Values: url.Values{}, Demo: s.demo, Privacy: identity.PrivacyVersion})
}

// privacyPage is the privacy notice registration asks people to agree to.
func (s *Server) privacyPage(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "privacy", "", identity.PrivacyVersion)
}

func (s *Server) sendRegisterCode(w http.ResponseWriter, r *http.Request) error {
	p := formPage{Values: r.PostForm, Demo: s.demo, Privacy: identity.PrivacyVersion}
	if err := s.identity.SendCode(r.Context(), r.PostForm.Get("mobile"), identity.PurposeRegister, meta(r)); err != nil {
		return s.failForm(w, r, "register", p, err)
	}
	p.Values.Del("password")
	p.Notice = "验证码已发送，5分钟内有效。"
	return s.render(w, r, http.StatusOK, "register", "signin", p)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	p := formPage{Values: f, Demo: s.demo, Privacy: identity.PrivacyVersion, Verified: f.Get("verified") == "yes"}
	_, tok, err := s.identity.Register(r.Context(), identity.Registration{Name: f.Get("name"), IDNumber: f.Get("id_number"),
		Mobile: f.Get("mobile"), Code: f.Get("code"), Password: f.Get("password"), Consent: f.Get("consent")}, meta(r))
	if err != nil {
		return s.failForm(w, r, "register", p, err)
	}
	return s.signedIn(w, r, tok, "", "/me")
}

// forgotPage is 忘记密码: a code to the mobile number sets a new password.
func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "forgot", "signin", formPage{Values: url.Values{}, Demo: s.demo})
}

func (s *Server) sendResetCode(w http.ResponseWriter, r *http.Request) error {
	p := formPage{Values: r.PostForm, Demo: s.demo}
	p.Values.Del("password")
	if err := s.identity.SendCode(r.Context(), r.PostForm.Get("mobile"), identity.PurposeResetPassword, meta(r)); err != nil {
		return s.failForm(w, r, "forgot", p, err)
	}
	p.Notice = "验证码已发送，5分钟内有效。"
	return s.render(w, r, http.StatusOK, "forgot", "signin", p)
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	p := formPage{Values: f, Demo: s.demo}
	if err := s.identity.ResetPasswordByCode(r.Context(), f.Get("mobile"), f.Get("code"), f.Get("password"), meta(r)); err != nil {
		return s.failForm(w, r, "forgot", p, err)
	}
	return s.render(w, r, http.StatusOK, "signin", "signin", formPage{Values: url.Values{"mobile": {f.Get("mobile")}},
		Notice: "密码已重设，其他设备上的登录已退出。请用新密码登录。"})
}

func (s *Server) staffSigninPage(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "staffsignin", "workbench", formPage{Values: url.Values{}, Next: localPath(r.URL.Query().Get("next")), Demo: s.demo})
}

func (s *Server) staffSignin(w http.ResponseWriter, r *http.Request) error {
	p := formPage{Values: r.PostForm, Next: r.PostForm.Get("next"), Demo: s.demo}
	tok, err := s.identity.SignInStaff(r.Context(), r.PostForm.Get("username"), r.PostForm.Get("password"), r.PostForm.Get("totp"), meta(r))
	if err != nil {
		p.Values.Del("totp")
		return s.failForm(w, r, "staffsignin", p, err)
	}
	return s.signedIn(w, r, tok, p.Next, "/workbench")
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request) error {
	if t := token(r); t != "" {
		if err := s.identity.SignOut(r.Context(), t); err != nil {
			return err
		}
	}
	s.clearSession(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// oidcCookie carries the state, nonce and PKCE verifier of one sign-in
// through the unified identity platform, from the redirect to the callback.
const oidcCookie = "zwfw_oidc"

func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) error {
	if s.oidc == nil {
		return apperr.New(apperr.NotFound, "未启用统一身份认证登录。")
	}
	state, nonce, verifier, err := oidc.NewState()
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: state + "." + nonce + "." + verifier, Path: "/signin/oidc",
		MaxAge: 600, HttpOnly: true, Secure: r.TLS != nil || strings.HasPrefix(s.publicURL, "https://"), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, s.oidc.AuthURL(state, nonce, verifier), http.StatusSeeOther)
	return nil
}

func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	if s.oidc == nil {
		return apperr.New(apperr.NotFound, "未启用统一身份认证登录。")
	}
	c, err := r.Cookie(oidcCookie)
	parts := []string{}
	if err == nil {
		parts = strings.Split(c.Value, ".")
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/signin/oidc", MaxAge: -1, HttpOnly: true})
	q := r.URL.Query()
	if len(parts) != 3 || q.Get("state") == "" || q.Get("state") != parts[0] {
		return apperr.New(apperr.Invalid, "登录请求已失效或不匹配，请重新登录。")
	}
	if e := q.Get("error"); e != "" {
		return apperr.New(apperr.Invalid, "统一身份认证未完成登录，请重试。")
	}
	claims, err := s.oidc.Exchange(r.Context(), q.Get("code"), parts[2], parts[1])
	if err != nil {
		s.log.Warn("oidc exchange failed", "err", err)
		return apperr.Wrap(apperr.Invalid, oidc.UserMessage(err), err)
	}
	tok, err := s.identity.SignInWithOIDC(r.Context(), claims, meta(r))
	if err != nil {
		return err
	}
	return s.signedIn(w, r, tok, "", "/me")
}

func (s *Server) demoSMS(w http.ResponseWriter, r *http.Request) error {
	if !s.demo || s.devSMS == nil {
		return apperr.New(apperr.NotFound, "您访问的页面不存在。")
	}
	return s.render(w, r, http.StatusOK, "demosms", "", s.devSMS.Recent())
}
