package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	s, err := NewService(nil, Options{Backoff: 30 * time.Second, MaxBackoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute,
		32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := s.backoff(i + 1); got != w {
			t.Errorf("after attempt %d: %v, want %v", i+1, got, w)
		}
	}
}

// A name that resolves to a loopback address is refused when connecting,
// whatever the subscription's check let through, unless allowed.
func TestDeliveryRefusesPrivateAddressesAtConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	s, err := NewService(nil, Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.post(context.Background(), u, []byte("{}"), nil); !errors.Is(err, errPrivate) {
		t.Fatalf("post to localhost: %v", err)
	}
	s, err = NewService(nil, Options{Timeout: 2 * time.Second, Allow: []string{"127.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	if status, _, err := s.post(context.Background(), u, []byte("{}"), nil); err != nil || status != 200 {
		t.Fatalf("post to an allowed network: %d %v", status, err)
	}
	if _, err := NewService(nil, Options{Allow: []string{"10.0.0.0/33"}}); err == nil {
		t.Fatal("a bad network is accepted")
	}
}

// A receiver that does not answer within the timeout fails the attempt
// at the timeout: the job, not a request, waits, and not for long.
func TestAttemptIsBoundedByTheTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s, err := NewService(nil, Options{Timeout: 300 * time.Millisecond, Allow: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	status, _, err := s.post(context.Background(), srv.URL, []byte("{}"), nil)
	if err == nil || status != 0 || time.Since(start) > 5*time.Second {
		t.Fatalf("a silent receiver: %d %v after %v", status, err, time.Since(start))
	}
}
