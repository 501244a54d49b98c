package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/oidc"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
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

// formPage is a sign-in or registration form with what was typed (never a
// password) and the outcome of the last step.
type formPage struct {
	Error  string
	Notice string
	Values url.Values
	Next   string
	OIDC   bool
	Demo   bool
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
	if err := parseForm(r); err != nil {
		return err
	}
	p := formPage{Values: r.PostForm, Next: r.PostForm.Get("next"), Demo: s.demo}
	if err := s.identity.SendCode(r.Context(), r.PostForm.Get("mobile"), identity.PurposeSignIn, meta(r)); err != nil {
		return s.failForm(w, r, "signin", p, err)
	}
	p.Notice = "验证码已发送，5分钟内有效。"
	return s.render(w, r, http.StatusOK, "signin", "signin", p)
}

func (s *Server) signinWithCode(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	p := formPage{Values: r.PostForm, Next: r.PostForm.Get("next"), Demo: s.demo}
	tok, err := s.identity.SignInWithCode(r.Context(), r.PostForm.Get("mobile"), r.PostForm.Get("code"), meta(r))
	if err != nil {
		return s.failForm(w, r, "signin", p, err)
	}
	return s.signedIn(w, r, tok, p.Next, "/me")
}

func (s *Server) signinWithPassword(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
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
	return s.render(w, r, http.StatusOK, "register", "signin", formPage{Values: url.Values{}, Demo: s.demo})
}

func (s *Server) sendRegisterCode(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	p := formPage{Values: r.PostForm, Demo: s.demo}
	if err := s.identity.SendCode(r.Context(), r.PostForm.Get("mobile"), identity.PurposeRegister, meta(r)); err != nil {
		return s.failForm(w, r, "register", p, err)
	}
	p.Values.Del("password")
	p.Notice = "验证码已发送，5分钟内有效。"
	return s.render(w, r, http.StatusOK, "register", "signin", p)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	p := formPage{Values: f, Demo: s.demo}
	_, tok, err := s.identity.Register(r.Context(), identity.Registration{Name: f.Get("name"), IDNumber: f.Get("id_number"),
		Mobile: f.Get("mobile"), Code: f.Get("code"), Password: f.Get("password")}, meta(r))
	if err != nil {
		return s.failForm(w, r, "register", p, err)
	}
	return s.signedIn(w, r, tok, "", "/me")
}

func (s *Server) staffSigninPage(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "staffsignin", "workbench", formPage{Values: url.Values{}, Next: localPath(r.URL.Query().Get("next")), Demo: s.demo})
}

