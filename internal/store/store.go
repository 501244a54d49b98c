// Package store opens the database (embedded SQLite or PostgreSQL), applies
// migrations and runs transactions. Every other package writes portable SQL
// with ? placeholders against the Querier here; the dialect differences that
// remain are kept in this package.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/chainhash"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
)

// Dialect names the SQL database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the platform's database. On SQLite it holds one writer connection and
// a pool of readers: SQLite admits one writer at a time, and queueing writers
// in Go is cheaper and fairer than letting them spin on SQLITE_BUSY. On
// PostgreSQL both sides are the same pool.
type DB struct {
	Dialect  Dialect
	write    *sql.DB
	read     *sql.DB
	batch    batcher
	chain    *chainhash.Keys
	versions versionReads
}

// SetChainKeys sets the keys that sign the audit log's and the cases'
// hash chains in this process's transactions (nil: unkeyed SHA-256).
func (db *DB) SetChainKeys(k *chainhash.Keys) { db.chain = k }

// ChainKeys are the keys set with SetChainKeys.
func (db *DB) ChainKeys() *chainhash.Keys { return db.chain }

// Options tune a DB. Zero values take defaults.
type Options struct {
	MaxConns int // PostgreSQL pool size, or SQLite reader pool size
	// SQLiteSynchronous is the SQLite synchronous pragma: FULL (the default)
	// makes every acknowledged commit survive power loss; see docs/PERFORMANCE.md.
	SQLiteSynchronous string
}

// IsPostgresURL reports whether a database setting names a PostgreSQL server.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to a SQLite file path or a postgres:// URL and checks that
// the database answers.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	var db *DB
	var err error
	if IsPostgresURL(dsn) {
		db, err = openPostgres(dsn, opt)
	} else {
		db, err = openSQLite(strings.TrimPrefix(dsn, "sqlite:"), opt)
	}
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openPostgres(dsn string, opt Options) (*DB, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	n := opt.MaxConns
	if n <= 0 {
		n = 20
	}
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{Dialect: Postgres, write: pool, read: pool}, nil
}

func openSQLite(path string, opt Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	sync := strings.ToUpper(opt.SQLiteSynchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlite: synchronous must be FULL or NORMAL, not %q", opt.SQLiteSynchronous)
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_time_format=sqlite"
	// The writer takes the write lock at BEGIN (immediate), so a transaction
	// never fails half-way on a lock upgrade.
	write := sql.OpenDB(stmtConnector{dsn: "file:" + path + "?" + common + "&_pragma=synchronous(" + sync + ")&_txlock=immediate", drv: &sqlite.Driver{}})
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	read := sql.OpenDB(stmtConnector{dsn: "file:" + path + "?" + common + "&_pragma=query_only(1)", drv: &sqlite.Driver{}})
	n := opt.MaxConns
	if n <= 0 {
		n = max(4, 2*runtime.NumCPU())
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	return &DB{Dialect: SQLite, write: write, read: read}, nil
}

// Ping checks that the database answers, through the writer first: on SQLite
// that also creates the file and switches it to WAL before readers open it.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: %w", db.Dialect, err)
	}
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: %w", db.Dialect, err)
	}
	return nil
}

// Close stops the commit batcher and closes both pools.
func (db *DB) Close() error {
	db.batch.once.Do(func() {}) // no batcher starts after this
	if db.batch.stop != nil {
		close(db.batch.stop)
		db.batch.done.Wait()
	}
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// WritePool is the pool that write transactions use. The job queue needs it
// so that a job is inserted in the same transaction as the change it follows.
func (db *DB) WritePool() *sql.DB { return db.write }

// Stats returns the pool statistics, for metrics: "write" and "read" on
// SQLite, one "pool" on PostgreSQL.
func (db *DB) Stats() map[string]sql.DBStats {
	if db.read == db.write {
		return map[string]sql.DBStats{"pool": db.write.Stats()}
	}
	return map[string]sql.DBStats{"write": db.write.Stats(), "read": db.read.Stats()}
}

// Querier runs SQL written with ? placeholders on either dialect.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
	Dialect() Dialect
}

// Read returns a Querier on the read pool. Use it for queries that change
// nothing; anything that writes goes through Tx.
func (db *DB) Read() Querier { return runner{db.read, db.Dialect} }

// Snapshot runs fn in a read-only transaction: every query in it sees the
// database as of one moment, whatever commits meanwhile, so that rows read
// in several queries agree (a case's events and its state). On PostgreSQL
// it is REPEATABLE READ; on SQLite a read transaction on a reader, which in
// WAL mode keeps the snapshot of its first read until it ends. Keep it
// short: while it lasts, PostgreSQL cannot vacuum what it might still see
// and SQLite cannot checkpoint the WAL past it.
func (db *DB) Snapshot(ctx context.Context, fn func(q Querier) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	sqlTx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin snapshot: %w", err)
	}
	defer sqlTx.Rollback() // nothing to commit
	return fn(runner{sqlTx, db.Dialect})
}

