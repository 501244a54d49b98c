package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// Each start of the demo makes a key and revokes the one made before, so
// that only the printed key works.
func TestSeedAPIKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	keys := apikey.NewService(storetest.SQLite(t), clock.NewManual(time.Date(2026, 12, 7, 9, 0, 0, 0, clock.China)))
	first, err := demo.SeedAPIKey(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	second, err := demo.SeedAPIKey(ctx, keys)
	if err != nil || second == first {
		t.Fatalf("second start: %q, %v", second, err)
	}
	if _, err := keys.Authenticate(ctx, first, policy.ScopeOpen311); err != apikey.ErrBadKey {
		t.Errorf("the first start's key still works: %v", err)
	}
	if _, err := keys.Authenticate(ctx, second, policy.ScopeOpen311); err != nil {
		t.Errorf("the printed key does not work: %v", err)
	}
}
