package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/store"
)

// A Seed fills a fresh migrated database with what several tests start
// from, such as the demo district.
type Seed func(ctx context.Context, db *store.DB) error

// EachSeeded is Each on copies of a database that seed filled: once per
// test binary, name and database kind, so that the tests starting from the
// same data share the cost of making it. Each test gets its own copy (a
// file on SQLite, a database made from a template on PostgreSQL) and may
// change it freely. A package that uses it calls Cleanup from its
// TestMain, which drops the PostgreSQL templates.
func EachSeeded(t *testing.T, name string, seed Seed, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SeededSQLite(t, name, seed)) })
	t.Run("postgres", func(t *testing.T) { fn(t, SeededPostgres(t, name, seed)) })
}

// seededTemplate is one seeded database, made once.
type seededTemplate struct {
	once sync.Once
	file []byte // SQLite: the database file
	db   string // PostgreSQL: the template database's name
	err  error
}

var seeded struct {
	mu        sync.Mutex
	templates map[string]*seededTemplate // by kind and name
}

func template(kind, name string) *seededTemplate {
	seeded.mu.Lock()
	defer seeded.mu.Unlock()
	if seeded.templates == nil {
		seeded.templates = map[string]*seededTemplate{}
	}
	key := kind + "\x00" + name
	if seeded.templates[key] == nil {
		seeded.templates[key] = &seededTemplate{}
	}
	return seeded.templates[key]
}

// SeededSQLite returns a fresh copy of the SQLite database seed filled
// once per test binary under name.
func SeededSQLite(t testing.TB, name string, seed Seed) *store.DB {
	t.Helper()
	tpl := template("sqlite", name)
	tpl.once.Do(func() { tpl.file, tpl.err = seedSQLite(seed) })
	if tpl.err != nil {
		t.Fatalf("seed the SQLite database %q: %v", name, tpl.err)
	}
	path := SQLiteURL(t)
	if err := os.WriteFile(path, tpl.file, 0o600); err != nil {
		t.Fatal(err)
	}
	return open(t, path)
}

func seedSQLite(seed Seed) ([]byte, error) {
	migrated, err := migratedSQLite()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "zwfw-storetest-seeded-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "zwfw.db")
	if err := os.WriteFile(path, migrated, 0o600); err != nil {
		return nil, err
	}
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return nil, err
	}
	err = seed(ctx, db)
	if err == nil {
		err = db.Optimize(ctx) // truncates the log into the file
	}
	if err = errors.Join(err, db.Close()); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// SeededPostgres returns a fresh copy, in a database of its own, of the
// PostgreSQL database seed filled once per test binary under name. It
// skips the test without ZWFW_TEST_POSTGRES.
func SeededPostgres(t testing.TB, name string, seed Seed) *store.DB {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skip(PostgresEnv + " is not set: PostgreSQL tests skipped")
	}
	tpl := template("postgres", name)
	tpl.once.Do(func() { tpl.db, tpl.err = seedPostgres(base, seed) })
	if tpl.err != nil {
		t.Fatalf("seed the PostgreSQL database %q: %v", name, tpl.err)
	}
	copyName := RandomName("t_")
	if err := CreateDatabase(base, copyName, tpl.db); err != nil {
		t.Fatalf("copy the seeded database %q: %v", name, err)
	}
	t.Cleanup(func() { DropDatabase(base, copyName) })
	return open(t, DatabaseURL(base, copyName))
}

func seedPostgres(base string, seed Seed) (string, error) {
	migrated, err := migratedPostgres(base)
	if err != nil {
		return "", err
	}
	name := RandomName("zwfw_seeded_")
	if err := CreateDatabase(base, name, migrated); err != nil {
		return "", err
	}
	ctx := context.Background()
	db, err := store.Open(ctx, DatabaseURL(base, name), store.Options{})
	if err != nil {
		return name, err
	}
	if _, err = db.Migrate(ctx); err == nil {
		err = seed(ctx, db)
	}
	return name, errors.Join(err, db.Close())
}

// Cleanup drops the PostgreSQL databases the package's tests seeded. Call
// it from TestMain after the tests.
func Cleanup() {
	seeded.mu.Lock()
	defer seeded.mu.Unlock()
	base := os.Getenv(PostgresEnv)
	for _, tpl := range seeded.templates {
		if tpl.db != "" && base != "" {
			DropDatabase(base, tpl.db)
		}
	}
}

// CreateDatabase makes database name on base's server, a copy of template
// when one is named. PostgreSQL copies a template only while no one is
// connected to it, and the seeding's last connections may still be
// closing: it tries again for a few seconds.
func CreateDatabase(base, name, template string) error {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return err
	}
	defer admin.Close()
	q := `CREATE DATABASE ` + name
	if template != "" {
		q += ` TEMPLATE ` + template
		// A copy of the files (PostgreSQL 15's FILE_COPY) costs the server
		// a seventh of writing them through the WAL (the default), but
		// checkpoints twice: cheap on a test server without fsync, as CI's
		// is, and not where every checkpoint waits for the disk.
		var fileCopy bool
		if err := admin.QueryRow(`SELECT current_setting('server_version_num')::int >= 150000 AND current_setting('fsync') = 'off'`).Scan(&fileCopy); err != nil {
			return err
		}
		if fileCopy {
			q += ` STRATEGY FILE_COPY`
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err = admin.Exec(q)
		if err == nil || !strings.Contains(err.Error(), "being accessed by other users") || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
			return nil
		}
	}
}

// DropDatabase drops database name on base's server, whoever is connected.
func DropDatabase(base, name string) {
	if admin, err := sql.Open("pgx", base); err == nil {
		admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`)
		admin.Close()
	}
}

// DatabaseURL is base with its database replaced by name.
func DatabaseURL(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", PostgresEnv, err)) // opened before
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

// RandomName is prefix and twelve random hexadecimal digits: a name for a
// schema or database that no other test takes.
func RandomName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
