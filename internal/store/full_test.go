package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// A SQLite database that cannot grow (its disk full; here its page limit,
// which makes SQLite answer SQLITE_FULL as a full disk does) refuses the
// write with the storage message, as a 503, and keeps nothing of the
// transaction. PostgreSQL's disk_full is classified by apperr's own test.
func TestSQLiteFullIsUnavailableAndKeepsNothing(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE fill (b BLOB)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err := db.Tx(ctx, func(tx *store.Tx) error {
		var pages int
		if err := tx.QueryRow(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `PRAGMA max_page_count = `+strconv.Itoa(pages+4)); err != nil {
			return err
		}
		for range 100 {
			if _, err := tx.Exec(ctx, `INSERT INTO fill (b) VALUES (?)`, []byte(strings.Repeat("x", 8192))); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		t.Fatal("800 KB written into a database limited to a few pages")
	}
	if code := apperr.CodeOf(err); code != apperr.Unavailable {
		t.Fatalf("%v: code %s, want Unavailable", err, code)
	}
	if msg := apperr.MessageOf(err); !strings.Contains(msg, "存储空间不足") {
		t.Fatalf("message %q", msg)
	}
	var n int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM fill`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("after the refused write: %d rows, err %v", n, err)
	}
}
