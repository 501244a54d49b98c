package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/client"
	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/app"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Other systems drive the integration API through the Go client against
// the demo, on each database: the city's platform applies for a person,
// the regulator's system pushes the case to completion with its result,
// the platform reads it back, and receives the case's acceptance at the
// webhook it subscribed through the API; purposes, the directory, the rate
// limit, rotation and revocation are enforced, and the access log has each
// call.
func TestIntegrationEndToEnd(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, kind string) { integrationStory(t, copyDemo(t, kind)) })
}

// delivery is a webhook request as the test's receiver got it.
type delivery struct {
	header http.Header
	body   []byte
}

var integrationKey = regexp.MustCompile(`(?m)^integration client=(\S+) api_key=(zk_[a-z2-7_]+)$`)

// pdf is the smallest file the file store takes for a PDF.
var pdf = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

func integrationStory(t *testing.T, demo seededDemo) {
	dir, dbURL := demo.Data, demo.DSN
	s := start(t, nil, demo.Args...)
	keys := map[string]string{}
	for _, m := range integrationKey.FindAllStringSubmatch(s.out.String(), -1) {
		keys[m[1]] = m[2]
	}
	if len(keys) != 2 {
		t.Fatalf("the demo printed %d integration keys:\n%s", len(keys), s.out.String())
	}
	platform := client.New(s.URL, keys["市政务服务平台"])
	market := client.New(s.URL, keys["区市场监管局业务系统"])
	ctx := client.WithPurpose(context.Background(), "食品小作坊登记网上受理")
	cli := func(args ...string) string {
		t.Helper()
		var out strings.Builder
		env := map[string]string{"ZWFW_DATABASE_URL": dbURL, "ZWFW_AUDIT_KEYS": demoAuditKeys(t, dir)}
		if err := app.Run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, io.Discard); err != nil {
			t.Fatalf("zwfw %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	refused := func(err error, status int, text string) {
		t.Helper()
		if client.StatusOf(err) != status || !strings.Contains(err.Error(), text) {
			t.Fatalf("want %d with %q, got %v", status, text, err)
		}
	}

	// The item, found in the public catalog.
	var found struct {
		Items []struct {
			ID         int64
			Name       string
			Department string
		}
	}
	resp, body := get(t, s.URL+"/api/v1/items?limit=100&q="+url.QueryEscape("食品小作坊登记"))
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &found) != nil || len(found.Items) == 0 {
		t.Fatalf("catalog search: %d %s", resp.StatusCode, body)
	}
	item := found.Items[0]
	raw, err := platform.Item(ctx, item.ID)
	if err != nil {
		t.Fatal(err)
	}
	var guide struct {
		Materials []struct{ Necessity string }
	}
	if err := json.Unmarshal(raw, &guide); err != nil {
		t.Fatal(err)
	}
	// Another department's item is outside the platform's directory.
	resp, body = get(t, s.URL+"/api/v1/items?limit=100")
	if err := json.Unmarshal([]byte(body), &found); err != nil {
		t.Fatal(err)
	}
	for _, it := range found.Items {
		if it.Department != item.Department {
			_, err := platform.Item(ctx, it.ID)
			refused(err, 403, "共享目录未向「市政务服务平台」开放")
			break
		}
	}

	// The platform applies for a person who has no account yet.
	app := client.Application{ItemID: item.ID, Applicant: client.Applicant{Name: "赵小作", IDNumber: "110101199003074514", Mobile: "13800138111"},
		Answers: map[string]string{"applicant_name": "赵小作", "id_number": "110101199003074514", "mobile": "13800138111",
			"address": "湛河区开源路 1 号", "workshop_name": "赵记豆腐坊", "premises": "湛河区开源路 1 号", "food_types": "豆腐、豆皮", "employees": "2"}}
	for i, m := range guide.Materials {
		if m.Necessity == "必需" {
			app.Materials = append(app.Materials, client.Material{Position: i, Filename: "材料.pdf", Data: pdf})
		}
	}
	wrongName := app
	wrongName.Applicant.Name = "钱某"
	if _, err := platform.Apply(ctx, wrongName); err != nil {
		t.Fatalf("a new person: %v", err)
	}
	// Now the number has an account: another name with it is refused.
	if _, err := platform.Apply(ctx, app); client.StatusOf(err) != 400 || !strings.Contains(err.Error(), "身份证号码与姓名不符") {
		t.Fatalf("a number with another's name: %v", err)
	}
	app.Applicant = client.Applicant{Name: "孙小作", IDNumber: "110101199003071671"}
	cs, err := platform.Apply(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Status != "submitted" || cs.Channel != "online" {
		t.Fatalf("applied: %+v", cs)
	}
	// The platform subscribes, through the API, to its cases' acceptance
	// at a receiver of its own; the regulator's system, whose key reads no
	// complaints, may not have their events.
	deliveries := make(chan delivery, 8)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		deliveries <- delivery{r.Header.Clone(), body}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	sub, err := platform.Subscribe(ctx, receiver.URL+"/hook", "case.accepted")
	if err != nil || !strings.HasPrefix(sub.Secret, "zws_") {
		t.Fatalf("subscribe: %+v %v", sub, err)
	}
	_, err = market.Subscribe(ctx, receiver.URL+"/hook", "complaint.created")
	refused(err, 403, "无权订阅")
	if _, err := platform.Push(ctx, cs.Number, client.Step{Action: "accept", Version: cs.Version}); client.StatusOf(err) != 403 {
		t.Fatalf("the platform pushed a step without the scope: %v", err)
	}
	// A call without a purpose is refused.
	_, err = platform.Case(context.Background(), cs.Number)
	refused(err, 400, "X-Purpose")

	// The regulator's system takes its steps, and completes with the result.
	for _, st := range []client.Step{{Action: "accept"}, {Action: "review", Reason: "材料齐全，现场核查合格"},
		{Action: "decide", Approve: true, Reason: "符合食品小作坊登记条件"}} {
		st.Version = cs.Version
		if cs, err = market.Push(ctx, cs.Number, st); err != nil {
			t.Fatalf("%s: %v", st.Action, err)
		}
	}
	// The acceptance reached the platform's receiver, signed with its secret.
	select {
	case d := <-deliveries:
		if err := client.VerifyWebhook(sub.Secret, d.header, d.body); err != nil {
			t.Fatalf("the delivery's signature: %v", err)
		}
		if err := client.VerifyWebhook(sub.Secret, d.header, append(bytes.Clone(d.body), ' ')); err == nil {
			t.Fatal("a changed body verified")
		}
		var ev struct {
			Type string
			Case struct{ Number string }
		}
		if err := json.Unmarshal(d.body, &ev); err != nil || ev.Type != "case.accepted" || ev.Case.Number != cs.Number ||
			d.header.Get(client.HeaderWebhookEvent) != "case.accepted" {
			t.Fatalf("the delivery: %s %v", d.body, err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the acceptance was not delivered")
	}
	// The platform reads its delivery log, and asks for the event again:
	// the same event id reaches its receiver.
	var sent []client.Delivery
	for end := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if sent, _, err = platform.Deliveries(ctx, sub.ID, 0, 0); err != nil {
			t.Fatal(err)
		}
		if len(sent) == 1 && sent[0].State == "delivered" || time.Now().After(end) {
			break
		}
	}
	if len(sent) != 1 || sent[0].State != "delivered" || len(sent[0].Log) != 1 || sent[0].Log[0].Status != http.StatusNoContent {
		t.Fatalf("the delivery log: %+v", sent)
	}
	again, err := platform.Redeliver(ctx, sub.ID, sent[0].ID)
	if err != nil || !again.Redelivered || again.EventID != sent[0].EventID {
		t.Fatalf("redelivered: %+v %v", again, err)
	}
	select {
	case d := <-deliveries:
		if got := d.header.Get(client.HeaderWebhookID); got != sent[0].EventID {
			t.Fatalf("the redelivery carries event %q, want %q", got, sent[0].EventID)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the redelivery did not arrive")
	}
	if cs, err = market.AttachResult(ctx, cs.Number, cs.Version, "食品小作坊登记证.pdf", pdf); err != nil {
		t.Fatal(err)
	}
	if cs.Status != "completed" || cs.Result == nil {
		t.Fatalf("completed: %+v", cs)
	}
	read, err := platform.Case(ctx, cs.Number)
	if err != nil || read.Status != "completed" || read.Result.Filename != "食品小作坊登记证.pdf" {
		t.Fatalf("the platform reads: %+v %v", read, err)
	}
	file, ctype, err := platform.ResultFile(ctx, cs.Number)
	if err != nil || !bytes.Equal(file, pdf) || ctype != "application/pdf" {
		t.Fatalf("the result file: %q %s %v", file, ctype, err)
	}

	// The access log has every call on the case, with its purpose, in the
	// transaction of each write.
	db, err := store.Open(context.Background(), dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := integration.New(db, clock.System{}, apikey.NewService(db, clock.System{}))
	admin := policy.Subject{Kind: policy.Staff, Name: "管理员", Roles: []policy.Role{policy.Admin}}
	log, err := svc.Search(context.Background(), admin, integration.Filter{Record: integration.CaseRecord(cs.Number)})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range log {
		if e.Purpose != "食品小作坊登记网上受理" && e.Status < 300 {
			t.Errorf("entry %d: purpose %q", e.ID, e.Purpose)
		}
		ops = append(ops, e.Client+" "+e.Operation+" "+e.Outcome)
	}
	want := []string{
		"市政务服务平台 GET /api/v1/integration/cases/{number}/result 成功",
		"市政务服务平台 GET /api/v1/integration/cases/{number} 成功",
		"区市场监管局业务系统 PUT /api/v1/integration/cases/{number}/result 成功",
		"区市场监管局业务系统 POST /api/v1/integration/cases/{number}/steps 成功",
		"区市场监管局业务系统 POST /api/v1/integration/cases/{number}/steps 成功",
		"区市场监管局业务系统 POST /api/v1/integration/cases/{number}/steps 成功",
		"市政务服务平台 POST /api/v1/integration/cases 成功",
	}
	if strings.Join(ops, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the log of the case:\n%s\nwant:\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}
	outside, err := svc.Search(context.Background(), admin, integration.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var directoryRefusals int
	for _, e := range outside {
		if e.Status == 403 && strings.Contains(e.Outcome, "共享目录") {
			directoryRefusals++
		}
	}
	if directoryRefusals != 1 {
		t.Errorf("%d refusals by the directory logged, want 1", directoryRefusals)
	}

	// The rate limit: 429 with Retry-After.
	cli("apikey", "limit", "市政务服务平台", "2")
	var limited error
	for i := 0; i < 5 && limited == nil; i++ {
		_, limited = platform.Case(ctx, cs.Number)
	}
	var e *client.Error
	if client.StatusOf(limited) != 429 || !strings.Contains(limited.Error(), "调用过于频繁") {
		t.Fatalf("over the limit: %v", limited)
	} else if errors.As(limited, &e); e.RetryAfter <= 0 || e.RetryAfter > time.Minute {
		t.Fatalf("Retry-After %v", e.RetryAfter)
	}
	cli("apikey", "limit", "市政务服务平台", "1000")

	// Rotation: both keys work during the overlap, the old one not after.
	out := cli("apikey", "rotate", keys["区市场监管局业务系统"][:13], "2s")
	newKey := regexp.MustCompile(`(?m)^zk_[a-z2-7_]+$`).FindString(out)
	rotated := client.New(s.URL, newKey)
	if _, err := market.Case(ctx, cs.Number); err != nil {
		t.Fatalf("the old key during the overlap: %v", err)
	}
	if _, err := rotated.Case(ctx, cs.Number); err != nil {
		t.Fatalf("the new key: %v", err)
	}
	time.Sleep(2 * time.Second)
	_, err = market.Case(ctx, cs.Number)
	refused(err, 401, "api_key 无效或已停用")
	// Revocation takes effect on the next call.
	cli("apikey", "revoke", newKey[:13])
	_, err = rotated.Case(ctx, cs.Number)
	refused(err, 401, "api_key 无效或已停用")

	if out := cli("audit", "verify"); !strings.Contains(out, "共享调用日志") || !strings.Contains(out, "全部记录完整") {
		t.Fatalf("audit verify:\n%s", out)
	}
}
