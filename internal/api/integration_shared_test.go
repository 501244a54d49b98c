package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/zwfw/zwfw/internal/api"
	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/webhook"
)

// Integration (issue 12) beyond cases, through the real API on each
// database: a client reads a complaint and pages through ratings, masked
// and within the directory; keeps its own webhook subscriptions, only to
// the events its scopes cover; a client without the scope is refused;
// every call is in the access log, which verifies; a revoked client is
// answered 401. Every answer is as documented.
func TestIntegrationComplaintsRatingsAndWebhooks(t *testing.T) {
	doc := loadDocument(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		enc, idx, _ := pii.GenerateKeys()
		keys, err := pii.ParseKeys(enc, idx)
		if err != nil {
			t.Fatal(err)
		}
		admin := policy.Subject{Kind: policy.Staff, Name: "管理员", Roles: []policy.Role{policy.Admin}}
		clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
		var (
			complaints *complaint.Service
			ratings    *rating.Service
			integ      *integration.Service
			hooks      *webhook.Service
		)
		h := newAPIWith(t, db, func(d *api.Deps, items *catalog.Store) {
			complaints = complaint.New(db, complaint.Options{Clock: clk, Calendar: calendar.New(nil), Keys: keys})
			if err := complaints.SeedDefaults(ctx, admin, audit.Meta{}); err != nil {
				t.Fatal(err)
			}
			ratings = rating.New(db, items, clk, calendar.New(nil), rating.Options{Keys: keys})
			integ = integration.New(db, clk, apikey.NewService(db, clk))
			hooks, err = webhook.NewService(db, webhook.Options{Clock: clk, Keys: keys})
			if err != nil {
				t.Fatal(err)
			}
			// The queue takes deliveries and is not started: they stay
			// pending, for the delivery log below.
			workers := river.NewWorkers()
			river.AddWorker(workers, &webhook.Worker{Service: hooks})
			q, err := jobs.New(db, workers, jobs.Options{Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			hooks.UseQueue(q)
			d.Complaints, d.Ratings, d.Integration, d.Webhooks = complaints, ratings, integ, hooks
		})
		regions := region.NewStore(db)
		scjg, _ := regions.DepartmentBySlug(ctx, db.Read(), "scjgj")
		zwfwj, _ := regions.DepartmentBySlug(ctx, db.Read(), "zwfwj")

		// The city platform reads complaints (all) and ratings (the
		// regulator's); the regulator's system only reports its steps.
		newClient := func(name string, dept int64, scopes []string, grants ...integration.Grant) (integration.Client, string) {
			t.Helper()
			c, err := integ.CreateClient(ctx, admin, audit.Meta{}, integration.Client{Name: name, DepartmentID: dept, PerMinute: 1000})
			if err != nil {
				t.Fatal(err)
			}
			_, raw, err := integ.IssueKey(ctx, admin, audit.Meta{}, c.ID, "主密钥", scopes)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range grants {
				g.ClientID = c.ID
				if _, err := integ.AddGrant(ctx, admin, audit.Meta{}, g); err != nil {
					t.Fatal(err)
				}
			}
			return c, raw
		}
		platform, platformKey := newClient("市政务服务平台", 0, []string{policy.ScopeComplaints, policy.ScopeRatings, policy.ScopeResultsRead},
			integration.Grant{Data: integration.DataComplaints, Purpose: "督办诉求"},
			integration.Grant{Data: integration.DataRatings, DepartmentID: scjg.ID, Purpose: "汇总好差评"})
		_, marketKey := newClient("区市场监管局业务系统", scjg.ID, []string{policy.ScopeCasesStatus})

		// A complaint by phone, with the person's number in its text, and
		// three ratings: two of the regulator, one of another unit.
		cat, err := complaints.CategoryByCode(ctx, "general")
		if err != nil {
			t.Fatal(err)
		}
		dispatcher := policy.Subject{AccountID: 0, Kind: policy.Staff, Name: "派单员", DepartmentID: zwfwj.ID, RegionCode: zwfwj.RegionCode,
			Roles: []policy.Role{policy.Dispatcher}}
		filed, _, err := complaints.Create(ctx, dispatcher, audit.Meta{}, complaint.Filing{CategoryID: cat.ID, Title: "噪声扰民",
			Description: "工地夜间施工，请回电 13812345678。", RegionCode: "410411001002", Address: "开源路 1 号", Channel: complaint.Phone,
			Name: "王五", Mobile: "13812345678"})
		if err != nil {
			t.Fatal(err)
		}
		var rater int64
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', '张三丰', ?, ?) RETURNING id`,
				clk.Now(), clk.Now()).Scan(&rater)
		}); err != nil {
			t.Fatal(err)
		}
		person := policy.Subject{AccountID: rater, Kind: policy.Person, Name: "张三丰"}
		for i, dept := range []region.Department{scjg, zwfwj, scjg} {
			subj := rating.Subject{Kind: rating.OfComplaint, ID: int64(i + 1), Number: fmt.Sprintf("TS2026112500%d", i), Title: "市场价格投诉",
				DepartmentID: dept.ID, RegionCode: dept.RegionCode, PersonID: rater, Scene: rating.Online}
			if err := db.Tx(ctx, func(tx *store.Tx) error { return ratings.Invite(ctx, tx, subj) }); err != nil {
				t.Fatal(err)
			}
			pending, _ := ratings.Pending(ctx, person)
			in := rating.Input{Level: 5, Comment: "秘密评语", Scores: map[string]rating.Level{"efficiency": 5, "guide": 5, "convenience": 5, "usability": 5}}
			if _, err := ratings.Rate(ctx, person, audit.Meta{}, pending[0].ID, in); err != nil {
				t.Fatal(err)
			}
		}

		send := func(method, path, template, key, body string, want int) []byte {
			t.Helper()
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(integration.PurposeHeader, "督办")
			if key != "" {
				req.Header.Set("X-API-Key", key)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got, _ := io.ReadAll(rec.Body)
			if rec.Code != want {
				t.Fatalf("%s %s: %d, want %d: %s", method, path, rec.Code, want, got)
			}
			var op operation
			if err := json.Unmarshal(doc.Paths[template][strings.ToLower(method)], &op); err != nil {
				t.Fatal(err)
			}
			resp, ok := op.Responses[fmt.Sprint(want)]
			if !ok {
				t.Fatalf("%s %s: status %d is not documented", method, template, want)
			}
			if want == http.StatusNoContent {
				return got
			}
			s := &schema{Ref: "#/components/schemas/Error"}
			if resp.Ref == "" {
				s = resp.Content["application/json"].Schema
			}
			var v any
			if err := json.Unmarshal(got, &v); err != nil {
				t.Fatalf("%s: %v %s", path, err, got)
			}
			if err := validate(doc, s, v, "$"); err != nil {
				t.Errorf("%s %s: %v\n%s", method, template, err, got)
			}
			return got
		}

		// The complaint, masked.
		const ct = "/api/v1/integration/complaints/{number}"
		body := send("GET", "/api/v1/integration/complaints/"+filed.Number, ct, platformKey, "", 200)
		for _, clear := range []string{"王五", "13812345678"} {
			if strings.Contains(string(body), clear) {
				t.Fatalf("the complaint carries %s in clear: %s", clear, body)
			}
		}
		if !strings.Contains(string(body), `"name":"王*"`) || !strings.Contains(string(body), "噪声扰民") {
			t.Fatalf("the complaint: %s", body)
		}
		send("GET", "/api/v1/integration/complaints/"+filed.Number, ct, marketKey, "", 403)
		send("GET", "/api/v1/integration/complaints/"+filed.Number, ct, "", "", 401)
		send("GET", "/api/v1/integration/complaints/TS000", ct, platformKey, "", 404)

		// The ratings of the regulator only, the rater masked, no comment.
		const rt = "/api/v1/integration/ratings"
		var page struct {
			Items []struct {
				ID           int64
				DepartmentID int64 `json:"department_id"`
				Rater        string
			}
			Next int64
		}
		// Not before they settle: the feed must never pass an id whose
		// transaction has yet to commit.
		body = send("GET", rt, rt, platformKey, "", 200)
		if !strings.Contains(string(body), `"items":[]`) {
			t.Fatalf("ratings in the feed before they settled: %s", body)
		}
		clk.Advance(rating.FeedSettle)
		body = send("GET", rt+"?limit=1", rt, platformKey, "", 200)
		if err := json.Unmarshal(body, &page); err != nil || len(page.Items) != 1 || page.Items[0].Rater != "张**" ||
			page.Items[0].DepartmentID != scjg.ID || strings.Contains(string(body), "秘密评语") || strings.Contains(string(body), "张三丰") {
			t.Fatalf("first page: %s %v", body, err)
		}
		first := page.Items[0].ID
		body = send("GET", fmt.Sprintf("%s?after=%d", rt, page.Next), rt, platformKey, "", 200)
		if err := json.Unmarshal(body, &page); err != nil || len(page.Items) != 1 || page.Items[0].DepartmentID != scjg.ID || page.Items[0].ID <= first {
			t.Fatalf("second page: %s %v", body, err)
		}
		send("GET", rt+"?limit=0", rt, platformKey, "", 400)
		body = send("GET", rt, rt, marketKey, "", 403)
		if !strings.Contains(string(body), "ratings") {
			t.Fatalf("without the scope: %s", body)
		}

		// Subscriptions: the platform's complaint and rating events; the
		// regulator's system its cases', not complaints'.
		const wl, wi = "/api/v1/integration/webhooks", "/api/v1/integration/webhooks/{id}"
		var sub struct {
			ID     int64
			Events []string
			Active bool
			Secret string
		}
		body = send("POST", wl, wl, platformKey, `{"url":"https://hooks.example.gov.cn/zwfw","events":["complaint.created","rating.created"]}`, 201)
		if err := json.Unmarshal(body, &sub); err != nil || !strings.HasPrefix(sub.Secret, "zws_") || len(sub.Events) != 2 {
			t.Fatalf("subscribe: %s %v", body, err)
		}
		mine := sub.ID
		body = send("POST", wl, wl, marketKey, `{"url":"https://oa.example.gov.cn/hook","events":["case.accepted","complaint.created"]}`, 403)
		if !strings.Contains(string(body), "无权订阅「诉求已登记」") || !strings.Contains(string(body), "complaints") {
			t.Fatalf("complaint events without the scope: %s", body)
		}
		send("POST", wl, wl, marketKey, `{"url":"http://oa.example.gov.cn/hook","events":["case.accepted"]}`, 400)
		body = send("POST", wl, wl, marketKey, `{"url":"https://oa.example.gov.cn/hook","events":["case.accepted"]}`, 201)
		if err := json.Unmarshal(body, &sub); err != nil {
			t.Fatal(err)
		}
		theirs := sub.ID
		// Each sees its own only.
		body = send("GET", wl, wl, platformKey, "", 200)
		if !strings.Contains(string(body), fmt.Sprintf(`"id":%d`, mine)) || strings.Contains(string(body), fmt.Sprintf(`"id":%d`, theirs)) {
			t.Fatalf("the platform's list: %s", body)
		}
		// A rating event for the platform's subscription: its delivery log,
		// paged, and the event sent again; not another client's.
		rated, err := ratings.Shared(ctx, admin, rating.SharedFilter{All: true, Limit: 1})
		if err != nil || len(rated) != 1 {
			t.Fatalf("a rating: %v %v", rated, err)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return hooks.RatingCreated(ctx, tx, rated[0]) }); err != nil {
			t.Fatal(err)
		}
		const dl, rd = wi + "/deliveries", wi + "/deliveries/{delivery}/redeliver"
		var deliveries struct {
			Items []struct {
				ID          int64
				EventID     string `json:"event_id"`
				State       string
				Redelivered bool
			}
			Before int64
		}
		body = send("GET", fmt.Sprintf("%s/%d/deliveries", wl, mine), dl, platformKey, "", 200)
		if err := json.Unmarshal(body, &deliveries); err != nil || len(deliveries.Items) != 1 || deliveries.Items[0].State != "pending" ||
			deliveries.Before != 0 {
			t.Fatalf("the delivery log: %s %v", body, err)
		}
		sent := deliveries.Items[0]
		body = send("POST", fmt.Sprintf("%s/%d/deliveries/%d/redeliver", wl, mine, sent.ID), rd, platformKey, "", 202)
		if !strings.Contains(string(body), `"redelivered":true`) || !strings.Contains(string(body), sent.EventID) {
			t.Fatalf("redelivered: %s", body)
		}
		body = send("GET", fmt.Sprintf("%s/%d/deliveries?limit=1", wl, mine), dl, platformKey, "", 200)
		if err := json.Unmarshal(body, &deliveries); err != nil || len(deliveries.Items) != 1 || !deliveries.Items[0].Redelivered ||
			deliveries.Before != deliveries.Items[0].ID {
			t.Fatalf("the newest delivery: %s %v", body, err)
		}
		body = send("GET", fmt.Sprintf("%s/%d/deliveries?limit=1&before=%d", wl, mine, deliveries.Before), dl, platformKey, "", 200)
		if err := json.Unmarshal(body, &deliveries); err != nil || len(deliveries.Items) != 1 || deliveries.Items[0].ID != sent.ID {
			t.Fatalf("the page before it: %s %v", body, err)
		}
		send("GET", fmt.Sprintf("%s/%d/deliveries?limit=0", wl, mine), dl, platformKey, "", 400)
		send("GET", fmt.Sprintf("%s/%d/deliveries", wl, mine), dl, marketKey, "", 404)
		send("POST", fmt.Sprintf("%s/%d/deliveries/%d/redeliver", wl, mine, sent.ID), rd, marketKey, "", 404)
		send("POST", fmt.Sprintf("%s/%d/deliveries/%d/redeliver", wl, theirs, sent.ID), rd, marketKey, "", 404)

		send("GET", fmt.Sprintf("%s/%d", wl, theirs), wi, platformKey, "", 404)
		send("PATCH", fmt.Sprintf("%s/%d", wl, theirs), wi, platformKey, `{"active":false}`, 404)
		send("DELETE", fmt.Sprintf("%s/%d", wl, theirs), wi, platformKey, "", 404)
		// Changed, paused, its secret rotated, then deleted.
		body = send("PATCH", fmt.Sprintf("%s/%d", wl, mine), wi, platformKey, `{"events":["rating.created"],"active":false}`, 200)
		if err := json.Unmarshal(body, &sub); err != nil || sub.Active || len(sub.Events) != 1 {
			t.Fatalf("update: %s %v", body, err)
		}
		send("PATCH", fmt.Sprintf("%s/%d", wl, theirs), wi, marketKey, `{"events":["rating.created"]}`, 403)
		send("PATCH", fmt.Sprintf("%s/%d", wl, mine), wi, platformKey, `{"colour":"red"}`, 400)
		body = send("POST", fmt.Sprintf("%s/%d/rotate", wl, mine), wl+"/{id}/rotate", platformKey, "", 200)
		if !strings.Contains(string(body), `"secret_version":2`) || !strings.Contains(string(body), "zws_") {
			t.Fatalf("rotate: %s", body)
		}
		send("DELETE", fmt.Sprintf("%s/%d", wl, mine), wi, platformKey, "", 204)
		send("GET", fmt.Sprintf("%s/%d", wl, mine), wi, platformKey, "", 404)

		// The access log has each read with its records and purpose, and
		// the refusals; it verifies.
		for _, record := range []string{"complaint:" + filed.Number, fmt.Sprintf("rating:%d", first), integration.AccountRecord(rater),
			fmt.Sprintf("webhook:%d", mine)} {
			log, err := integ.Search(ctx, admin, integration.Filter{Record: record})
			if err != nil || len(log) == 0 || log[0].Purpose != "督办" || log[0].Client != "市政务服务平台" {
				t.Fatalf("the log of %s: %+v %v", record, log, err)
			}
		}
		refusals, err := integ.Search(ctx, admin, integration.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var refused int
		for _, e := range refusals {
			if e.Status == 403 {
				refused++
			}
		}
		if refused < 3 {
			t.Fatalf("%d refusals logged", refused)
		}
		if checked, broken, err := integration.Verify(ctx, db.Read(), db.ChainKeys()); err != nil || len(broken) != 0 || checked < 15 {
			t.Fatalf("verify: %d %v %v", checked, broken, err)
		}

		// Revoked, the platform is answered 401 with any of its keys.
		if err := integ.RevokeClient(ctx, policy.Subject{Kind: policy.Staff, Roles: []policy.Role{policy.Window}}, audit.Meta{}, platform.ID); err == nil {
			t.Fatal("a window clerk revoked a client")
		}
		if err := integ.RevokeClient(ctx, admin, audit.Meta{}, platform.ID); err != nil {
			t.Fatal(err)
		}
		send("GET", rt, rt, platformKey, "", 401)
		send("GET", wl, wl, platformKey, "", 401)
		if _, _, err := integ.IssueKey(ctx, admin, audit.Meta{}, platform.ID, "新密钥", []string{policy.ScopeRatings}); err == nil {
			t.Fatal("a key for a revoked client")
		}
	})
}
