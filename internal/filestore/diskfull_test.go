package filestore

import (
	"bytes"
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/zwfw/zwfw/internal/apperr"
)

// mountFull mounts a tmpfs of size bytes on a new folder: a real file
// system that really fills up. Mounting needs root (CI runs as root); the
// test is skipped elsewhere, saying why.
func mountFull(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

func assertNoSpace(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrNoSpace) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Put on a full disk = %v, want ErrNoSpace with ENOSPC in the chain", err)
	}
	if c, m := apperr.CodeOf(err), apperr.MessageOf(err); c != apperr.Unavailable || m != "服务器存储空间不足，文件未保存，请稍后再试" {
		t.Fatalf("code %q message %q", c, m)
	}
}

// A file larger than the space left is refused with a clear message and
// leaves nothing behind; once space is freed the same file goes in.
func TestLocalDiskFull(t *testing.T) {
	dir := mountFull(t, "2m")
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := harness{store: l,
		stored:    func(t *testing.T) int { return len(localFiles(t, dir)) },
		leftovers: func(t *testing.T) []string { return tempFiles(t, l.tmp) }}
	ctx := context.Background()
	first, err := l.Put(ctx, bytes.NewReader(makePDF(t, 1200<<10, 1)), 4*mib)
	if err != nil {
		t.Fatal(err)
	}
	big := makePDF(t, 1500<<10, 2)
	_, err = l.Put(ctx, bytes.NewReader(big), 4*mib)
	assertNoSpace(t, err)
	if n := h.stored(t); n != 1 {
		t.Fatalf("%d files stored, want the first only", n)
	}
	if ok, _ := l.Exists(ctx, sum(big)); ok {
		t.Fatal("the refused file exists")
	}
	assertNoLeftovers(t, h)

	if err := l.Delete(ctx, first.SHA256); err != nil {
		t.Fatal(err)
	}
	obj, err := l.Put(ctx, bytes.NewReader(big), 4*mib)
	if err != nil {
		t.Fatalf("Put once space is freed: %v", err)
	}
	if got, _ := readAll(t, l, obj.SHA256); !bytes.Equal(got, big) {
		t.Fatal("stored content differs")
	}
	assertNoLeftovers(t, h)
}

// The S3 store spools an upload to local disk before sending it: a full
// spool folder is the same clear error, and nothing reaches the bucket.
func TestS3SpoolDiskFull(t *testing.T) {
	h := oneS3Harness(t)
	s := h.store.(*S3)
	s.tempDir = mountFull(t, "1m")
	_, err := s.Put(context.Background(), bytes.NewReader(makePDF(t, 1500<<10, 3)), 4*mib)
	assertNoSpace(t, err)
	if n := h.stored(t); n != 0 {
		t.Fatalf("%d objects stored, want none", n)
	}
	if l := dirNames(t, s.tempDir); len(l) != 0 {
		t.Fatalf("temporary files left behind: %v", l)
	}
}
