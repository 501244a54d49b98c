package webhook

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// Inbox is a receiver that keeps in memory the last deliveries it got,
// verified with Verify: the demo's built-in receiver page (/demo/webhook),
// so that what the platform sends, and how a receiver checks it, can be
// seen without another system. One instance, nothing stored: for the demo.
type Inbox struct {
	mu     sync.Mutex
	secret string
	max    int
	got    []Received
}

// Received is one request the inbox got.
type Received struct {
	At        time.Time
	ID, Type  string
	Timestamp string
	Signature string
	Body      string
	Refused   string // why Verify refused it; "" when accepted
}

// NewInbox keeps the last max requests.
func NewInbox(max int) *Inbox { return &Inbox{max: max} }

// SetSecret sets the secret the inbox verifies with.
func (in *Inbox) SetSecret(secret string) {
	in.mu.Lock()
	in.secret = secret
	in.mu.Unlock()
}

// Receive verifies and records one request; a refused one is recorded
// with why, and its error returned (the page answers 401).
func (in *Inbox) Receive(h http.Header, body []byte, now time.Time) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	err := Verify(h, body, in.secret, now)
	r := Received{At: now, ID: h.Get(HeaderID), Type: h.Get(HeaderEvent), Timestamp: h.Get(HeaderTimestamp),
		Signature: h.Get(HeaderSignature), Body: string(body)}
	if err != nil {
		r.Refused = err.Error()
	}
	in.got = append(in.got, r)
	if len(in.got) > in.max {
		in.got = slices.Delete(in.got, 0, len(in.got)-in.max)
	}
	return err
}

// Recent returns what the inbox got, newest first.
func (in *Inbox) Recent() []Received {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := slices.Clone(in.got)
	slices.Reverse(out)
	return out
}
