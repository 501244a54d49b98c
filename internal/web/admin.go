package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/policy"
)

// adminTool is a tile of the admin home. It is shown to those the guard
// of its route lets in, so that every tile shown opens.
type adminTool struct {
	Route            string // the route whose guard decides, as in the route table
	Path, Name, Help string
}

var adminTools = []adminTool{
	{"GET /admin/audit", "/admin/audit", "审计日志", "登录、权限变更、查看个人信息、导出等操作记录"},
	{"GET /admin/staff", "/admin/staff", "工作人员与角色", "开设账户、分配角色、重置密码、停用"},
	{"GET /admin/departments", "/admin/departments", "部门信息", "区直部门的简称、电话、地址和办公时间"},
	{"GET /admin/late", "/admin/late", "时限监督", "即将到期（预警）和已超期的办件"},
	{"GET /admin/visits", "/admin/visits", "最多跑一次", "申请人到场超过一次的办件"},
	{"GET /admin/corrections", "/admin/corrections", "一次性告知", "被要求补正超过一次的办件"},
	{"GET /admin/archives", "/admin/archives", "电子档案检查", "办结或不予受理的办件中档案不完整的"},
	{"GET /admin/ratings", "/admin/ratings", "好差评统计", "各部门、各事项的好评率、差评率、满意率，差评回访率和按期整改率"},
	{"GET /admin/jobs", "/admin/jobs", "后台任务", "通知、时限检查等任务的运行和失败情况"},
	{"GET /admin/items", "/admin/items", "事项管理", "新建、修改、审核、发布、暂停事项"},
	{"POST " + CatalogImportPath, "/admin/items#ia-io", "导入导出目录", "整个目录导出为 Excel、CSV 或 JSON，或从文件导入"},
	{"GET /admin/quality", "/admin/quality", "事项质量检查", "按质量规则检查已发布事项"},
	{"GET /admin/calendar", "/admin/calendar", "工作日历", "本地节假日、调休和工作日更正；办件期限按此计算"},
	// Statistics (issue 10).
	{"GET /admin/stats", "/admin/stats", "统计分析", "办件量、按时办结率、办理时间、最多跑一次、一次性告知，可穿透到办件、导出 Excel"},
	// Complaints (有诉即应).
	{"GET /admin/complaints/stats", "/admin/complaints/stats", "诉求办理统计", "各单位、各类别的响应率、解决率、满意率、超时和退回"},
	{"GET /admin/complaints/settings", "/admin/complaints/settings", "诉求类别与派单规则", "诉求类别的派单、反馈时限，按类别和区域派单的规则"},
	// Module usage and the self-evaluation (绩效自评).
	{"GET /admin/usage", "/admin/usage", "模块使用统计", "各模块和渠道每天的使用次数，标出长期无人使用的闲置模块"},
	{"GET /admin/evaluation", "/admin/evaluation", "绩效自评", "按绩效评价指标体系计算得分和等级，录入手工指标，打印 A4 报告"},
	// Webhooks (issue 12).
	{"GET /admin/webhooks", "/admin/webhooks", "事件推送", "对方系统订阅的办件、诉求事件：接收地址、签名密钥、推送记录和重新推送"},
	// Integration (issue 12).
	{"GET /admin/integration", "/admin/integration", "接入系统与共享目录", "其他政务系统的密钥、调用上限、共享目录和共享调用日志"},
}

// toolsFor lists the admin tools who may open.
func (s *Server) toolsFor(who policy.Subject) []adminTool {
	var out []adminTool
	for _, t := range adminTools {
		if s.guardOf(t.Route).allows(who) == nil {
			out = append(out, t)
		}
	}
	return out
}

// admin is the administration entry: it lists the tools the person may use.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "admin", "admin", s.toolsFor(subject(r)))
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
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

func (s *Server) jobsPage(w http.ResponseWriter, r *http.Request) error {
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
