package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/webhook"
)

var admin = policy.Subject{Kind: policy.Staff, Name: "管理员", Roles: []policy.Role{policy.Admin}}

// receiver is a real HTTP receiver that verifies every request as a
// department's system would, and records what it accepted.
type receiver struct {
	srv    *httptest.Server
	clk    clock.Clock
	secret atomic.Value // string
	fail   atomic.Int32 // answer 503 to this many requests first (-1: always)
	mu     sync.Mutex
	got    []webhook.Payload
	raw    []*http.Request // headers of accepted requests
	bodies [][]byte
}

func newReceiver(t *testing.T, clk clock.Clock) *receiver {
	r := &receiver{clk: clk}
	r.secret.Store("")
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := webhook.Verify(req.Header, body, r.secret.Load().(string), r.clk.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if n := r.fail.Load(); n != 0 {
			if n > 0 {
				r.fail.Add(-1)
			}
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil || p.ID != req.Header.Get(webhook.HeaderID) || p.Type != req.Header.Get(webhook.HeaderEvent) {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.got, r.raw, r.bodies = append(r.got, p), append(r.raw, req), append(r.bodies, body)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.got {
		out = append(out, p.Type)
	}
	return out
}

type fixture struct {
	db                              *store.DB
	clk                             *clock.Manual
	cases                           *casework.Service
	hooks                           *webhook.Service
	keys                            *pii.Keys
	integ                           *integration.Service
	clientID                        int64
	clientKey                       string // the client's key, in clear
	itemID                          int64
	citizen, window, reviewer, head policy.Subject
}

var pdf = filestore.Object{SHA256: strings.Repeat("ab", 32), Size: 1234, ContentType: filestore.TypePDF}

func newFixture(t testing.TB, db *store.DB, opt webhook.Options) fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
	if _, err := demo.SeedDistrict(ctx, db, clk); err != nil {
		t.Fatal(err)
	}
	regions := region.NewStore(db)
	items := catalog.NewStore(db, regions, clk)
	it := catalog.Item{BaseCode: "010100100001", Name: "个体工商户设立登记", Type: catalog.Licensing, Department: "scjgj",
		Basis: "《促进个体工商户发展条例》", Subjects: []string{"自然人"}, CaseKind: catalog.Promised,
		LegalLimit: catalog.TimeLimit{Value: 15, Unit: "工作日"}, PromiseLimit: catalog.TimeLimit{Value: 3, Unit: "工作日"},
		Depth: catalog.DepthFull, Conditions: "完全民事行为能力。", Steps: []catalog.Step{{Name: "申请", Description: "网上提交"}},
		Result: catalog.Result{Name: "营业执照", Type: "证照"}, ConsultPhone: "0375-8861002", ComplaintPhone: "12345",
		Materials: []catalog.Material{{Name: "身份证明", Necessity: "必需", Form: "电子", Copies: 1, Source: "政府部门核发", Standard: "真实"}},
		Form:      []catalog.FormSection{{Title: "经营者", Fields: []catalog.FormField{{Key: "name", Label: "姓名", Type: "text", Required: true}}}}}
	if err := db.Tx(ctx, func(tx *store.Tx) error { return items.Load(ctx, tx, &it, "测试") }); err != nil {
		t.Fatal(err)
	}
	scjg, _ := regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
	account := func(kind, name string, d region.Department, roles ...policy.Role) policy.Subject {
		var id int64
		now := time.Now()
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			var dept any
			if d.ID != 0 {
				dept = d.ID
			}
			if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, kind, name, name, dept, now, now).Scan(&id); err != nil {
				return err
			}
			for _, r := range roles {
				if _, err := tx.Exec(ctx, `INSERT INTO staff_roles (account_id, role) VALUES (?, ?)`, id, r); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if kind == "person" {
			return policy.Subject{AccountID: id, Kind: policy.Person, Name: name}
		}
		return policy.Subject{AccountID: id, Name: name, Kind: policy.Staff, DepartmentID: d.ID, DepartmentKind: string(d.Kind),
			RegionCode: d.RegionCode, Roles: roles}
	}
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	if opt.Keys, err = pii.ParseKeys(enc, idx); err != nil {
		t.Fatal(err)
	}
	opt.Clock = clk
	opt.Allow = append(opt.Allow, "127.0.0.1")
	hooks, err := webhook.NewService(db, opt)
	if err != nil {
		t.Fatal(err)
	}
	// The API client: its key's scopes cover every event.
	integ := integration.New(db, clk, apikey.NewService(db, clk))
	client, err := integ.CreateClient(ctx, admin, audit.Meta{}, integration.Client{Name: "市场监管业务系统", PerMinute: 600})
	if err != nil {
		t.Fatal(err)
	}
	_, raw, err := integ.IssueKey(ctx, admin, audit.Meta{}, client.ID, "办件状态推送",
		[]string{policy.ScopeResultsRead, policy.ScopeComplaints, policy.ScopeRatings})
	if err != nil {
		t.Fatal(err)
	}
	cases := casework.New(db, items, clk, calendar.New(nil))
	cases.OnChanged(hooks.CaseChanged)
	return fixture{db: db, clk: clk, cases: cases, hooks: hooks, keys: opt.Keys, integ: integ, clientID: client.ID, clientKey: raw, itemID: it.ID,
		citizen: account("person", "张三", region.Department{}), window: account("staff", "窗口", scjg, policy.Window),
		reviewer: account("staff", "审批", scjg, policy.Reviewer), head: account("staff", "负责人", scjg, policy.Head)}
}

// startQueue runs the real job queue with the delivery worker; one worker,
// so that deliveries go out in the order of their events.
func startQueue(t *testing.T, f fixture) {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, &webhook.Worker{Service: f.hooks})
	q, err := jobs.New(f.db, workers, jobs.Options{Workers: 1, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f.hooks.UseQueue(q)
	ctx, cancel := context.WithCancel(context.Background())
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		q.Stop(stop)
		cancel()
	})
}

func subscribe(t *testing.T, f fixture, r *receiver, events ...string) webhook.Subscription {
	t.Helper()
	sub, secret, err := f.hooks.Create(context.Background(), admin, audit.Meta{IP: "10.0.0.9"}, webhook.New{ClientID: f.clientID, URL: r.srv.URL + "/hook", Events: events})
	if err != nil {
		t.Fatal(err)
	}
	r.secret.Store(secret)
	return sub
}

// journey takes a case from its draft to completion, with a correction.
func journey(t *testing.T, f fixture) casework.Case {
	t.Helper()
	ctx := context.Background()
	c, err := f.cases.CreateDraft(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"})
	if err != nil {
		t.Fatal(err)
	}
	step := func(c casework.Case, err error) casework.Case {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c = step(f.cases.Attach(ctx, f.citizen, c.ID, c.Version, 0, pdf, "身份证.pdf", 0))
	c = step(f.cases.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, ""))
	c = step(f.cases.AskCorrection(ctx, f.window, c.ID, c.Version, "请上传清晰的身份证明", []int{0}))
	c = step(f.cases.Attach(ctx, f.citizen, c.ID, c.Version, 0, filestore.Object{SHA256: strings.Repeat("ef", 32), Size: 9, ContentType: filestore.TypePDF}, "身份证2.pdf", 0))
	c = step(f.cases.Act(ctx, f.citizen, c.ID, c.Version, casework.Resubmit, ""))
	c = step(f.cases.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""))
	c = step(f.cases.Act(ctx, f.reviewer, c.ID, c.Version, casework.Pause, "现场核查"))
	c = step(f.cases.Act(ctx, f.reviewer, c.ID, c.Version, casework.Resume, ""))
	c = step(f.cases.Act(ctx, f.reviewer, c.ID, c.Version, casework.Review, "建议准予"))
	c = step(f.cases.Decide(ctx, f.head, c.ID, c.Version, true, "准予登记", ""))
	return step(f.cases.Complete(ctx, f.window, c.ID, c.Version, filestore.Object{SHA256: strings.Repeat("cd", 32), Size: 99,
		ContentType: filestore.TypePDF}, "营业执照.pdf"))
}

// waitFor polls until cond holds, for at most 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func deliveries(t *testing.T, f fixture, sub int64) []webhook.Delivery {
	t.Helper()
	ds, err := f.hooks.Deliveries(context.Background(), admin, sub, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestCaseJourneyIsDeliveredInOrderAndSigned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, webhook.Options{})
		startQueue(t, f)
		r := newReceiver(t, f.clk)
		sub := subscribe(t, f, r, webhook.Types...)
		c := journey(t, f)
		want := []string{webhook.CaseSubmitted, webhook.CaseCorrectionRequested, webhook.CaseSubmitted, webhook.CaseAccepted,
			webhook.CaseDecided, webhook.CaseCompleted}
		waitFor(t, "six events", func() bool { return len(r.types()) >= len(want) })
		if got := r.types(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		r.mu.Lock()
		last, lastReq, lastBody := r.got[len(r.got)-1], r.raw[len(r.raw)-1], r.bodies[len(r.bodies)-1]
		r.mu.Unlock()
		fc := last.Case
		if fc == nil || fc.Number != c.Number || fc.ItemName != "个体工商户设立登记" || fc.Department == "" || fc.Status != "completed" ||
			fc.Decision != casework.Approved || fc.AcceptedOn == "" || fc.Version != c.Version {
			t.Fatalf("payload %+v", fc)
		}
		// No personal data: not the applicant's name, account or answers.
		if strings.Contains(string(lastBody), "张三") || strings.Contains(string(lastBody), "applicant") {
			t.Fatalf("body carries personal data: %s", lastBody)
		}
		if !strings.HasPrefix(lastReq.Header.Get(webhook.HeaderSignature), "v1=") {
			t.Fatalf("signature header %q", lastReq.Header.Get(webhook.HeaderSignature))
		}
		// The receiver's verifier refuses a changed body, a wrong secret
		// and the same request replayed more than five minutes later.
		secret := r.secret.Load().(string)
		now := f.clk.Now()
		if err := webhook.Verify(lastReq.Header, lastBody, secret, now); err != nil {
			t.Fatalf("genuine request: %v", err)
		}
		forged := []byte(strings.Replace(string(lastBody), "completed", "rejected", 1))
		if err := webhook.Verify(lastReq.Header, forged, secret, now); !errors.Is(err, webhook.ErrBadSignature) {
			t.Fatalf("changed body: %v", err)
		}
		if err := webhook.Verify(lastReq.Header, lastBody, "zws_wrong", now); !errors.Is(err, webhook.ErrBadSignature) {
			t.Fatalf("wrong secret: %v", err)
		}
		if err := webhook.Verify(lastReq.Header, lastBody, secret, now.Add(webhook.Tolerance+time.Second)); !errors.Is(err, webhook.ErrTooOld) {
			t.Fatalf("replayed later: %v", err)
		}
		// A replay through the network is refused by the test receiver.
		req, _ := http.NewRequest(http.MethodPost, r.srv.URL, strings.NewReader(string(lastBody)))
		req.Header = lastReq.Header.Clone()
		f.clk.Advance(6 * time.Minute)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("replay: %v %v", resp, err)
		}
		resp.Body.Close()
		// The receiver answered before the worker recorded the answer.
		waitFor(t, "the deliveries recorded", func() bool { return deliveries(t, f, sub.ID)[0].State == "delivered" })
		ds := deliveries(t, f, sub.ID)
		if len(ds) != len(want) {
			t.Fatalf("%d deliveries", len(ds))
		}
		for _, d := range ds {
			if d.State != "delivered" || d.Attempts != 1 || len(d.Log) != 1 || d.Log[0].Status != 200 {
				t.Fatalf("delivery %+v", d)
			}
		}
	})
}

