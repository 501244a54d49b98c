package web

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/webhook"
)

// Webhooks (issue 12): the administrators' pages of API clients' event
// subscriptions — the list and the form to subscribe, and one
// subscription with its delivery log, pause and resume, a new secret, and
// sending one event again. Every change is audited by the service.

var webhookResource = policy.Resource{Kind: policy.APIKey}

type webhookTypeRow struct {
	Type, Name string
	Checked    bool
}

type webhooksPage struct {
	Subscriptions []webhook.Subscription
	Clients       []webhook.Client
	Types         []webhookTypeRow
	Error         string
	Values        url.Values
}

func (p webhooksPage) Get(k string) string { return p.Values.Get(k) }

type webhookPage struct {
	Sub        webhook.Subscription
	Names      []string // the events' Chinese names
	Deliveries []webhook.Delivery
	// Secret is shown once, after the subscription is made or its secret
	// rotated.
	Secret, Notice, Error string
}

func (s *Server) webhooksAdmin(w http.ResponseWriter, r *http.Request) error {
	return s.renderWebhooks(w, r, http.StatusOK, webhooksPage{Values: url.Values{}})
}

func (s *Server) renderWebhooks(w http.ResponseWriter, r *http.Request, status int, p webhooksPage) error {
	var err error
	if p.Subscriptions, err = s.webhooks.List(r.Context(), subject(r), 0); err != nil {
		return err
	}
	if p.Clients, err = s.webhooks.Clients(r.Context(), subject(r)); err != nil {
		return err
	}
	for _, t := range webhook.Types {
		p.Types = append(p.Types, webhookTypeRow{Type: t, Name: webhook.TypeName(t), Checked: slices.Contains(p.Values["events"], t)})
	}
	return s.render(w, r, status, "webhooks", "admin", p)
}

// webhookCreate subscribes a client and shows its secret, once.
func (s *Server) webhookCreate(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	client, _ := strconv.ParseInt(f.Get("client"), 10, 64)
	sub, secret, err := s.webhooks.Create(r.Context(), subject(r), meta(r), webhook.New{ClientID: client, URL: f.Get("url"), Events: f["events"]})
	if err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderWebhooks(w, r, status, webhooksPage{Error: message, Values: f})
		})
	}
	return s.renderWebhook(w, r, http.StatusOK, sub.ID, webhookPage{Secret: secret, Notice: "已订阅。签名密钥只显示这一次，请立即交给对方系统保存。"})
}

func webhookID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.NotFound, "没有这个事件订阅。")
	}
	return id, nil
}

func (s *Server) webhookAdmin(w http.ResponseWriter, r *http.Request) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	p := webhookPage{Notice: map[string]string{"paused": "已暂停：此后的事件不再推送，待推送的也不发出。", "resumed": "已恢复推送。",
		"redelivered": "已重新排入推送，稍后刷新查看结果。"}[r.URL.Query().Get("done")]}
	return s.renderWebhook(w, r, http.StatusOK, id, p)
}

func (s *Server) renderWebhook(w http.ResponseWriter, r *http.Request, status int, id int64, p webhookPage) error {
	var err error
	if p.Sub, err = s.webhooks.Get(r.Context(), subject(r), id); err != nil {
		return err
	}
	for _, t := range p.Sub.Events {
		p.Names = append(p.Names, webhook.TypeName(t))
	}
	if p.Deliveries, err = s.webhooks.Deliveries(r.Context(), subject(r), id, 0, 50); err != nil {
		return err
	}
	return s.render(w, r, status, "webhook", "admin", p)
}

// webhookActive pauses (active=0) or resumes (active=1) a subscription.
func (s *Server) webhookActive(w http.ResponseWriter, r *http.Request) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	active := r.PostForm.Get("active") == "1"
	if _, err := s.webhooks.SetActive(r.Context(), subject(r), meta(r), id, active); err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderWebhook(w, r, status, id, webhookPage{Error: message})
		})
	}
	done := "paused"
	if active {
		done = "resumed"
	}
	http.Redirect(w, r, "/admin/webhooks/"+strconv.FormatInt(id, 10)+"?done="+done, http.StatusSeeOther)
	return nil
}

// webhookRotate gives the subscription a new secret and shows it, once.
func (s *Server) webhookRotate(w http.ResponseWriter, r *http.Request) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	sub, secret, err := s.webhooks.Rotate(r.Context(), subject(r), meta(r), id)
	if err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderWebhook(w, r, status, id, webhookPage{Error: message})
		})
	}
	return s.renderWebhook(w, r, http.StatusOK, id, webhookPage{Secret: secret,
		Notice: "已更换签名密钥（v" + strconv.Itoa(sub.SecretVersion) + "）。新密钥只显示这一次；旧密钥在 24 小时内仍同时签名，请对方在此期间换用新密钥。"})
}

// webhookRedeliver sends one delivery's event again.
func (s *Server) webhookRedeliver(w http.ResponseWriter, r *http.Request) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	d, err := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "没有这条推送记录。")
	}
	if _, err := s.webhooks.Redeliver(r.Context(), subject(r), meta(r), id, d); err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderWebhook(w, r, status, id, webhookPage{Error: message})
		})
	}
	http.Redirect(w, r, "/admin/webhooks/"+strconv.FormatInt(id, 10)+"?done=redelivered", http.StatusSeeOther)
	return nil
}

// demoWebhook shows what the demo's built-in receiver got: the demo's API
// client is subscribed to every event at POST /demo/webhook.
func (s *Server) demoWebhook(w http.ResponseWriter, r *http.Request) error {
	if !s.demo || s.inbox == nil {
		return apperr.New(apperr.NotFound, "您访问的页面不存在。")
	}
	return s.render(w, r, http.StatusOK, "demowebhook", "", s.inbox.Recent())
}

// demoWebhookReceive is the demo's receiver: it verifies the request as a
// department's system would (webhook.Verify) and answers 401 if it fails.
func (s *Server) demoWebhookReceive(w http.ResponseWriter, r *http.Request) error {
	if !s.demo || s.inbox == nil {
		return apperr.New(apperr.NotFound, "您访问的页面不存在。")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return apperr.New(apperr.Invalid, "请求体无法读取。")
	}
	if err := s.inbox.Receive(r.Header, body, s.clock.Now()); err != nil {
		return apperr.New(apperr.Unauthorized, "签名或时间戳无效。")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
