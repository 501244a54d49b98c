package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The public lookup's limit is held in the database: two instances on one
// database share it, as behind a load balancer.
func TestLookupLimitSharedByInstances(t *testing.T) {
	t.Parallel()
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

// The staff sign-in page locks a client after five failures whatever
// address it names in X-Forwarded-For (the site trusts no proxy), and
// answers a known and an unknown user name alike, locked or not.
func TestStaffSignInLimitIgnoresSpoofedAddresses(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		signInStaff(t, site, db, "wangwu", "scjgj", policy.Window)
		answers := func(user string) []string {
			b := newBrowser(t, site.handler)
			var out []string
			for i := range 6 {
				form := url.Values{"username": {user}, "password": {"Wrong-Pass-2026x"}, "totp": {"000000"}}
				req := httptest.NewRequest("POST", "/staff/signin", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
				ex := b.do(req)
				out = append(out, fmt.Sprintf("%d %s", ex.status, between(ex.body, `role="alert">`, "<")))
			}
			return out
		}
		known, unknown := answers("wangwu"), answers("nobody")
		for i := range known {
			if known[i] != unknown[i] {
				t.Fatalf("attempt %d: known %q, unknown %q", i+1, known[i], unknown[i])
			}
		}
		if !strings.HasPrefix(known[4], "429 登录失败次数过多") || !strings.HasPrefix(known[0], "401 ") {
			t.Fatalf("answers %q", known)
		}
	})
}
