package filestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func newLocalHarness(t *testing.T) harness {
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	return harness{
		store:     l,
		stored:    func(t *testing.T) int { return len(localFiles(t, dir)) },
		leftovers: func(t *testing.T) []string { return tempFiles(t, filepath.Join(dir, "tmp")) },
	}
}

func TestLocalContract(t *testing.T) { testStore(t, newLocalHarness) }

// localFiles lists the regular files in a store directory outside tmp.
func localFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path == filepath.Join(dir, "tmp") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// tempFiles lists what lies in tmp apart from its shard directories.
func tempFiles(t *testing.T, tmp string) []string {
	t.Helper()
	var names []string
	for _, n := range dirNames(t, tmp) {
		if isShard(n) {
			for _, m := range dirNames(t, filepath.Join(tmp, n)) {
				names = append(names, n+"/"+m)
			}
		} else {
			names = append(names, n)
		}
	}
	return names
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestLocalLayout(t *testing.T) {
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := makePDF(t, 5000, 1)
	obj, err := l.Put(context.Background(), bytes.NewReader(data), mib)
	if err != nil {
		t.Fatal(err)
	}
	s := obj.SHA256
	want := filepath.Join(s[0:2], s[2:4], s)
	if files := localFiles(t, dir); len(files) != 1 || files[0] != want {
		t.Fatalf("files %v, want [%s]", files, want)
	}
	fi, err := os.Stat(filepath.Join(dir, want))
	if err != nil {
		t.Fatal(err)
	}
	// Applicants' materials hold personal data: readable by the service only.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("file mode %v is open to group or others", perm)
	}
	got, err := os.ReadFile(filepath.Join(dir, want))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file content differs (err %v)", err)
	}
}

func TestLocalCleansStaleTemp(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(filepath.Join(tmp, "stale-dir"), 0o750); err != nil {
		t.Fatal(err)
	}
	write := func(name string, age time.Duration) {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte("%PDF-half a file"), 0o600); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
	}
	write("put-crashed", 3*time.Hour)
	write("put-older", StaleTempAge+time.Minute)
	write("stale-dir/x", 2*time.Hour)
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(tmp, "stale-dir"), old, old); err != nil {
		t.Fatal(err)
	}
	write("put-live", time.Second) // an upload another instance is writing now
	if err := os.MkdirAll(filepath.Join(tmp, "3f"), 0o750); err != nil {
		t.Fatal(err)
	}
	write("3f/put-crashed", 2*time.Hour)
	write("3f/put-live", time.Second)

	if _, err := NewLocal(dir); err != nil {
		t.Fatal(err)
	}
	if names := tempFiles(t, tmp); strings.Join(names, " ") != "3f/put-live put-live" {
		t.Fatalf("tmp holds %v after NewLocal, want only the two live uploads", names)
	}
	if files := localFiles(t, dir); len(files) != 0 {
		t.Fatalf("files %v appeared", files)
	}
}

// A file under its final name that is not whole — truncated, or of the
// right size but never written to disk before a crash (zeros) — is
// replaced when the same content is put again.
func TestLocalReplacesDamagedFile(t *testing.T) {
	data := makePDF(t, 5000, 2)
	for name, damaged := range map[string][]byte{"truncated": data[:100], "zeros": make([]byte, len(data))} {
		t.Run(name, func(t *testing.T) {
			l, err := NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			s := sum(data)
			p := l.path(s)
			if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Put(context.Background(), bytes.NewReader(data), mib); err != nil {
				t.Fatal(err)
			}
			if got, _ := readAll(t, l, s); !bytes.Equal(got, data) {
				t.Fatal("damaged file was not replaced")
			}
		})
	}
}

func TestLocalOpenUnknownStoredType(t *testing.T) {
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("not a pdf at all")
	s := sum(data)
	if err := os.MkdirAll(filepath.Dir(l.path(s)), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.path(s), data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = l.Open(context.Background(), s)
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Open of a damaged file = %v, want an internal error", err)
	}
}

func TestNewLocalErrors(t *testing.T) {
	if _, err := NewLocal(""); err == nil {
		t.Error("NewLocal(\"\") succeeded")
	}
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLocal(f); err == nil {
		t.Error("NewLocal(a file) succeeded")
	}
}

func TestFormatLimit(t *testing.T) {
	for n, want := range map[int64]string{
		10 * mib:              "10 MB",
		mib:                   "1 MB",
		mib + mib/2:           "1.5 MB",
		20*mib - 1:            "19.99 MB",
		512 << 10:             "512 KB",
		1000:                  "1000 字节",
		1536:                  "1.5 KB",
		mib + mib/100*1 + 999: "1.01 MB",
	} {
		if got := formatLimit(n); got != want {
			t.Errorf("formatLimit(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDetectType(t *testing.T) {
	for head, want := range map[string]string{
		"%PDF-1.4":                  TypePDF,
		"\xff\xd8\xff\xe0\x00\x10J": TypeJPEG,
		"\xff\xd8\xff\xdb":          TypeJPEG,
		"\x89PNG\r\n\x1a\n":         TypePNG,
		"%PDF":                      "",
		"\xff\xd8":                  "",
		"MZ\x90\x00":                "",
		"":                          "",
	} {
		if got := DetectType([]byte(head)); got != want {
			t.Errorf("DetectType(%q) = %q, want %q", head, got, want)
		}
	}
}

// BenchmarkLocalPut stores a distinct 1 MiB PDF per iteration: hashing,
// writing, fsync of the file and its directories, rename.
func BenchmarkLocalPut(b *testing.B) {
	l, err := NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	data := makePDF(b, mib, 1)
	ctx := context.Background()
	b.SetBytes(mib)
	var i uint64
	for b.Loop() {
		i++
		binary.LittleEndian.PutUint64(data[64:], i) // new content, no dedup
		if _, err := l.Put(ctx, bytes.NewReader(data), 2*mib); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLocalPutSmallParallel is many applicants' small scans at once:
// what the shared flushes (groupSync) are for.
func BenchmarkLocalPutSmallParallel(b *testing.B) {
	l, err := NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var n atomic.Uint64
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		data := makePDF(b, 8<<10, 1)
		for pb.Next() {
			binary.LittleEndian.PutUint64(data[64:], n.Add(1))
			if _, err := l.Put(ctx, bytes.NewReader(data), mib); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