func (s *Server) staffSignin(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
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

type mePage struct {
	Unread      int
	Account     identity.Account
	Enterprises []identity.Enterprise
	ActingFor   int64
	Sessions    []identity.Session
	History     []identity.SignIn
	Error       string
	Notice      string
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	return s.renderMe(w, r, http.StatusOK, "", r.URL.Query().Get("done"))
}

var notices = map[string]string{
	"password": "密码已修改，其他设备上的登录已退出。", "signout": "已退出其他所有设备上的登录。",
	"enterprise": "企业已登记，您是其法定代表人。", "agent": "已添加经办人。", "acting": "办事身份已切换。",
	"email": "通知邮箱已保存。", "acted": "已办理，办件状态已更新。", "transferred": "办件已移交其他部门。", "intake": "已收件。请录入申请表、扫描材料，然后提交。", "visit": "已登记到场。", "uploaded": "材料已保存。", "saved": "草稿已保存，可以随时回来继续填写。", "draft": "已保存为新的草稿版本；发布后群众才能看到。", "publish": "已发布。", "suspend": "已暂停办理。", "resume": "已恢复办理。",
	"cancel": "已取消该事项。", "roles": "角色已更新。", "status": "账户状态已更新。", "reset": "密码已重置，该账户的所有登录已退出。",
}

func (s *Server) renderMe(w http.ResponseWriter, r *http.Request, status int, errMsg, done string) error {
	if requireSignIn(w, r, false) {
		return nil
	}
	who := subject(r)
	ctx := r.Context()
	p := mePage{Error: errMsg, Notice: notices[done], ActingFor: who.ActingFor}
	var err error
	if p.Account, err = s.identity.Account(ctx, who.AccountID); err != nil {
		return err
	}
	if who.Kind == policy.Person {
		if p.Enterprises, err = s.identity.Enterprises(ctx, who.AccountID); err != nil {
			return err
		}
		if p.Unread, err = s.cases.Unread(ctx, who.AccountID); err != nil {
			return err
		}
	}
	if p.Sessions, err = s.identity.Sessions(ctx, who.AccountID); err != nil {
		return err
	}
	if p.History, err = s.identity.History(ctx, who.AccountID, 20); err != nil {
		return err
	}
	return s.render(w, r, status, "me", "me", p)
}

// meAction runs a form on the "my account" page and comes back to it.
func (s *Server) meAction(fn func(r *http.Request, who policy.Subject) (string, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if requireSignIn(w, r, false) {
			return nil
		}
		if err := parseForm(r); err != nil {
			return err
		}
		done, err := fn(r, subject(r))
		if err != nil {
			return formError(err, func(status int, message string) error { return s.renderMe(w, r, status, message, "") })
		}
		http.Redirect(w, r, "/me?done="+done, http.StatusSeeOther)
		return nil
	}
}

func (s *Server) changePassword(r *http.Request, who policy.Subject) (string, error) {
	f := r.PostForm
	if f.Get("new_password") != f.Get("confirm_password") {
		return "", apperr.New(apperr.Invalid, "两次输入的新密码不一致。")
	}
	return "password", s.identity.ChangePassword(r.Context(), who.AccountID, f.Get("current_password"), f.Get("new_password"), token(r), meta(r))
}

func (s *Server) sendMobileCode(r *http.Request, who policy.Subject) (string, error) {
	return "mobilecode", s.identity.SendCode(r.Context(), r.PostForm.Get("mobile"), identity.PurposeChangeMobile, meta(r))
}

func (s *Server) changeMobile(r *http.Request, who policy.Subject) (string, error) {
	return "mobile", s.identity.ChangeMobile(r.Context(), who.AccountID, r.PostForm.Get("mobile"), r.PostForm.Get("code"), meta(r))
}

func (s *Server) setEmail(r *http.Request, who policy.Subject) (string, error) {
	if who.Kind != policy.Person {
		return "", apperr.New(apperr.Forbidden, "只有个人账户可以设置通知邮箱。")
	}
	return "email", s.identity.SetEmail(r.Context(), who.AccountID, r.PostForm.Get("email"), meta(r))
}

func (s *Server) signoutEverywhere(r *http.Request, who policy.Subject) (string, error) {
	_, err := s.identity.SignOutEverywhere(r.Context(), who.AccountID, token(r), meta(r))
	return "signout", err
}

func (s *Server) registerEnterprise(r *http.Request, who policy.Subject) (string, error) {
	f := r.PostForm
	_, err := s.identity.RegisterEnterprise(r.Context(), who, f.Get("name"), f.Get("credit_code"), f.Get("legal_rep"), meta(r))
	return "enterprise", err
}

func (s *Server) addAgent(r *http.Request, who policy.Subject) (string, error) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return "agent", s.identity.AddAgent(r.Context(), who, id, r.PostForm.Get("mobile"), meta(r))
}

func (s *Server) actFor(r *http.Request, who policy.Subject) (string, error) {
	id, err := strconv.ParseInt(r.PostForm.Get("enterprise"), 10, 64)
	if err != nil {
		return "", apperr.New(apperr.Invalid, "请选择办事身份。")
	}
	return "acting", s.identity.ActFor(r.Context(), token(r), who, id, meta(r))
}

type workbenchPage struct {
	Account    identity.Account
	Department region.Department
	Roles      []policy.Role
	Subject    policy.Subject
	Queues     []queueCount
	Unread     int
}

type queueCount struct {
	Status casework.Status
	Count  int
}

