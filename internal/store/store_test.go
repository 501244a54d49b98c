package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func TestMigrateFromEmptyAndStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		st, err := db.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Check(); err != nil {
			t.Fatalf("fresh test database should be current: %v", err)
		}
		if st.Latest < 1 || st.QueueLatest < 1 {
			t.Fatalf("status %+v: no migrations known", st)
		}
		// Applying again is a no-op.
		applied, err := db.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("second migrate applied %v, err %v", applied, err)
		}
	})
}

func TestStatusOfEmptyDatabaseIsBehind(t *testing.T) {
	ctx := context.Background()
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			db, err := store.Open(ctx, dsn(t), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			st, err := db.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Behind() || st.Ahead() || st.Current != 0 || st.Check() == nil {
				t.Fatalf("empty database: status %+v, check %v", st, st.Check())
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			// A database migrated by a newer binary is refused too.
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, st.Latest+1, "future")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			st, err = db.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Ahead() || st.Check() == nil {
				t.Fatalf("ahead database: status %+v", st)
			}
		})
	}
}

func TestTxRollsBackOnError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		insert := func(tx *store.Tx, code string) error {
			_, err := tx.Exec(ctx, `INSERT INTO regions (code, name, level, kind) VALUES (?, ?, 1, '区')`, code, "测试区")
			return err
		}
		boom := errors.New("boom")
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := insert(tx, "410411000000"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want boom", err)
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM regions`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("after rollback: %d rows, err %v", n, err)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return insert(tx, "410411000000") }); err != nil {
			t.Fatal(err)
		}
		err = db.Tx(ctx, func(tx *store.Tx) error { return insert(tx, "410411000000") })
		if !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate insert: %v is not a unique violation", err)
		}
	})
}

// A snapshot sees the database as of its first read: a row committed
// after it is not there for its later queries, and is for the next one.
func TestSnapshotIgnoresLaterCommits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		insert := func(code string) {
			t.Helper()
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO regions (code, name, level, kind) VALUES (?, ?, 1, '区')`, code, "测试区")
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		count := func(q store.Querier) (n int) {
			t.Helper()
			if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM regions`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		insert("410411000000")
		if err := db.Snapshot(ctx, func(q store.Querier) error {
			first := count(q)
			insert("410412000000")
			if again := count(q); again != first || first != 1 {
				t.Errorf("in the snapshot: %d regions, then %d; want 1 both times", first, again)
			}
			if _, err := q.Exec(ctx, `DELETE FROM regions`); err == nil {
				t.Error("a snapshot wrote")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n := count(db.Read()); n != 2 {
			t.Fatalf("after the snapshot: %d regions, want 2", n)
		}
	})
}

func TestRebind(t *testing.T) {
	cases := []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT * FROM t WHERE a = ? AND b = ?`, `SELECT * FROM t WHERE a = $1 AND b = $2`},
		{`SELECT '?' , "x?" FROM t WHERE a = ?`, `SELECT '?' , "x?" FROM t WHERE a = $1`},
		{`SELECT 'it''s ?' WHERE a = ?`, `SELECT 'it''s ?' WHERE a = $1`},
	}
	for _, c := range cases {
		if got := store.Postgres.Rebind(c.in); got != c.want {
			t.Errorf("Rebind(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := store.SQLite.Rebind(c.in); got != c.in {
			t.Errorf("SQLite Rebind changed %q", c.in)
		}
	}
}

