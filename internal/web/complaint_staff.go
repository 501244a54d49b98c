package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
)

// The staff's complaint pages: the queue (the dispatcher's, a unit's, a
// supervisor's — one list scoped by the policy), a complaint's page with
// the steps the viewer may take, taking one in at the window or from a
// call, the statistics, and the categories and routing rules.

// Resources of the complaint guards.
var (
	anyComplaint      = policy.Resource{Kind: policy.Complaint}
	complaintStats    = policy.Resource{Kind: policy.ComplaintStats}
	complaintSettings = policy.Resource{Kind: policy.ComplaintSettings}
)

// complaintIntake lets in the staff who take complaints in (window staff,
// dispatchers); a person asking is refused, not told there is nothing.
var complaintIntake = guard{name: "may create complaint", staff: true, allow: func(who policy.Subject) error {
	if who.Kind != policy.Staff {
		return apperr.New(apperr.Forbidden, "登记诉求只对窗口人员和派单员开放。")
	}
	return policy.Check(who, policy.Create, anyComplaint)
}}

// complaintTabs are the queue's tabs, by status.
var complaintTabs = []complaint.Status{complaint.Pending, complaint.Dispatched, complaint.Handling, complaint.Replied, complaint.Closed}

// complaintQueue lists the complaints the viewer may see, by status, and
// those past a limit.
func (s *Server) complaintQueue(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var data struct {
		Tabs    []complaint.Status
		Status  string
		Overdue bool
		Rows    []complaint.Complaint
		Next    int64
		Now     time.Time
		Filed   string
		Bounced bool
	}
	data.Tabs, data.Status, data.Overdue, data.Now, data.Filed = complaintTabs, q.Get("status"), q.Get("overdue") == "1", s.clock.Now(), q.Get("filed")
	data.Bounced = q.Get("bounced") == "1"
	f := complaint.Filter{Overdue: data.Overdue, Limit: 50}
	f.After, _ = strconv.ParseInt(q.Get("after"), 10, 64)
	if st := complaint.Status(data.Status); st.Valid() {
		f.Status = []complaint.Status{st}
	} else if !data.Overdue {
		// Open ones first: what waits for someone.
		f.Status = []complaint.Status{complaint.Pending, complaint.Dispatched, complaint.Handling}
	}
	rows, err := s.complaints.List(r.Context(), subject(r), f)
	if err != nil {
		return err
	}
	data.Rows = rows
	if len(rows) == f.Limit {
		data.Next = rows[len(rows)-1].ID
	}
	return s.render(w, r, http.StatusOK, "complaintqueue", "workbench", data)
}

// complaintIntakeForm is taking one in at the window or from a call.
func (s *Server) complaintIntakeForm(w http.ResponseWriter, r *http.Request) error {
	f, err := s.newComplaintForm(r, url.Values{"channel": {string(complaint.Window)}})
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "complaintnew", "workbench", f)
}

func (s *Server) renderStaffComplaint(w http.ResponseWriter, r *http.Request, status int, id int64, message string) error {
	who := subject(r)
	d, err := s.complaints.Get(r.Context(), who, id)
	if err != nil {
		return err
	}
	p := complaintPage{Detail: d, Error: message, Overdue: d.Overdue(s.clock.Now()), May: map[string]bool{}}
	res := policy.Resource{Kind: policy.Complaint, OwnerID: d.AccountID, DepartmentID: d.DepartmentID, RegionCode: d.RegionCode, Helpers: d.Helpers}
	for name, a := range map[string]policy.Action{"dispatch": policy.Dispatch, "handle": policy.Handle, "assist": policy.Assist, "follow": policy.Follow} {
		p.May[name] = policy.Check(who, a, res) == nil
	}
	if p.May["dispatch"] || p.May["handle"] {
		if p.Departments, err = s.regions.Departments(r.Context(), region.DepartmentFilter{}); err != nil {
			return err
		}
	}
	if r.URL.Query().Get("done") == "ok" {
		p.Notice = "已保存。"
	}
	return s.render(w, r, status, "complaintstaff", "workbench", p)
}

func (s *Server) staffComplaint(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderStaffComplaint(w, r, http.StatusOK, id, "")
}

