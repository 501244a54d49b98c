// Package s3test runs an S3-protocol server as a child process for tests:
// internal/filestore/s3server, built once per test binary and started with
// its objects in a folder of the test, so a test can kill it (SIGKILL) and
// start it again on the same address with the same objects.
package s3test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Credentials the server accepts (it checks signatures, not who signs).
const (
	AccessKey = "zwfw-test"
	SecretKey = "zwfw-test-secret"
	Region    = "us-east-1"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// Main runs the tests of a package that uses Start and removes the server
// binary afterwards: func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	return code
}

func build(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "zwfw-s3server-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "s3server")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/zwfw/zwfw/internal/filestore/s3server").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build s3server: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Server is a running s3server process.
type Server struct {
	// Addr is host:port, the same after Restart.
	Addr string
	// Dir holds the server's objects (Dir/data) and the bodies it is
	// receiving (Dir/spool).
	Dir    string
	bucket string
	cmd    *exec.Cmd
	t      testing.TB
}

// Start starts a server keeping its objects in a new folder of the test,
// with bucket created; the test's end stops it.
func Start(t testing.TB, bucket string) *Server {
	t.Helper()
	s := &Server{Dir: t.TempDir(), bucket: bucket, Addr: "127.0.0.1:0", t: t}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Kill() })
	return s
}

func (s *Server) start() error {
	cmd := exec.Command(build(s.t), "-dir", s.Dir, "-addr", s.Addr, "-bucket", s.bucket)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("s3server did not start: %v", err)
	}
	s.Addr = strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	s.cmd = cmd
	return nil
}

// Kill stops the server with SIGKILL, as a crash or the OOM killer would,
// and waits for it to be gone. Killing a stopped server does nothing.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same address and folder.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	// The port was just freed by the kernel; another process could take it
	// meanwhile, so try a few times before giving up.
	var err error
	for range 20 {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("s3server did not restart on %s: %v", s.Addr, err)
}

// Endpoint is the server's URL.
func (s *Server) Endpoint() string { return "http://" + s.Addr }

// Client returns an S3 client of the server.
func (s *Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Addr, &minio.Options{Creds: credentials.NewStaticV4(AccessKey, SecretKey, ""), Region: Region,
		BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// MakeBucket creates another bucket on the server.
func (s *Server) MakeBucket(t testing.TB, name string) {
	t.Helper()
	if err := s.Client(t).MakeBucket(context.Background(), name, minio.MakeBucketOptions{Region: Region}); err != nil {
		t.Fatal(err)
	}
}
