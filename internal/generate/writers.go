package generate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/zwfw/zwfw/internal/store"
)

// writer writes computed batches, each in one transaction, on one or
// more streams (connections) at once.
type writer interface {
	streams() int
	write(ctx context.Context, stream int, b *batch) error
	// finish puts back what the writer changed for the load (settings,
	// indexes), whether or not the load failed.
	finish() error
}

// loadedTables are the tables the generator writes in bulk.
var loadedTables = []string{"cases", "case_materials", "case_documents", "case_events"}

func (g *generator) writer(ctx context.Context) (writer, error) {
	if g.d.DB.Dialect == store.Postgres {
		return g.postgresWriter(ctx)
	}
	return g.sqliteWriter(ctx)
}

// secondaryIndexes are the indexes of the loaded tables that no
// constraint needs (the primary keys and UNIQUE columns stay), by name
// with the statement that creates them again.
func secondaryIndexes(ctx context.Context, conn *sql.Conn, d store.Dialect) (names, creates []string, err error) {
	query := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
		AND tbl_name IN ('` + strings.Join(loadedTables, "', '") + `') ORDER BY name`
	if d == store.Postgres {
		query = `SELECT quote_ident(ci.relname), pg_get_indexdef(i.indexrelid) FROM pg_index i
			JOIN pg_class ci ON ci.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
			WHERE t.relnamespace = current_schema()::regnamespace AND t.relname IN ('` + strings.Join(loadedTables, "', '") + `')
			AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY 1`
	}
	rs, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var name, create string
		if err := rs.Scan(&name, &create); err != nil {
			return nil, nil, err
		}
		names, creates = append(names, name), append(creates, create)
	}
	return names, creates, rs.Err()
}

// dropIndexes drops the loaded tables' secondary indexes when there are
// no cases yet (a fresh database, as zwfw generate makes for a load
// test): building an index once from all the rows costs much less than
// keeping it up to date row by row. finish creates them again, also
// after a failed load.
func dropIndexes(ctx context.Context, conn *sql.Conn, d store.Dialect) (recreate []string, err error) {
	var some bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM cases)`).Scan(&some); err != nil || some {
		return nil, err
	}
	names, creates, err := secondaryIndexes(ctx, conn, d)
	if err != nil {
		return nil, err
	}
	for i, name := range names {
		if _, err := conn.ExecContext(ctx, `DROP INDEX `+name); err != nil {
			return creates[:i], err
		}
	}
	if d != store.Postgres {
		return creates, nil
	}
	// PostgreSQL checks a foreign key with a query per row inserted; added
	// again after the load, each is checked in one join over all rows. The
	// UNIQUE constraints that no foreign key needs are built after the rows
	// too, before the foreign keys.
	rs, err := conn.QueryContext(ctx, `SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint c
		WHERE connamespace = current_schema()::regnamespace AND conrelid::regclass::text IN ('`+strings.Join(loadedTables, "', '")+`')
		AND (contype = 'f' OR contype = 'u' AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = c.conindid))
		ORDER BY contype DESC, 1, 2`)
	if err != nil {
		return creates, err
	}
	var fks [][3]string
	for rs.Next() {
		var fk [3]string
		if err := rs.Scan(&fk[0], &fk[1], &fk[2]); err != nil {
			rs.Close()
			return creates, err
		}
		fks = append(fks, fk)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return creates, err
	}
	for _, fk := range fks {
		if _, err := conn.ExecContext(ctx, `ALTER TABLE `+fk[0]+` DROP CONSTRAINT `+fk[1]); err != nil {
			return creates, err
		}
		creates = append(creates, `ALTER TABLE `+fk[0]+` ADD CONSTRAINT `+fk[1]+` `+fk[2])
	}
	return creates, nil
}

// perStatement is how many rows one INSERT carries, within SQLite's limit
// on parameters (32,766). The connection keeps the statement prepared
// (store's statement cache) and runs it again for each full set of rows:
// parsing a statement of thousands of rows again each time cost more than
// inserting them.
const perStatement = 200

type sqliteWriter struct {
	conn     *sql.Conn
	cp       *checkpointer
	restore  []string // the pragmas as they were
	recreate []string // the indexes dropped for the load
	// checkKeys: the foreign keys were off for the load, to be checked
	// after it.
	checkKeys bool
}

// sqliteWriter takes the database's one write connection for the whole
// load, and for the load only writes without syncing: if the process
// dies, the WAL keeps the database whole, less the last made-up cases;
// only a power loss or a crash of the system could damage it.
func (g *generator) sqliteWriter(ctx context.Context) (writer, error) {
	conn, err := g.d.DB.WritePool().Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &sqliteWriter{conn: conn}
	if w.recreate, err = dropIndexes(ctx, conn, store.SQLite); err != nil {
		w.finish()
		return nil, err
	}
	// The WAL is copied into the database file by a checkpointer on
	// another connection, not by the writer's commits.
	pragmas := []struct{ name, value string }{{"synchronous", "OFF"}, {"cache_size", "-65536"}, {"wal_autocheckpoint", "0"}}
	if w.checkKeys = len(w.recreate) > 0; w.checkKeys {
		// Into an empty database the foreign keys are checked once, after
		// the load (10 µs a case less on the one writer).
		pragmas = append(pragmas, struct{ name, value string }{"foreign_keys", "OFF"})
	}
	for _, p := range pragmas {
		var was string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&was); err != nil {
			w.finish()
			return nil, err
		}
		w.restore = append(w.restore, "PRAGMA "+p.name+" = "+was)
		if _, err := conn.ExecContext(ctx, "PRAGMA "+p.name+" = "+p.value); err != nil {
			w.finish()
			return nil, err
		}
	}
	w.cp = startCheckpointer(g.d.DB.Read())
	return w, nil
}

