package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/zwfw/zwfw/client"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/webhook"
)

// idleQueue makes the service record deliveries and their jobs without
// running them: the test runs the worker itself, when it chooses.
func idleQueue(t *testing.T, f fixture) {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, &webhook.Worker{Service: f.hooks})
	q, err := jobs.New(f.db, workers, jobs.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.hooks.UseQueue(q)
}

// submit makes a case and submits it: one case.submitted event.
func submit(t *testing.T, f fixture) casework.Case {
	t.Helper()
	ctx := context.Background()
	c, err := f.cases.CreateDraft(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = f.cases.Attach(ctx, f.citizen, c.ID, c.Version, 0, pdf, "身份证.pdf", 0); err != nil {
		t.Fatal(err)
	}
	if c, err = f.cases.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, ""); err != nil {
		t.Fatal(err)
	}
	return c
}

// work runs the delivery worker once on a delivery, as the queue would.
func work(t *testing.T, f fixture, delivery int64) {
	t.Helper()
	job := &river.Job[webhook.DeliverArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: 10}, Args: webhook.DeliverArgs{DeliveryID: delivery}}
	if err := (&webhook.Worker{Service: f.hooks}).Work(context.Background(), job); err != nil {
		t.Fatal(err)
	}
}

// A revoked client gets nothing: what was queued for it is skipped, not
// sent; later events record no delivery for it; its key is answered 401.
func TestRevokedClientGetsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, webhook.Options{})
		idleQueue(t, f)
		r := newReceiver(t, f.clk)
		sub := subscribe(t, f, r, webhook.CaseSubmitted, webhook.CaseAccepted)
		c := submit(t, f)
		queued := deliveries(t, f, sub.ID)
		if len(queued) != 1 || queued[0].State != "pending" {
			t.Fatalf("queued %+v", queued)
		}
		if _, err := f.integ.Begin(ctx, f.clientKey, "核对", "GET /x", ""); err != nil {
			t.Fatalf("the client's key before: %v", err)
		}
		if err := f.integ.RevokeClient(ctx, admin, audit.Meta{}, f.clientID); err != nil {
			t.Fatal(err)
		}
		if err := f.integ.RevokeClient(ctx, admin, audit.Meta{}, f.clientID); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("revoked twice: %v", err)
		}
		work(t, f, queued[0].ID)
		if d := deliveries(t, f, sub.ID)[0]; d.State != "skipped" || d.Attempts != 0 || len(r.types()) != 0 {
			t.Fatalf("the queued delivery after the revocation: %+v, received %v", d, r.types())
		}
		if _, err := f.cases.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""); err != nil {
			t.Fatal(err)
		}
		if ds := deliveries(t, f, sub.ID); len(ds) != 1 {
			t.Fatalf("%d deliveries after the revocation", len(ds))
		}
		got, err := f.hooks.Get(ctx, admin, sub.ID)
		if err != nil || !got.ClientRevoked {
			t.Fatalf("the subscription: %+v %v", got, err)
		}
		if _, err := f.integ.Begin(ctx, f.clientKey, "核对", "GET /x", ""); err != integration.ErrBadKey || apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("the client's key after: %v", err)
		}
		if _, _, err := f.hooks.Create(ctx, admin, audit.Meta{}, webhook.New{ClientID: f.clientID, URL: "https://example.com/h",
			Events: []string{webhook.CaseAccepted}}); !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "已停用") {
			t.Fatalf("subscribing a revoked client: %v", err)
		}
		if _, err := f.hooks.Redeliver(ctx, admin, audit.Meta{}, sub.ID, queued[0].ID); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("redelivery to a revoked client: %v", err)
		}
	})
}