func (s *Server) workbench(w http.ResponseWriter, r *http.Request) error {
	if requireSignIn(w, r, true) {
		return nil
	}
	who := subject(r)
	if who.Kind != policy.Staff {
		return apperr.New(apperr.Forbidden, "工作台只对工作人员开放。")
	}
	acc, err := s.identity.Account(r.Context(), who.AccountID)
	if err != nil {
		return err
	}
	dept, err := s.regions.Department(r.Context(), who.DepartmentID)
	if err != nil {
		return err
	}
	p := workbenchPage{Account: acc, Department: dept, Roles: who.Roles, Subject: who}
	if p.Unread, err = s.cases.Unread(r.Context(), who.AccountID); err != nil {
		return err
	}
	// Queues only for those who handle cases (the policy says who).
	if casework.HasQueues(who) {
		counts, err := s.cases.QueueCounts(r.Context(), who)
		if err != nil {
			return err
		}
		for _, q := range casework.Queues {
			p.Queues = append(p.Queues, queueCount{q, counts[q]})
		}
	}
	return s.render(w, r, http.StatusOK, "workbench", "workbench", p)
}

// admin is the administration entry: it lists the tools the person may use.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) error {
	if requireSignIn(w, r, true) {
		return nil
	}
	who := subject(r)
	tools := []struct{ Path, Name, Help string }{}
	if policy.Check(who, policy.View, policy.Resource{Kind: policy.AuditLog}) == nil {
		tools = append(tools, struct{ Path, Name, Help string }{"/admin/audit", "审计日志", "登录、权限变更、查看个人信息、导出等操作记录"})
	}
	if policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Department, DepartmentID: -1}) == nil {
		tools = append(tools, struct{ Path, Name, Help string }{"/admin/staff", "工作人员与角色", "开设账户、分配角色、重置密码、停用"},
			struct{ Path, Name, Help string }{"/admin/departments", "部门信息", "区直部门的简称、电话、地址和办公时间"})
	}
	if policy.Check(who, policy.View, policy.Resource{Kind: policy.Statistics}) == nil {
		tools = append(tools, struct{ Path, Name, Help string }{"/admin/late", "时限监督", "即将到期（预警）和已超期的办件"},
			struct{ Path, Name, Help string }{"/admin/visits", "最多跑一次", "申请人到场超过一次的办件"},
			struct{ Path, Name, Help string }{"/admin/corrections", "一次性告知", "被要求补正超过一次的办件"},
			struct{ Path, Name, Help string }{"/admin/archives", "电子档案检查", "办结或不予受理的办件中档案不完整的"})
	}
	if policy.Check(who, policy.View, policy.Resource{Kind: policy.Jobs}) == nil {
		tools = append(tools, struct{ Path, Name, Help string }{"/admin/jobs", "后台任务", "通知、时限检查等任务的运行和失败情况"})
	}
	if _, err := catalogScope(who); err == nil {
		tools = append(tools, struct{ Path, Name, Help string }{"/admin/items", "事项管理", "新建、修改、发布、暂停事项；导入导出目录"},
			struct{ Path, Name, Help string }{"/admin/quality", "事项质量检查", "按质量规则检查已发布事项"})
	}
	if len(tools) == 0 {
		return apperr.New(apperr.Forbidden, "管理后台只对系统管理员、督查人员和事项管理员开放。")
	}
	return s.render(w, r, http.StatusOK, "admin", "admin", tools)
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	if requireSignIn(w, r, true) {
		return nil
	}
	q := r.URL.Query()
	f := audit.Filter{Action: q.Get("action"), Text: q.Get("q"), Limit: 100}
	if v := q.Get("before"); v != "" {
		f.Before, _ = strconv.ParseInt(v, 10, 64)
	}
	if v := q.Get("date"); v != "" {
		day, err := time.ParseInLocation("2006-01-02", v, chinaTZ)
		if err != nil {
			return apperr.New(apperr.Invalid, "日期格式应为 2026-01-31")
		}
		f.Since, f.Until = day, day.AddDate(0, 0, 1)
	}
	entries, err := s.audit.Search(r.Context(), subject(r), f)
	if err != nil {
		return err
	}
	var older string
	if len(entries) == f.Limit {
		v := url.Values{"action": {f.Action}, "q": {f.Text}, "date": {q.Get("date")}, "before": {strconv.FormatInt(entries[len(entries)-1].ID, 10)}}
		older = "/admin/audit?" + v.Encode()
	}
	return s.render(w, r, http.StatusOK, "audit", "admin", struct {
		Entries []audit.Entry
		Filter  audit.Filter
		Date    string
		Older   string
	}{entries, f, q.Get("date"), older})
}