// Tx runs fn in one write transaction and commits if fn returns nil. A
// panic or error rolls everything back, so a rejected request changes nothing.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			sqlTx.Rollback()
		}
	}()
	tx := &Tx{runner: runner{sqlTx, db.Dialect}, tx: sqlTx, chain: db.chain}
	if err = fn(tx); err != nil {
		return err
	}
	for _, d := range tx.deferred {
		if err = d.flusher.Flush(ctx, tx); err != nil {
			return err
		}
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Tx is a write transaction.
type Tx struct {
	runner
	tx       *sql.Tx
	chain    *chainhash.Keys
	deferred []deferred
}

// A Flusher is work a transaction gathers as it goes and writes once, just
// before it commits: counters that many changes in one transaction add to
// (one UPSERT a row however many changes, the rows locked in one order and
// only for the commit, so that concurrent transactions neither deadlock
// nor queue behind each other's open work).
type Flusher interface {
	Flush(ctx context.Context, tx *Tx) error
}

type deferred struct {
	key     any
	flusher Flusher
}

// Deferred returns the Flusher kept in t under key, made by mk the first
// time it is asked for. Flushers run in the order they were made, after
// the transaction's work and before its commit; an error rolls all of it
// back. The transaction's work is every caller's in a batch (TxBatched).
func (t *Tx) Deferred(key any, mk func() Flusher) Flusher {
	for _, d := range t.deferred {
		if d.key == key {
			return d.flusher
		}
	}
	f := mk()
	t.deferred = append(t.deferred, deferred{key, f})
	return f
}

// ChainKeys are the keys that sign hash chains appended in this transaction.
func (t *Tx) ChainKeys() *chainhash.Keys { return t.chain }

// SQL returns the underlying transaction, for libraries that take one
// (the job queue inserts its jobs through it).
func (t *Tx) SQL() *sql.Tx { return t.tx }

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type runner struct {
	e       execer
	dialect Dialect
}

func (r runner) Dialect() Dialect { return r.dialect }

func (r runner) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return r.e.ExecContext(ctx, r.dialect.Rebind(q), utc(args)...)
}

func (r runner) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.e.QueryContext(ctx, r.dialect.Rebind(q), utc(args)...)
}

func (r runner) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return r.e.QueryRowContext(ctx, r.dialect.Rebind(q), utc(args)...)
}

// utc stores and compares every time in UTC. SQLite keeps timestamps as
// text, and text compares correctly only when all of it has one offset;
// PostgreSQL's timestamptz does not care.
func utc(args []any) []any {
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			args[i] = t.UTC()
		}
	}
	return args
}

// Rebind turns ? placeholders into $1, $2 … for PostgreSQL. Question marks
// inside quoted strings and identifiers are left alone.
func (d Dialect) Rebind(q string) string {
	if d != Postgres || strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either database, so callers can answer "already exists" instead of 500.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// Optimize is periodic upkeep. On SQLite it refreshes the query planner's
// statistics (PRAGMA optimize, as SQLite advises for long-lived
// connections) and truncates the write-ahead log so that it does not grow
// without bound. PostgreSQL's autovacuum does this work by itself.
func (db *DB) Optimize(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA optimize`); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Reclaim gives back to the system the space that deleted rows of table
// left, keeping up to keep bytes of it for the rows to come. On SQLite
// (auto_vacuum=INCREMENTAL, see Migrate) it truncates the file by the
// free pages beyond keep, at the next checkpoint; without it a file keeps
// its largest size for ever. On PostgreSQL it vacuums table, so that its
// dead rows and their TOAST are reused at once rather than after
// autovacuum's next round (a minute or more, meanwhile the table grows);
// PostgreSQL returns pages to the system only at the table's end.
func (db *DB) Reclaim(ctx context.Context, table string, keep int64) error {
	if db.Dialect == Postgres {
		if _, err := db.write.ExecContext(ctx, `VACUUM `+table); err != nil {
			return fmt.Errorf("vacuum %s: %w", table, err)
		}
		return nil
	}
	var free, pageSize int64
	if err := db.read.QueryRowContext(ctx, `SELECT freelist_count, page_size FROM pragma_freelist_count(), pragma_page_size()`).Scan(&free, &pageSize); err != nil {
		return fmt.Errorf("free pages: %w", err)
	}
	if extra := free - keep/pageSize; extra > 0 {
		if _, err := db.write.ExecContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, extra)); err != nil {
			return fmt.Errorf("incremental vacuum: %w", err)
		}
	}
	return nil
}

// Contains is a LIKE pattern that matches term anywhere, with LIKE's own
// wildcards in term escaped; use it with `LIKE ? ESCAPE '\'`.
func Contains(term string) string {
	return "%" + likeEscaper.Replace(term) + "%"
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// createPrivate makes a new database file readable and writable by its
// owner only, whatever the umask: it holds personal data. SQLite gives the
// -wal and -shm files it makes beside it the same mode. An existing file
// keeps the mode its administrator gave it.
func createPrivate(path string) error {
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return f.Close()
}
