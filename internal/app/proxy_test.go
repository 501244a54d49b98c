package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/app"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// serve takes the client's address from X-Forwarded-For only when the
// request comes from ZWFW_TRUSTED_PROXIES: behind the proxy, each client
// has its own lookup limit; without the setting the header is ignored and
// the peer's address is limited. (The wiring is the same on both
// databases; the limits themselves are tested on both in throttle,
// identity and web.)
func TestServeTrustsOnlyConfiguredProxies(t *testing.T) {
	t.Parallel()
	lookups := func(s *server, clients func(i int) string) int {
		t.Helper()
		// The limit counts in whole minutes of the clock: the eleven
		// lookups start early in one, so that a loaded machine does not
		// spread them over two.
		if now := time.Now(); now.Second() >= 30 {
			time.Sleep(now.Truncate(time.Minute).Add(time.Minute).Sub(now))
		}
		for i := range 11 {
			req, _ := http.NewRequest("GET", s.URL+"/lookup?number=41041120991231000001&mobile=13800000001", nil)
			req.Header.Set("X-Forwarded-For", clients(i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				return i + 1
			}
		}
		return 0
	}
	for _, trusted := range []string{"127.0.0.1", ""} {
		url := storetest.SQLiteURL(t)
		if err := app.Run(context.Background(), []string{"migrate", "--db", url}, os.Getenv, strings.NewReader(""), io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		s := start(t, withKeys(t, map[string]string{"ZWFW_DATABASE_URL": url, "ZWFW_TRUSTED_PROXIES": trusted}), "serve")
		limitedAt := lookups(s, func(i int) string { return fmt.Sprintf("198.51.100.%d", i) })
		if trusted != "" && limitedAt != 0 {
			t.Errorf("behind a trusted proxy, eleven clients were limited together at lookup %d", limitedAt)
		}
		if trusted == "" && limitedAt != 11 {
			t.Errorf("an untrusted peer's X-Forwarded-For was believed: limited at %d, want 11", limitedAt)
		}
		if trusted != "" {
			if n := lookups(s, func(int) string { return "198.51.100.200" }); n != 11 {
				t.Errorf("one client behind the proxy: limited at %d, want 11", n)
			}
		}
	}
}
