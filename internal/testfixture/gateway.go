// Package testfixture holds, for tests only, the outside services the
// platform sends messages through, each on a real listener: an SMS
// gateway (HTTP) and a mail server (SMTP). Each can stall (hold a message
// until told), refuse for now or accept, so that tests show a slow or
// failing service slows no request and loses no message. internal/identity,
// internal/faulttest and internal/app share them.
package testfixture

import (
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// A Mode is what a gateway does with the next message.
type Mode string

const (
	Stall Mode = "stall" // hold it until the mode changes (ten seconds at most), then refuse it
	Fail  Mode = "fail"  // refuse it for now: 503 over HTTP, 451 over SMTP
	OK    Mode = "ok"    // deliver it
)

// A Gateway keeps the messages it delivered and counts those it refused.
type Gateway struct {
	// Stalled gets a value when a message starts stalling.
	Stalled chan struct{}

	mu        sync.Mutex
	mode      Mode
	unstall   chan struct{}
	failed    int
	delivered map[string][]string // recipient → messages
}

func newGateway(mode Mode) *Gateway {
	return &Gateway{mode: mode, unstall: make(chan struct{}), Stalled: make(chan struct{}, 1), delivered: map[string][]string{}}
}

// Set changes what the gateway does; leaving Stall lets the held messages
// go on, to the new mode.
func (g *Gateway) Set(mode Mode) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mode == Stall && mode != Stall {
		close(g.unstall)
		g.unstall = make(chan struct{})
	}
	g.mode = mode
}

// take decides a message's fate as the mode says, holding it while the
// gateway stalls; it reports whether the message was delivered.
func (g *Gateway) take(to, text string) bool {
	g.mu.Lock()
	mode, unstall := g.mode, g.unstall
	g.mu.Unlock()
	if mode == Stall {
		select {
		case g.Stalled <- struct{}{}:
		default:
		}
		select {
		case <-unstall:
		case <-time.After(10 * time.Second):
		}
		mode = Fail
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if mode == Fail {
		g.failed++
		return false
	}
	g.delivered[to] = append(g.delivered[to], text)
	return true
}

// Failed is how many messages the gateway has refused.
func (g *Gateway) Failed() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.failed
}

// Delivered returns the messages delivered to each recipient.
func (g *Gateway) Delivered() map[string][]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string][]string, len(g.delivered))
	for to, texts := range g.delivered {
		out[to] = append([]string(nil), texts...)
	}
	return out
}

// StartSMS starts an SMS gateway in mode, speaking the JSON that
// sms.NewHTTP posts ({"mobile", "text"}), and returns it with its URL.
// It stops when the test ends.
func StartSMS(t testing.TB, mode Mode) (*Gateway, string) {
	t.Helper()
	g := newGateway(mode)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ Mobile, Text string }
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if !g.take(m.Mobile, m.Text) {
			http.Error(w, "gateway overloaded", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	return g, srv.URL
}

// StartSMTP starts a mail server that accepts mail (mode OK) and returns
// it with its port on 127.0.0.1. A delivered message is kept whole, as
// its DATA came, under each recipient. It stops when the test ends.
func StartSMTP(t testing.TB) (*Gateway, int) {
	t.Helper()
	g := newGateway(OK)
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return &smtpSession{g: g}, nil }))
	srv.Domain, srv.ErrorLog = "localhost", log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return g, l.Addr().(*net.TCPAddr).Port
}

type smtpSession struct {
	g  *Gateway
	to []string
}

func (s *smtpSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for _, to := range s.to {
		if !s.g.take(to, string(data)) {
			return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
	}
	return nil
}
func (s *smtpSession) Reset()        { s.to = nil }
func (s *smtpSession) Logout() error { return nil }
