package api

import (
	"net/http"
	"strconv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/stats"
)

// Statistics (统计分析, issue 10): the figures of the dashboards, within
// the caller's view (policy.StatsScope), and the public ones.

// figuresOut is a set of counts with their rates (fractions, 0 to 1).
type figuresOut struct {
	Key               string  `json:"key,omitempty"`
	Label             string  `json:"label,omitempty"`
	Submitted         int64   `json:"submitted"`
	Online            int64   `json:"online"`
	Accepted          int64   `json:"accepted"`
	Finished          int64   `json:"finished"`
	OnTime            int64   `json:"on_time"`
	Late              int64   `json:"late"`
	Withdrawn         int64   `json:"withdrawn"`
	OnlineRate        float64 `json:"online_rate"`
	OnTimeRate        float64 `json:"on_time_rate"`
	OneVisitRate      float64 `json:"one_visit_rate"`
	OneCorrectionRate float64 `json:"one_correction_rate"`
	AvgHandlingDays   float64 `json:"avg_handling_days"`
	AvgPromiseDays    float64 `json:"avg_promise_days"`
	AvgLegalDays      float64 `json:"avg_legal_days"`
	Compression       float64 `json:"compression"`
}

func figures(key, label string, c stats.Counts) figuresOut {
	return figuresOut{Key: key, Label: label, Submitted: c.Submitted, Online: c.Online, Accepted: c.Accepted, Finished: c.Finished,
		OnTime: c.OnTime, Late: c.Late, Withdrawn: c.Withdrawn, OnlineRate: c.OnlineRate(), OnTimeRate: c.OnTimeRate(),
		OneVisitRate: c.OneVisitRate(), OneCorrectionRate: c.OneCorrectionRate(), AvgHandlingDays: c.AvgHandling(),
		AvgPromiseDays: c.AvgPromise(), AvgLegalDays: c.AvgLegal(), Compression: c.Compression()}
}

// statsFilter reads the filter's query parameters.
func statsFilter(r *http.Request) (stats.Filter, error) {
	q := r.URL.Query()
	f := stats.Filter{From: q.Get("from"), To: q.Get("to"), Region: q.Get("region"), Channel: q.Get("channel")}
	for _, p := range []struct {
		name string
		into *int64
	}{{"department", &f.DepartmentID}, {"item", &f.ItemID}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return f, apperr.New(apperr.Invalid, "参数 "+p.name+" 应为正整数。")
			}
			*p.into = n
		}
	}
	if v := q.Get("level"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return f, apperr.New(apperr.Invalid, "参数 level 应为 1（区级）、2（街道级）或 3（社区级）。")
		}
		f.Level = n
	}
	return f, f.Check()
}

func (a *API) statsSummary(w http.ResponseWriter, r *http.Request) error {
	who, err := a.who(r)
	if err != nil {
		return err
	}
	if a.stats == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放统计接口。")
	}
	f, err := statsFilter(r)
	if err != nil {
		return err
	}
	sum, err := a.stats.Summary(r.Context(), who, f)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, figures("", "", sum.Counts))
	return nil
}

func (a *API) statsTable(w http.ResponseWriter, r *http.Request) error {
	who, err := a.who(r)
	if err != nil {
		return err
	}
	if a.stats == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放统计接口。")
	}
	f, err := statsFilter(r)
	if err != nil {
		return err
	}
	by := stats.Dimension(r.URL.Query().Get("by"))
	if by == "" {
		by = stats.ByMonth
	}
	rows, err := a.stats.By(r.Context(), who, f, by)
	if err != nil {
		return err
	}
	out := struct {
		By    stats.Dimension `json:"by"`
		Items []figuresOut    `json:"items"`
	}{By: by, Items: []figuresOut{}}
	for _, row := range rows {
		out.Items = append(out.Items, figures(row.Key, row.Label, row.Counts))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) statsPublic(w http.ResponseWriter, r *http.Request) error {
	if a.stats == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放统计接口。")
	}
	sum, err := a.stats.Public(r.Context())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, figures("", "全区", sum.Counts))
	return nil
}
