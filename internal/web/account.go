package web

import (
	"net/http"
	"strconv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/policy"
)

type mePage struct {
	Unread      int
	Account     identity.Account
	Enterprises []identity.Enterprise
	ActingFor   int64
	Sessions    []identity.Session
	History     []identity.SignIn
	DataUses    []integration.Use // 我的数据被谁使用 (integration, issue 12)
	Error       string
	Notice      string
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	return s.renderMe(w, r, http.StatusOK, "", r.URL.Query().Get("done"))
}

var notices = map[string]string{
	"password": "密码已修改，其他设备上的登录已退出。", "signout": "已退出其他所有设备上的登录。",
	"enterprise": "企业已登记，您是其法定代表人。", "agent": "已添加经办人。", "acting": "办事身份已切换。",
	"email": "通知邮箱已保存。", "acted": "已办理，办件状态已更新。", "transferred": "办件已移交其他部门。", "intake": "已收件。请录入申请表、扫描材料，然后提交。", "visit": "已登记到场。", "uploaded": "材料已保存。", "saved": "草稿已保存，可以随时回来继续填写。", "draft": "已保存为新的草稿版本；提交审核、由另一位人员审核通过后群众才能看到。", "submit": "已提交审核，等待另一位事项管理员或部门负责人审核。", "return": "已退回，编辑人员修改后可再次提交。", "publish": "已审核通过并发布。", "suspend": "已暂停办理。", "resume": "已恢复办理。",
	"assisted": "已代申请人提交申请，申请人会收到短信通知，并可登录查看办理进度。", "cancel": "已取消该事项。", "roles": "角色已更新。", "status": "账户状态已更新。", "reset": "密码已重置，该账户的所有登录已退出。",
}

func (s *Server) renderMe(w http.ResponseWriter, r *http.Request, status int, errMsg, done string) error {
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
		if s.integration != nil {
			if p.DataUses, err = s.integration.UsesOf(ctx, who, 50); err != nil {
				return err
			}
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

func (s *Server) messages(w http.ResponseWriter, r *http.Request) error {
	list, err := s.cases.Messages(r.Context(), subject(r))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "messages", "me", list)
}
