package app_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The real binary stops cleanly on SIGTERM: it exits 0 after the server and
// the job workers have shut down.
func TestBinaryStopsCleanlyOnSIGTERM(t *testing.T) {
	t.Parallel()
	p := startProcess(t, []string{"ZWFW_DEMO_CASES=0"}, "demo", "--data", filepath.Join(t.TempDir(), "data"), "--addr", "127.0.0.1:0")
	resp, err := http.Get(p.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	resp.Body.Close()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.Logs.String())
	}
	if !strings.Contains(p.Logs.String(), "msg=stopped") {
		t.Fatalf("no clean stop in the log:\n%s", p.Logs.String())
	}
}
