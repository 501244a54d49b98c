package password

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/zwfw/zwfw/internal/apperr"
)

// cheap are parameters small enough for tests that hash many times.
var cheap = params{memory: 64, time: 1, threads: 1, saltLen: 16, keyLen: 32}

func TestHashVerifyRoundTrip(t *testing.T) {
	for _, plain := range []string{"Zhengwu#2025!", "", "政务服务Abc123", strings.Repeat("x", 1000)} {
		enc, err := Hash(plain)
		if err != nil {
			t.Fatalf("Hash(%q): %v", plain, err)
		}
		if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Fatalf("Hash(%q) = %q: unexpected prefix", plain, enc)
		}
		p, salt, key, err := decode(enc)
		if err != nil {
			t.Fatalf("decode(Hash(%q)): %v", plain, err)
		}
		if p != current || len(salt) != 16 || len(key) != 32 {
			t.Fatalf("decode(Hash(%q)) = %+v, %d-byte salt, %d-byte key", plain, p, len(salt), len(key))
		}
		ok, err := Verify(enc, plain)
		if err != nil || !ok {
			t.Fatalf("Verify(Hash(%q), same) = %v, %v; want true, nil", plain, ok, err)
		}
		ok, err = Verify(enc, plain+"x")
		if err != nil || ok {
			t.Fatalf("Verify(Hash(%q), wrong) = %v, %v; want false, nil", plain, ok, err)
		}
		if NeedsRehash(enc) {
			t.Fatalf("NeedsRehash(Hash(%q)) = true for current parameters", plain)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	enc, err := Hash("Correct-Horse-9")
	if err != nil {
		t.Fatal(err)
	}
	for _, wrong := range []string{"correct-horse-9", "Correct-Horse-", "Correct-Horse-9 ", ""} {
		ok, err := Verify(enc, wrong)
		if err != nil || ok {
			t.Errorf("Verify(enc, %q) = %v, %v; want false, nil", wrong, ok, err)
		}
	}
}

func TestHashesDiffer(t *testing.T) {
	a, err := Hash("Same-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Hash("Same-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two hashes of the same password are equal: %q", a)
	}
	if strings.Split(a, "$")[4] == strings.Split(b, "$")[4] {
		t.Fatalf("two hashes share a salt")
	}
}

// TestVerifyKnownAnswer checks Verify against an Argon2id vector that was
// not produced by this package: password "password", salt "somesalt",
// m=64 KiB, t=1, p=1, 24-byte key, from the test vectors of
// golang.org/x/crypto/argon2 (generated with the reference implementation).
// It also shows that other salt and key lengths verify, and that such a
// hash needs re-hashing.
func TestVerifyKnownAnswer(t *testing.T) {
	key, err := hex.DecodeString("655ad15eac652dc59f7170a7332bf49b8469be1fdb9c28bb")
	if err != nil {
		t.Fatal(err)
	}
	enc := "$argon2id$v=19$m=64,t=1,p=1$" +
		base64.RawStdEncoding.EncodeToString([]byte("somesalt")) + "$" +
		base64.RawStdEncoding.EncodeToString(key)
	if want := "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$"; !strings.HasPrefix(enc, want) {
		t.Fatalf("enc = %q, want prefix %q", enc, want)
	}
	ok, err := Verify(enc, "password")
	if err != nil || !ok {
		t.Fatalf("Verify(%q, \"password\") = %v, %v; want true, nil", enc, ok, err)
	}
	ok, err = Verify(enc, "Password")
	if err != nil || ok {
		t.Fatalf("Verify(%q, \"Password\") = %v, %v; want false, nil", enc, ok, err)
	}
	if !NeedsRehash(enc) {
		t.Fatalf("NeedsRehash(%q) = false", enc)
	}
}

func TestNeedsRehash(t *testing.T) {
	salt16 := strings.Repeat("A", 22) // 16 bytes
	salt8 := strings.Repeat("A", 11)  // 8 bytes
	key32 := strings.Repeat("A", 43)  // 32 bytes
	key16 := strings.Repeat("A", 22)  // 16 bytes
	tests := []struct {
		enc  string
		want bool
	}{
		{"$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32, false}, // current: OWASP's m=19 MiB, t=2, p=1
		{"$argon2id$v=19$m=65536,t=2,p=2$" + salt16 + "$" + key32, true},  // before issue 18: costs every sign-in more
		{"$argon2id$v=19$m=131072,t=3,p=4$" + salt16 + "$" + key32, true},
		{"$argon2id$v=19$m=19455,t=2,p=1$" + salt16 + "$" + key32, true},
		{"$argon2id$v=19$m=19456,t=1,p=1$" + salt16 + "$" + key32, true},
		{"$argon2id$v=19$m=19456,t=2,p=2$" + salt16 + "$" + key32, true},
		{"$argon2id$v=19$m=19456,t=2,p=1$" + salt8 + "$" + key32, true},
		{"$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key16, true},
		{"$argon2i$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32, true},
		{"$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", true},
		{"", true},
	}
	for _, tt := range tests {
		if got := NeedsRehash(tt.enc); got != tt.want {
			t.Errorf("NeedsRehash(%q) = %v, want %v", tt.enc, got, tt.want)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	salt := strings.Repeat("A", 22)
	key := strings.Repeat("A", 43)
	bad := []string{
		"",
		"plaintext",
		"$argon2id$",
		"$argon2id$v=19$m=64,t=1,p=1$" + salt, // no key
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",      // extra field
		"argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$x",      // no leading $
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,             // wrong algorithm
		"$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key,             // wrong algorithm
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,            // old version
		"$argon2id$m=64,t=1,p=1$" + salt + "$" + key,                 // version missing
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key,                // p missing
		"$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,            // wrong order
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,            // no passes
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,            // no lanes
		"$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key,          // p overflows uint8
		"$argon2id$v=19$m=7,t=1,p=1$" + salt + "$" + key,             // m < 8p
		"$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,    // 4 TiB
		"$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key,    // overflows uint32
		"$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key,         // too many passes
		"$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key,           // sign
		"$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,           // leading zero
		"$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + key,              // empty
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,          // padding
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "!",      // not base64
		"$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key,                    // salt too short
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA",              // key too short
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:42] + "B", // non-canonical trailing bits
	}
	for _, enc := range bad {
		ok, err := Verify(enc, "password")
		if err == nil || ok {
			t.Errorf("Verify(%q) = %v, %v; want false and an error", enc, ok, err)
			continue
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) error %v does not wrap ErrMalformed", enc, err)
		}
	}
}

// FuzzVerify checks that no encoded string makes Verify panic. Inputs that
// decode to valid but expensive parameters are skipped so that fuzzing
// stays fast; decoding them has already run by then.
func FuzzVerify(f *testing.F) {
	salt := []byte("somesaltsomesalt")
	f.Add(encode(cheap, salt, argon2.IDKey([]byte("password"), salt, cheap.time, cheap.memory, cheap.threads, cheap.keyLen)), "password")
	f.Add("$argon2id$v=19$m=65536,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "")
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$$", "")
	f.Add("$$$$$", "")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, enc, plain string) {
		if p, _, _, err := decode(enc); err == nil && (p.memory > 4096 || p.time > 4 || p.threads > 4) {
			t.Skip("valid but too expensive for fuzzing")
		}
		ok, err := Verify(enc, plain)
		if err != nil && ok {
			t.Fatalf("Verify(%q, %q) = true with error %v", enc, plain, err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("Verify(%q, %q) error %v does not wrap ErrMalformed", enc, plain, err)
		}
		if err == nil != (func() bool { _, _, _, e := decode(enc); return e == nil })() {
			t.Fatalf("Verify and decode disagree on %q", enc)
		}
	})
}

// BenchmarkHash measures one hash with the current parameters; the result
// is quoted in the package comment.
func BenchmarkHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Hash("Zhengwu#2025!"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	enc, err := Hash("Zhengwu#2025!")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := Verify(enc, "Zhengwu#2025!"); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// TestBusy shows that a hash which cannot get a slot in time answers
// ErrBusy (系统繁忙, HTTP 503) instead of queueing without end, and that
// the slots serve again once free.
func TestBusy(t *testing.T) {
	enc, err := Hash("Zhengwu#2025!")
	if err != nil {
		t.Fatal(err)
	}
	defer func(w time.Duration) { maxWait = w }(maxWait)
	maxWait = 50 * time.Millisecond
	for range cap(slots) {
		slots <- struct{}{}
	}
	start := time.Now()
	_, err = Verify(enc, "Zhengwu#2025!")
	if !errors.Is(err, ErrBusy) || apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("Verify with every slot taken = %v; want ErrBusy", err)
	}
	if _, err := Hash("x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with every slot taken = %v; want ErrBusy", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("waited %v", d)
	}
	for range cap(slots) {
		<-slots
	}
	if ok, err := Verify(enc, "Zhengwu#2025!"); !ok || err != nil {
		t.Fatalf("Verify after the slots came free = %v, %v", ok, err)
	}
}

// BenchmarkParams compares the old parameters with OWASP's equivalent
// minimum configurations for Argon2id, GOMAXPROCS hashes at a time as
// sign-ins on a busy server run; the package comment says why m=19 MiB,
// t=2, p=1 was chosen.
func BenchmarkParams(b *testing.B) {
	salt := []byte("zwfw-bench-salt!")
	for _, p := range []struct {
		name                  string
		memory, time, threads uint32
	}{
		{"old-m64MiB-t2-p2", 64 * 1024, 2, 2},
		{"m47MiB-t1", 47 * 1024, 1, 1},
		{"m19MiB-t2", 19 * 1024, 2, 1},
		{"m12MiB-t3", 12 * 1024, 3, 1},
		{"m9MiB-t4", 9 * 1024, 4, 1},
		{"m7MiB-t5", 7 * 1024, 5, 1},
	} {
		b.Run(p.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					argon2.IDKey([]byte("Zhengwu#2025!"), salt, p.time, p.memory, uint8(p.threads), 32)
				}
			})
		})
	}
}
