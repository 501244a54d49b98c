package httpx_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/zwfw/zwfw/internal/httpx"
)

func TestClientIPBehindTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}
	h, err := httpx.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, httpx.ClientIP(r.Context()))
	}), httpx.Options{Log: slog.New(slog.DiscardHandler), TrustedProxies: trusted})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy", "203.0.113.5:4000", nil, "203.0.113.5"},
		// The spoof: an untrusted peer names another address; its own counts.
		{"untrusted peer's header ignored", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted load balancer", "10.1.2.3:80", []string{"198.51.100.1"}, "198.51.100.1"},
		// The client wrote the left part itself: only the hop the proxy appended counts.
		{"client-written hops ignored", "10.1.2.3:80", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops skipped", "10.1.2.3:80", []string{"1.1.1.1, 198.51.100.1, 192.0.2.7", "10.9.9.9"}, "198.51.100.1"},
		{"only proxies", "10.1.2.3:80", []string{"10.2.2.2"}, "10.2.2.2"},
		{"garbage stops the walk", "10.1.2.3:80", []string{"198.51.100.1, nonsense, 10.4.4.4"}, "10.4.4.4"},
		{"trusted peer without header", "10.1.2.3:80", nil, "10.1.2.3"},
		{"IPv4 in IPv6", "[::ffff:203.0.113.5]:4000", nil, "203.0.113.5"},
		{"IPv6 client", "10.1.2.3:80", []string{"2001:db8::1"}, "2001:db8::1"},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = c.peer
		for _, v := range c.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Body.String(); got != c.want {
			t.Errorf("%s: client %q, want %q", c.name, got, c.want)
		}
	}
}
