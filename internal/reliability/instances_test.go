package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apptest"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/calendardays"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/loadgen"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// Two instances on one PostgreSQL database, with citizens submitting
// through both all along: what one instance does, the other sees, and
// nothing is done twice.
func TestTwoInstancesOnOneDatabase(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresURL(t)
	dir := t.TempDir()
	a := startDemo(t, dir, dsn)
	b := startDemo(t, dir, dsn)
	db := openDB(t, dsn, dir)
	rc := newReceiver(t)
	if n := rc.subscribe(t, db); n != 1 {
		t.Fatalf("%d webhook subscriptions, want the demo's one", n)
	}
	ctx := context.Background()

	// The load: four citizens on each instance, submitting to an item of
	// the market regulator (whose staff the demo has).
	ca, cb := loadgen.NewClient(a.URL, 4), loadgen.NewClient(b.URL, 4)
	appsA, target := apptest.Submitters(t, ca, 0, 4, "scjgj")
	appsB, _ := apptest.Submitters(t, cb, 10, 4, "")
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var loads sync.WaitGroup
	results := make([]loadgen.Result, 2)
	for i, l := range []struct {
		c    *loadgen.Client
		apps []loadgen.Applicant
	}{{ca, appsA}, {cb, appsB}} {
		loads.Add(1)
		go func() {
			defer loads.Done()
			results[i] = l.c.Run(loadCtx, l.apps, target, loadgen.Options{Concurrency: 2, Duration: 2 * time.Minute, FileSize: 4 << 10})
		}()
	}
	// submit makes one case through c for the steps below, of an item
	// with a limit in working days that a holiday can move.
	limited, err := ca.PickItemWhere(ctx, 2, "scjgj", appsA[0], func(it catalog.Item) bool {
		return it.PromiseLimit.Unit == string(calendar.WorkingDays) && it.PromiseLimit.Value >= 3
	})
	if err != nil {
		t.Fatal(err)
	}
	submit := func(c *loadgen.Client, who loadgen.Applicant) loadgen.Receipt {
		t.Helper()
		r, err := c.Submit(ctx, who, limited, []loadgen.File{{Name: "申请书.pdf", Data: loadgen.SmallPDF(9000+int(time.Now().UnixNano()%1000), 2048)},
			{Name: "身份证明.pdf", Data: loadgen.SmallPDF(9999, 2048)}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// dueOn reads a case's due date as its applicant through c.
	dueOn := func(c *loadgen.Client, who loadgen.Applicant, id int64) calendar.Date {
		t.Helper()
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/cases/%d", c.URL, id), nil)
		req.Header.Set("Authorization", "Bearer "+who.Token)
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct {
			DueOn string `json:"due_on"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.DueOn == "" {
			t.Fatalf("case %d: no due date (%v)", id, err)
		}
		d, err := calendardays.ParseDay(got.DueOn)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	clerkA, clerkB := a.signIn(t, "scjg.window"), b.signIn(t, "scjg.window")

	// (a) The same acceptance, sent eight times at once through both
	// instances: one is taken, the others are told the case changed,
	// and the case's record holds one acceptance.
	first := submit(ca, appsA[0])
	version := b.acceptVersion(t, clerkB, first.ID)
	statuses := make([]int, 8)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, tok := a, clerkA
			if i%2 == 1 {
				in, tok = b, clerkB
			}
			resp, _ := in.post(t, tok, fmt.Sprintf("/workbench/cases/%d", first.ID), url.Values{"op": {"accept"}, "version": {version}})
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	taken, conflicts := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusSeeOther:
			taken++
		case http.StatusConflict:
			conflicts++
		}
	}
	if taken != 1 || conflicts != len(statuses)-1 {
		t.Fatalf("concurrent acceptances answered %v: want one 303 and the rest 409", statuses)
	}
	var accepts int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM case_events WHERE case_id = ? AND action = 'accept'`, first.ID).Scan(&accepts); err != nil || accepts != 1 {
		t.Fatalf("%d acceptances on record (%v), want 1", accepts, err)
	}
	if _, body := a.get(t, clerkA, fmt.Sprintf("/workbench/cases/%d", first.ID)); !strings.Contains(body, "审查") {
		t.Errorf("the accepted case on the other instance does not show it under review")
	}

	// (d) A rest day added by an administrator on A moves the deadline
	// of a case accepted on B from then on by one working day.
	before := dueOn(cb, appsA[0], first.ID)
	national := calendar.New(nil)
	today := calendar.DateOf(time.Now())
	holiday := national.FirstWorkday(today.AddDays(1))
	if !holiday.Before(before) {
		t.Fatalf("no working day between today (%s) and the due date %s to make a holiday of", today, before)
	}
	admin := a.signIn(t, "admin")
	if resp, body := a.post(t, admin, "/admin/calendar", url.Values{"day": {holiday.String()}, "kind": {"rest"}, "label": {"区庆放假（测试）"},
		"year": {fmt.Sprint(holiday.Y)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding a rest day on A: %d\n%.1000s", resp.StatusCode, body)
	}
	added := time.Now()

	// (b) Meanwhile a catalog manager suspends another item of the
	// department on A: a search on B shows it suspended within the poll.
	var item struct{ ID int64 }
	var itemName string
	{
		resp, body := b.get(t, "", "/api/v1/items?department=scjgj&limit=20")
		var list struct {
			Items []struct {
				ID   int64
				Name string
			}
		}
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &list) != nil {
			t.Fatalf("items: %d", resp.StatusCode)
		}
		for _, it := range list.Items {
			if it.ID != target.Item.ID && it.ID != limited.Item.ID {
				item.ID, itemName = it.ID, it.Name
				break
			}
		}
	}
	manager := a.signIn(t, "scjg.catalog")
	suspended := func(want bool) time.Duration {
		t.Helper()
		start := time.Now()
		for {
			_, body := b.get(t, "", "/api/v1/items?department=scjgj&limit=5&q="+url.QueryEscape(itemName))
			var res struct {
				Items []struct {
					ID        int64
					Suspended bool
				}
			}
			json.Unmarshal([]byte(body), &res)
			for _, it := range res.Items {
				if it.ID == item.ID && it.Suspended == want {
					return time.Since(start)
				}
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("B's search still shows item %d suspended=%v after %v", item.ID, !want, time.Since(start))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, step := range []struct {
		op   string
		want bool
	}{{"suspend", true}, {"resume", false}} {
		if resp, body := a.post(t, manager, fmt.Sprintf("/admin/items/%d/status", item.ID), url.Values{"op": {step.op}, "reason": {"系统升级（测试）"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s item %d on A: %d\n%.1000s", step.op, item.ID, resp.StatusCode, body)
		}
		lag := suspended(step.want)
		t.Logf("%s on A found by B's search after %v", step.op, lag.Round(10*time.Millisecond))
		// The poll is every 2 s; the rebuild of a busy instance adds to it.
		if lag > 3*time.Second {
			t.Errorf("%s on A took %v to reach B's search", step.op, lag)
		}
	}

	// (d, continued) B has polled the calendar by now (every 2 s).
	time.Sleep(time.Until(added.Add(3 * time.Second)))
	second := submit(cb, appsB[0])
	if resp, body := b.post(t, clerkB, fmt.Sprintf("/workbench/cases/%d", second.ID),
		url.Values{"op": {"accept"}, "version": {b.acceptVersion(t, clerkB, second.ID)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("accepting on B: %d\n%.1000s", resp.StatusCode, body)
	}
	after := dueOn(ca, appsB[0], second.ID)
	if want := national.AddWorkdays(before, 1); !after.Equal(want) {
		t.Fatalf("accepted on B after the rest day %s was added on A: due %s, want %s (one working day after %s)", holiday, after, want, before)
	}

	// The load ends; every case acknowledged by either instance reads the
	// same through the other, and none is half-written.
	stopLoad()
	loads.Wait()
	for i, res := range results {
		if res.Submitted < 5 || res.Failed > 0 {
			t.Fatalf("load through instance %d: %d acknowledged, %d failed (first: %v)", i, res.Submitted, res.Failed, res.FirstErr)
		}
	}
	t.Logf("acknowledged through A %d, through B %d", results[0].Submitted, results[1].Submitted)
	for _, r := range results[0].Receipts {
		apptest.CheckReceipt(t, cb, appsA[r.Applicant], r)
	}
	for _, r := range results[1].Receipts {
		apptest.CheckReceipt(t, ca, appsB[r.Applicant], r)
	}
	apptest.CheckNothingHalfWritten(t, db, files(t, db, dir), results[0].Submitted+results[1].Submitted+2)

	// (c) Both instances work the job queue: every event reached each
	// subscription once, each delivery job ran once.
	waitDeliveries(t, db, time.Minute)
	ds := deliveries(t, db)
	var events, live int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM webhook_events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM webhook_subscriptions s JOIN api_clients c ON c.id = s.client_id
		WHERE s.active = ? AND c.revoked_at IS NULL`, true).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if events < results[0].Submitted+results[1].Submitted || live == 0 || len(ds) != live*events {
		t.Fatalf("%d events, %d deliveries to %d live subscriptions: want one per event and subscription", events, len(ds), live)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for key, d := range ds {
		if d.State != "delivered" || d.Attempts != 1 || rc.answered[key] != 1 {
			t.Fatalf("delivery %s: %s after %d attempts, received %d times; want delivered once", key, d.State, d.Attempts, rc.answered[key])
		}
	}
	if len(rc.answered) != len(ds) {
		t.Fatalf("the receiver got %d deliveries, the database holds %d", len(rc.answered), len(ds))
	}
	var jobs, again int
	db.Read().QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN attempt <> 1 OR state <> 'completed' THEN 1 ELSE 0 END), 0)
		FROM river_job WHERE kind IN ('webhook_deliver', 'case_sms')`).Scan(&jobs, &again)
	if jobs < len(ds) || again != 0 {
		t.Fatalf("%d jobs, %d of them not completed at their first attempt", jobs, again)
	}
}