// Times compare by instant, whatever zone they were given in: SQLite
// keeps timestamps as text, so the store writes them all in UTC.
func TestTimesCompareAcrossZones(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		typ := "TIMESTAMP"
		if db.Dialect == store.Postgres {
			typ = "TIMESTAMPTZ"
		}
		beijing := time.FixedZone("CST", 8*3600)
		early := time.Date(2026, 11, 25, 9, 0, 0, 0, beijing) // 01:00 UTC
		late := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TABLE zone_test (at `+typ+` NOT NULL)`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO zone_test (at) VALUES (?)`, early)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM zone_test WHERE at < ?`, late).Scan(&n); err != nil || n != 1 {
			t.Fatalf("09:00 Beijing is before 02:00 UTC: count %d, %v", n, err)
		}
		var got time.Time
		if err := db.Read().QueryRow(ctx, `SELECT at FROM zone_test`).Scan(&got); err != nil || !got.Equal(early) {
			t.Fatalf("read back %v, %v", got, err)
		}
	})
}

// A new SQLite database holds personal data: it and its -wal and -shm
// files are made readable by their owner only, whatever the umask.
func TestNewSQLiteFilesArePrivate(t *testing.T) {
	syscall.Umask(0o022)
	path := filepath.Join(t.TempDir(), "zwfw.db")
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
	}
}

// SQLite connections keep their prepared statements: the same query runs
// again with new arguments, also while its own rows are still open (a
// query inside a loop over its results, inside one transaction; only
// SQLite allows that).
func TestPreparedStatementsAreReused(t *testing.T) {
	func(db *store.DB) {
		ctx := context.Background()
		const q = `SELECT n FROM nums WHERE n > ? ORDER BY n`
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TABLE nums (n INTEGER PRIMARY KEY)`); err != nil {
				return err
			}
			for i := 1; i <= 3; i++ {
				if _, err := tx.Exec(ctx, `INSERT INTO nums (n) VALUES (?)`, i); err != nil {
					return err
				}
			}
			rows, err := tx.Query(ctx, q, 0)
			if err != nil {
				return err
			}
			defer rows.Close()
			var got []int
			for rows.Next() {
				var n int
				if err := rows.Scan(&n); err != nil {
					return err
				}
				var after int
				if err := tx.QueryRow(ctx, q, n).Scan(&after); err != nil && n < 3 {
					return fmt.Errorf("inner query after %d: %w", n, err)
				} else if n < 3 && after != n+1 {
					return fmt.Errorf("inner query after %d gave %d", n, after)
				}
				got = append(got, n)
			}
			if len(got) != 3 || got[2] != 3 {
				return fmt.Errorf("outer rows %v", got)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			var n int
			if err := db.Read().QueryRow(ctx, q, i).Scan(&n); err != nil || n != i+1 {
				t.Fatalf("run %d: %d, %v", i, n, err)
			}
		}
	}(storetest.SQLite(t))
}

// A SQLite file made before auto_vacuum=INCREMENTAL (the default mode,
// NONE, with tables and rows in it) is rewritten into it by Migrate,
// keeping its rows; a new file has it from the start. Reclaim then gives
// deleted rows' space back to the system.
func TestMigrateTurnsSQLiteToIncrementalVacuum(t *testing.T) {
	ctx := context.Background()
	path := storetest.SQLiteURL(t)
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE kept (id INTEGER PRIMARY KEY, body BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 100)
		INSERT INTO kept SELECT i, randomblob(50000) FROM n`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The mode as a new connection reads it (a connection keeps the one it
	// read first until it reads the file again).
	mode := func(path string) int {
		c, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var m int
		if err := c.QueryRow(`PRAGMA auto_vacuum`).Scan(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := mode(path); m != 0 {
		t.Fatalf("auto_vacuum %d before the migration, want 0 (NONE)", m)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if m := mode(path); m != 2 {
		t.Fatalf("auto_vacuum %d after the migration, want 2 (INCREMENTAL)", m)
	}
	var n int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM kept`).Scan(&n); err != nil || n != 100 {
		t.Fatalf("%d rows kept (%v), want 100", n, err)
	}
	fresh := storetest.SQLiteURL(t)
	if fdb, err := store.Open(ctx, fresh, store.Options{}); err != nil {
		t.Fatal(err)
	} else if _, err := fdb.Migrate(ctx); err != nil {
		t.Fatal(err)
	} else {
		fdb.Close()
	}
	if m := mode(fresh); m != 2 {
		t.Fatalf("a new database has auto_vacuum %d, want 2", m)
	}

	size := func() int64 {
		if err := db.Optimize(ctx); err != nil { // checkpoints: the file shrinks then
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	full := size()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM kept WHERE id > 10`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Reclaim(ctx, "kept", 1<<20); err != nil {
		t.Fatal(err)
	}
	if got := size(); got > full/10+2<<20 {
		t.Fatalf("file of %d bytes after deleting nine rows in ten and reclaiming, was %d", got, full)
	}
}
