package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
)

type staffPage struct {
	Staff       []identity.Account
	Departments []region.Department
	DeptNames   map[int64]string
	Roles       []policy.Role
	Error       string
	Notice      string
	Values      url.Values
	OTPURL      string
	QR          string
}

func (p staffPage) Get(k string) string { return p.Values.Get(k) }

func (s *Server) staffList(w http.ResponseWriter, r *http.Request) error {
	return s.renderStaff(w, r, http.StatusOK, staffPage{Notice: notices[r.URL.Query().Get("done")], Values: url.Values{}})
}

func (s *Server) renderStaff(w http.ResponseWriter, r *http.Request, status int, p staffPage) error {
	var err error
	if p.Staff, err = s.identity.Staff(r.Context(), 0); err != nil {
		return err
	}
	if p.Departments, err = s.regions.Departments(r.Context(), region.DepartmentFilter{}); err != nil {
		return err
	}
	p.DeptNames = map[int64]string{}
	for _, d := range p.Departments {
		p.DeptNames[d.ID] = d.ShortName
	}
	p.Roles = policy.Roles
	return s.render(w, r, status, "staff", "admin", p)
}

func formRoles(r *http.Request) []policy.Role {
	var roles []policy.Role
	for _, v := range r.PostForm["roles"] {
		roles = append(roles, policy.Role(v))
	}
	return roles
}

func (s *Server) staffCreate(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	dept, _ := strconv.ParseInt(f.Get("department"), 10, 64)
	acc, otpURL, err := s.identity.CreateStaff(r.Context(), subject(r), meta(r), identity.NewStaff{Username: f.Get("username"),
		Name: f.Get("name"), DepartmentID: dept, Roles: formRoles(r), Password: f.Get("password")})
	p := staffPage{Values: f}
	p.Values.Del("password")
	if err != nil {
		return formError(err, func(status int, message string) error {
			p.Error = message
			return s.renderStaff(w, r, status, p)
		})
	}
	// The authenticator secret is shown this once, as text and QR code.
	p.Values = url.Values{}
	p.Notice = "已开设账户 " + acc.Username + "。请本人立即用身份验证器扫描下面的二维码（只显示这一次）。"
	p.OTPURL = otpURL
	if p.QR, err = qrSVG(otpURL); err != nil {
		return err
	}
	return s.renderStaff(w, r, http.StatusOK, p)
}

func (s *Server) staffUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "账户不存在")
	}
	who, m := subject(r), meta(r)
	var done string
	switch r.PostForm.Get("op") {
	case "roles":
		err, done = s.identity.SetRoles(r.Context(), who, m, id, formRoles(r)), "roles"
	case "disable", "enable":
		err, done = s.identity.SetDisabled(r.Context(), who, m, id, r.PostForm.Get("op") == "disable"), "status"
	case "reset":
		acc, aerr := s.identity.Account(r.Context(), id)
		if aerr != nil {
			return aerr
		}
		err, done = s.identity.ResetPassword(r.Context(), who, m, acc.Username, r.PostForm.Get("password")), "reset"
	default:
		return apperr.New(apperr.Invalid, "未知操作")
	}
	if err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderStaff(w, r, status, staffPage{Error: message, Values: url.Values{}})
		})
	}
	http.Redirect(w, r, "/admin/staff?done="+done, http.StatusSeeOther)
	return nil
}
