package filestore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/filestore/s3test"
)

// The S3 server process is killed (SIGKILL) while a large upload is half
// sent, and started again: the upload fails with a clear error, no object
// (whole or partial) is under the key, no temporary file is left on either
// side, and the same upload goes through once the server is back.
func TestS3KilledMidUpload(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	// The client reaches the server through a relay that holds the upload
	// once a quarter of it has passed, so the kill lands mid-body every
	// time, however fast the machine.
	data := makePDF(t, 16*mib, 77)
	relay := newRelay(t, srv.Addr, int64(len(data)/4))
	tempDir := t.TempDir()
	s, err := NewS3(context.Background(), S3Config{Endpoint: "http://" + relay.addr, Region: s3test.Region, Bucket: testBucket,
		AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey, PathStyle: true, TempDir: tempDir})
	if err != nil {
		t.Fatal(err)
	}

	// The server is down for the rest of the client's retries.
	relay.down.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(context.Background(), bytes.NewReader(data), 20*mib)
		done <- err
	}()
	<-relay.held
	if spooled := dirNames(t, filepath.Join(srv.Dir, "spool")); len(spooled) != 1 {
		t.Fatalf("server receiving %v, want one body", spooled)
	}
	srv.Kill()
	relay.release()
	err = <-done
	if !errors.Is(err, ErrUnavailable) || apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("Put with the server killed = %v, want ErrUnavailable", err)
	}
	if m := apperr.MessageOf(err); m != "文件存储暂时不可用，文件未保存，请稍后再试" {
		t.Errorf("message %q", m)
	}
	assertNoLeftovers(t, harness{leftovers: func(t *testing.T) []string { return dirNames(t, tempDir) }})
	// A download while the server is down is the same clear error.
	if _, _, err := s.Open(context.Background(), sum(data)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Open with the server down = %v, want ErrUnavailable", err)
	}

	srv.Restart()
	relay.down.Store(false)
	if keys := s3Keys(t, s); len(keys) != 0 {
		t.Fatalf("after the restart the bucket holds %v, want nothing", keys)
	}
	if ok, err := s.Exists(context.Background(), sum(data)); ok || err != nil {
		t.Fatalf("Exists = %v, %v after the failed upload", ok, err)
	}
	if spooled := dirNames(t, filepath.Join(srv.Dir, "spool")); len(spooled) != 0 {
		t.Fatalf("the restarted server kept %v", spooled)
	}

	obj, err := s.Put(context.Background(), bytes.NewReader(data), 20*mib)
	if err != nil {
		t.Fatalf("Put after the restart: %v", err)
	}
	if got, o := readAll(t, s, obj.SHA256); !bytes.Equal(got, data) || o != obj {
		t.Fatalf("Open = %+v with %d bytes; put %+v", o, len(got), obj)
	}
	// A restart keeps what was stored.
	srv.Restart()
	if got, _ := readAll(t, s, obj.SHA256); !bytes.Equal(got, data) {
		t.Fatal("the object changed across a restart")
	}
	assertNoLeftovers(t, harness{leftovers: func(t *testing.T) []string { return dirNames(t, tempDir) }})
}

// relay forwards TCP connections to a server. Once hold bytes have gone
// from the clients to the server it stops forwarding them and closes held;
// release lets the bytes flow again. While down is set, new connections
// are closed at once, as a stopped server refuses them.
type relay struct {
	addr string
	held chan struct{}
	down atomic.Bool

	hold     int64
	sent     atomic.Int64
	holdOnce sync.Once
	gate     chan struct{}

	mu    sync.Mutex
	conns []net.Conn // closed at the end, idle keep-alive ones included
}

func newRelay(t *testing.T, target string, hold int64) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{addr: ln.Addr().String(), held: make(chan struct{}), gate: make(chan struct{}), hold: hold}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		r.release()
		r.mu.Lock()
		for _, c := range r.conns {
			c.Close()
		}
		r.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns = append(r.conns, c)
			r.mu.Unlock()
			wg.Go(func() { r.serve(c, target) })
		}
	})
	return r
}

func (r *relay) release() {
	select {
	case <-r.gate:
	default:
		close(r.gate)
	}
}

func (r *relay) serve(c net.Conn, target string) {
	defer c.Close()
	if r.down.Load() && r.sent.Load() >= r.hold {
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		io.Copy(c, up)
		c.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if r.sent.Add(int64(n)) >= r.hold {
				r.holdOnce.Do(func() { close(r.held) })
				<-r.gate
			}
			if _, werr := up.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
