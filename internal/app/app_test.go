package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/app"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// server is a zwfw process started through app.Run, as `zwfw` would be.
type server struct {
	URL  string
	out  *syncBuffer
	done chan error
	stop context.CancelFunc
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`已启动：(http://\S+)`)

// start runs `zwfw args…` on port 0 and waits until it listens. The server
// is stopped (as by SIGTERM) when the test ends, and must stop cleanly.
func start(t *testing.T, env map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{out: &syncBuffer{}, done: make(chan error, 1), stop: cancel}
	getenv := func(k string) string {
		// Demo cases fill the database in the background; tests ask for
		// them explicitly.
		if v, ok := env[k]; ok || k != "ZWFW_DEMO_CASES" {
			return v
		}
		return "0"
	}
	go func() {
		err := app.Run(ctx, append(args, "--addr", "127.0.0.1:0"), getenv, strings.NewReader(""), io.MultiWriter(pw, s.out), io.Discard)
		pw.CloseWithError(io.EOF)
		s.done <- err
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case s.URL = <-urls:
	case err := <-s.done:
		t.Fatalf("zwfw %v exited before listening: %v\n%s", args, err, s.out.String())
	case <-time.After(300 * time.Second): // a hang, not a loaded machine
		t.Fatalf("zwfw %v did not start:\n%s", args, s.out.String())
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("zwfw stopped with error: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("zwfw did not stop within 30s of the signal")
		}
	})
	return s
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestDemoServesTheDistrict(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	s := start(t, map[string]string{"ZWFW_DEMO_CASES": "40"}, "demo", "--data", data)
	if !strings.Contains(s.out.String(), "已创建演示区") {
		t.Fatalf("demo did not say it created the district:\n%s", s.out)
	}
	checkServer(t, s)
	// The demo cases arrive in the background, through the real workflow.
	db, err := store.Open(context.Background(), filepath.Join(data, "zwfw.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// After them, the applications to the bundles (一件事一次办), each a
	// case per item.
	deadline := time.Now().Add(90 * time.Second)
	var total int
	for {
		var n, states, bundles int
		db.Read().QueryRow(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT status) FROM cases
			WHERE id NOT IN (SELECT case_id FROM bundle_parts)`).Scan(&n, &states)
		db.Read().QueryRow(context.Background(), `SELECT COUNT(*), (SELECT COUNT(*) FROM cases) FROM bundle_cases`).Scan(&bundles, &total)
		if n == 40 && states >= 4 && bundles == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo cases: %d in %d states, %d applications to bundles", n, states, bundles)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The demo goes on handling its cases in the background: verification
	// reads each case's events and state from one snapshot, so a step
	// committed meanwhile is no alarm.
	if n, broken, err := casework.VerifyChains(context.Background(), db, demoChainKeys(t, data)); err != nil || n != total || len(broken) != 0 {
		t.Fatalf("demo case chains: %d %v %v", n, broken, err)
	}
	// The archive of a completed case exports complete from the command line.
	var number string
	if err := db.Read().QueryRow(context.Background(), `SELECT number FROM cases WHERE status = 'completed' LIMIT 1`).Scan(&number); err != nil {
		t.Fatalf("no completed demo case: %v", err)
	}
	zipPath := filepath.Join(t.TempDir(), "archive.zip")
	var out strings.Builder
	err = app.Run(context.Background(), []string{"archive", "export", number, zipPath, "--db", filepath.Join(data, "zwfw.db"), "--data", data,
		"--audit-keys", demoAuditKeys(t, data)},
		func(string) string { return "" }, strings.NewReader(""), &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "已导出办件") || strings.Contains(out.String(), "不完整") {
		t.Fatalf("archive export: %v\n%s", err, out.String())
	}
	if st, err := os.Stat(zipPath); err != nil || st.Size() < 500 {
		t.Fatalf("archive file: %v", err)
	}
	// A completed case's result swapped behind the application's back:
	// audit verify names the case.
	if err := db.Tx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE cases SET result_sha256 = ? WHERE number = ?`, strings.Repeat("0", 64), number)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = app.Run(context.Background(), []string{"audit", "verify", "--db", filepath.Join(data, "zwfw.db"), "--audit-keys", demoAuditKeys(t, data)},
		func(string) string { return "" }, strings.NewReader(""), &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "办件 "+number) || !strings.Contains(out.String(), "状态不符") {
		t.Fatalf("audit verify after a swapped result: %v\n%s", err, out.String())
	}
}

func TestServeOnEachDatabase(t *testing.T) {
	t.Parallel()
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url := dsn(t)
			// serve refuses a schema that is behind…
			env := withKeys(t, map[string]string{"ZWFW_DATABASE_URL": url})
			err := app.Run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, func(k string) string {
				return env[k]
			}, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "zwfw migrate") {
				t.Fatalf("serve on an empty database: %v, want a refusal naming zwfw migrate", err)
			}
			// …and runs after `zwfw migrate`.
			var out strings.Builder
			if err := app.Run(context.Background(), []string{"migrate", "--db", url}, os.Getenv, strings.NewReader(""), &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "已是最新") {
				t.Fatalf("migrate said: %s", out.String())
			}
			// Metrics are served on their own address, not the public one;
			// an https site asks browsers to stay on https.
			env["ZWFW_METRICS_ADDR"] = "127.0.0.1:0"
			env["ZWFW_PUBLIC_URL"] = "https://zwfw.example.gov.cn"
			s := start(t, env, "serve")
			resp, body := get(t, s.URL+"/readyz")
			if resp.StatusCode != 200 || !strings.Contains(body, "ready") {
				t.Fatalf("readyz: %d %s", resp.StatusCode, body)
			}
			if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "max-age=31536000" {
				t.Errorf("Strict-Transport-Security %q on an https site", hsts)
			}
			if resp, _ := get(t, s.URL+"/metrics"); resp.StatusCode != http.StatusNotFound {
				t.Errorf("/metrics on the public address: %d, want 404", resp.StatusCode)
			}
			m := regexp.MustCompile(`监控指标：(http://\S+)`).FindStringSubmatch(s.out.String())
			if m == nil {
				t.Fatalf("serve did not say where its metrics are:\n%s", s.out)
			}
			if resp, body := get(t, m[1]); resp.StatusCode != 200 || !strings.Contains(body, `zwfw_jobs{state="available"}`) {
				t.Errorf("metrics address: %d %.200s", resp.StatusCode, body)
			}
			resp, _ = get(t, s.URL+"/api/v1/district")
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("district on an empty database: %d, want 404", resp.StatusCode)
			}
		})
	}
}

