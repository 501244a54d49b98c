package backup_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/backup"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/generate"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

var chainKey = "a1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))

// site is a small zwfw site: a database with generated cases (chained
// events, audit entries, materials) and a local file store.
type site struct {
	dsn   string
	db    *store.DB
	files *filestore.Local
	deps  generate.Deps
}

// newSite makes a migrated database of its own: a SQLite file, or a
// PostgreSQL database (pg_dump backs up whole databases).
func newSite(t *testing.T, dialect string) *site {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("seed: %v", time.Since(start)) }()
	var s site
	if dialect == "sqlite" {
		// A copy of the migrated file storetest keeps, at a path of
		// our own to open again.
		var seq int
		var name string
		if err := storetest.SQLite(t).Read().QueryRow(context.Background(), `PRAGMA database_list`).Scan(&seq, &name, &s.dsn); err != nil {
			t.Fatal(err)
		}
		s.db = open(t, s.dsn)
	} else {
		s.dsn = emptyPostgres(t)
		s.db = open(t, s.dsn)
		if _, err := s.db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	chain, err := chainhash.Parse(chainKey)
	if err != nil {
		t.Fatal(err)
	}
	s.db.SetChainKeys(chain)
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.ParseKeys(enc, idx)
	if err != nil {
		t.Fatal(err)
	}
	if s.files, err = filestore.NewLocal(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(time.Date(2026, 11, 25, 10, 0, 0, 0, clock.China))
	ids := identity.New(s.db, identity.Options{Keys: keys, SMS: sms.NewDev(slog.New(slog.DiscardHandler), 10), Clock: clk})
	s.deps = generate.Deps{DB: s.db, Clock: clk, Identity: ids, Calendar: calendar.New(nil), Files: s.files, Keys: keys}
	// The catalog of one department: generate opens a staff account (an
	// Argon2 hash, slow under -race) in each department it finds items of.
	ctx := context.Background()
	if _, err := demo.Seed(ctx, s.db, clk); err != nil {
		t.Fatal(err)
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE items SET status = 'suspended' WHERE status = 'published' AND department_id <> (
			SELECT department_id FROM items WHERE status = 'published' GROUP BY department_id ORDER BY COUNT(*) DESC, department_id LIMIT 1)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A few cases first: into a database without cases generate loads
	// without the secondary indexes, which the writer must not.
	if _, err := generate.Run(ctx, s.deps, generate.Options{Cases: 10, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return &s
}

func open(t *testing.T, dsn string) *store.DB {
	t.Helper()
	// NORMAL: the tests need no durability across power cuts, and the
	// many small commits of the seed would each wait for the disk.
	db, err := store.Open(context.Background(), dsn, store.Options{SQLiteSynchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// emptyPostgres creates an empty database on the test server, dropped
// afterwards, and returns its URL.
func emptyPostgres(t *testing.T) string {
	t.Helper()
	base := storetest.PostgresURL(t) // skips without a server
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a, err := sql.Open("pgx", base); err == nil {
			a.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`)
			a.Close()
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

// check runs the checks of zwfw audit verify (casework.CheckIntegrity and
// the sharing log's chain) on db.
func check(db *store.DB) error {
	chain, _ := chainhash.Parse(chainKey)
	db.SetChainKeys(chain)
	ctx := context.Background()
	r, err := casework.CheckIntegrity(ctx, db, "", time.Now())
	if err != nil || r.Problems() > 0 || r.Entries == 0 {
		return fmt.Errorf("audit verify: %d cases, %d entries, problems %+v %+v %v, %v", r.Cases, r.Entries, r.Log, r.Broken, r.Lost, err)
	}
	if _, broken, err := integration.Verify(ctx, db.Read(), db.ChainKeys()); err != nil || len(broken) > 0 {
		return fmt.Errorf("sharing log: %+v, %v", broken, err)
	}
	return nil
}

func verify(t *testing.T, db *store.DB) {
	t.Helper()
	if err := check(db); err != nil {
		t.Fatal(err)
	}
}

func counts(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	c := map[string]int64{}
	for _, table := range []string{"accounts", "cases", "case_events", "case_materials", "audit_log"} {
		var n int64
		if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		c[table] = n
	}
	return c
}

// stored maps every file of a store to the SHA-256 of its content.
func stored(t *testing.T, files filestore.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	got := map[string]string{}
	err := files.List(ctx, func(sum string, _ time.Time) error {
		rc, _, err := files.Open(ctx, sum)
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		o, err := filestore.Inspect(b, 1<<30)
		got[sum] = o.SHA256
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// A backup taken while a writer keeps adding cases is one moment of the
// database: restored into a new place, the chains verify, the rows are
// those counted in the backup's snapshot (fewer than the source holds
// once the writer has gone on), and every file is there, whole.
func TestRoundTripWhileWriting(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			src := newSite(t, dialect)
			before := counts(t, src.db)

			// The writer: generated cases, two to a transaction, until
			// stopped (the seed's applicants again: a new seed, or more
			// cases, would open more accounts) (as TestGenerateInterrupted shows, a stopped run
			// leaves whole chains).
			wctx, stop := context.WithCancel(ctx)
			defer stop()
			var written atomic.Int64
			done := make(chan error, 1)
			go func() {
				_, err := generate.Run(wctx, src.deps, generate.Options{Cases: 2000, Seed: 1, Batch: 2,
					Progress: func(n int) { written.Store(int64(n)) }})
				done <- err
			}()
			waitFor := func(n int64) {
				for written.Load() < n {
					select {
					case err := <-done:
						t.Fatalf("writer stopped: %v", err)
					case <-time.After(5 * time.Millisecond):
					}
				}
			}
			waitFor(4)
			start := time.Now()
			// The backup has connections of its own, as zwfw backup would.
			archive := filepath.Join(t.TempDir(), "zwfw.tar")
			m, err := backup.Create(ctx, backup.Source{DB: open(t, src.dsn), DSN: src.dsn, Files: src.files, Version: "test", Now: time.Now()}, archive)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("backup: %v", time.Since(start))
			waitFor(written.Load() + 4) // the writer went on after the backup
			stop()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			if m.Counts["cases"] <= before["cases"] {
				t.Errorf("the backup has %d cases, no more than before the writer started (%d)", m.Counts["cases"], before["cases"])
			}
			after := counts(t, src.db)
			if m.Counts["cases"] >= after["cases"] {
				t.Errorf("the backup has %d cases, the source %d after the writer went on", m.Counts["cases"], after["cases"])
			}

			// Restore into a new place.
			dst := storetest.SQLiteURL(t)
			if dialect == "postgres" {
				dst = emptyPostgres(t)
			}
			files, err := filestore.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			var verified bool
			start = time.Now()
			got, err := backup.Restore(ctx, archive, backup.Target{DSN: dst, Files: files, Work: t.TempDir(), Now: time.Now(),
				Verify: func(ctx context.Context, db *store.DB) error { verified = true; verify(t, db); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			if !verified || got.Counts["cases"] != m.Counts["cases"] {
				t.Errorf("restore verified %v, manifest %v", verified, got.Counts)
			}
			// A second restore onto it is refused: PostgreSQL only into an
			// empty database, SQLite only with Force.
			if _, err := backup.Restore(ctx, archive, backup.Target{DSN: dst, Files: files, Work: t.TempDir(), Now: time.Now()}); err == nil ||
				!strings.Contains(err.Error(), map[string]string{"sqlite": "--force", "postgres": "不是空的"}[dialect]) {
				t.Errorf("a restore onto the restored database: %v", err)
			}
			db := open(t, dst)
			verify(t, db)
			t.Logf("restore: %v", time.Since(start))
			restored := counts(t, db)
			for table, n := range restored {
				if n != m.Counts[table] {
					t.Errorf("restored %s: %d rows, the snapshot had %d", table, n, m.Counts[table])
				}
			}
			// Every file, with its content, and every material's file.
			want := stored(t, src.files)
			have := stored(t, files)
			if len(have) != len(want) || len(have) == 0 {
				t.Errorf("restored %d files, the source has %d", len(have), len(want))
			}
			for sum, content := range have {
				if sum != content || want[sum] != content {
					t.Errorf("file %s restored with content %s", sum, content)
				}
			}
			rows, err := db.Read().Query(ctx, `SELECT DISTINCT sha256 FROM case_materials`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var sum string
				rows.Scan(&sum)
				if _, ok := have[sum]; !ok {
					t.Errorf("material file %s is not restored", sum)
				}
			}
		})
	}
}

// A damaged archive is refused with a clear message before anything is
// restored: a flipped byte in the database or a file, a truncated archive,
// one without its manifest, chains that do not verify, a database of the
// other kind. An existing database is replaced only with Force.
func TestRestoreRefusesDamage(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	chain, _ := chainhash.Parse(chainKey)
	db.SetChainKeys(chain)
	for i := range 3 {
		if err := audit.Record(ctx, db, audit.Entry{At: time.Now(), Actor: "命令行", Action: "config", Detail: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	src, _ := filestore.NewLocal(t.TempDir())
	if _, err := src.Put(ctx, strings.NewReader("%PDF-1.7 备份"), 1<<20); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	archive := filepath.Join(dir, "zwfw.tar")
	if _, err := backup.Create(ctx, backup.Source{DB: db, Files: src, Now: time.Now()}, archive); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Create(ctx, backup.Source{DB: db, Files: src, Now: time.Now()}, archive); err == nil || !strings.Contains(err.Error(), "已存在") {
		t.Errorf("a second backup onto the same file: %v", err)
	}
	good, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	// The same site with its audit log altered behind the application.
	storetest.DisableAppendOnly(t, db, "audit_log")
	if _, err := db.WritePool().Exec(`UPDATE audit_log SET detail = 'x' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(dir, "tampered.tar")
	if _, err := backup.Create(ctx, backup.Source{DB: db, Files: src, Now: time.Now()}, tampered); err != nil {
		t.Fatal(err)
	}
	altered, _ := os.ReadFile(tampered)

	flip := func(at int64) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0xff
		return b
	}
	manifestAt := offset(t, good, "manifest.json") - 512 // its header
	cases := map[string]struct {
		archive []byte
		want    string
	}{
		"database byte": {flip(offset(t, good, "database/") + 5000), "校验值或大小与清单不符"},
		"file byte":     {flip(offset(t, good, "files/") + 10), "校验值或大小与清单不符"},
		"truncated":     {good[:len(good)/2], "已损坏或不完整"},
		"no manifest":   {append(bytes.Clone(good[:manifestAt]), make([]byte, 1024)...), "没有清单"},
		"altered chain": {altered, "audit verify"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.tar")
			os.WriteFile(bad, c.archive, 0o600)
			dst := filepath.Join(t.TempDir(), "zwfw.db")
			files, _ := filestore.NewLocal(t.TempDir())
			_, err := backup.Restore(ctx, bad, backup.Target{DSN: dst, Files: files, Work: filepath.Dir(dst), Now: time.Now(),
				Verify: func(_ context.Context, db *store.DB) error { return check(db) }})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("restore of a damaged archive: %v, want %q", err, c.want)
			}
			if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the database was written: %v", err)
			}
			if n := len(stored(t, files)); n > 0 {
				t.Errorf("%d files restored", n)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), ".zwfw-restore-*")); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}

	// An existing database is replaced only when asked, and kept aside.
	dst := filepath.Join(t.TempDir(), "zwfw.db")
	os.WriteFile(dst, []byte("old"), 0o600)
	files, _ := filestore.NewLocal(t.TempDir())
	target := backup.Target{DSN: dst, Files: files, Work: filepath.Dir(dst), Now: time.Date(2026, 12, 1, 2, 3, 4, 0, time.UTC),
		Verify: func(_ context.Context, db *store.DB) error { return check(db) }}
	if _, err := backup.Restore(ctx, archive, target); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over a database: %v", err)
	}
	target.Force = true
	if _, err := backup.Restore(ctx, archive, target); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(dst + ".before-restore-20261201T020304Z"); err != nil || string(b) != "old" {
		t.Errorf("the old database kept aside: %q, %v", b, err)
	}
	verify(t, open(t, dst))
	if n := len(stored(t, files)); n != 1 {
		t.Errorf("%d files restored, want 1", n)
	}

	// A SQLite backup does not go into PostgreSQL.
	if os.Getenv(storetest.PostgresEnv) != "" {
		pg := emptyPostgres(t)
		if _, err := backup.Restore(ctx, archive, backup.Target{DSN: pg, Files: files, Work: t.TempDir(), Now: time.Now()}); err == nil || !strings.Contains(err.Error(), "不能恢复到") {
			t.Errorf("a SQLite backup into PostgreSQL: %v", err)
		}
	}
}

// offset is where the data of the first member named with prefix begins.
func offset(t *testing.T, archive []byte, prefix string) int64 {
	t.Helper()
	r := bytes.NewReader(archive)
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no member %s: %v", prefix, err)
		}
		if strings.HasPrefix(h.Name, prefix) {
			return r.Size() - int64(r.Len())
		}
	}
}

// With the files in S3 the backup copies the bucket's objects, and a
// restore puts them into another bucket: one archive restores the site
// anywhere.
func TestS3Files(t *testing.T) {
	ctx := context.Background()
	backend := s3mem.New()
	for _, b := range []string{"site-a", "site-b"} {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	bucket := func(name string) *filestore.S3 {
		s, err := filestore.NewS3(ctx, filestore.S3Config{Endpoint: srv.URL, Region: "us-east-1", Bucket: name,
			AccessKey: "zwfw-test", SecretKey: "zwfw-test-secret", PathStyle: true, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	from, to := bucket("site-a"), bucket("site-b")
	for _, content := range []string{"%PDF-1.7 一", "%PDF-1.7 二"} {
		if _, err := from.Put(ctx, strings.NewReader(content), 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	db := storetest.SQLite(t)
	chain, _ := chainhash.Parse(chainKey)
	db.SetChainKeys(chain)
	if err := audit.Record(ctx, db, audit.Entry{At: time.Now(), Actor: "命令行", Action: "config"}); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "zwfw.tar")
	m, err := backup.Create(ctx, backup.Source{DB: db, Files: from, Now: time.Now()}, archive)
	if err != nil || len(m.Files) != 2 {
		t.Fatalf("backup: %d files, %v", len(m.Files), err)
	}
	dst := filepath.Join(t.TempDir(), "zwfw.db")
	if _, err := backup.Restore(ctx, archive, backup.Target{DSN: dst, Files: to, Work: filepath.Dir(dst), Now: time.Now(),
		Verify: func(_ context.Context, db *store.DB) error { return check(db) }}); err != nil {
		t.Fatal(err)
	}
	want, got := stored(t, from), stored(t, to)
	if len(got) != 2 || len(want) != 2 {
		t.Fatalf("restored %v from %v", got, want)
	}
	for sum := range want {
		if got[sum] != sum {
			t.Errorf("file %s restored as %q", sum, got[sum])
		}
	}
}