// staffComplaintAct takes one step on a complaint: op names it.
func (s *Server) staffComplaintAct(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, who, m, ctx := r.PostForm, subject(r), meta(r), r.Context()
	version := mustAtoi(f.Get("version"))
	dept, _ := strconv.ParseInt(f.Get("department"), 10, 64)
	svc := s.complaints
	switch f.Get("op") {
	case "dispatch":
		_, err = svc.Dispatch(ctx, who, m, id, version, dept, f.Get("note"))
	case "sign":
		_, err = svc.Sign(ctx, who, m, id, version)
	case "bounce":
		_, err = svc.Bounce(ctx, who, m, id, version, f.Get("reason"))
	case "contact":
		_, err = svc.RecordContact(ctx, who, m, id, f.Get("note"))
	case "progress":
		_, err = svc.RecordProgress(ctx, who, m, id, f.Get("note"), f.Get("public") == "yes")
	case "invite":
		_, err = svc.InviteHelper(ctx, who, m, id, dept)
	case "reply":
		_, err = svc.Reply(ctx, who, m, id, version, f.Get("answer"))
	case "callback":
		if f.Get("resolved") == "" || f.Get("satisfied") == "" {
			err = apperr.New(apperr.Invalid, "请选择诉求人是否认为已解决、是否满意。")
			break
		}
		_, err = svc.ConfirmFor(ctx, who, m, id, version, complaint.Confirmation{Resolved: f.Get("resolved") == "yes",
			Satisfied: f.Get("satisfied") == "yes", Comment: f.Get("comment")})
	case "urge":
		_, err = svc.Urge(ctx, who, m, id, f.Get("note"))
	case "escalate":
		_, err = svc.Escalate(ctx, who, m, id, f.Get("note"))
	default:
		err = apperr.New(apperr.Invalid, "请选择要进行的操作。")
	}
	if err != nil {
		return formError(err, func(status int, message string) error { return s.renderStaffComplaint(w, r, status, id, message) })
	}
	if f.Get("op") == "bounce" {
		// It is no longer the unit's to see: back to the queue.
		http.Redirect(w, r, "/workbench/complaints?bounced=1", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, fmt.Sprintf("/workbench/complaints/%d?done=ok", id), http.StatusSeeOther)
	return nil
}

// complaintStatsPage is 响应率, 解决率, 满意率 per unit and per category
// over a period (this month by default).
func (s *Server) complaintStatsPage(w http.ResponseWriter, r *http.Request) error {
	now := s.clock.Now().In(chinaTZ)
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, chinaTZ)
	to := now.AddDate(0, 0, 1)
	var data struct {
		complaint.Stats
		UnitRows                []complaint.Row // the units and the total
		FromText, ToText, Error string
	}
	status := http.StatusOK
	q := r.URL.Query()
	if v := q.Get("from"); v != "" {
		t, err := time.ParseInLocation("2006-01-02", v, chinaTZ)
		if err != nil {
			data.Error, status = "开始日期格式应为 2026-01-31。", http.StatusBadRequest
		} else {
			from = t
		}
	}
	if v := q.Get("to"); v != "" {
		t, err := time.ParseInLocation("2006-01-02", v, chinaTZ)
		if err != nil {
			data.Error, status = "结束日期格式应为 2026-01-31。", http.StatusBadRequest
		} else {
			to = t.AddDate(0, 0, 1)
		}
	}
	if !to.After(from) {
		data.Error, status = "结束日期不能早于开始日期。", http.StatusBadRequest
		to = from.AddDate(0, 0, 1)
	}
	st, err := s.complaints.Stats(r.Context(), subject(r), from, to)
	if err != nil {
		return err
	}
	data.Stats, data.FromText, data.ToText = st, from.Format("2006-01-02"), to.AddDate(0, 0, -1).Format("2006-01-02")
	data.UnitRows = append(st.Units, st.Total)
	return s.render(w, r, status, "complaintstats", "admin", data)
}

// complaintSettingsPage is the categories and the routing rules.
func (s *Server) complaintSettingsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderComplaintSettings(w, r, http.StatusOK, "", url.Values{})
}

func (s *Server) renderComplaintSettings(w http.ResponseWriter, r *http.Request, status int, message string, values url.Values) error {
	var data struct {
		Categories  []complaint.Category
		Routes      []complaint.Route
		Regions     []regionOptions
		Departments []region.Department
		Units       []complaint.Unit
		Error       string
		Notice      string
		Values      url.Values
	}
	ctx := r.Context()
	var err error
	if data.Categories, err = s.complaints.Categories(ctx, true); err != nil {
		return err
	}
	if data.Routes, err = s.complaints.Routes(ctx); err != nil {
		return err
	}
	if data.Regions, err = s.regionOptionss(ctx); err != nil {
		return err
	}
	if data.Departments, err = s.regions.Departments(ctx, region.DepartmentFilter{}); err != nil {
		return err
	}
	data.Units, data.Error, data.Values = complaint.Units, message, values
	if r.URL.Query().Get("done") == "1" {
		data.Notice = "已保存。"
	}
	return s.render(w, r, status, "complaintsettings", "admin", data)
}

func (s *Server) settingsDone(w http.ResponseWriter, r *http.Request, err error) error {
	if err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderComplaintSettings(w, r, status, message, r.PostForm)
		})
	}
	http.Redirect(w, r, "/admin/complaints/settings?done=1", http.StatusSeeOther)
	return nil
}

// complaintCategorySave adds or changes a category.
func (s *Server) complaintCategorySave(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	c := complaint.Category{Code: f.Get("code"), Name: f.Get("name"), Description: f.Get("description"), Active: f.Get("active") == "yes",
		Dispatch: complaint.Limit{Value: mustAtoi(f.Get("dispatch_value")), Unit: complaint.Unit(f.Get("dispatch_unit"))},
		Feedback: complaint.Limit{Value: mustAtoi(f.Get("feedback_value")), Unit: complaint.Unit(f.Get("feedback_unit"))}}
	c.ID, _ = strconv.ParseInt(f.Get("id"), 10, 64)
	c.Position = mustAtoi(f.Get("position"))
	_, err := s.complaints.SaveCategory(r.Context(), subject(r), meta(r), c)
	return s.settingsDone(w, r, err)
}

// complaintRouteSave sets a routing rule.
func (s *Server) complaintRouteSave(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	cat, _ := strconv.ParseInt(f.Get("category"), 10, 64)
	dept, _ := strconv.ParseInt(f.Get("department"), 10, 64)
	return s.settingsDone(w, r, s.complaints.SaveRoute(r.Context(), subject(r), meta(r), cat, f.Get("region"), dept))
}

// complaintRouteRemove deletes a routing rule.
func (s *Server) complaintRouteRemove(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.settingsDone(w, r, s.complaints.RemoveRoute(r.Context(), subject(r), meta(r), id))
}
