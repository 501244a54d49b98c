package webhook_test

import (
	"context"
	"testing"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/webhook"
)

// BenchmarkEmit is what the webhooks add to a case step's transaction:
// a transaction that writes one row and calls the hook for an acceptance, with no
// subscription (one query) and with one that wants the event (the event,
// its delivery and the delivery's job).
func BenchmarkEmit(b *testing.B) {
	for _, subscribed := range []bool{false, true} {
		name := "no_subscription"
		if subscribed {
			name = "one_subscription"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			db := storetest.SQLite(b)
			f := newFixture(b, db, webhook.Options{})
			q, err := jobs.New(db, nil, jobs.Options{})
			if err != nil {
				b.Fatal(err)
			}
			f.hooks.UseQueue(q)
			if subscribed {
				if _, _, err := f.hooks.Create(ctx, admin, audit.Meta{}, webhook.New{ClientID: f.clientID, URL: "https://example.com/hook",
					Events: []string{webhook.CaseAccepted}}); err != nil {
					b.Fatal(err)
				}
			}
			var itemDept struct{ item, dept int64 }
			if err := db.Read().QueryRow(ctx, `SELECT id, department_id FROM items WHERE id = ?`, f.itemID).Scan(&itemDept.item, &itemDept.dept); err != nil {
				b.Fatal(err)
			}
			before := casework.Case{Number: "41041120261125000001", ItemID: itemDept.item, DepartmentID: itemDept.dept, Status: casework.Prechecked}
			after := before
			after.Status = casework.Reviewing
			b.ResetTimer()
			for b.Loop() {
				if err := db.Tx(ctx, func(tx *store.Tx) error {
					// The step's own write, so that both runs commit one.
					if _, err := tx.Exec(ctx, `UPDATE items SET popularity = popularity + 1 WHERE id = ?`, f.itemID); err != nil {
						return err
					}
					return f.hooks.CaseChanged(ctx, tx, before, after)
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
