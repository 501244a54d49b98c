// Package storetest opens a fresh, migrated database for each test: SQLite
// in a temporary directory always, and PostgreSQL in a database of its own when
// ZWFW_TEST_POSTGRES names a server. A test that asks for PostgreSQL never
// passes silently when the variable is set but the server is unreachable.
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/zwfw/zwfw/internal/store"
)

// PostgresEnv names the variable that points the tests at a PostgreSQL
// server, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const PostgresEnv = "ZWFW_TEST_POSTGRES"

// Each runs fn as a subtest on every database: "sqlite", and "postgres"
// (skipped, and said so, when ZWFW_TEST_POSTGRES is not set).
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a fresh migrated SQLite database in t's temporary directory:
// a copy of a file migrated once per test binary, so that each test does
// not replay every migration (open still runs Migrate, which then finds
// nothing to do).
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	file, err := migratedSQLite()
	if err != nil {
		t.Fatalf("migrated SQLite database: %v", err)
	}
	path := SQLiteURL(t)
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	return open(t, path)
}

var sqliteTemplate struct {
	once sync.Once
	file []byte
	err  error
}

// migratedSQLite returns the bytes of a newly migrated SQLite database,
// made once: migrated in a temporary directory, its write-ahead log
// checkpointed into the file, the directory removed.
func migratedSQLite() ([]byte, error) {
	sqliteTemplate.once.Do(func() {
		sqliteTemplate.file, sqliteTemplate.err = func() ([]byte, error) {
			dir, err := os.MkdirTemp("", "zwfw-storetest-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(dir)
			path := filepath.Join(dir, "zwfw.db")
			ctx := context.Background()
			db, err := store.Open(ctx, path, store.Options{})
			if err != nil {
				return nil, err
			}
			_, err = db.Migrate(ctx)
			if err == nil {
				err = db.Optimize(ctx) // truncates the log into the file
			}
			if err = errors.Join(err, db.Close()); err != nil {
				return nil, err
			}
			if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
				return nil, fmt.Errorf("the write-ahead log holds %d bytes after a checkpoint", fi.Size())
			}
			return os.ReadFile(path)
		}()
	})
	return sqliteTemplate.file, sqliteTemplate.err
}

// SQLiteURL returns the path of a new SQLite file, not yet created.
func SQLiteURL(t testing.TB) string {
	return filepath.Join(t.TempDir(), "zwfw.db")
}

// Postgres returns a fresh migrated database of its own on the server
// named by ZWFW_TEST_POSTGRES, dropped afterwards: a copy of the migrated
// template (migratedPostgres), which costs the server a twentieth of
// what replaying the migrations did. A database rather than a schema
// also lets vacuum remove the test's dead rows, which it may not while
// another test's transaction in the same database could see them.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	base := postgresBase(t)
	tpl, err := migratedPostgres(base)
	if err != nil {
		t.Fatalf("migrated PostgreSQL template: %v", err)
	}
	name := RandomName("t_")
	if err := CreateDatabase(base, name, tpl); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { DropDatabase(base, name) })
	return open(t, DatabaseURL(base, name))
}

// PostgresURL creates an empty schema for t and returns a URL whose
// connections use it, for tests of what migrates a database. It skips t
// when ZWFW_TEST_POSTGRES is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := postgresBase(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	defer admin.Close()
	schema := RandomName("t_")
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		if _, err := a.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// postgresBase is ZWFW_TEST_POSTGRES, checked to answer; without it t is
// skipped.
func postgresBase(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skip(PostgresEnv + " is not set: PostgreSQL tests skipped")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	defer admin.Close()
	if err := admin.PingContext(context.Background()); err != nil {
		t.Fatalf("%s is set but PostgreSQL does not answer: %v", PostgresEnv, err)
	}
	return base
}

func open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// DisableAppendOnly removes the triggers that keep table (audit_log,
// case_events) append-only, as someone with the database's credentials
// could, so that a test can tamper with it behind the application's back.
func DisableAppendOnly(t testing.TB, db *store.DB, table string) {
	t.Helper()
	stmts := []string{`DROP TRIGGER ` + table + `_no_update`, `DROP TRIGGER ` + table + `_no_delete`}
	if db.Dialect == store.Postgres {
		stmts = []string{`ALTER TABLE ` + table + ` DISABLE TRIGGER ` + table + `_no_change`}
	}
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("disable append-only on %s: %v", table, err)
	}
}
