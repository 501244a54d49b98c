package app_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/loadgen"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/zwfw once per test run and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	// A load run may compare versions: it runs the binary named here
	// instead of this tree's (docs/PERFORMANCE.md).
	if bin := os.Getenv("ZWFW_LOAD_BINARY"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "zwfw-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "zwfw")
		if out, err := exec.Command("go", "build", "-o", binPath, "github.com/zwfw/zwfw/cmd/zwfw").CombinedOutput(); err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

// process is the real binary running as its own process.
type process struct {
	cmd  *exec.Cmd
	URL  string
	logs *syncBuffer
	done chan error
}

var started = regexp.MustCompile(`已启动：(http://\S+)`)

// startProcess runs the binary with args and extra environment variables
// and waits until it listens. The process is killed when the test ends.
func startProcess(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(binary(t), args...), logs: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), env...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
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
		p.done <- p.cmd.Wait()
	}()
	select {
	case p.URL = <-urls:
	case err := <-p.done:
		p.done <- err
		t.Fatalf("zwfw %s exited before listening: %v\n%s", strings.Join(args, " "), err, p.logs.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("zwfw %s did not start:\n%s", strings.Join(args, " "), p.logs.String())
	}
	return p
}

// wait waits for the process to exit by itself.
func (p *process) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(within):
		t.Fatalf("zwfw did not exit within %s\n%s", within, p.logs.String())
		return nil
	}
}

// submitters registers n citizens on the demo at c and finds them an item
// to apply for online with two materials.
func submitters(t *testing.T, c *loadgen.Client, n int) ([]loadgen.Applicant, loadgen.Target) {
	t.Helper()
	ctx := context.Background()
	var as []loadgen.Applicant
	for i := range n {
		a, err := c.Register(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, a)
	}
	target, err := c.PickItem(ctx, 2, "", as[0])
	if err != nil {
		t.Fatal(err)
	}
	return as, target
}
