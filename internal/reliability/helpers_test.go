package reliability_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apptest"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
)

// instance is one zwfw demo process on a shared database and data folder
// (the folder holds the keys, which instances must share, and the files,
// which several instances share through S3 in production).
type instance struct {
	*apptest.Process
	http *http.Client
}

// startDemo starts `zwfw demo` on the database dsn with its data in dir.
// The first instance on a database seeds the demo district; later ones
// find it and use it.
func startDemo(t *testing.T, dir, dsn string, env ...string) *instance {
	t.Helper()
	p := apptest.Start(t, append([]string{"ZWFW_DEMO_CASES=0"}, env...),
		"demo", "--data", dir, "--db", dsn, "--addr", "127.0.0.1:0", "--log-level", "warn")
	return &instance{Process: p, http: &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signIn signs a demo staff account in and returns its session token.
func (in *instance) signIn(t *testing.T, username string) string {
	t.Helper()
	resp, _ := in.post(t, "", "/staff/signin", url.Values{"username": {username}, "password": {demo.StaffPassword}})
	for _, c := range resp.Cookies() {
		if c.Name == "zwfw_session" && c.Value != "" {
			return c.Value
		}
	}
	t.Fatalf("%s did not sign in: status %d", username, resp.StatusCode)
	return ""
}

// post sends a form as the session token (none if empty) and returns the
// answer and its body.
func (in *instance) post(t *testing.T, token, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", in.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return in.do(t, token, req)
}

// get fetches path as the session token (none if empty).
func (in *instance) get(t *testing.T, token, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", in.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return in.do(t, token, req)
}

func (in *instance) do(t *testing.T, token string, req *http.Request) (*http.Response, string) {
	t.Helper()
	if token != "" {
		req.AddCookie(&http.Cookie{Name: "zwfw_session", Value: token})
	}
	resp, err := in.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var caseVersion = regexp.MustCompile(`name="op" value="accept"><input type="hidden" name="version" value="(\d+)"`)

// acceptVersion reads, from the staff page of a case, the version its
// accept form sends.
func (in *instance) acceptVersion(t *testing.T, token string, id int64) string {
	t.Helper()
	resp, body := in.get(t, token, fmt.Sprintf("/workbench/cases/%d", id))
	m := caseVersion.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("staff page of case %d: status %d, no accept form\n%.2000s", id, resp.StatusCode, body)
	}
	return m[1]
}

// openDB opens the instances' database, with the demo's chain keys, for
// the checks behind the servers.
func openDB(t *testing.T, dsn, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetChainKeys(apptest.DemoChainKeys(t, dir))
	return db
}

// files is the file store of the demo in dir: small files may still wait
// in the stage, or be in the store.
func files(t *testing.T, db *store.DB, dir string) filestore.Store {
	t.Helper()
	local, err := filestore.NewLocal(filepath.Join(dir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	return staging.New(db, local)
}

// receiver stands for the systems subscribed to webhooks: it counts the
// requests for each delivery (event ID and subscription) it answered,
// and those whose sender went away before the answer. While held, it
// answers nothing until released.
type receiver struct {
	*httptest.Server

	mu       sync.Mutex
	gate     chan struct{} // closed: answer at once
	waiting  int           // requests held now
	answered map[string]int
	cut      map[string]int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{gate: make(chan struct{}), answered: map[string]int{}, cut: map[string]int{}}
	close(rc.gate)
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Zwfw-Webhook-Id") + "/" + r.URL.Query().Get("s")
		io.Copy(io.Discard, r.Body)
		rc.mu.Lock()
		gate := rc.gate
		rc.waiting++
		rc.mu.Unlock()
		select {
		case <-gate:
		case <-r.Context().Done():
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.waiting--
		if r.Context().Err() != nil {
			rc.cut[key]++
			return
		}
		w.WriteHeader(http.StatusNoContent)
		rc.answered[key]++
	}))
	t.Cleanup(rc.Close)
	t.Cleanup(rc.release) // before Close, which waits for the requests
	return rc
}

// hold makes the receiver keep every request open until release.
func (rc *receiver) hold() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.gate = make(chan struct{})
}

// release answers the requests held, and the next ones at once.
func (rc *receiver) release() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	select {
	case <-rc.gate:
	default:
		close(rc.gate)
	}
}

// held is how many requests the receiver holds now.
func (rc *receiver) held() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.waiting
}

// subscribe points every webhook subscription of the database at the
// receiver, each with its ID in the address. (The demo subscribes the
// city platform's API client to every event at its own receiver page;
// the address is changed behind it, as an administrator would on
// /admin/webhooks, to count the deliveries outside the instances.)
func (rc *receiver) subscribe(t *testing.T, db *store.DB) int {
	t.Helper()
	ctx := context.Background()
	var n int64
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET url = ? || CAST(id AS TEXT)`, rc.URL+"/hook?s=")
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// waitDeliveries waits until no webhook delivery is pending and no
// delivery job is left to run.
func waitDeliveries(t *testing.T, db *store.DB, within time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(within)
	for {
		var pending, jobs int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'`).Scan(&pending)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'webhook_deliver' AND state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&jobs)
		if pending == 0 && jobs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries pending, %d delivery jobs left %v on", pending, jobs, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// deliveries lists every delivery as "event/subscription", with its state
// and recorded attempts.
func deliveries(t *testing.T, db *store.DB) map[string]struct {
	State    string
	Attempts int
} {
	t.Helper()
	rows, err := db.Read().Query(context.Background(), `SELECT e.public_id, d.subscription_id, d.state, d.attempts
		FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]struct {
		State    string
		Attempts int
	}{}
	for rows.Next() {
		var id, state string
		var sub int64
		var attempts int
		if err := rows.Scan(&id, &sub, &state, &attempts); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("%s/%d", id, sub)] = struct {
			State    string
			Attempts int
		}{state, attempts}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
