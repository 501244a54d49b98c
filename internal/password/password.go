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
// The current parameters are m=19 MiB, t=2 passes, p=1 lane: the first of
// the equivalent minimum configurations in OWASP's Password Storage Cheat
// Sheet (m=47 MiB t=1, m=19 MiB t=2, m=12 MiB t=3, m=9 MiB t=4, m=7 MiB
// t=5, all p=1). They were m=64 MiB, t=2, p=2 until issue 18: about 0.1
// core-second a hash, so 50 staff signing in at a shift change on a
// 2-core server needed 5 core-seconds, and the last waited 2.5 s at best.
// One hash now costs about 30 % of that, so 50 sign-ins fit in under a
// second of the two cores (BenchmarkStaffSignInBurst in internal/identity,
// docs/PERFORMANCE.md). Of the OWASP options this one keeps the most
// memory a guess costs for the time the server spends, memory being what
// makes guessing on GPUs and ASICs expensive; one lane because with two
// cores two sign-ins at once each take one, and a second lane would only
// make them queue for each other.
//
// Verify reads the parameters back from the string, so hashes made with
// other parameters keep verifying; NeedsRehash asks for a new hash of any
// hash whose parameters are not the current ones, so sign-ins re-hash old
// m=64 MiB hashes and every later check costs the same.
//
// At most GOMAXPROCS hashes (Hash or Verify) run at once; further callers
// queue for at most maxWait and then get ErrBusy (系统繁忙, HTTP 503)
// rather than piling up: a burst beyond what the cores can hash in that
// time would otherwise make every caller wait longer and longer.
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
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/zwfw/zwfw/internal/apperr"
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
	memory:  19 * 1024,
	time:    2,
	threads: 1,
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

// ErrBusy is what Hash and Verify return when no hashing slot came free
// within maxWait.
var ErrBusy = apperr.New(apperr.Unavailable, "系统繁忙，请稍后再试。")

// slots bounds the number of Argon2 computations running at once.
var slots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// maxWait is how long a hash may queue for a slot: at about 30 ms a hash
// on each of two cores, some 130 callers ahead of it.
var maxWait = 2 * time.Second

func derive(plain string, salt []byte, p params) ([]byte, error) {
	select {
	case slots <- struct{}{}:
	default:
		t := time.NewTimer(maxWait)
		defer t.Stop()
		select {
		case slots <- struct{}{}:
		case <-t.C:
			return nil, ErrBusy
		}
	}
	defer func() { <-slots }()
	return argon2.IDKey([]byte(plain), salt, p.time, p.memory, p.threads, p.keyLen), nil
}

// Hash derives an Argon2id key from plain with a fresh random salt and
// returns it as a PHC string. The error is ErrBusy when too many hashes
// queue, or says the system's random source failed.
func Hash(plain string) (string, error) {
	salt := make([]byte, current.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: reading random salt: %w", err)
	}
	key, err := derive(plain, salt, current)
	if err != nil {
		return "", err
	}
	return encode(current, salt, key), nil
}

// Verify reports whether plain is the password encoded was made from. The
// derived keys are compared in constant time. A wrong password gives
// false, nil; the error wraps ErrMalformed when encoded is malformed, or
// is ErrBusy when too many hashes queue.
func Verify(encoded, plain string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got, err := derive(plain, salt, p)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than
// the current ones, or cannot be read at all. Call it after a successful
// Verify and, if true, store Hash(plain) in place of encoded. Stronger
// parameters are replaced too: they cost every sign-in more than the
// chosen ones (see the package comment).
func NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	return err != nil || p != current
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
