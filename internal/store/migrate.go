package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations
var migrationFiles embed.FS

// Migration is one numbered, forward-only schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns this binary's migrations for the dialect, in order.
// Files are named NNNN_name.sql, one folder per dialect.
func Migrations(d Dialect) ([]Migration, error) {
	dir := path.Join("migrations", string(d))
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations for %s: version %d where %d was expected", d, m.Version, i+1)
		}
	}
	return ms, nil
}

// SchemaStatus compares the database's schema with this binary's.
type SchemaStatus struct {
	Current, Latest           int // our migrations
	QueueCurrent, QueueLatest int // the job queue's (River's) migrations
}

// Behind reports whether migrations are pending.
func (s SchemaStatus) Behind() bool {
	return s.Current < s.Latest || s.QueueCurrent < s.QueueLatest
}

// Ahead reports whether the database was migrated by a newer binary.
func (s SchemaStatus) Ahead() bool {
	return s.Current > s.Latest || s.QueueCurrent > s.QueueLatest
}

// Check returns an error in plain words unless the schema matches the binary.
func (s SchemaStatus) Check() error {
	switch {
	case s.Ahead():
		return fmt.Errorf("数据库结构（版本 %d，队列 %d）比本程序（版本 %d，队列 %d）新：请使用更新版本的 zwfw", s.Current, s.QueueCurrent, s.Latest, s.QueueLatest)
	case s.Behind():
		return fmt.Errorf("数据库结构（版本 %d，队列 %d）落后于本程序（版本 %d，队列 %d）：请先运行 zwfw migrate，或以 --migrate 启动", s.Current, s.QueueCurrent, s.Latest, s.QueueLatest)
	}
	return nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
)`

// migrationLock is the PostgreSQL advisory lock key that serialises
// migrations when several instances start at once ("zwfw" in ASCII).
const migrationLock = 0x7a776677

// Status reads the schema version of the database.
func (db *DB) Status(ctx context.Context) (SchemaStatus, error) {
	ms, err := Migrations(db.Dialect)
	if err != nil {
		return SchemaStatus{}, err
	}
	st := SchemaStatus{Latest: len(ms)}
	var exists bool
	if exists, err = db.tableExists(ctx, "schema_migrations"); err != nil {
		return st, err
	}
	if exists {
		if err := db.Read().QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&st.Current); err != nil {
			return st, fmt.Errorf("read schema version: %w", err)
		}
	}
	st.QueueCurrent, st.QueueLatest, err = db.queueStatus(ctx)
	return st, err
}

func (db *DB) tableExists(ctx context.Context, name string) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if db.Dialect == Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`
	}
	var n int
	if err := db.Read().QueryRow(ctx, q, name).Scan(&n); err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return n > 0, nil
}

// Migrate applies every pending migration, each in its own transaction,
// then the job queue's. It returns the versions it applied.
func (db *DB) Migrate(ctx context.Context) ([]Migration, error) {
	ms, err := Migrations(db.Dialect)
	if err != nil {
		return nil, err
	}
	if err := db.incrementalVacuum(ctx); err != nil {
		return nil, err
	}
	var applied []Migration
	for _, m := range ms {
		done, err := db.applyOne(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if done {
			applied = append(applied, m)
		}
	}
	if err := db.migrateQueue(ctx); err != nil {
		return applied, fmt.Errorf("job queue migrations: %w", err)
	}
	return applied, nil
}

// incrementalVacuum turns a SQLite file to auto_vacuum=INCREMENTAL, so
// that Reclaim can give back the space of deleted rows (staged files
// above all). The mode is the file's, and SQLite changes it for a file
// that has tables only by rewriting it whole (VACUUM, which cannot run in
// a transaction, so not in a numbered migration): done here, before the
// first migration, it costs nothing on a new database; an older one is
// rewritten once, by the first `zwfw migrate` of this version, which then
// takes about as long as copying the file and needs as much free disk.
func (db *DB) incrementalVacuum(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	var mode int
	if err := db.write.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return fmt.Errorf("auto_vacuum: %w", err)
	}
	const incremental = 2
	if mode == incremental {
		return nil
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
		return fmt.Errorf("auto_vacuum: %w", err)
	}
	if _, err := db.write.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("vacuum into auto_vacuum=INCREMENTAL: %w", err)
	}
	return nil
}

// applyOne applies m unless it is already recorded. On PostgreSQL an
// advisory lock makes concurrent instances take turns.
func (db *DB) applyOne(ctx context.Context, m Migration) (applied bool, err error) {
	err = db.Tx(ctx, func(tx *Tx) error {
		if db.Dialect == Postgres {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, m.Version, m.Name); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}

// The job queue (River) keeps its own migration line; we apply it with ours
// so that one `zwfw migrate` brings the whole schema up to date.
func (db *DB) queueMigrator() (*rivermigrate.Migrator[*sql.Tx], error) {
	if db.Dialect == Postgres {
		return rivermigrate.New(riverdatabasesql.New(db.write), nil)
	}
	return rivermigrate.New(riversqlite.New(db.write), nil)
}

func (db *DB) migrateQueue(ctx context.Context) error {
	m, err := db.queueMigrator()
	if err != nil {
		return err
	}
	if db.Dialect == Postgres {
		// River's PostgreSQL migrations add enum values, which cannot be
		// used in the transaction that adds them, so each runs in its own
		// transaction; a session lock on a connection of its own keeps
		// concurrent instances from migrating at the same time.
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

func (db *DB) queueStatus(ctx context.Context) (current, latest int, err error) {
	m, err := db.queueMigrator()
	if err != nil {
		return 0, 0, err
	}
	all := m.AllVersions()
	if len(all) > 0 {
		latest = all[len(all)-1].Version
	}
	exists, err := db.tableExists(ctx, "river_migration")
	if err != nil || !exists {
		return 0, latest, err
	}
	var n sql.NullInt64
	if err := db.Read().QueryRow(ctx, `SELECT MAX(version) FROM river_migration WHERE line = 'main'`).Scan(&n); err != nil {
		return 0, latest, fmt.Errorf("read queue schema version: %w", err)
	}
	return int(n.Int64), latest, nil
}