func checkServer(t *testing.T, s *server) {
	t.Helper()
	resp, body := get(t, s.URL+"/")
	if resp.StatusCode != 200 || !strings.Contains(body, "湛河区政务服务") || !strings.Contains(body, `role="search"`) {
		t.Fatalf("home page: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"区级", "街道(乡镇)级", "社区(村)级", "/workbench", "/admin", "区市场监管局"} {
		if !strings.Contains(body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if resp.Header.Get("X-Request-ID") == "" {
		t.Error("no request ID")
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "" {
		t.Errorf("Strict-Transport-Security %q on a plain http site", hsts)
	}
	css := regexp.MustCompile(`/static/app\.[0-9a-f]{8}\.css`).FindString(body)
	resp, _ = get(t, s.URL+css)
	if css == "" || resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("stylesheet %q: %d %q", css, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}

	if resp, body := get(t, s.URL+"/healthz"); resp.StatusCode != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("healthz: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, s.URL+"/readyz"); resp.StatusCode != 200 || strings.TrimSpace(body) != "ready" {
		t.Errorf("readyz: %d %q", resp.StatusCode, body)
	}
	_, metrics := get(t, s.URL+"/metrics")
	for _, want := range []string{`zwfw_http_requests_total{code="200",method="GET",route="GET /{$}"}`,
		"zwfw_http_request_duration_seconds_bucket", `zwfw_db_pool_open_connections{pool="write"}`, `zwfw_jobs{state="available"}`, "zwfw_staged_files 0"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	resp, body = get(t, s.URL+"/api/openapi.json")
	var doc map[string]any
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &doc) != nil || !strings.HasPrefix(doc["openapi"].(string), "3.1") {
		t.Errorf("openapi.json: %d", resp.StatusCode)
	}
	resp, body = get(t, s.URL+"/api/v1/district")
	var district struct {
		Code   string
		Name   string
		Levels []struct{ Regions, Departments int }
	}
	if err := json.Unmarshal([]byte(body), &district); err != nil || resp.StatusCode != 200 || district.Name != "湛河区" || len(district.Levels) != 3 {
		t.Errorf("district API: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, s.URL+"/api/v1/departments?level=9")
	if resp.StatusCode != 400 || !strings.Contains(body, `"code":"invalid"`) {
		t.Errorf("bad level: %d %s", resp.StatusCode, body)
	}
}

func TestDemoReusesItsDataAndResets(t *testing.T) {
	t.Parallel()
	syscall.Umask(0o022) // the usual one, which would leave the files readable by all
	data := filepath.Join(t.TempDir(), "data")
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- app.Run(ctx, append([]string{"demo", "--data", data, "--addr", "127.0.0.1:0", "--demo-cases", "0"}, args...), func(string) string { return "" }, strings.NewReader(""), pw, io.Discard)
			pw.Close()
		}()
		var out strings.Builder
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "已启动") {
				cancel()
			}
		}
		if err := <-done; err != nil {
			t.Fatalf("demo %v: %v", args, err)
		}
		return out.String()
	}
	if out := run(); !strings.Contains(out, "已创建演示区") {
		t.Fatalf("first run: %s", out)
	}
	// The data hold personal data: the folder and the database are the
	// owner's alone. SQLite removes its -wal and -shm files when the last
	// connection closes cleanly, so those are checked when they are left.
	for name, want := range map[string]os.FileMode{"": 0o700, "files": 0o700, "zwfw.db": 0o600, "zwfw.db-wal": 0o600, "zwfw.db-shm": 0o600} {
		st, err := os.Stat(filepath.Join(data, name))
		if errors.Is(err, os.ErrNotExist) && strings.HasPrefix(name, "zwfw.db-") {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s/%s has mode %v, want %v", data, name, st.Mode().Perm(), want)
		}
	}
	if out := run(); !strings.Contains(out, "沿用已有演示数据") {
		t.Fatalf("second run: %s", out)
	}
	if out := run("--reset"); !strings.Contains(out, "已创建演示区") {
		t.Fatalf("reset run: %s", out)
	}
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	run := func(env map[string]string, args ...string) (string, string, error) {
		var out, errOut strings.Builder
		err := app.Run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	out, _, err := run(nil, "help")
	if err != nil || !strings.Contains(out, "demo") || !strings.Contains(out, "serve") || !strings.Contains(out, "migrate") {
		t.Fatalf("help: %v\n%s", err, out)
	}
	out, _, err = run(nil, "version")
	if err != nil || !strings.HasPrefix(out, "zwfw ") {
		t.Fatalf("version: %v %q", err, out)
	}
	for _, cmd := range []string{"demo", "serve", "migrate", "jobs"} {
		_, errOut, err := run(nil, cmd, "-h")
		if err != nil || !strings.Contains(errOut, "用法：zwfw "+cmd) {
			t.Errorf("%s -h: %v\n%s", cmd, err, errOut)
		}
	}
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"frobnicate"}, "未知命令"},
		{nil, []string{"serve", "--addr", "nonsense"}, "ZWFW_ADDR"},
		{map[string]string{"ZWFW_LOG_FORMAT": "xml"}, []string{"serve"}, "ZWFW_LOG_FORMAT"},
		{map[string]string{"ZWFW_JOB_WORKERS": "-1"}, []string{"serve"}, "ZWFW_JOB_WORKERS"},
		{map[string]string{"ZWFW_DATABASE_URL_FILE": "/nonexistent/secret"}, []string{"serve"}, "ZWFW_DATABASE_URL_FILE"},
		{nil, []string{"serve"}, "ZWFW_DATA_KEYS"},
		{withKeys(t, nil), []string{"serve"}, "未指定数据库"},
		{withKeys(t, map[string]string{"ZWFW_AUDIT_KEYS": ""}), []string{"serve"}, "ZWFW_AUDIT_KEYS"},
		{withKeys(t, map[string]string{"ZWFW_AUDIT_KEYS": "a1:short"}), []string{"serve"}, "ZWFW_AUDIT_KEYS"},
		{map[string]string{"ZWFW_STAFF_TOTP": "false"}, []string{"serve"}, "ZWFW_STAFF_TOTP"},
		{nil, []string{"migrate", "stray"}, "多余的参数"},
	}
	for _, c := range cases {
		_, _, err := run(c.env, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v %v: error %v, want one line mentioning %q", c.env, c.args, err, c.want)
		}
		if app.ExitCode(err) != 2 {
			t.Errorf("%v: exit code %d, want 2", c.args, app.ExitCode(err))
		}
	}
}

func TestDatabaseURLFromFile(t *testing.T) {
	t.Parallel()
	dsn := storetest.SQLiteURL(t)
	secret := filepath.Join(t.TempDir(), "db-url")
	if err := os.WriteFile(secret, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err := app.Run(context.Background(), []string{"migrate"}, func(k string) string {
		return map[string]string{"ZWFW_DATABASE_URL_FILE": secret}[k]
	}, strings.NewReader(""), &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "sqlite") {
		t.Fatalf("migrate with ZWFW_DATABASE_URL_FILE: %v\n%s", err, out.String())
	}
}

// withKeys adds freshly generated personal-data and chain keys to env.
func withKeys(t *testing.T, env map[string]string) map[string]string {
	t.Helper()
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	chain, err := chainhash.Generate()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{"ZWFW_DATA_KEYS": enc, "ZWFW_INDEX_KEY": idx, "ZWFW_AUDIT_KEYS": chain}
	for k, v := range env {
		out[k] = v
	}
	return out
}
