// Package apptest runs the real zwfw binary as a process for tests, and
// holds the checks that a crash or an outage lost nothing acknowledged
// and left no case half-written. internal/app's process tests and
// internal/reliability share it.
package apptest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/loadgen"
	"github.com/zwfw/zwfw/internal/store"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/zwfw once per test binary and returns its path.
func Binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	// A load run may compare versions: it runs the binary named here
	// instead of this tree's (docs/PERFORMANCE.md).
	if bin := os.Getenv("ZWFW_LOAD_BINARY"); bin != "" {
		return bin
	}
	bin, err := Build()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// Build builds this tree's cmd/zwfw once per test binary, without the
// race detector, and returns its path.
func Build() (string, error) {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "zwfw-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "zwfw")
		if out, err := exec.Command("go", "build", "-o", binPath, "github.com/zwfw/zwfw/cmd/zwfw").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%w\n%s", err, out)
		}
	})
	return binPath, buildErr
}

// Process is the real binary running as its own process.
type Process struct {
	Cmd  *exec.Cmd
	URL  string
	Logs *SyncBuffer // its standard error
	done chan error
}

var started = regexp.MustCompile(`已启动：(http://\S+)`)

// Start runs the binary with args and extra environment variables and
// waits until it listens. The process is killed when the test ends.
func Start(t *testing.T, env []string, args ...string) *Process {
	t.Helper()
	p := &Process{Cmd: exec.Command(Binary(t), args...), Logs: &SyncBuffer{}, done: make(chan error, 1)}
	p.Cmd.Env = append(os.Environ(), env...)
	stdout, err := p.Cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.Cmd.Stderr = p.Logs
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Cmd.Process.Kill()
		<-p.done
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := started.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		p.done <- p.Cmd.Wait()
	}()
	select {
	case p.URL = <-urls:
	case err := <-p.done:
		p.done <- err
		t.Fatalf("zwfw %s exited before listening: %v\n%s", strings.Join(args, " "), err, p.Logs.String())
	case <-time.After(300 * time.Second): // a hang, not a loaded machine
		t.Fatalf("zwfw %s did not start:\n%s", strings.Join(args, " "), p.Logs.String())
	}
	return p
}

// Wait waits for the process to exit by itself.
func (p *Process) Wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(within):
		t.Fatalf("zwfw did not exit within %s\n%s", within, p.Logs.String())
		return nil
	}
}

// Kill kills the process (SIGKILL: no chance to clean up) and waits for
// it to be gone.
func (p *Process) Kill(t *testing.T) {
	t.Helper()
	if err := p.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.Wait(t, 10*time.Second)
}

// SyncBuffer is a strings.Builder safe for concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// DemoAuditKeys is the ZWFW_AUDIT_KEYS the demo in dir signs its chains
// with.
func DemoAuditKeys(t *testing.T, dir string) string {
	t.Helper()
	var saved struct {
		AuditKeys string `json:"audit_keys"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "keys.json"))
	if err != nil || json.Unmarshal(b, &saved) != nil {
		t.Fatalf("demo keys: %v", err)
	}
	return saved.AuditKeys
}

// DemoChainKeys are the keys the demo in dir signs its chains with.
func DemoChainKeys(t *testing.T, dir string) *chainhash.Keys {
	t.Helper()
	keys, err := chainhash.Parse(DemoAuditKeys(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// Submitters registers n citizens on the demo at c, numbered from first
// (their mobile and identity numbers), and finds them an item to apply
// for online with two materials, of the department with that slug if one
// is given.
func Submitters(t *testing.T, c *loadgen.Client, first, n int, department string) ([]loadgen.Applicant, loadgen.Target) {
	t.Helper()
	ctx := context.Background()
	var as []loadgen.Applicant
	for i := first; i < first+n; i++ {
		a, err := c.Register(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, a)
	}
	target, err := c.PickItem(ctx, 2, department, as[0])
	if err != nil {
		t.Fatal(err)
	}
	return as, target
}

// CheckReceipt fetches an acknowledged case as its applicant and each of
// its files, and compares them with what the server acknowledged.
func CheckReceipt(t *testing.T, c *loadgen.Client, a loadgen.Applicant, r loadgen.Receipt) {
	t.Helper()
	got, err := c.Case(context.Background(), a, r.ID)
	if err != nil {
		t.Fatalf("acknowledged case %s: %v", r.Number, err)
	}
	if got.Number != r.Number || len(got.Materials) != len(r.Materials) {
		t.Fatalf("case %s: %+v, acknowledged %+v", r.Number, got, r)
	}
	for i, m := range r.Materials {
		if got.Materials[i] != m {
			t.Fatalf("case %s material %d: %+v, acknowledged %+v", r.Number, i, got.Materials[i], m)
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/cases/%d/materials/%d", c.URL, r.ID, m.Position), nil)
		req.AddCookie(&http.Cookie{Name: "zwfw_session", Value: a.Token})
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || loadgen.Checksum(body) != m.SHA256 {
			t.Fatalf("case %s material %d: status %d, checksum %s, want %s", r.Number, m.Position, resp.StatusCode, loadgen.Checksum(body), m.SHA256)
		}
	}
}

// CheckNothingHalfWritten checks behind the server that there are at
// least the acknowledged cases, each with its submission on record, every
// case's chain whole, and every file a case names in files with the
// checksum and size the case holds. db must have the chain keys set.
func CheckNothingHalfWritten(t *testing.T, db *store.DB, files filestore.Store, acknowledged int) {
	t.Helper()
	ctx := context.Background()
	var cases, eventless int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM case_events e
		WHERE e.case_id = c.id AND e.action = 'submit') THEN 1 ELSE 0 END), 0) FROM cases c`).Scan(&cases, &eventless); err != nil {
		t.Fatal(err)
	}
	if cases < acknowledged || eventless != 0 {
		t.Fatalf("%d cases (acknowledged %d), %d without their submission on record", cases, acknowledged, eventless)
	}
	if n, broken, err := casework.VerifyChains(ctx, db, db.ChainKeys()); err != nil || len(broken) > 0 || n != cases {
		t.Fatalf("chains: %d checked of %d, broken %v, err %v", n, cases, broken, err)
	}
	rows, err := db.Read().Query(ctx, `SELECT sha256, size FROM case_materials`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var sum string
		var size int64
		if err := rows.Scan(&sum, &size); err != nil {
			t.Fatal(err)
		}
		f, obj, err := files.Open(ctx, sum)
		if err != nil {
			t.Fatalf("material %s recorded but not stored: %v", sum, err)
		}
		data, _ := io.ReadAll(f)
		f.Close()
		if obj.Size != size || loadgen.Checksum(data) != sum {
			t.Fatalf("stored file %s is damaged (%d bytes, want %d)", sum, len(data), size)
		}
		n++
	}
	if n < 2*cases {
		t.Fatalf("%d material rows for %d cases, want two each", n, cases)
	}
}