func TestFailingReceiverIsRetriedThenFailedAndRedelivered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, webhook.Options{MaxAttempts: 3, Backoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond})
		startQueue(t, f)
		r := newReceiver(t, f.clk)
		sub := subscribe(t, f, r, webhook.CaseSubmitted)
		// Two failures, then an answer: delivered on the third attempt.
		r.fail.Store(2)
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
		waitFor(t, "the retried delivery", func() bool { return deliveries(t, f, sub.ID)[0].State == "delivered" })
		d := deliveries(t, f, sub.ID)[0]
		if d.State != "delivered" || d.Attempts != 3 || len(d.Log) != 3 || d.Log[0].Status != 503 || d.Log[1].Status != 503 ||
			d.Log[2].Status != 200 || d.Log[0].Error != "HTTP 503" {
			t.Fatalf("retried delivery %+v", d)
		}
		// Always failing: after three attempts the delivery is failed, and
		// says so.
		r.fail.Store(-1)
		if _, err = f.cases.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""); err != nil { // not subscribed
			t.Fatal(err)
		}
		if c, err = f.cases.CreateDraft(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"}); err != nil {
			t.Fatal(err)
		}
		if c, err = f.cases.Attach(ctx, f.citizen, c.ID, c.Version, 0, pdf, "身份证.pdf", 0); err != nil {
			t.Fatal(err)
		}
		if _, err = f.cases.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the failed delivery", func() bool { return deliveries(t, f, sub.ID)[0].State == "failed" })
		failed := deliveries(t, f, sub.ID)[0]
		if failed.Attempts != 3 || len(failed.Log) != 3 || failed.StateName() != "失败" || failed.DoneAt.IsZero() || failed.LastStatus != 503 {
			t.Fatalf("failed delivery %+v", failed)
		}
		// An administrator sends it again once the receiver is back: the
		// same event id, a new delivery, an audit entry.
		r.fail.Store(0)
		if _, err := f.hooks.Redeliver(ctx, policy.Subject{Kind: policy.Staff, Name: "窗口", Roles: []policy.Role{policy.Window}}, audit.Meta{}, sub.ID, failed.ID); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("redelivery by a window clerk: %v", err)
		}
		again, err := f.hooks.Redeliver(ctx, admin, audit.Meta{IP: "10.0.0.9"}, sub.ID, failed.ID)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the redelivery", func() bool { return deliveries(t, f, sub.ID)[0].State == "delivered" })
		ds := deliveries(t, f, sub.ID)
		if ds[0].ID != again || ds[0].State != "delivered" || ds[0].EventID != failed.EventID || ds[0].RedeliveredBy != "管理员" {
			t.Fatalf("redelivery %+v", ds[0])
		}
		r.mu.Lock()
		second := r.got[1].ID
		r.mu.Unlock()
		if got := second; got != failed.EventID {
			t.Fatalf("received event %s, want %s", got, failed.EventID)
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND object = ?`, webhook.ActionRedeliver,
			"webhook:"+strconv.FormatInt(sub.ID, 10)).Scan(&n); err != nil || n != 1 {
			t.Fatalf("audit entries %d, %v", n, err)
		}
	})
}

func TestPausedSubscriptionAndRolledBackChangeGetNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, webhook.Options{})
		startQueue(t, f)
		live, paused := newReceiver(t, f.clk), newReceiver(t, f.clk)
		liveSub := subscribe(t, f, live, webhook.CaseSubmitted, webhook.CaseAccepted)
		pausedSub := subscribe(t, f, paused, webhook.CaseSubmitted, webhook.CaseAccepted)
		if _, err := f.hooks.SetActive(ctx, admin, audit.Meta{}, pausedSub.ID, false); err != nil {
			t.Fatal(err)
		}
		// A hook after the webhooks' fails the acceptance: the step rolls
		// back, and its event with it.
		fail := errors.New("统计写入失败")
		f.cases.OnChanged(func(ctx context.Context, tx *store.Tx, before, after casework.Case) error {
			if err := f.hooks.CaseChanged(ctx, tx, before, after); err != nil {
				return err
			}
			if after.Status == casework.Reviewing {
				return fail
			}
			return nil
		})
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
		if _, err := f.cases.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""); !errors.Is(err, fail) {
			t.Fatalf("accept with a failing hook: %v", err)
		}
		waitFor(t, "the submission", func() bool { return len(live.types()) == 1 })
		// Give the queue time to (wrongly) deliver more.
		time.Sleep(300 * time.Millisecond)
		if got := live.types(); len(got) != 1 || got[0] != webhook.CaseSubmitted {
			t.Fatalf("live subscription got %v", got)
		}
		var events int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM webhook_events WHERE type = ?`, webhook.CaseAccepted).Scan(&events); err != nil || events != 0 {
			t.Fatalf("events of the rolled-back acceptance: %d, %v", events, err)
		}
		if got := paused.types(); len(got) != 0 || len(deliveries(t, f, pausedSub.ID)) != 0 {
			t.Fatalf("paused subscription got %v", got)
		}
		// Resumed, it gets the next event, and a rotated secret signs
		// beside the old one for the grace period.
		if _, err := f.hooks.SetActive(ctx, admin, audit.Meta{}, pausedSub.ID, true); err != nil {
			t.Fatal(err)
		}
		rotated, secret, err := f.hooks.Rotate(ctx, admin, audit.Meta{}, liveSub.ID)
		if err != nil || rotated.SecretVersion != 2 || rotated.PreviousUntil.IsZero() || secret == live.secret.Load().(string) {
			t.Fatalf("rotate: %+v %v", rotated, err)
		}
		f.cases.OnChanged(f.hooks.CaseChanged)
		if _, err := f.cases.Act(ctx, f.window, c.ID, c.Version, casework.Accept, ""); err != nil {
			t.Fatal(err)
		}
		// The live receiver still holds the old secret and accepts it.
		waitFor(t, "the acceptance", func() bool { return len(live.types()) == 2 && len(paused.types()) == 1 })
		live.mu.Lock()
		h := live.raw[1].Header
		body := live.bodies[1]
		live.mu.Unlock()
		if sig := h.Get(webhook.HeaderSignature); !strings.HasPrefix(sig, "v2=") || !strings.Contains(sig, ",v1=") {
			t.Fatalf("signature during the rotation %q", sig)
		}
		if err := webhook.Verify(h, body, secret, f.clk.Now()); err != nil {
			t.Fatalf("new secret: %v", err)
		}
	})
}

