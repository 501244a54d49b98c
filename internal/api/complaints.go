package api

import (
	"net/http"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/httpx"
)

// meta is where a request came from, for the steps that record it.
func meta(r *http.Request) audit.Meta {
	return audit.Meta{IP: httpx.ClientIP(r.Context()), Client: r.UserAgent()}
}

// Complaints (有诉即应) for the 12345 hotline system: it pushes a 工单 in
// (as a dispatcher's account; once per 工单 id) and reads its status back;
// supervisors' and dispatchers' systems read the statistics.

// ComplaintsPath takes the hotline's 工单.
const ComplaintsPath = "/api/v1/complaints"

type limitOut struct {
	Value int    `json:"value"`
	Unit  string `json:"unit"`
	Name  string `json:"name"`
}

type categoryOut struct {
	Code        string   `json:"code"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Dispatch    limitOut `json:"dispatch_limit"`
	Feedback    limitOut `json:"feedback_limit"`
}

func limitOf(l complaint.Limit) limitOut {
	return limitOut{Value: l.Value, Unit: string(l.Unit), Name: l.String()}
}

func (a *API) complaintCategories(w http.ResponseWriter, r *http.Request) error {
	if a.complaints == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放诉求接口。")
	}
	cats, err := a.complaints.Categories(r.Context(), false)
	if err != nil {
		return err
	}
	out := make([]categoryOut, 0, len(cats))
	for _, c := range cats {
		out = append(out, categoryOut{Code: c.Code, Name: c.Name, Description: c.Description, Dispatch: limitOf(c.Dispatch), Feedback: limitOf(c.Feedback)})
	}
	httpx.WriteJSON(w, http.StatusOK, items(out))
	return nil
}

// workOrder is a 工单 as the hotline pushes it.
type workOrder struct {
	ExternalID  string   `json:"external_id"`
	Category    string   `json:"category"` // a category's code
	Title       string   `json:"title"`
	Description string   `json:"description"`
	RegionCode  string   `json:"region_code"`
	Address     string   `json:"address"`
	Lat         *float64 `json:"lat"`
	Lng         *float64 `json:"lng"`
	CaseNumber  string   `json:"case_number"`
	Name        string   `json:"name"`
	Mobile      string   `json:"mobile"`
}

// complaintOut is a complaint's public view with its id.
type complaintOut struct {
	ID int64 `json:"id"`
	complaint.Public
}

func (a *API) createComplaint(w http.ResponseWriter, r *http.Request) error {
	who, err := a.who(r)
	if err != nil {
		return err
	}
	if a.complaints == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放诉求接口。")
	}
	var in workOrder
	if err := httpx.DecodeJSON(r.Body, &in, "工单应为 JSON 对象，字段见接口文档。"); err != nil {
		return err
	}
	cat, err := a.complaints.CategoryByCode(r.Context(), in.Category)
	if err != nil {
		return &apperr.Error{Code: apperr.Invalid, Message: "没有这个诉求类别：" + in.Category + "。", Fields: map[string]string{"category": "没有这个诉求类别"}}
	}
	c, created, err := a.complaints.Create(r.Context(), who, meta(r), complaint.Filing{CategoryID: cat.ID, Title: in.Title, Description: in.Description,
		RegionCode: in.RegionCode, Address: in.Address, Lat: in.Lat, Lng: in.Lng, CaseNumber: in.CaseNumber, Channel: complaint.Hotline,
		ExternalID: in.ExternalID, Name: in.Name, Mobile: in.Mobile})
	if err != nil {
		return err
	}
	p, err := a.complaints.PublicView(r.Context(), c.Number)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, complaintOut{ID: c.ID, Public: p})
	return nil
}

func (a *API) getComplaint(w http.ResponseWriter, r *http.Request) error {
	who, err := a.who(r)
	if err != nil {
		return err
	}
	if a.complaints == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放诉求接口。")
	}
	d, err := a.complaints.ByNumber(r.Context(), who, r.PathValue("number"))
	if err != nil {
		return err
	}
	p, err := a.complaints.PublicView(r.Context(), d.Number)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, complaintOut{ID: d.ID, Public: p})
	return nil
}

type rowOut struct {
	ID               int64   `json:"id,omitempty"`
	Name             string  `json:"name"`
	Received         int     `json:"received"`
	OnTime           int     `json:"signed_on_time"`
	Confirmed        int     `json:"confirmed"`
	Resolved         int     `json:"resolved"`
	Rated            int     `json:"rated"`
	Satisfied        int     `json:"satisfied"`
	Overdue          int     `json:"overdue"`
	Bounces          int     `json:"bounces"`
	ResponseRate     float64 `json:"response_rate"`
	ResolveRate      float64 `json:"resolve_rate"`
	SatisfactionRate float64 `json:"satisfaction_rate"`
}

func rowOf(r complaint.Row) rowOut {
	return rowOut{ID: r.ID, Name: r.Name, Received: r.Received, OnTime: r.OnTime, Confirmed: r.Confirmed, Resolved: r.Resolved, Rated: r.Rated,
		Satisfied: r.Satisfied, Overdue: r.Overdue, Bounces: r.Bounces, ResponseRate: r.ResponseRate(), ResolveRate: r.ResolveRate(),
		SatisfactionRate: r.SatisfactionRate()}
}

// complaintStats is 响应率, 解决率, 满意率 per unit and category over
// [from, to] (Beijing dates; this month by default).
func (a *API) complaintStats(w http.ResponseWriter, r *http.Request) error {
	who, err := a.who(r)
	if err != nil {
		return err
	}
	if a.complaints == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放诉求接口。")
	}
	now := a.complaints.Now().In(clock.China)
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, clock.China)
	to := from.AddDate(0, 1, 0)
	q := r.URL.Query()
	if v := q.Get("from"); v != "" {
		if from, err = time.ParseInLocation(time.DateOnly, v, clock.China); err != nil {
			return apperr.New(apperr.Invalid, "from 应为日期，如 2026-12-01。")
		}
	}
	if v := q.Get("to"); v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, clock.China)
		if err != nil {
			return apperr.New(apperr.Invalid, "to 应为日期，如 2026-12-31。")
		}
		to = t.AddDate(0, 0, 1)
	}
	if !to.After(from) {
		return apperr.New(apperr.Invalid, "to 不能早于 from。")
	}
	st, err := a.complaints.Stats(r.Context(), who, from, to)
	if err != nil {
		return err
	}
	out := struct {
		From       string   `json:"from"`
		To         string   `json:"to"`
		Units      []rowOut `json:"units"`
		Categories []rowOut `json:"categories"`
		Total      rowOut   `json:"total"`
	}{From: from.Format(time.DateOnly), To: to.AddDate(0, 0, -1).Format(time.DateOnly), Units: []rowOut{}, Categories: []rowOut{}, Total: rowOf(st.Total)}
	for _, u := range st.Units {
		out.Units = append(out.Units, rowOf(u))
	}
	for _, c := range st.Categories {
		out.Categories = append(out.Categories, rowOf(c))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}
