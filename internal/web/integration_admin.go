package web

// The administrators' page of the integration (issue 12): API clients,
// their keys (issue, rotate, revoke), rate limits, the sharing directory
// (共享目录) and the data-sharing access log (共享调用日志) with its XLSX
// export. Every change goes through internal/integration and is audited
// there.

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
)

var apiKeyResource = policy.Resource{Kind: policy.APIKey}

type integrationClientRow struct {
	integration.Client
	Department string
	Keys       []apikey.Key
	Grants     []integrationGrantRow
}

type integrationGrantRow struct {
	integration.Grant
	DataName, Department string
}

type integrationPage struct {
	Clients     []integrationClientRow
	Departments []region.Department
	DataKinds   []struct{ Code, Name string }
	Scopes      []string
	Error       string
	Notice      string
	NewKey      string // shown once, after issuing or rotating
	Values      url.Values
}

func (p integrationPage) Get(k string) string { return p.Values.Get(k) }

func (s *Server) integrationAdmin(w http.ResponseWriter, r *http.Request) error {
	return s.renderIntegration(w, r, http.StatusOK, integrationPage{Notice: map[string]string{
		"client": "接入系统已登记。", "limit": "调用上限已修改，各服务器立即按新上限计数。", "revoked": "密钥已停用，立即生效。",
		"client_revoked": "接入系统及其全部密钥已停用，立即生效；其事件订阅不再推送。",
		"granted":        "已加入共享目录。", "ungranted": "已从共享目录撤销。"}[r.URL.Query().Get("done")]})
}

func (s *Server) renderIntegration(w http.ResponseWriter, r *http.Request, status int, p integrationPage) error {
	if s.integration == nil {
		return apperr.New(apperr.NotFound, "本实例未开放数据共享。")
	}
	ctx, who := r.Context(), subject(r)
	clients, err := s.integration.Clients(ctx, who)
	if err != nil {
		return err
	}
	if p.Departments, err = s.regions.Departments(ctx, region.DepartmentFilter{}); err != nil {
		return err
	}
	names := map[int64]string{0: "全部部门"}
	for _, d := range p.Departments {
		names[d.ID] = d.ShortName
	}
	for _, c := range clients {
		row := integrationClientRow{Client: c, Department: names[c.DepartmentID]}
		if c.DepartmentID == 0 {
			row.Department = "—"
		}
		if row.Keys, err = s.integration.Keys(ctx, who, c.ID); err != nil {
			return err
		}
		grants, err := s.integration.Directory(ctx, who, c.ID)
		if err != nil {
			return err
		}
		for _, g := range grants {
			row.Grants = append(row.Grants, integrationGrantRow{Grant: g, DataName: integration.DataName(g.Data), Department: names[g.DepartmentID]})
		}
		p.Clients = append(p.Clients, row)
	}
	p.DataKinds, p.Scopes = integration.DataKinds, policy.Scopes
	if p.Values == nil {
		p.Values = url.Values{}
	}
	return s.render(w, r, status, "integration", "admin", p)
}

// integrationForm runs one of the page's forms; a refusal shows the page
// again with the message and what was typed.
func (s *Server) integrationForm(fn func(r *http.Request, who policy.Subject) (done, key string, err error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.integration == nil {
			return apperr.New(apperr.NotFound, "本实例未开放数据共享。")
		}
		done, key, err := fn(r, subject(r))
		if err != nil {
			return formError(err, func(status int, message string) error {
				return s.renderIntegration(w, r, status, integrationPage{Error: message, Values: r.PostForm})
			})
		}
		if key != "" {
			// A new key is shown once, on this answer, never in a URL.
			return s.renderIntegration(w, r, http.StatusOK, integrationPage{Notice: done, NewKey: key})
		}
		http.Redirect(w, r, "/admin/integration?done="+done, http.StatusSeeOther)
		return nil
	}
}

func formInt(f url.Values, name, what string) (int64, error) {
	v := strings.TrimSpace(f.Get(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.Invalid, what+"应为整数。")
	}
	return n, nil
}

func (s *Server) integrationClientCreate(r *http.Request, who policy.Subject) (string, string, error) {
	dept, err := formInt(r.PostForm, "department", "部门")
	if err != nil {
		return "", "", err
	}
	rate, err := formInt(r.PostForm, "per_minute", "每分钟调用上限")
	if err != nil {
		return "", "", err
	}
	_, err = s.integration.CreateClient(r.Context(), who, meta(r), integration.Client{Name: r.PostForm.Get("name"), DepartmentID: dept, PerMinute: int(rate)})
	return "client", "", err
}

func (s *Server) integrationLimit(r *http.Request, who policy.Subject) (string, string, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return "", "", err
	}
	rate, err := formInt(r.PostForm, "per_minute", "每分钟调用上限")
	if err != nil {
		return "", "", err
	}
	return "limit", "", s.integration.SetLimit(r.Context(), who, meta(r), id, int(rate))
}

