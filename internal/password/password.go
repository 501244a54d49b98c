// Package password hashes passwords with Argon2id and holds the platform's
// password policy.
//
// # Hashing
//
// Hash returns a self-describing PHC string:
//
//	$argon2id$v=19$m=65536,t=2,p=2$<salt>$<key>
//
// with a 16-byte random salt and a 32-byte derived key, both in unpadded
// standard base64. Verify reads the parameters back from the string, so
// hashes made with older parameters keep verifying after the parameters
// are raised; NeedsRehash tells the login code when to re-hash a password
// it has just verified.
//
// # Parameters
//
// The current parameters are m=64 MiB, t=2 passes, p=2 lanes. OWASP's
// Password Storage Cheat Sheet gives m=19 MiB, t=2, p=1 as the minimum for
// Argon2id. We spend more memory because memory is what makes guessing on
// GPUs and ASICs expensive, and use two lanes because the district servers
// have two cores: one login's hash then runs on both, so the memory can be
// raised without the user waiting twice as long.
//
// Measured with BenchmarkHash (go test -run '^$' -bench Hash -benchtime 50x
// -count 5 ./internal/password) on a 2-core AMD EPYC x86-64 Linux server,
// GOMAXPROCS=2, Go 1.26: 44–67 ms per hash over ten runs of 20–50 hashes
// each, median about 53 ms, with 64 MiB allocated per hash. The machine was also running
// other builds (load average about 3), so an idle server should be near
// the low end. Verify costs the same. That keeps a login well below the
// delay users notice, while every guess costs an attacker 64 MiB and
// about 0.1 core-second.
//
// At most GOMAXPROCS hashes (Hash or Verify) run at once; further callers
// wait. Without that bound a burst of logins would need 64 MiB each and
// could exhaust the server's memory.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// params are the Argon2id cost parameters of one hash.
type params struct {
	memory  uint32 // KiB
	time    uint32 // passes
	threads uint8  // lanes
	saltLen uint32 // bytes
	keyLen  uint32 // bytes
}

// current are the parameters Hash uses. See the package comment.
var current = params{
	memory:  64 * 1024,
	time:    2,
	threads: 2,
	saltLen: 16,
	keyLen:  32,
}

// Bounds on what Verify accepts from an encoded string. They keep a
// corrupted or hostile string from asking for terabytes of memory or hours
// of work; raise them if the current parameters ever approach them.
const (
	maxMemory  = 1024 * 1024 // KiB, 1 GiB
	maxTime    = 64
	minSaltLen = 8 // RFC 9106 minimum
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 128
)

// ErrMalformed is wrapped by the errors Verify returns for a string that is
// not an Argon2id PHC hash this package can check.
var ErrMalformed = errors.New("password: malformed argon2id hash")

// slots bounds the number of Argon2 computations running at once.
var slots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

func derive(plain string, salt []byte, p params) []byte {
	slots <- struct{}{}
	defer func() { <-slots }()
	return argon2.IDKey([]byte(plain), salt, p.time, p.memory, p.threads, p.keyLen)
}

// Hash derives an Argon2id key from plain with a fresh random salt and
// returns it as a PHC string. The error is non-nil only if the system's
// random source fails.
func Hash(plain string) (string, error) {
	salt := make([]byte, current.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: reading random salt: %w", err)
	}
	key := derive(plain, salt, current)
	return encode(current, salt, key), nil
}

// Verify reports whether plain is the password encoded was made from. The
// derived keys are compared in constant time. A wrong password gives
// false, nil; the error is non-nil only when encoded is malformed (it then
// wraps ErrMalformed).
func Verify(encoded, plain string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got := derive(plain, salt, p)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters weaker than
// the current ones (less memory, fewer passes or lanes, a shorter salt or
// key), or cannot be read at all. Call it after a successful Verify and, if
// true, store Hash(plain) in place of encoded.
func NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	if err != nil {
		return true
	}
	return p.memory < current.memory ||
		p.time < current.time ||
		p.threads < current.threads ||
		p.saltLen < current.saltLen ||
		p.keyLen < current.keyLen
}

var b64 = base64.RawStdEncoding.Strict()

func encode(p params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

func malformed(why string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, why)
}

// decode parses a PHC string in exactly the form encode writes, checking
// every parameter against the bounds above so that deriving a key from the
// result can neither panic nor run away.
func decode(s string) (params, []byte, []byte, error) {
	var p params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, malformed("want $argon2id$v=19$m=…,t=…,p=…$salt$key")
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, malformed("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, malformed("unsupported version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, malformed("want parameters m,t,p")
	}
	m, err := paramUint(kv[0], "m=", 32)
	if err != nil {
		return p, nil, nil, err
	}
	t, err := paramUint(kv[1], "t=", 32)
	if err != nil {
		return p, nil, nil, err
	}
	th, err := paramUint(kv[2], "p=", 8)
	if err != nil {
		return p, nil, nil, err
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint8(th)
	switch {
	case p.threads < 1:
		return p, nil, nil, malformed("parallelism must be at least 1")
	case p.time < 1 || p.time > maxTime:
		return p, nil, nil, malformed("passes out of range")
	case p.memory < 8*uint32(p.threads) || p.memory > maxMemory:
		return p, nil, nil, malformed("memory out of range")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, malformed("salt is not unpadded base64")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, malformed("key is not unpadded base64")
	}
	if len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, nil, malformed("salt length out of range")
	}
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, malformed("key length out of range")
	}
	p.saltLen, p.keyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// paramUint parses one "x=digits" parameter. Only plain decimal digits are
// accepted, without sign or leading zeros.
func paramUint(s, prefix string, bits int) (uint64, error) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok || digits == "" || (len(digits) > 1 && digits[0] == '0') {
		return 0, malformed("bad parameter " + strconv.Quote(prefix))
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, malformed("bad parameter " + strconv.Quote(prefix))
		}
	}
	v, err := strconv.ParseUint(digits, 10, bits)
	if err != nil {
		return 0, malformed("parameter " + strconv.Quote(prefix) + " out of range")
	}
	return v, nil
}
