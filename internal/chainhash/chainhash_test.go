package chainhash_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/zwfw/zwfw/internal/chainhash"
)

// The hash is HMAC-SHA256 of the parts, each followed by a zero byte,
// under the first key, whatever was hashed before on the same keys and on
// however many goroutines; the other keys verify what they signed.
func TestSumAndCheck(t *testing.T) {
	a := strings.Repeat("a", 32)
	b := strings.Repeat("b", 32)
	setting := "k1:" + base64.StdEncoding.EncodeToString([]byte(a)) + ",k0:" + base64.StdEncoding.EncodeToString([]byte(b))
	keys, err := chainhash.Parse(setting)
	if err != nil {
		t.Fatal(err)
	}
	want := func(secret string, parts ...string) string {
		h := hmac.New(sha256.New, []byte(secret))
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0})
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				parts := []string{"case", strings.Repeat("x", g+i), "event"}
				if got := keys.Sum(parts...); got != "k1."+want(a, parts...) {
					t.Errorf("Sum(%q) = %s", parts, got)
					return
				}
			}
		})
	}
	wg.Wait()
	if ok, keyed := keys.Check("k0."+want(b, "old", "entry"), "old", "entry"); !ok || !keyed {
		t.Fatalf("the second key's hash: ok %v keyed %v", ok, keyed)
	}
	if ok, _ := keys.Check("k1."+want(a, "one"), "two"); ok {
		t.Fatal("a hash of other parts checked")
	}
	if ok, keyed := keys.Check("k9."+want(a, "one"), "one"); ok || !keyed {
		t.Fatalf("a key not held: ok %v keyed %v", ok, keyed)
	}
	var none *chainhash.Keys
	plain := sha256.Sum256([]byte("one\x00"))
	if got := none.Sum("one"); got != hex.EncodeToString(plain[:]) {
		t.Fatalf("without keys: %s", got)
	}
}

// BenchmarkSum is one event's keyed hash, as each case step writes.
//
//	go test -run '^$' -bench Sum -benchmem ./internal/chainhash
func BenchmarkSum(b *testing.B) {
	setting, err := chainhash.Generate()
	if err != nil {
		b.Fatal(err)
	}
	keys, err := chainhash.Parse(setting)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		keys.Sum("410411202612070000123", "3", "accept", "2026-12-07T09:00:00+08:00", strings.Repeat("f", 64))
	}
}
