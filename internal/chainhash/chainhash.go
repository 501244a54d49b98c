// Package chainhash computes the hashes that link the audit log's entries
// and each case's events. With keys they are HMAC-SHA256 under a secret
// the database does not hold (ZWFW_AUDIT_KEYS), written "<key id>.<hex>",
// so that someone who can write to the database but has not the key cannot
// rewrite an entry and recompute the chain after it. Without keys, and in
// rows written before keys existed, they are plain SHA-256 in hex.
//
// Keys rotate like the personal-data keys: the first one signs, the others
// only verify what they signed.
package chainhash

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// Keys are the chain keys; nil means none (plain SHA-256).
type Keys struct {
	active  string
	secrets map[string][]byte
	// macs keeps each key's HMAC states for reuse: hmac.New hashes the
	// key's pads afresh and allocates, for each of the five or so events
	// of every case, and Reset returns to the keyed state at once.
	macs map[string]*sync.Pool
}

// Parse reads "id:base64,…"; the first key signs.
func Parse(s string) (*Keys, error) {
	k := &Keys{secrets: map[string][]byte{}, macs: map[string]*sync.Pool{}}
	for _, part := range strings.Split(s, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || id == "" || strings.ContainsAny(id, ".:") {
			return nil, errors.New("密钥格式应为 id:base64密钥,…")
		}
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(secret) < 32 {
			return nil, fmt.Errorf("密钥 %s 应为至少 32 字节的 base64", id)
		}
		if _, dup := k.secrets[id]; dup {
			return nil, fmt.Errorf("密钥编号 %s 重复", id)
		}
		k.secrets[id] = secret
		k.macs[id] = &sync.Pool{New: func() any { return &macState{h: hmac.New(sha256.New, secret)} }}
		if k.active == "" {
			k.active = id
		}
	}
	return k, nil
}

// Generate makes a new key setting with one key.
func Generate() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "a1:" + base64.StdEncoding.EncodeToString(b), nil
}

func sum(h hash.Hash, parts []string) string {
	return hex.EncodeToString(h.Sum(write(h, nil, parts)[:0]))
}

// write writes each part and a zero byte after it to h, through buf (in
// one call: a string converted for each Write is an allocation), and
// returns buf for reuse.
func write(h hash.Hash, buf []byte, parts []string) []byte {
	buf = buf[:0]
	for _, p := range parts {
		buf = append(append(buf, p...), 0)
	}
	h.Write(buf)
	return buf
}

// macState is a keyed HMAC with its buffer, kept for reuse.
type macState struct {
	h   hash.Hash
	buf []byte
}

// Sum is the hash of parts: keyed with the active key, or plain SHA-256
// when k is nil.
func (k *Keys) Sum(parts ...string) string {
	if k == nil {
		return sum(sha256.New(), parts)
	}
	return k.active + "." + k.mac(k.active, parts)
}

// mac is the HMAC of parts under key id, which k holds.
func (k *Keys) mac(id string, parts []string) string {
	pool := k.macs[id]
	m := pool.Get().(*macState)
	m.h.Reset()
	m.buf = write(m.h, m.buf, parts)
	var out [sha256.Size]byte
	s := hex.EncodeToString(m.h.Sum(out[:0]))
	if cap(m.buf) <= 64<<10 { // an outsized event's buffer is not kept
		pool.Put(m)
	}
	return s
}

// Check reports whether stored is the hash of parts, and whether it is a
// keyed one. A keyed hash under a key k does not hold never checks.
func (k *Keys) Check(stored string, parts ...string) (ok, keyed bool) {
	id, mac, keyed := strings.Cut(stored, ".")
	if !keyed {
		return hmac.Equal([]byte(stored), []byte(sum(sha256.New(), parts))), false
	}
	if k == nil || k.secrets[id] == nil {
		return false, true
	}
	return hmac.Equal([]byte(mac), []byte(k.mac(id, parts))), true
}