var chinaTZ = time.FixedZone("CST", 8*3600)

// formatTime shows a time in Beijing time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(chinaTZ).Format("2006-01-02 15:04:05")
}

func (s *Server) demoSMS(w http.ResponseWriter, r *http.Request) error {
	if !s.demo || s.devSMS == nil {
		return apperr.New(apperr.NotFound, "您访问的页面不存在。")
	}
	return s.render(w, r, http.StatusOK, "demosms", "", s.devSMS.Recent())
}

func (s *Server) jobsPage(w http.ResponseWriter, r *http.Request) error {
	if requireSignIn(w, r, true) {
		return nil
	}
	st, err := s.jobs.Status(r.Context(), subject(r), 50)
	if err != nil {
		return err
	}
	counts := st.Counts
	states := []struct {
		Name  string
		Count int
	}{{"待执行", counts["available"] + counts["scheduled"] + counts["pending"]}, {"运行中", counts["running"]},
		{"待重试", counts["retryable"]}, {"已完成", counts["completed"]}, {"已放弃", counts["discarded"]}, {"已取消", counts["cancelled"]}}
	return s.render(w, r, http.StatusOK, "jobs", "admin", struct {
		States   any
		Troubled any
	}{states, st.Troubled})
}

// qualityPage lists published items that break a quality rule: all of them
// for an administrator, the department's own for a catalog manager.
func (s *Server) qualityPage(w http.ResponseWriter, r *http.Request) error {
	if requireSignIn(w, r, true) {
		return nil
	}
	who := subject(r)
	if _, err := catalogScope(who); err != nil {
		return err
	}
	failing, err := s.catalog.QualityReport(r.Context())
	if err != nil {
		return err
	}
	shown := failing[:0]
	for _, f := range failing {
		if policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Item, DepartmentID: f.Item.DepartmentID}) == nil {
			shown = append(shown, f)
		}
	}
	return s.render(w, r, http.StatusOK, "quality", "admin", shown)
}

// may asks the policy whether the signed-in staff member may do a on res,
// sending anonymous visitors to sign in first.
func may(w http.ResponseWriter, r *http.Request, a policy.Action, res policy.Resource) (bool, error) {
	if requireSignIn(w, r, true) {
		return false, nil
	}
	if err := policy.Check(subject(r), a, res); err != nil {
		return false, err
	}
	return true, nil
}

// Resources of the administration pages: any staff account and any
// department (ID -1 is nobody's own), which only administrators may edit.
var (
	anyAccount    = policy.Resource{Kind: policy.Account, OwnerID: -1}
	anyDepartment = policy.Resource{Kind: policy.Department, DepartmentID: -1}
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
	if ok, err := may(w, r, policy.Edit, anyAccount); !ok {
		return err
	}
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
	if ok, err := may(w, r, policy.Edit, anyAccount); !ok {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
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
	if ok, err := may(w, r, policy.Edit, anyAccount); !ok {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
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

func (s *Server) departmentsAdmin(w http.ResponseWriter, r *http.Request) error {
	if ok, err := may(w, r, policy.Edit, anyDepartment); !ok {
		return err
	}
	depts, err := s.regions.Departments(r.Context(), region.DepartmentFilter{Level: region.District})
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "deptadmin", "admin", struct {
		Departments []region.Department
		Notice      string
	}{depts, map[string]string{"saved": "已保存。"}[r.URL.Query().Get("done")]})
}

// departmentUpdate saves a department's contact details and records the
// change with what it was before.
func (s *Server) departmentUpdate(w http.ResponseWriter, r *http.Request) error {
	if ok, err := may(w, r, policy.Edit, anyDepartment); !ok {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "部门不存在")
	}
	f, who, m := r.PostForm, subject(r), meta(r)
	c := region.DepartmentContact{ShortName: f.Get("short_name"), Phone: f.Get("phone"), Address: f.Get("address"), Hours: f.Get("hours")}
	if err := s.regions.UpdateContact(r.Context(), who, m, id, c); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/departments?done=saved", http.StatusSeeOther)
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
