package httpx

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

const clientIPKey ctxKey = 1

// ClientIP returns the address of the client that made the request, as
// resolved once by the middleware (see clientAddress), or "" outside it.
// Sign-in limits, the lookup limiter, SMS limits and audit entries all
// use it, so they agree on who the client is.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey).(string)
	return ip
}

// clientAddress is the address of the client that sent r. The direct
// peer is the client unless it is one of the trusted proxies; then
// X-Forwarded-For is read from the right — each proxy appends the address
// it got the request from — skipping trusted hops, and the first address
// that is not a trusted proxy is the client. Everything left of it may
// have been written by the client itself and is ignored; so are the
// headers of a peer that is not trusted, so a client cannot name its own
// address by sending X-Forwarded-For.
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	client := peer.Unmap()
	if !isTrusted(client, trusted) {
		return client.String()
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for _, h := range slices.Backward(hops) {
		a, err := netip.ParseAddr(strings.TrimSpace(h))
		if err != nil {
			// Not an address: what is left of it cannot be trusted, and the
			// last trusted hop is the best we know.
			break
		}
		client = a.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
