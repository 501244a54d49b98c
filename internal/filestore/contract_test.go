package filestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
)

// harness is a fresh, empty store and ways to look behind it.
type harness struct {
	store Store
	// stored counts the objects in the store's backing storage.
	stored func(t *testing.T) int
	// leftovers lists temporary files left behind by uploads.
	leftovers func(t *testing.T) []string
}

const mib = 1 << 20

// testStore runs the contract every Store implementation must meet. newH
// returns a fresh, empty store for each subtest.
func testStore(t *testing.T, newH func(t *testing.T) harness) {
	ctx := context.Background()

	t.Run("RoundTrip", func(t *testing.T) {
		h := newH(t)
		for _, tc := range []struct {
			name, ctype string
			data        []byte
		}{
			{"pdf", TypePDF, makePDF(t, 200<<10, 1)},
			{"jpeg", TypeJPEG, makeJPEG(t)},
			{"png", TypePNG, makePNG(t)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				obj, err := h.store.Put(ctx, bytes.NewReader(tc.data), mib)
				if err != nil {
					t.Fatalf("Put: %v", err)
				}
				want := Object{SHA256: sum(tc.data), Size: int64(len(tc.data)), ContentType: tc.ctype}
				if obj != want {
					t.Fatalf("Put = %+v, want %+v", obj, want)
				}
				ok, err := h.store.Exists(ctx, obj.SHA256)
				if err != nil || !ok {
					t.Fatalf("Exists = %v, %v; want true", ok, err)
				}
				got, gotObj := readAll(t, h.store, obj.SHA256)
				if !bytes.Equal(got, tc.data) {
					t.Fatalf("Open returned %d bytes that differ from the %d put", len(got), len(tc.data))
				}
				if gotObj != want {
					t.Fatalf("Open object = %+v, want %+v", gotObj, want)
				}
				// An upper-case address names the same file.
				if _, o := readAll(t, h.store, strings.ToUpper(obj.SHA256)); o != want {
					t.Fatalf("Open(upper case) object = %+v, want %+v", o, want)
				}
			})
		}
		if n := h.stored(t); n != 3 {
			t.Fatalf("stored %d objects, want 3", n)
		}
		assertNoLeftovers(t, h)
	})

	t.Run("DeleteAndList", func(t *testing.T) {
		h := newH(t)
		before := time.Now().Add(-time.Minute)
		a, err := h.store.Put(ctx, bytes.NewReader(makePDF(t, 1<<10, 1)), mib)
		if err != nil {
			t.Fatal(err)
		}
		b, err := h.store.Put(ctx, bytes.NewReader(makePDF(t, 1<<10, 2)), mib)
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]bool{}
		if err := h.store.List(ctx, func(sum string, stored time.Time) error {
			if stored.Before(before) || stored.After(time.Now().Add(time.Minute)) {
				t.Errorf("%s stored at %v", sum, stored)
			}
			listed[sum] = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(listed) != 2 || !listed[a.SHA256] || !listed[b.SHA256] {
			t.Fatalf("listed %v, want %s and %s", listed, a.SHA256, b.SHA256)
		}
		stop := errors.New("stop")
		if err := h.store.List(ctx, func(string, time.Time) error { return stop }); !errors.Is(err, stop) {
			t.Fatalf("List after fn failed: %v", err)
		}
		if err := h.store.Delete(ctx, a.SHA256); err != nil {
			t.Fatal(err)
		}
		if err := h.store.Delete(ctx, a.SHA256); err != nil {
			t.Fatalf("deleting what is gone: %v", err)
		}
		if ok, _ := h.store.Exists(ctx, a.SHA256); ok {
			t.Fatal("deleted file still exists")
		}
		if ok, _ := h.store.Exists(ctx, b.SHA256); !ok {
			t.Fatal("the other file went too")
		}
		if n := h.stored(t); n != 1 {
			t.Fatalf("%d objects stored after the delete, want 1", n)
		}
	})

	t.Run("Dedup", func(t *testing.T) {
		h := newH(t)
		data := makePDF(t, 64<<10, 2)
		first, err := h.store.Put(ctx, bytes.NewReader(data), mib)
		if err != nil {
			t.Fatal(err)
		}
		second, err := h.store.Put(ctx, bytes.NewReader(data), mib)
		if err != nil {
			t.Fatal(err)
		}
		if first != second {
			t.Fatalf("second Put = %+v, first %+v", second, first)
		}
		if n := h.stored(t); n != 1 {
			t.Fatalf("stored %d objects after putting the same content twice, want 1", n)
		}
		assertNoLeftovers(t, h)
	})

	t.Run("ExactlyAtLimit", func(t *testing.T) {
		h := newH(t)
		data := makePDF(t, mib, 3)
		obj, err := h.store.Put(ctx, bytes.NewReader(data), mib)
		if err != nil {
			t.Fatalf("Put of exactly maxBytes: %v", err)
		}
		if obj.Size != mib {
			t.Fatalf("size %d, want %d", obj.Size, mib)
		}
	})

	t.Run("TooLarge", func(t *testing.T) {
		h := newH(t)
		cases := []struct {
			name     string
			data     []byte
			maxBytes int64
			message  string
		}{
			{"one byte over", makePDF(t, mib+1, 4), mib, "文件超过大小限制（最大 1 MB）"},
			{"far over", makePDF(t, 3*mib, 5), 2*mib + mib/2, "文件超过大小限制（最大 2.5 MB）"},
			{"over within the sniffed bytes", makePDF(t, 100, 6), 6, "文件超过大小限制（最大 6 字节）"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := h.store.Put(ctx, bytes.NewReader(tc.data), tc.maxBytes)
				if !errors.Is(err, ErrTooLarge) {
					t.Fatalf("Put = %v, want ErrTooLarge", err)
				}
				if c := apperr.CodeOf(err); c != apperr.TooLarge {
					t.Errorf("code %q, want %q", c, apperr.TooLarge)
				}
				if m := apperr.MessageOf(err); m != tc.message {
					t.Errorf("message %q, want %q", m, tc.message)
				}
			})
		}
		// The HTTP layer's own limit counts as the file being too large.
		r := http.MaxBytesReader(nil, io.NopCloser(bytes.NewReader(makePDF(t, 4096, 7))), 1000)
		if _, err := h.store.Put(ctx, r, mib); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Put through an exhausted http.MaxBytesReader = %v, want ErrTooLarge", err)
		}
		if n := h.stored(t); n != 0 {
			t.Fatalf("stored %d objects, want none", n)
		}
		assertNoLeftovers(t, h)
	})

	t.Run("RefusedByContent", func(t *testing.T) {
		h := newH(t)
		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), bytes.Repeat([]byte{0}, 4096)...)
		cases := map[string][]byte{
			"text file":        []byte("申请材料清单\n1. 身份证\n2. 户口本\n"),
			"exe renamed .pdf": exe,
			"zip (docx)":       append([]byte("PK\x03\x04\x14\x00\x06\x00"), make([]byte, 100)...),
			"html":             []byte("<!DOCTYPE html><html><body>%PDF-1.7</body></html>"),
			"gif":              []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
			"truncated magic":  []byte("%PD"),
			"empty":            nil,
			"png lookalike":    []byte("\x89PNG\r\n\x00\x00 not really"),
		}
		for name, data := range cases {
			t.Run(name, func(t *testing.T) {
				_, err := h.store.Put(ctx, bytes.NewReader(data), mib)
				if !errors.Is(err, ErrType) {
					t.Fatalf("Put = %v, want ErrType", err)
				}
				if c := apperr.CodeOf(err); c != apperr.Invalid {
					t.Errorf("code %q, want %q", c, apperr.Invalid)
				}
				if m := apperr.MessageOf(err); m != "只能上传 PDF、JPEG 或 PNG 文件" {
					t.Errorf("message %q", m)
				}
			})
		}
		if n := h.stored(t); n != 0 {
			t.Fatalf("stored %d objects, want none", n)
		}
		assertNoLeftovers(t, h)
	})

	t.Run("NotFound", func(t *testing.T) {
		h := newH(t)
		if _, err := h.store.Put(ctx, bytes.NewReader(makePDF(t, 1000, 8)), mib); err != nil {
			t.Fatal(err)
		}
		missing := sum([]byte("never stored"))
		_, _, err := h.store.Open(ctx, missing)
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Open(missing) = %v, want ErrNotFound", err)
		}
		if c := apperr.CodeOf(err); c != apperr.NotFound {
			t.Errorf("code %q, want %q", c, apperr.NotFound)
		}
		if m := apperr.MessageOf(err); m != "文件不存在" {
			t.Errorf("message %q", m)
		}
		ok, err := h.store.Exists(ctx, missing)
		if err != nil || ok {
			t.Fatalf("Exists(missing) = %v, %v; want false, nil", ok, err)
		}
		// Malformed addresses are never found, and never reach a path or key.
		for _, bad := range []string{"", "abc", "../../../../etc/passwd", strings.Repeat("g", 64),
			"../" + missing[3:], missing + "0", strings.Repeat("a", 62) + "/."} {
			if _, _, err := h.store.Open(ctx, bad); !errors.Is(err, ErrNotFound) {
				t.Errorf("Open(%q) = %v, want ErrNotFound", bad, err)
			}
			if ok, err := h.store.Exists(ctx, bad); ok || err != nil {
				t.Errorf("Exists(%q) = %v, %v; want false, nil", bad, ok, err)
			}
		}
	})

	t.Run("ConcurrentSameContent", func(t *testing.T) {
		h := newH(t)
		data := makePDF(t, 256<<10, 9)
		const n = 8
		objs := make([]Object, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				objs[i], errs[i] = h.store.Put(ctx, bytes.NewReader(data), mib)
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("Put %d: %v", i, errs[i])
			}
			if objs[i] != objs[0] {
				t.Fatalf("Put %d = %+v, Put 0 = %+v", i, objs[i], objs[0])
			}
		}
		if c := h.stored(t); c != 1 {
			t.Fatalf("stored %d objects, want 1", c)
		}
		if got, _ := readAll(t, h.store, objs[0].SHA256); !bytes.Equal(got, data) {
			t.Fatal("stored content differs")
		}
		assertNoLeftovers(t, h)
	})

	t.Run("ConcurrentDistinctContent", func(t *testing.T) {
		h := newH(t)
		const n = 8
		data := make([][]byte, n)
		for i := range n {
			data[i] = makePDF(t, 64<<10, uint64(100+i))
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = h.store.Put(ctx, bytes.NewReader(data[i]), mib)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if c := h.stored(t); c != n {
			t.Fatalf("stored %d objects, want %d", c, n)
		}
		for i := range n {
			if got, _ := readAll(t, h.store, sum(data[i])); !bytes.Equal(got, data[i]) {
				t.Fatalf("content %d differs", i)
			}
		}
	})

	t.Run("ReaderFailsMidway", func(t *testing.T) {
		h := newH(t)
		cause := errors.New("connection reset by peer")
		r := io.MultiReader(bytes.NewReader(makePDF(t, 100<<10, 10)), errReader{cause})
		_, err := h.store.Put(ctx, r, mib)
		if !errors.Is(err, cause) {
			t.Fatalf("Put = %v, want the reader's error in the chain", err)
		}
		if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrType) {
			t.Fatalf("Put = %v: a broken upload is not the user's file's fault", err)
		}
		if n := h.stored(t); n != 0 {
			t.Fatalf("stored %d objects, want none", n)
		}
		assertNoLeftovers(t, h)
	})

	t.Run("ContextCancelled", func(t *testing.T) {
		h := newH(t)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		r := &cancelAfter{r: bytes.NewReader(makePDF(t, 512<<10, 11)), n: 64 << 10, cancel: cancel}
		_, err := h.store.Put(ctx, r, mib)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put = %v, want context.Canceled", err)
		}
		if n := h.stored(t); n != 0 {
			t.Fatalf("stored %d objects, want none", n)
		}
		assertNoLeftovers(t, h)
	})

	t.Run("BadLimit", func(t *testing.T) {
		h := newH(t)
		if _, err := h.store.Put(ctx, bytes.NewReader(makePDF(t, 100, 12)), 0); err == nil {
			t.Fatal("Put with maxBytes 0 succeeded")
		}
		assertNoLeftovers(t, h)
	})
}

func assertNoLeftovers(t *testing.T, h harness) {
	t.Helper()
	if l := h.leftovers(t); len(l) != 0 {
		t.Fatalf("temporary files left behind: %v", l)
	}
}

func readAll(t *testing.T, s Store, sum string) ([]byte, Object) {
	t.Helper()
	rc, obj, err := s.Open(context.Background(), sum)
	if err != nil {
		t.Fatalf("Open(%s): %v", sum, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", sum, err)
	}
	return b, obj
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// makePDF returns size bytes that begin like a PDF, different for each seed.
func makePDF(t testing.TB, size int, seed uint64) []byte {
	t.Helper()
	head := fmt.Appendf(nil, "%%PDF-1.7\n%% zwfw test %d\n", seed)
	if size < len(head) {
		return head[:size]
	}
	b := make([]byte, size)
	copy(b, head)
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	rng.Read(b[len(head):])
	return b
}

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for x := range 32 {
		for y := range 32 {
			img.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 8), 128, 255})
		}
	}
	return img
}

func makePNG(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, testImage()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makeJPEG(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// cancelAfter cancels a context once n bytes have been read through it.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= n
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}