// The client's scopes decide its events: when it subscribes (for itself
// or by an administrator), with a clear refusal, and again when an event
// is recorded, so that a client whose keys lost the scope gets nothing. A
// client keeps its own subscriptions and does not see another's.
func TestScopesDecideEventsAndClientsKeepTheirOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, webhook.Options{})
		idleQueue(t, f)
		other, err := f.integ.CreateClient(ctx, admin, audit.Meta{}, integration.Client{Name: "区信访业务系统", PerMinute: 60})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.integ.IssueKey(ctx, admin, audit.Meta{}, other.ID, "主密钥", []string{policy.ScopeCasesStatus}); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.hooks.Create(ctx, admin, audit.Meta{}, webhook.New{ClientID: other.ID, URL: "https://xf.example.gov.cn/h",
			Events: []string{webhook.CaseAccepted, webhook.ComplaintCreated}})
		if !apperr.Is(err, apperr.Forbidden) || apperr.MessageOf(err) != "接入系统「区信访业务系统」无权订阅「诉求已登记」（complaint.created）事件：其接口密钥需要权限 complaints、open311 之一。" {
			t.Fatalf("complaint events without the scope: %v", err)
		}
		// The client for itself: held to its key's scopes.
		self := policy.Subject{Kind: policy.Client, Name: "区信访业务系统", ClientID: other.ID, Scopes: []string{policy.ScopeCasesStatus}}
		if _, _, err := f.hooks.Create(ctx, self, audit.Meta{}, webhook.New{ClientID: other.ID, URL: "https://xf.example.gov.cn/h",
			Events: []string{webhook.RatingCreated}}); !apperr.Is(err, apperr.Forbidden) || !strings.Contains(apperr.MessageOf(err), "ratings") {
			t.Fatalf("rating events without the scope: %v", err)
		}
		sub, _, err := f.hooks.Create(ctx, self, audit.Meta{}, webhook.New{ClientID: other.ID, URL: "https://xf.example.gov.cn/h",
			Events: []string{webhook.CaseAccepted}})
		if err != nil || sub.CreatedBy != "区信访业务系统" {
			t.Fatalf("its own subscription: %+v %v", sub, err)
		}
		if _, err := f.hooks.Update(ctx, self, audit.Meta{}, sub.ID, webhook.Change{Events: []string{webhook.ComplaintClosed}}); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("changed to complaint events: %v", err)
		}
		// Another client neither sees nor changes it; nor subscribes for it.
		stranger := policy.Subject{Kind: policy.Client, Name: "市场监管业务系统", ClientID: f.clientID, Scopes: []string{policy.ScopeResultsRead}}
		if _, err := f.hooks.Get(ctx, stranger, sub.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another client reads it: %v", err)
		}
		if _, err := f.hooks.SetActive(ctx, stranger, audit.Meta{}, sub.ID, false); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another client pauses it: %v", err)
		}
		if err := f.hooks.Delete(ctx, stranger, audit.Meta{}, sub.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another client deletes it: %v", err)
		}
		if _, _, err := f.hooks.Create(ctx, stranger, audit.Meta{}, webhook.New{ClientID: other.ID, URL: "https://evil.example.com/h",
			Events: []string{webhook.CaseAccepted}}); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another client subscribes it: %v", err)
		}
		if list, err := f.hooks.List(ctx, stranger, 0); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a client lists every subscription: %v %v", list, err)
		}
		if list, err := f.hooks.List(ctx, self, other.ID); err != nil || len(list) != 1 || list[0].ID != sub.ID {
			t.Fatalf("its own list: %+v %v", list, err)
		}
		url := "https://xf.example.gov.cn/v2"
		active := false
		if got, err := f.hooks.Update(ctx, self, audit.Meta{}, sub.ID, webhook.Change{URL: &url, Active: &active}); err != nil || got.URL != url || got.Active {
			t.Fatalf("update: %+v %v", got, err)
		}
		if err := f.hooks.Delete(ctx, self, audit.Meta{}, sub.ID); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE object = ? AND action IN (?, ?, ?)`, "webhook:"+strconv.FormatInt(sub.ID, 10),
			webhook.ActionCreate, webhook.ActionUpdate, webhook.ActionDelete).Scan(&n); err != nil || n != 3 {
			t.Fatalf("%d audit entries, %v", n, err)
		}

		// The fixture's client loses results.read: its key is replaced by
		// one for ratings only, and its case subscription gets nothing.
		r := newReceiver(t, f.clk)
		cases := subscribe(t, f, r, webhook.CaseSubmitted)
		submit(t, f)
		if ds := deliveries(t, f, cases.ID); len(ds) != 1 {
			t.Fatalf("%d deliveries with the scope", len(ds))
		}
		keys, err := f.integ.Keys(ctx, admin, f.clientID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.integ.RevokeKey(ctx, admin, audit.Meta{}, keys[0].Prefix); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.integ.IssueKey(ctx, admin, audit.Meta{}, f.clientID, "好差评", []string{policy.ScopeRatings}); err != nil {
			t.Fatal(err)
		}
		submit(t, f)
		if ds := deliveries(t, f, cases.ID); len(ds) != 1 {
			t.Fatalf("%d deliveries after the scope was lost", len(ds))
		}
	})
}

// The Go client's check (client.VerifyWebhook, which imports nothing of
// the platform) accepts what the platform signs, with either secret
// during a rotation, and refuses a changed body, a wrong secret and an
// old timestamp.
func TestClientVerifiesWhatThePlatformSigns(t *testing.T) {
	sign := func(at time.Time, body []byte) http.Header {
		h := http.Header{}
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
		h.Set(webhook.HeaderSignature, "v2="+webhook.Signature("zws_new", at.Unix(), body)+",v1="+webhook.Signature("zws_old", at.Unix(), body))
		return h
	}
	body := []byte(`{"id":"evt_1","type":"case.accepted"}`)
	h := sign(time.Now(), body)
	for _, secret := range []string{"zws_new", "zws_old"} {
		if err := client.VerifyWebhook(secret, h, body); err != nil {
			t.Errorf("secret %s: %v", secret, err)
		}
	}
	for _, c := range []struct {
		secret string
		h      http.Header
		body   []byte
		want   error
	}{
		{"zws_other", h, body, client.ErrWebhookBadSignature},
		{"zws_new", h, append([]byte(nil), append(body, ' ')...), client.ErrWebhookBadSignature},
		{"zws_new", sign(time.Now().Add(-6*time.Minute), body), body, client.ErrWebhookTooOld},
		{"zws_new", http.Header{}, body, client.ErrWebhookUnsigned},
		{"", h, body, client.ErrWebhookUnsigned},
	} {
		if err := client.VerifyWebhook(c.secret, c.h, c.body); !errors.Is(err, c.want) {
			t.Errorf("%s %v: %v, want %v", c.secret, c.h, err, c.want)
		}
	}
}

// A client reads its own delivery log, newest first and paged, with each
// attempt, and sends a failed event again once its receiver is back; the
// redelivery is audited in its name. Another client is told there is no
// such subscription or delivery.
func TestClientReadsItsDeliveriesAndRedelivers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, webhook.Options{MaxAttempts: 3, Backoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond})
		startQueue(t, f)
		r := newReceiver(t, f.clk)
		r.fail.Store(-1)
		sub := subscribe(t, f, r, webhook.CaseSubmitted)
		submit(t, f)
		submit(t, f)
		waitFor(t, "two failed deliveries", func() bool {
			ds := deliveries(t, f, sub.ID)
			return len(ds) == 2 && ds[0].State == "failed" && ds[1].State == "failed"
		})
		self := policy.Subject{Kind: policy.Client, Name: "市场监管业务系统", ClientID: f.clientID, Scopes: []string{policy.ScopeResultsRead}}
		newest, err := f.hooks.Deliveries(ctx, self, sub.ID, 0, 1)
		if err != nil || len(newest) != 1 || len(newest[0].Log) != 3 || newest[0].Log[0].Status != 503 {
			t.Fatalf("the newest delivery: %+v %v", newest, err)
		}
		older, err := f.hooks.Deliveries(ctx, self, sub.ID, newest[0].ID, 10)
		if err != nil || len(older) != 1 || older[0].ID >= newest[0].ID || older[0].EventID == newest[0].EventID {
			t.Fatalf("the page before it: %+v %v", older, err)
		}

		other, err := f.integ.CreateClient(ctx, admin, audit.Meta{}, integration.Client{Name: "区信访业务系统", PerMinute: 60})
		if err != nil {
			t.Fatal(err)
		}
		stranger := policy.Subject{Kind: policy.Client, Name: "区信访业务系统", ClientID: other.ID, Scopes: []string{policy.ScopeResultsRead}}
		if _, err := f.hooks.Deliveries(ctx, stranger, sub.ID, 0, 10); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another client reads the log: %v", err)
		}
		if _, err := f.hooks.Redeliver(ctx, stranger, audit.Meta{}, sub.ID, older[0].ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another client redelivers: %v", err)
		}
		if _, err := f.hooks.Redeliver(ctx, self, audit.Meta{}, sub.ID+1000, older[0].ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a delivery named under another subscription: %v", err)
		}

		r.fail.Store(0)
		again, err := f.hooks.Redeliver(ctx, self, audit.Meta{IP: "10.0.0.7"}, sub.ID, older[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the redelivery", func() bool { return deliveries(t, f, sub.ID)[0].State == "delivered" })
		ds := deliveries(t, f, sub.ID)
		if ds[0].ID != again || ds[0].EventID != older[0].EventID || ds[0].RedeliveredBy != "市场监管业务系统" {
			t.Fatalf("the redelivery: %+v", ds[0])
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND object = ? AND ip = ?`, webhook.ActionRedeliver,
			"webhook:"+strconv.FormatInt(sub.ID, 10), "10.0.0.7").Scan(&n); err != nil || n != 1 {
			t.Fatalf("audit entries %d, %v", n, err)
		}
	})
}
