package api

// Integration (issue 12), continued: a client's own webhook subscriptions
// (internal/webhook), and its reads of complaints and ratings. Each call
// goes through the same wrapper as the others (client): key, purpose,
// rate limit, the sharing directory for data, and the access log with the
// records it touched.

import (
	"net/http"
	"strconv"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/webhook"
)

// subscriptionOut is a subscription as its client sees it: never its secret.
type subscriptionOut struct {
	ID            int64      `json:"id"`
	URL           string     `json:"url"`
	Events        []string   `json:"events"`
	Active        bool       `json:"active"`
	SecretVersion int        `json:"secret_version"`
	PreviousUntil *time.Time `json:"previous_until,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func newSubscription(s webhook.Subscription) subscriptionOut {
	out := subscriptionOut{ID: s.ID, URL: s.URL, Events: s.Events, Active: s.Active, SecretVersion: s.SecretVersion,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if !s.PreviousUntil.IsZero() {
		out.PreviousUntil = &s.PreviousUntil
	}
	return out
}

// subscriptionSecret is a subscription with its new signing secret, shown once.
type subscriptionSecret struct {
	subscriptionOut
	Secret string `json:"secret"`
}

func (a *API) hooks() error {
	if a.webhooks == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放事件推送。")
	}
	return nil
}

func webhookRecord(id int64) string { return "webhook:" + strconv.FormatInt(id, 10) }

func subscriptionID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.NotFound, "没有这个事件订阅。")
	}
	return id, nil
}

// integrationWebhooks lists the client's own subscriptions.
func (a *API) integrationWebhooks(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	if err := a.hooks(); err != nil {
		return err
	}
	subs, err := a.webhooks.List(r.Context(), call.Subject(), call.Client.ID)
	if err != nil {
		return err
	}
	out := make([]subscriptionOut, 0, len(subs))
	for _, s := range subs {
		out = append(out, newSubscription(s))
	}
	httpx.WriteJSON(w, http.StatusOK, items(out))
	return nil
}

// webhookIn is what a client sends to subscribe or to change a
// subscription; in a change, what is absent stays.
type webhookIn struct {
	URL    *string  `json:"url"`
	Events []string `json:"events"`
	Active *bool    `json:"active"`
}

func decodeWebhook(r *http.Request) (webhookIn, error) {
	var in webhookIn
	err := httpx.DecodeJSON(r.Body, &in, "请求格式不正确或不完整。")
	return in, err
}

// integrationSubscribe subscribes the client; the secret is in the answer, once.
func (a *API) integrationSubscribe(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	if err := a.hooks(); err != nil {
		return err
	}
	in, err := decodeWebhook(r)
	if err != nil {
		return err
	}
	if in.URL == nil {
		return apperr.New(apperr.Invalid, "请填写接收地址（url）。")
	}
	call.Success = http.StatusCreated
	sub, secret, err := a.webhooks.Create(r.Context(), call.Subject(), meta(r), webhook.New{ClientID: call.Client.ID, URL: *in.URL, Events: in.Events})
	if err != nil {
		return err
	}
	if in.Active != nil && !*in.Active {
		if sub, err = a.webhooks.SetActive(r.Context(), call.Subject(), meta(r), sub.ID, false); err != nil {
			return err
		}
	}
	call.Touch(webhookRecord(sub.ID))
	w.Header().Set("Location", IntegrationPath+"/webhooks/"+strconv.FormatInt(sub.ID, 10))
	httpx.WriteJSON(w, http.StatusCreated, subscriptionSecret{newSubscription(sub), secret})
	return nil
}

// integrationWebhook reads one of the client's subscriptions.
func (a *API) integrationWebhook(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	if err := a.hooks(); err != nil {
		return err
	}
	id, err := subscriptionID(r)
	if err != nil {
		return err
	}
	sub, err := a.webhooks.Get(r.Context(), call.Subject(), id)
	if err != nil {
		return err
	}
	call.Touch(webhookRecord(id))
	httpx.WriteJSON(w, http.StatusOK, newSubscription(sub))
	return nil
}

// integrationUpdateWebhook changes a subscription's url, events or active.
func (a *API) integrationUpdateWebhook(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	if err := a.hooks(); err != nil {
		return err
	}
	id, err := subscriptionID(r)
	if err != nil {
		return err
	}
	in, err := decodeWebhook(r)
	if err != nil {
		return err
	}
	if in.Events != nil && len(in.Events) == 0 {
		return apperr.New(apperr.Invalid, "请至少选择一种事件；不再需要推送请暂停（active: false）或删除订阅。")
	}
	sub, err := a.webhooks.Update(r.Context(), call.Subject(), meta(r), id, webhook.Change{URL: in.URL, Events: in.Events, Active: in.Active})
	if err != nil {
		return err
	}
	call.Touch(webhookRecord(id))
	httpx.WriteJSON(w, http.StatusOK, newSubscription(sub))
	return nil
}

// integrationDeleteWebhook deletes a subscription.
func (a *API) integrationDeleteWebhook(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	if err := a.hooks(); err != nil {
		return err
	}
	id, err := subscriptionID(r)
	if err != nil {
		return err
	}
	call.Success = http.StatusNoContent
	if err := a.webhooks.Delete(r.Context(), call.Subject(), meta(r), id); err != nil {
		return err
	}
	call.Touch(webhookRecord(id))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// integrationRotateWebhook gives a subscription a new secret, shown once;
// the old one signs beside it for a day.
func (a *API) integrationRotateWebhook(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	if err := a.hooks(); err != nil {
		return err
	}
	id, err := subscriptionID(r)
	if err != nil {
		return err
	}
	sub, secret, err := a.webhooks.Rotate(r.Context(), call.Subject(), meta(r), id)
	if err != nil {
		return err
	}
	call.Touch(webhookRecord(id))
	httpx.WriteJSON(w, http.StatusOK, subscriptionSecret{newSubscription(sub), secret})
	return nil
}

// clientComplaintOut is a complaint as a client sees it: the person's name
// and mobile masked, identity and mobile numbers in the text hidden
// (complaint.Redact), and only the public entries of its log.
type clientComplaintOut struct {
	Number       string                  `json:"number"`
	Category     string                  `json:"category"`
	Title        string                  `json:"title"`
	Description  string                  `json:"description"`
	Address      string                  `json:"address"`
	RegionCode   string                  `json:"region_code"`
	CaseNumber   string                  `json:"case_number,omitempty"`
	Channel      string                  `json:"channel"`
	Status       string                  `json:"status"`
	StatusName   string                  `json:"status_name"`
	DepartmentID int64                   `json:"department_id"`
	Department   string                  `json:"department,omitempty"`
	Name         string                  `json:"name"`   // masked: 张*
	Mobile       string                  `json:"mobile"` // masked: 139****5678
	DispatchDue  time.Time               `json:"dispatch_due"`
	FeedbackDue  time.Time               `json:"feedback_due"`
	Version      int                     `json:"version"`
	CreatedAt    time.Time               `json:"created_at"`
	UpdatedAt    time.Time               `json:"updated_at"`
	Progress     []complaint.PublicEvent `json:"progress"`
}

// integrationComplaint reads a complaint by its number (complaints).
func (a *API) integrationComplaint(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	if a.complaints == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放诉求接口。")
	}
	d, err := a.complaints.ByNumber(r.Context(), call.Subject(), r.PathValue("number"))
	if err != nil {
		return err
	}
	if err := call.Allow(r.Context(), integration.DataComplaints, d.DepartmentID); err != nil {
		return err
	}
	call.Touch("complaint:" + d.Number)
	if d.AccountID != 0 {
		call.Touch(integration.AccountRecord(d.AccountID))
	}
	if d.Revealed { // a client is never allowed to reveal; never send it in clear
		return apperr.New(apperr.Forbidden, "接入系统不能读取未脱敏的个人信息。")
	}
	out := clientComplaintOut{Number: d.Number, Category: d.CategoryName, Title: complaint.Redact(d.Title),
		Description: complaint.Redact(d.Description), Address: complaint.Redact(d.Address), RegionCode: d.RegionCode,
		CaseNumber: d.CaseNumber, Channel: string(d.Channel), Status: string(d.Status), StatusName: d.Status.Name(),
		DepartmentID: d.DepartmentID, Department: d.Department, Name: d.Name, Mobile: d.Mobile, DispatchDue: d.DispatchDue,
		FeedbackDue: d.FeedbackDue, Version: d.Version, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, Progress: []complaint.PublicEvent{}}
	for _, e := range d.Events {
		if e.Public {
			out.Progress = append(out.Progress, complaint.PublicEvent{At: e.At, Action: e.Action.Name(), Detail: complaint.Redact(e.Detail)})
		}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// clientRatingOut is a rating as a client sees it: the rater masked, no
// comment.
type clientRatingOut struct {
	ID           int64          `json:"id"`
	Of           string         `json:"of"`
	Number       string         `json:"number"`
	Title        string         `json:"title"`
	ItemID       int64          `json:"item_id,omitempty"`
	DepartmentID int64          `json:"department_id"`
	RegionCode   string         `json:"region_code"`
	Level        int            `json:"level"`
	LevelName    string         `json:"level_name"`
	Bad          bool           `json:"bad"`
	Scores       map[string]int `json:"scores"`
	Channel      string         `json:"channel"`
	Scene        string         `json:"scene"`
	Excluded     bool           `json:"excluded"`
	Rater        string         `json:"rater"` // masked: 张*
	RatedAt      time.Time      `json:"rated_at"`
}

type clientRatingsOut struct {
	Items []clientRatingOut `json:"items"`
	// Next is the after= of the next page; the same as asked when there is
	// nothing newer yet.
	Next int64 `json:"next"`
}

// integrationRatings pages through the ratings of the departments the
// directory opens (ratings): ?after=id&limit=n&number=….
func (a *API) integrationRatings(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	if a.ratings == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放好差评接口。")
	}
	q := r.URL.Query()
	var after int64
	limit := 100
	var err error
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return apperr.New(apperr.Invalid, "参数 after 应为非负整数（上一页的 next）。")
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return apperr.New(apperr.Invalid, "参数 limit 应为 1 到 500 的整数。")
		}
	}
	all, depts := call.Departments(integration.DataRatings)
	if !all && len(depts) == 0 {
		return call.Allow(r.Context(), integration.DataRatings, 0) // refused and logged: the directory opens none
	}
	list, err := a.ratings.Shared(r.Context(), call.Subject(), rating.SharedFilter{After: after, All: all, Departments: depts,
		Number: q.Get("number"), Limit: limit})
	if err != nil {
		return err
	}
	out := clientRatingsOut{Items: make([]clientRatingOut, 0, len(list)), Next: after}
	for _, rt := range list {
		scores := map[string]int{}
		for k, v := range rt.Scores {
			scores[k] = int(v)
		}
		out.Items = append(out.Items, clientRatingOut{ID: rt.ID, Of: rt.Subject.Kind, Number: rt.Subject.Number, Title: rt.Subject.Title,
			ItemID: rt.Subject.ItemID, DepartmentID: rt.Subject.DepartmentID, RegionCode: rt.Subject.RegionCode, Level: int(rt.Level),
			LevelName: rt.Level.Name(), Bad: rt.Level.Bad(), Scores: scores, Channel: rt.Channel, Scene: rt.Subject.Scene,
			Excluded: rt.Excluded, Rater: rt.RaterMasked, RatedAt: rt.RatedAt})
		call.Touch("rating:"+strconv.FormatInt(rt.ID, 10), integration.AccountRecord(rt.RaterID))
		out.Next = rt.ID
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// deliveryOut is a delivery of an event to the client's subscription, with
// each attempt, as its client sees it.
type deliveryOut struct {
	ID          int64        `json:"id"`
	EventID     string       `json:"event_id"`
	Type        string       `json:"type"`
	State       string       `json:"state"`
	StateName   string       `json:"state_name"`
	Attempts    int          `json:"attempts"`
	LastStatus  int          `json:"last_status,omitempty"`
	LastError   string       `json:"last_error,omitempty"`
	NextAt      *time.Time   `json:"next_at,omitempty"`
	DoneAt      *time.Time   `json:"done_at,omitempty"`
	Redelivered bool         `json:"redelivered"`
	CreatedAt   time.Time    `json:"created_at"`
	Log         []attemptOut `json:"log"`
}

type attemptOut struct {
	Attempt   int       `json:"attempt"`
	At        time.Time `json:"at"`
	Status    int       `json:"status,omitempty"`
	LatencyMS int64     `json:"latency_ms"`
	Error     string    `json:"error,omitempty"`
}

type deliveriesOut struct {
	Items []deliveryOut `json:"items"`
	// Before is the before= of the next (older) page; 0 when this one is the last.
	Before int64 `json:"before"`
}

func newDelivery(d webhook.Delivery) deliveryOut {
	out := deliveryOut{ID: d.ID, EventID: d.EventID, Type: d.Type, State: d.State, StateName: d.StateName(), Attempts: d.Attempts,
		LastStatus: d.LastStatus, LastError: d.LastError, Redelivered: d.RedeliveredBy != "", CreatedAt: d.CreatedAt,
		Log: make([]attemptOut, 0, len(d.Log))}
	if d.State == "pending" && !d.NextAt.IsZero() {
		out.NextAt = &d.NextAt
	}
	if !d.DoneAt.IsZero() {
		out.DoneAt = &d.DoneAt
	}
	for _, at := range d.Log {
		out.Log = append(out.Log, attemptOut{Attempt: at.Attempt, At: at.At, Status: at.Status, LatencyMS: at.Latency.Milliseconds(), Error: at.Error})
	}
	return out
}

// integrationDeliveries pages through a subscription's deliveries, newest
// first: ?before=id&limit=n. A client reads why its receiver was not
// reached, and what was sent while it was down.
func (a *API) integrationDeliveries(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	if err := a.hooks(); err != nil {
		return err
	}
	id, err := subscriptionID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var before int64
	limit := 50
	if v := q.Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			return apperr.New(apperr.Invalid, "参数 before 应为正整数（上一页的 before）。")
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 200 {
			return apperr.New(apperr.Invalid, "参数 limit 应为 1 到 200 的整数。")
		}
	}
	list, err := a.webhooks.Deliveries(r.Context(), call.Subject(), id, before, limit)
	if err != nil {
		return err
	}
	call.Touch(webhookRecord(id))
	out := deliveriesOut{Items: make([]deliveryOut, 0, len(list))}
	for _, d := range list {
		out.Items = append(out.Items, newDelivery(d))
	}
	if len(list) == limit {
		out.Before = list[len(list)-1].ID
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// integrationRedeliver sends a delivery's event to the subscription again,
// as a new delivery with the same event id; the answer is the new one,
// queued.
func (a *API) integrationRedeliver(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	if err := a.hooks(); err != nil {
		return err
	}
	id, err := subscriptionID(r)
	if err != nil {
		return err
	}
	delivery, err := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "没有这条推送记录。")
	}
	call.Success = http.StatusAccepted
	again, err := a.webhooks.Redeliver(r.Context(), call.Subject(), meta(r), id, delivery)
	if err != nil {
		return err
	}
	call.Touch(webhookRecord(id))
	list, err := a.webhooks.Deliveries(r.Context(), call.Subject(), id, again+1, 1)
	if err != nil {
		return err
	}
	if len(list) != 1 || list[0].ID != again {
		return apperr.New(apperr.Internal, "重新推送已排入，但读取推送记录失败。")
	}
	httpx.WriteJSON(w, http.StatusAccepted, newDelivery(list[0]))
	return nil
}