// integrationClientRevoke stops a client with its keys and webhooks.
func (s *Server) integrationClientRevoke(r *http.Request, who policy.Subject) (string, string, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return "", "", err
	}
	return "client_revoked", "", s.integration.RevokeClient(r.Context(), who, meta(r), id)
}

func (s *Server) integrationIssue(r *http.Request, who policy.Subject) (string, string, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return "", "", err
	}
	k, raw, err := s.integration.IssueKey(r.Context(), who, meta(r), id, r.PostForm.Get("name"), r.PostForm["scope"])
	if err != nil {
		return "", "", err
	}
	return "已开设密钥 " + k.Prefix + "。请把下面的密钥交给对方系统妥善保管，它只显示这一次：", raw, nil
}

func (s *Server) integrationRotate(r *http.Request, who policy.Subject) (string, string, error) {
	hours, err := formInt(r.PostForm, "hours", "过渡期")
	if err != nil || hours < 0 {
		return "", "", apperr.New(apperr.Invalid, "过渡期应为不小于 0 的小时数。")
	}
	until := s.clock.Now().Add(time.Duration(hours) * time.Hour)
	k, raw, err := s.integration.RotateKey(r.Context(), who, meta(r), r.PathValue("id"), until)
	if err != nil {
		return "", "", err
	}
	return "已开设新密钥 " + k.Prefix + "，旧密钥可用至 " + until.Format("2006-01-02 15:04") + "。新密钥只显示这一次：", raw, nil
}

func (s *Server) integrationRevoke(r *http.Request, who policy.Subject) (string, string, error) {
	return "revoked", "", s.integration.RevokeKey(r.Context(), who, meta(r), r.PathValue("id"))
}

func (s *Server) integrationGrant(r *http.Request, who policy.Subject) (string, string, error) {
	client, err := formInt(r.PostForm, "client", "接入系统")
	if err != nil {
		return "", "", err
	}
	dept, err := formInt(r.PostForm, "department", "部门")
	if err != nil {
		return "", "", err
	}
	_, err = s.integration.AddGrant(r.Context(), who, meta(r), integration.Grant{ClientID: client, Data: r.PostForm.Get("data"),
		DepartmentID: dept, Purpose: r.PostForm.Get("purpose")})
	return "granted", "", err
}

func (s *Server) integrationUngrant(r *http.Request, who policy.Subject) (string, string, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return "", "", err
	}
	return "ungranted", "", s.integration.RemoveGrant(r.Context(), who, meta(r), id)
}

type sharingLogPage struct {
	Entries []integration.Entry
	Clients []integration.Client
	Filter  integration.Filter
	Query   string // the filter as a query string, for the export link
	Older   int64  // the id to page back from; 0: no older entries
}

func sharingFilter(r *http.Request) (integration.Filter, error) {
	q := r.URL.Query()
	f := integration.Filter{Record: strings.TrimSpace(q.Get("record")), Limit: 100}
	var err error
	if f.ClientID, err = formInt(q, "client", "接入系统"); err != nil {
		return f, err
	}
	if f.Before, err = formInt(q, "before", "页码"); err != nil {
		return f, err
	}
	return f, nil
}

// sharingLog is the access log, searchable by client and by record.
func (s *Server) sharingLog(w http.ResponseWriter, r *http.Request) error {
	if s.integration == nil {
		return apperr.New(apperr.NotFound, "本实例未开放数据共享。")
	}
	f, err := sharingFilter(r)
	if err != nil {
		return err
	}
	p := sharingLogPage{Filter: f, Query: url.Values{"client": {strconv.FormatInt(f.ClientID, 10)}, "record": {f.Record}}.Encode()}
	if p.Entries, err = s.integration.Search(r.Context(), subject(r), f); err != nil {
		return err
	}
	if len(p.Entries) == f.Limit {
		p.Older = p.Entries[len(p.Entries)-1].ID
	}
	if p.Clients, err = s.integration.Clients(r.Context(), subject(r)); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "sharinglog", "admin", p)
}

// sharingLogExport downloads the filtered log as XLSX (audited).
func (s *Server) sharingLogExport(w http.ResponseWriter, r *http.Request) error {
	if s.integration == nil {
		return apperr.New(apperr.NotFound, "本实例未开放数据共享。")
	}
	f, err := sharingFilter(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.integration.Export(r.Context(), subject(r), meta(r), f, &buf); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape("共享调用日志-"+calendar.DateOf(s.clock.Now()).String()+".xlsx"))
	w.Header().Set("Cache-Control", "private, no-store")
	_, err = buf.WriteTo(w)
	return err
}
