package store

import (
	"context"
	"database/sql/driver"

	"modernc.org/sqlite"
)

// SQLite connections keep their prepared statements. The driver prepares,
// runs and finalizes a statement for every query it is given as text, and
// preparing (parsing and planning) was 14–18 % of the CPU of the public
// pages (issue 18). A database/sql connection is used by one goroutine at
// a time, so each keeps a map of query text to prepared statement and
// runs the same statement again with new arguments; SQLite re-prepares it
// by itself if the schema changes. A statement whose rows are still being
// read when the same query comes again (a query inside a loop over its own
// results) is run apart, unprepared, as before.
type stmtConnector struct {
	dsn string
	drv *sqlite.Driver
}

// maxStmts bounds a connection's statements: the platform has a few
// hundred distinct queries, but a query built with a varying number of
// placeholders must not grow the map without end.
const maxStmts = 512

// maxCachedQuery is the longest query text kept prepared. Longer ones are
// built with their values in them (the staff's case search writes its ids
// into its SQL so that PostgreSQL plans for them) or with hundreds of rows
// of placeholders (bulk inserts): each is seen once, and keeping it would
// hold its memory and flush the statements that are used again.
const maxCachedQuery = 4096

func (c stmtConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &stmtConn{conn: conn.(sqliteConn), stmts: map[string]*cachedStmt{}}, nil
}

func (c stmtConnector) Driver() driver.Driver { return c.drv }

// sqliteConn is what database/sql uses of the driver's connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	busy bool // its rows are open
}

type stmtConn struct {
	conn  sqliteConn
	stmts map[string]*cachedStmt
}

func (c *stmtConn) prepared(ctx context.Context, query string) (*cachedStmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if len(c.stmts) >= maxStmts {
		for q, st := range c.stmts {
			if !st.busy {
				st.stmt.Close()
				delete(c.stmts, q)
			}
		}
	}
	s, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st := &cachedStmt{stmt: s.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})}
	c.stmts[query] = st
	return st, nil
}

func (c *stmtConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(query) > maxCachedQuery {
		return c.conn.QueryContext(ctx, query, args)
	}
	st, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if st.busy {
		return c.conn.QueryContext(ctx, query, args)
	}
	rows, err := st.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	st.busy = true
	return &stmtRows{Rows: rows, st: st}, nil
}

func (c *stmtConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(query) > maxCachedQuery {
		return c.conn.ExecContext(ctx, query, args)
	}
	st, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if st.busy {
		return c.conn.ExecContext(ctx, query, args)
	}
	return st.stmt.ExecContext(ctx, args)
}

func (c *stmtConn) Close() error {
	for _, st := range c.stmts {
		st.stmt.Close()
	}
	c.stmts = nil
	return c.conn.Close()
}

func (c *stmtConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }
func (c *stmtConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.conn.PrepareContext(ctx, query)
}
func (c *stmtConn) Begin() (driver.Tx, error) {
	return c.conn.BeginTx(context.Background(), driver.TxOptions{})
}
func (c *stmtConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.conn.BeginTx(ctx, opts)
}
func (c *stmtConn) Ping(ctx context.Context) error         { return c.conn.Ping(ctx) }
func (c *stmtConn) ResetSession(ctx context.Context) error { return c.conn.ResetSession(ctx) }
func (c *stmtConn) IsValid() bool                          { return c.conn.IsValid() }

// stmtRows frees its statement for the next query when closed.
type stmtRows struct {
	driver.Rows
	st *cachedStmt
}

func (r *stmtRows) Close() error {
	r.st.busy = false
	return r.Rows.Close()
}