func TestSubscriptionsRefuseBadInputAndOthers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, webhook.Options{})
		for _, c := range []struct {
			url    string
			events []string
			msg    string
		}{
			{"http://example.com/hook", []string{webhook.CaseSubmitted}, "https"},
			{"https://10.1.2.3/hook", []string{webhook.CaseSubmitted}, "内网"},
			{"https://[::1]/hook", []string{webhook.CaseSubmitted}, "内网"},
			{"https://localhost/hook", []string{webhook.CaseSubmitted}, "内网"},
			{"https://169.254.169.254/latest", []string{webhook.CaseSubmitted}, "内网"},
			{"ftp://example.com/", []string{webhook.CaseSubmitted}, "https"},
			{"https://user:pw@example.com/", []string{webhook.CaseSubmitted}, "用户名"},
			{"https://example.com/hook", nil, "至少"},
			{"https://example.com/hook", []string{"case.nothing"}, "无效"},
		} {
			_, _, err := f.hooks.Create(ctx, admin, audit.Meta{}, webhook.New{ClientID: f.clientID, URL: c.url, Events: c.events})
			if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), c.msg) {
				t.Errorf("%s %v: %v", c.url, c.events, err)
			}
		}
		if _, _, err := f.hooks.Create(ctx, f.window, audit.Meta{}, webhook.New{ClientID: f.clientID, URL: "https://example.com/", Events: webhook.Types}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a window clerk subscribes: %v", err)
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM webhook_subscriptions`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d subscriptions after refusals, %v", n, err)
		}
		sub, secret, err := f.hooks.Create(ctx, admin, audit.Meta{}, webhook.New{ClientID: f.clientID, URL: "https://example.com/hook", Events: []string{"CASE.ACCEPTED", "case.submitted"}})
		if err != nil || !strings.HasPrefix(secret, "zws_") || fmt.Sprint(sub.Events) != "[case.submitted case.accepted]" || !sub.Active {
			t.Fatalf("create: %+v %v", sub, err)
		}
		var stored string
		if err := db.Read().QueryRow(ctx, `SELECT secret FROM webhook_subscriptions WHERE id = ?`, sub.ID).Scan(&stored); err != nil || strings.Contains(stored, secret) {
			t.Fatalf("the secret is stored in clear: %v", err)
		}
	})
}
