package store_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// Many callers at once share commits, yet each fails or succeeds alone: a
// caller whose work fails (or panics, or collides with another's) leaves
// nothing behind and gets its own error; everyone else's work commits.
func TestTxBatchedCallersFailAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const callers = 200
		boom := errors.New("boom")
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code := fmt.Sprintf("4104110%05d", i)
				if i%50 == 7 {
					code = "410411099999" // two callers want the same row: one wins
				}
				errs[i] = db.TxBatched(ctx, func(tx *store.Tx) error {
					if _, err := tx.Exec(ctx, `INSERT INTO regions (code, name, level, kind) VALUES (?, ?, 1, '区')`, code, "测试区"); err != nil {
						return err
					}
					switch {
					case i%40 == 3:
						return boom
					case i%40 == 5:
						panic("bug")
					}
					return nil
				})
			}()
		}
		wg.Wait()
		want := 0
		dupWins := 0
		for i, err := range errs {
			switch {
			case i%40 == 3:
				if !errors.Is(err, boom) {
					t.Errorf("caller %d: %v, want its own error", i, err)
				}
			case i%40 == 5:
				if err == nil || !strings.Contains(err.Error(), "panic") {
					t.Errorf("caller %d: %v, want the panic as an error", i, err)
				}
			case i%50 == 7:
				if err == nil {
					dupWins++
					want++
				} else if !store.IsUniqueViolation(err) {
					t.Errorf("caller %d: %v, want a unique violation", i, err)
				}
			default:
				if err != nil {
					t.Errorf("caller %d: %v", i, err)
				}
				want++
			}
		}
		if dupWins != 1 {
			t.Errorf("%d callers inserted the shared row, want exactly 1", dupWins)
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM regions`).Scan(&n); err != nil || n != want {
			t.Fatalf("%d rows committed, want %d (%v)", n, want, err)
		}
	})
}

// A caller whose context is already over is not run.
func TestTxBatchedCancelled(t *testing.T) {
	db := storetest.SQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	if err := db.TxBatched(ctx, func(*store.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("cancelled caller: %v, ran %v", err, ran)
	}
}

// tally is a Flusher: the additions a transaction's callers made to a
// counter table, written once before the commit.
type tally map[string]int

func (t tally) Flush(ctx context.Context, tx *store.Tx) error {
	for _, k := range slices.Sorted(maps.Keys(t)) {
		if _, err := tx.Exec(ctx, `INSERT INTO tallies (k, n) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET n = tallies.n + excluded.n`, k, t[k]); err != nil {
			return err
		}
	}
	return nil
}

type tallyKey struct{}

func tallyOf(tx *store.Tx) tally {
	return tx.Deferred(tallyKey{}, func() store.Flusher { return tally{} }).(tally)
}

// What callers defer to the commit is written once a transaction, a
// batch's callers' additions together, and counts exactly; a Flusher's
// error rolls the transaction's work back.
func TestTxDeferred(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `CREATE TABLE tallies (k TEXT PRIMARY KEY, n BIGINT NOT NULL)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		const callers = 300
		var wg sync.WaitGroup
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := db.TxBatched(ctx, func(tx *store.Tx) error {
					// Each caller adds in its own order: the flush sorts.
					keys := []string{"a", "b", "c"}
					if i%2 == 1 {
						slices.Reverse(keys)
					}
					for _, k := range keys {
						tallyOf(tx)[k]++
					}
					if i%60 == 11 {
						return errors.New("refused") // alone, adds nothing
					}
					return nil
				})
				if (err != nil) != (i%60 == 11) {
					t.Errorf("caller %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		want := callers - callers/60
		for _, k := range []string{"a", "b", "c"} {
			var n int
			if err := db.Read().QueryRow(ctx, `SELECT n FROM tallies WHERE k = ?`, k).Scan(&n); err != nil || n != want {
				t.Errorf("tally %s = %d, want %d (%v)", k, n, want, err)
			}
		}

		failing := errors.New("flush failed")
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO tallies (k, n) VALUES ('d', 1)`); err != nil {
				return err
			}
			if tx.Deferred(tallyKey{}, func() store.Flusher { return failFlush{failing} }) != tx.Deferred(tallyKey{}, nil) {
				t.Error("a second Deferred with the same key made another Flusher")
			}
			return nil
		})
		if !errors.Is(err, failing) {
			t.Fatalf("Tx = %v, want the flusher's error", err)
		}
		var n int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM tallies WHERE k = 'd'`).Scan(&n)
		if n != 0 {
			t.Error("the work of a transaction whose flush failed was committed")
		}
	})
}

type failFlush struct{ err error }

func (f failFlush) Flush(context.Context, *store.Tx) error { return f.err }
