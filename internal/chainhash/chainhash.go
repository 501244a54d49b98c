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
)

// Keys are the chain keys; nil means none (plain SHA-256).
type Keys struct {
	active  string
	secrets map[string][]byte
}

// Parse reads "id:base64,…"; the first key signs.
func Parse(s string) (*Keys, error) {
	k := &Keys{secrets: map[string][]byte{}}
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
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Sum is the hash of parts: keyed with the active key, or plain SHA-256
// when k is nil.
func (k *Keys) Sum(parts ...string) string {
	if k == nil {
		return sum(sha256.New(), parts)
	}
	return k.active + "." + sum(hmac.New(sha256.New, k.secrets[k.active]), parts)
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
	return hmac.Equal([]byte(mac), []byte(sum(hmac.New(sha256.New, k.secrets[id]), parts))), true
}
