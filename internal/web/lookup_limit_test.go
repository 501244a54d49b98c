package web_test

import (
	"net/http"
	"testing"

	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The public lookup's limit is held in the database: two instances on one
// database share it, as behind a load balancer.
func TestLookupLimitSharedByInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a, b := newBrowser(t, newTestSite(t, db).handler), newBrowser(t, newTestSite(t, db).handler)
		for i := range 10 { // web.lookupLimit
			br := a
			if i%2 == 1 {
				br = b
			}
			if ex := br.get("/lookup?number=41041120991231000001&mobile=13800000001"); ex.status != http.StatusNotFound {
				t.Fatalf("lookup %d: %d", i+1, ex.status)
			}
		}
		for _, br := range []*browser{a, b} {
			if ex := br.get("/lookup?number=41041120991231000001&mobile=13800000001"); ex.status != http.StatusTooManyRequests {
				t.Fatalf("lookups over two instances not limited together: %d", ex.status)
			}
		}
	})
}