func (w *sqliteWriter) streams() int { return 1 }

func (w *sqliteWriter) write(ctx context.Context, _ int, b *batch) error {
	tx, err := w.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range tables {
		rows, n := t.rows(&b.rows), len(t.cols)
		for len(rows) > 0 {
			k := min(perStatement, len(rows)/n)
			if _, err := tx.ExecContext(ctx, insertStatement(t, k), rows[:k*n]...); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			rows = rows[k*n:]
		}
	}
	stmts, args := counterUpdates(store.SQLite, b)
	for i, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, args[i]...); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return w.cp.committed()
}

func (w *sqliteWriter) finish() error {
	ctx := context.Background()
	var errs []error
	for _, q := range w.recreate {
		if _, err := w.conn.ExecContext(ctx, q); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", q, err))
		} else if w.cp != nil {
			errs = append(errs, w.cp.committed())
		}
	}
	if w.cp != nil {
		errs = append(errs, w.cp.stop())
	}
	for _, t := range loadedTables {
		if !w.checkKeys {
			break
		}
		var broken int
		if err := w.conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_foreign_key_check(?)`, t).Scan(&broken); err != nil {
			errs = append(errs, err)
		} else if broken > 0 {
			errs = append(errs, fmt.Errorf("%s：%d 行的外键不成立", t, broken))
		}
	}
	for _, q := range w.restore {
		if _, err := w.conn.ExecContext(ctx, q); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", q, err))
		}
	}
	return errors.Join(append(errs, w.conn.Close())...)
}

// checkpointer copies the WAL's pages into the database file (a PASSIVE
// checkpoint) on a connection of the read pool, while the writer writes
// the next batch: the copying was a sixth of the one writer's time when
// its commits did it. The writer's commits start one after a batch;
// every restartEvery batches the writer waits for a checkpoint of all it
// committed, so that its next transaction writes the WAL from its start
// again (SQLite restarts it only when every frame is in the database):
// the WAL stays within some batches' pages.
type checkpointer struct {
	q       store.Querier
	kicks   chan chan error // nil: do not wait for it
	done    chan struct{}
	batches int
	err     error // the first failure, for stop
}

const restartEvery = 8

func startCheckpointer(q store.Querier) *checkpointer {
	c := &checkpointer{q: q, kicks: make(chan chan error, 1), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for reply := range c.kicks {
			var busy, log, copied int
			err := q.QueryRow(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied)
			if reply != nil {
				reply <- err
			} else if err != nil && c.err == nil {
				c.err = err
			}
		}
	}()
	return c
}

// committed starts a checkpoint after a batch's commit, unless one is
// running, and every restartEvery batches waits for it.
func (c *checkpointer) committed() error {
	if c.batches++; c.batches%restartEvery != 0 {
		select {
		case c.kicks <- nil:
		default:
		}
		return nil
	}
	reply := make(chan error)
	c.kicks <- reply
	return <-reply
}

// stop waits for the last checkpoint.
func (c *checkpointer) stop() error {
	close(c.kicks)
	<-c.done
	return c.err
}

// insertStatement is the INSERT of n rows into t. OR ROLLBACK: a row that
// breaks a constraint ends the transaction, which the load fails anyway,
// so SQLite keeps no statement journal to undo the statement alone (8 µs
// a case of the writer's time).
func insertStatement(t table, n int) string {
	tuple := "(" + strings.Repeat("?, ", len(t.cols)-1) + "?)"
	return "INSERT OR ROLLBACK INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES " + strings.Repeat(tuple+", ", n-1) + tuple
}

// copyStreams is how many COPY connections write batches at once on
// PostgreSQL: each server process takes one core.
const copyStreams = 2

type postgresWriter struct {
	db       *store.DB
	conns    []*sql.Conn
	recreate []string
}

func (g *generator) postgresWriter(ctx context.Context) (writer, error) {
	w := &postgresWriter{db: g.d.DB}
	for range copyStreams {
		conn, err := g.d.DB.WritePool().Conn(ctx)
		if err != nil {
			w.finish()
			return nil, err
		}
		w.conns = append(w.conns, conn)
	}
	var err error
	if w.recreate, err = dropIndexes(ctx, w.conns[0], store.Postgres); err != nil {
		w.finish()
		return nil, err
	}
	return w, nil
}

func (w *postgresWriter) streams() int { return len(w.conns) }

// write copies a batch's rows in one transaction, committed without
// waiting for the WAL's flush (a crash may lose the last batches, and
// the case ids and numbers they took).
func (w *postgresWriter) write(ctx context.Context, stream int, b *batch) error {
	return w.conns[stream].Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		for _, t := range tables {
			rows, n := t.rows(&b.rows), len(t.cols)
			src := pgx.CopyFromSlice(len(rows)/n, func(i int) ([]any, error) { return rows[i*n : (i+1)*n], nil })
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, src); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
		stmts, args := counterUpdates(store.Postgres, b)
		for i, q := range stmts {
			if _, err := tx.Exec(ctx, q, args[i]...); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	})
}

// finish creates the dropped indexes and foreign keys again and moves the
// case id sequence past the ids the generator gave.
func (w *postgresWriter) finish() error {
	var errs []error
	ctx := context.Background()
	for _, q := range append(w.recreate, `SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))`) {
		if _, err := w.db.WritePool().ExecContext(ctx, q); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", q, err))
		}
	}
	for _, c := range w.conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
