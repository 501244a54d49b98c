package integration_test

import (
	"context"
	"testing"

	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// BenchmarkLoggedRead is what the integration adds to a read call: the
// key, the client and its directory read, the rate limit counted (one
// write) and the access-log entry written durably (one group commit).
// Run: go test -run '^$' -bench LoggedRead -benchtime 2000x ./internal/integration/
func BenchmarkLoggedRead(b *testing.B) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite, "postgres": storetest.Postgres} {
		b.Run(name, func(b *testing.B) {
			db := open(b)
			f := setup(b, db)
			// No limit in the way of the measurement.
			if err := f.s.SetLimit(context.Background(), admin, meta, f.c.ID, integration.MaxPerMinute); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					call, err := f.s.Begin(ctx, f.key, "办件进度查询", "GET /api/v1/integration/cases/{number}", policy.ScopeResultsRead)
					if err != nil {
						b.Error(err)
						return
					}
					if err := call.Allow(ctx, integration.DataCases, 1); err != nil {
						b.Error(err)
						return
					}
					call.Touch(integration.CaseRecord("410411202612070001"), integration.AccountRecord(42))
					if err := call.Finish(ctx, 200, nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
