package store_test

import (
	"context"
	"errors"
	"fmt"
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
