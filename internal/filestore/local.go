package filestore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// StaleTempAge is how old (since its last write) a file under dir/tmp must be
// for NewLocal to remove it as a leftover of a crashed upload. Uploads in
// progress write continuously, so a second instance starting on the same
// directory (a rolling restart) does not remove another's live temp files.
const StaleTempAge = time.Hour

// Local stores files in a directory: dir/ab/cd/<sha256> where ab and cd are
// the first two pairs of hex digits, with temporary files in dir/tmp (the same
// file system, so that the final rename is atomic).
type Local struct {
	dir string
	tmp string
	// durable holds the fan-out directories whose entry in their parent
	// this process has made durable: a parent is fsynced once, not on
	// every Put.
	durable sync.Map
}

var _ Store = (*Local)(nil)

// NewLocal opens (creating it if needed) a store in dir and removes stale
// temporary files left by a crash.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("filestore: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	l := &Local{dir: abs, tmp: filepath.Join(abs, "tmp")}
	for i := range tempShards {
		if err := os.MkdirAll(filepath.Join(l.tmp, shardName(i)), 0o750); err != nil {
			return nil, fmt.Errorf("filestore: create %s: %w", l.tmp, err)
		}
	}
	if err := l.cleanTemp(time.Now().Add(-StaleTempAge)); err != nil {
		return nil, err
	}
	return l, nil
}

// cleanTemp removes everything under dir/tmp last modified before cutoff.
func (l *Local) cleanTemp(cutoff time.Time) error {
	var errs []error
	clean := func(dir string, keepShards bool) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, e := range entries {
			if keepShards && e.IsDir() && isShard(e.Name()) {
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile (its upload finished)
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if info.ModTime().Before(cutoff) {
				if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	clean(l.tmp, true)
	for i := range tempShards {
		clean(filepath.Join(l.tmp, shardName(i)), false)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("filestore: clean %s: %w", l.tmp, err)
	}
	return nil
}

// tempShards spreads temporary files over directories: creating a file
// locks its directory, and one directory for every upload at once would be
// a queue, worst while a flush is writing the file system back.
const tempShards = 64

func shardName(i int) string { return fmt.Sprintf("%02x", i) }

func isShard(name string) bool {
	var i int
	_, err := fmt.Sscanf(name, "%02x", &i)
	return err == nil && len(name) == 2 && i < tempShards && shardName(i) == name
}

// tempDir picks a temporary directory for one upload.
func (l *Local) tempDir() string { return filepath.Join(l.tmp, shardName(rand.IntN(tempShards))) }

// path is where the file with hex digest sum lives.
func (l *Local) path(sum string) string {
	return filepath.Join(l.dir, sum[0:2], sum[2:4], sum)
}

// Put implements Store. The content is written to a temporary file and
// fsynced, renamed to its final name, and the directory fsynced (and, the
// first time, the directories above it): when Put returns nil, the file
// survives a power cut, and a file under its final name is whole.
func (l *Local) Put(ctx context.Context, r io.Reader, maxBytes int64) (Object, error) {
	f, obj, err := spool(ctx, r, maxBytes, l.tempDir(), "put-*")
	if err != nil {
		return Object{}, err
	}
	tmpName := f.Name()
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmpName)
		return Object{}, writeError("write temp file", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			os.Remove(tmpName)
		}
	}()

	final := l.path(obj.SHA256)
	sub := filepath.Dir(final) // dir/ab/cd
	top := filepath.Dir(sub)   // dir/ab
	if err := l.ensureDir(top, l.dir); err != nil {
		return Object{}, err
	}
	if err := l.ensureDir(sub, top); err != nil {
		return Object{}, err
	}
	// Already stored (the same file uploaded before, or by a concurrent
	// Put): keep the existing file if it is whole, once its name is
	// durable — the other writer may not have synced the directory yet.
	// Anything else under this name can only be damage, and is replaced.
	if whole, err := holds(final, obj); err != nil {
		return Object{}, err
	} else if whole {
		return obj, syncDirs(sub)
	}
	if err := os.Rename(tmpName, final); err != nil {
		return Object{}, writeError("move into place", err)
	}
	renamed = true
	return obj, syncDirs(sub)
}

// ensureDir creates dir if needed and makes its entry in parent durable,
// once per process.
func (l *Local) ensureDir(dir, parent string) error {
	if _, ok := l.durable.Load(dir); ok {
		return nil
	}
	if err := mkdir(dir); err != nil {
		return err
	}
	if err := syncDirs(parent); err != nil {
		return err
	}
	l.durable.Store(dir, true)
	return nil
}

// holds reports whether the file at path has exactly obj's content.
func holds(path string, obj Object) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("filestore: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() != obj.Size {
		return false, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, nil
	}
	return hexSum(h) == obj.SHA256, nil
}

// Open implements Store.
func (l *Local) Open(ctx context.Context, sum string) (io.ReadCloser, Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, Object{}, err
	}
	sum, ok := normalize(sum)
	if !ok {
		return nil, Object{}, notFound(sum, fmt.Errorf("filestore: invalid address %q", sum))
	}
	f, err := os.Open(l.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Object{}, notFound(sum, err)
	}
	if err != nil {
		return nil, Object{}, fmt.Errorf("filestore: open: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Object{}, fmt.Errorf("filestore: stat: %w", err)
	}
	head := make([]byte, sniffLen)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		f.Close()
		return nil, Object{}, fmt.Errorf("filestore: read: %w", err)
	}
	ctype := DetectType(head[:n])
	if ctype == "" {
		f.Close()
		return nil, Object{}, fmt.Errorf("filestore: stored file %s has an unknown type (damaged?)", sum)
	}
	return f, Object{SHA256: sum, Size: fi.Size(), ContentType: ctype}, nil
}

// Exists implements Store.
func (l *Local) Exists(ctx context.Context, sum string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	sum, ok := normalize(sum)
	if !ok {
		return false, nil
	}
	fi, err := os.Stat(l.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("filestore: stat: %w", err)
	}
	return fi.Mode().IsRegular(), nil
}

// Delete implements Store.
func (l *Local) Delete(ctx context.Context, sum string) error {
	sum, ok := normalize(sum)
	if !ok {
		return nil
	}
	if err := os.Remove(l.path(sum)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filestore: delete: %w", err)
	}
	return nil
}

// List implements Store: the files under dir/ab/cd/, not the temporary ones.
func (l *Local) List(ctx context.Context, fn func(string, time.Time) error) error {
	return filepath.WalkDir(l.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if path == l.tmp {
				return filepath.SkipDir
			}
			return nil
		}
		sum := d.Name()
		if !ValidSHA256(sum) || path != l.path(sum) {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		return fn(sum, info.ModTime())
	})
}

// normalize lowercases an address and reports whether it is a valid one.
func normalize(sum string) (string, bool) {
	if len(sum) != 64 {
		return sum, false
	}
	sum = strings.ToLower(sum)
	return sum, ValidSHA256(sum)
}

// syncDirs fsyncs directories so that the entries in them (a renamed file, a
// new subdirectory) are durable.
func syncDirs(dirs ...string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there; NTFS journals renames
	}
	for _, dir := range dirs {
		d, err := os.Open(dir)
		if err != nil {
			return fmt.Errorf("filestore: sync %s: %w", dir, err)
		}
		err = d.Sync()
		d.Close()
		if err != nil {
			return writeError("sync "+dir, err)
		}
	}
	return nil
}

func mkdir(dir string) error {
	if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return writeError("create "+dir, err)
	}
	return nil
}
