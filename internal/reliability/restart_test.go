package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apptest"
	"github.com/zwfw/zwfw/internal/loadgen"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// PostgreSQL stops under load and comes back: while it is down, requests
// that need it are answered 503 with a message to try again (none 500),
// the instance serves again by itself once it is back, and every
// submission it acknowledged is whole.
func TestPostgresRestartUnderLoad(t *testing.T) {
	t.Parallel()
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip(storetest.PostgresEnv + " is not set: PostgreSQL tests skipped")
	}
	pg := newCluster(t)
	dir := t.TempDir()
	in := startDemo(t, dir, pg.URL())
	db := openDB(t, pg.URL(), dir)
	rc := newReceiver(t)
	rc.subscribe(t, db)
	c := loadgen.NewClient(in.URL, 8)
	applicants, target := apptest.Submitters(t, c, 0, 4, "")
	ctx := context.Background()
	mine, err := c.Submit(ctx, applicants[0], target, []loadgen.File{{Name: "申请书.pdf", Data: loadgen.SmallPDF(77000, 2048)},
		{Name: "身份证明.pdf", Data: loadgen.SmallPDF(77003, 2048)}})
	if err != nil {
		t.Fatal(err)
	}

	// A prober reads the first applicant's cases and one of them (the
	// session and the case come from the database) every 20 ms through the page and the
	// API, and notes every answer.
	type answer struct {
		at     time.Time
		status int
		body   string
	}
	var mu sync.Mutex
	var answers []answer
	probeCtx, stopProbe := context.WithCancel(ctx)
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		for n := 0; probeCtx.Err() == nil; n++ {
			path, cookie := "/me/cases", true
			if n%2 == 1 {
				path, cookie = fmt.Sprintf("/api/v1/cases/%d", mine.ID), false
			}
			req, _ := http.NewRequestWithContext(probeCtx, "GET", in.URL+path, nil)
			if cookie {
				req.AddCookie(&http.Cookie{Name: "zwfw_session", Value: applicants[0].Token})
			} else {
				req.Header.Set("Authorization", "Bearer "+applicants[0].Token)
			}
			resp, err := c.HTTP.Do(req)
			if err != nil {
				continue
			}
			var b strings.Builder
			buf := make([]byte, 4096)
			for {
				k, err := resp.Body.Read(buf)
				b.Write(buf[:k])
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			mu.Lock()
			answers = append(answers, answer{time.Now(), resp.StatusCode, b.String()})
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	done := make(chan loadgen.Result, 1)
	go func() {
		done <- c.Run(loadCtx, applicants, target, loadgen.Options{Concurrency: 4, Duration: 2 * time.Minute, FileSize: 4 << 10})
	}()
	time.Sleep(2 * time.Second)

	// Down for three seconds: a restart, or a failover's gap.
	down := time.Now()
	pg.stop(t)
	time.Sleep(1500 * time.Millisecond)
	if resp, body := in.get(t, "", "/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database down: %d %s", resp.StatusCode, body)
	}
	time.Sleep(1500 * time.Millisecond)
	pg.start(t)
	up := time.Now()

	// It serves again by itself: the prober's answers turn 200, and a
	// submission is acknowledged.
	var back time.Duration
	for {
		mu.Lock()
		last := answers[len(answers)-1]
		mu.Unlock()
		if last.at.After(up) && last.status == 200 {
			if _, err := c.Submit(ctx, applicants[1], target, []loadgen.File{{Name: "申请书.pdf", Data: loadgen.SmallPDF(77001, 2048)},
				{Name: "身份证明.pdf", Data: loadgen.SmallPDF(77002, 2048)}}); err == nil {
				back = time.Since(up)
				break
			}
		}
		if time.Since(up) > 30*time.Second {
			t.Fatalf("not serving 30 s after the database came back; last answer %d %.300s\n%s", last.status, last.body, in.Logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("serving again %v after the database came back", back.Round(10*time.Millisecond))
	if resp, body := in.get(t, "", "/readyz"); resp.StatusCode != 200 {
		t.Errorf("readyz after the database came back: %d %s", resp.StatusCode, body)
	}
	time.Sleep(time.Second) // some load after the restart too
	stopLoad()
	res := <-done
	stopProbe()
	<-probed

	// During the outage, every refusal was a 503 with 请稍后重试: JSON
	// for the API, the error page for a page.
	refused := 0
	for _, a := range answers {
		switch {
		case a.status == 200:
		case a.status == http.StatusServiceUnavailable && strings.Contains(a.body, "请稍后重试") &&
			(strings.HasPrefix(a.body, "{") || strings.Contains(a.body, "<title>")):
			if a.at.Before(down) {
				t.Errorf("503 before the database went down: %.300s", a.body)
			}
			refused++
		default:
			t.Errorf("answer %d at %v (down at %v, up at %v): %.500s", a.status, a.at.Format("15:04:05.000"),
				down.Format("15:04:05.000"), up.Format("15:04:05.000"), a.body)
		}
	}
	if refused == 0 {
		t.Fatalf("no request was refused while the database was down (%d answers)", len(answers))
	}
	// A page's refusal is the whole error page, its title saying so.
	for _, a := range answers {
		if a.status == 503 && strings.HasPrefix(a.body, "<") && !strings.Contains(a.body, "服务暂不可用") {
			t.Errorf("the page's refusal: %.1000s", a.body)
		}
	}
	var apiBody struct{ Code, Message string }
	for _, a := range answers {
		if a.status == 503 && json.Unmarshal([]byte(a.body), &apiBody) == nil {
			break
		}
	}
	if apiBody.Code != "unavailable" || !strings.Contains(apiBody.Message, "请稍后重试") {
		t.Errorf("the API's refusal: %+v", apiBody)
	}
	// The load's submissions that failed, failed the same way.
	if res.Failed > 0 && !strings.Contains(fmt.Sprint(res.FirstErr), "status 503") {
		t.Errorf("a submission failed otherwise than with 503: %v", res.FirstErr)
	}
	t.Logf("%d answers probed, %d refused with 503; load: %d acknowledged, %d refused", len(answers), refused, res.Submitted, res.Failed)

	// The job queue works again too: the webhook deliveries of the cases
	// made since are delivered.
	for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
		var made, delivered int
		db.Read().QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN d.state = 'delivered' THEN 1 ELSE 0 END), 0)
			FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE e.created_at > ?`, up.UTC()).Scan(&made, &delivered)
		if made > 0 && made == delivered {
			t.Logf("the %d deliveries of events since the restart delivered %v after the load", made, time.Since(start).Round(100*time.Millisecond))
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("%d of %d deliveries of events since the restart delivered 30 s after the load", delivered, made)
		}
	}

	// Nothing acknowledged is lost, nothing half-written.
	for _, r := range res.Receipts {
		apptest.CheckReceipt(t, c, applicants[r.Applicant], r)
	}
	apptest.CheckNothingHalfWritten(t, db, files(t, db, dir), res.Submitted+2)
}
