package store

import (
	"context"
	"database/sql/driver"
	"path/filepath"
	"strings"
	"testing"

	"modernc.org/sqlite"
)

// A connection keeps a short query prepared for its next run, and runs a
// long one (its values written in, or rows of placeholders) without
// keeping it.
func TestLongQueriesAreNotKept(t *testing.T) {
	ctx := context.Background()
	c, err := stmtConnector{dsn: "file:" + filepath.Join(t.TempDir(), "s.db"), drv: &sqlite.Driver{}}.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn := c.(*stmtConn)
	run := func(q string) {
		t.Helper()
		rows, err := conn.QueryContext(ctx, q, []driver.NamedValue{{Ordinal: 1, Value: int64(1)}})
		if err != nil {
			t.Fatal(err)
		}
		dest := make([]driver.Value, 1)
		if err := rows.Next(dest); err != nil || dest[0] != int64(1) {
			t.Fatalf("%.40s…: %v %v", q, dest[0], err)
		}
		rows.Close()
	}
	run(`SELECT ?`)
	run(`SELECT ? WHERE 1 IN (` + strings.Repeat("1, ", maxCachedQuery/3) + `1)`)
	if len(conn.stmts) != 1 {
		t.Fatalf("%d statements kept, want the short one only", len(conn.stmts))
	}
	if _, ok := conn.stmts[`SELECT ?`]; !ok {
		t.Fatal("the short query was not kept")
	}
}
