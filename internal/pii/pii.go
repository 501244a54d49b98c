// Package pii protects personal data at rest: 居民身份证号码, mobile numbers
// and, later, other fields that identify a person.
//
// A protected field is stored twice, in two columns with two jobs:
//
//   - the sealed value (Seal/Open), AES-256-GCM ciphertext under a named key,
//     which is the only way back to the plaintext; and
//   - the blind index (Index), a keyed hash that lets the platform find "the
//     person with this 身份证号码" with an ordinary equality lookup, without
//     decrypting the table and without storing anything an attacker could
//     reverse by enumerating the (small) space of ID or mobile numbers.
//
// # Sealed format
//
// Seal returns "v1.<keyid>.<base64url(nonce|ciphertext|tag)>": a version, the
// id of the key that sealed it, and the raw (unpadded) URL-safe base64 of a
// random 96-bit GCM nonce followed by the ciphertext and its 128-bit tag. The
// value is ASCII, so it fits a TEXT column and needs no escaping.
//
// # Context (additional data)
//
// Every Seal and Open names a context such as "person.id_number". The
// context, together with the format version and the key id, is GCM additional
// data: it is not stored, but it is authenticated. A ciphertext copied from
// one column to another (say a sealed mobile number written over an ID
// number) therefore fails to open there instead of being silently accepted.
// A caller that also wants to stop values moving between rows of the same
// column can put the row's immutable key in the context
// ("person.id_number/42"). Contexts are fixed in code; changing one makes
// every value sealed under the old name unreadable.
//
// # Why a separate index key
//
// The blind index key is distinct from the encryption keys and never rotates
// with them. Index values must stay stable for lookups to keep working, while
// encryption keys should rotate; and a leaked index key only lets an attacker
// test guesses against the index column, it does not decrypt anything.
// Deriving one from the other would tie the two lifecycles together. The
// index key must never change without recomputing every stored index value
// (a re-index job that opens each sealed value and calls Index again).
//
// # Key rotation
//
//  1. Generate a new key (GenerateEncryptionKey) and put it FIRST in the
//     encryption key list, keeping the old keys after it. New data is now
//     sealed with the new key; old data still opens. With several instances,
//     first roll out the new key in second place everywhere, then move it
//     first, so that no instance meets a key id it does not know.
//  2. Run `zwfw keys rotate`, the re-seal job over every protected column:
//     for each value where NeedsRotation reports true, Reseal (Open then
//     Seal) and write it back (identity.ResealAccounts, casework.ResealAnswers).
//  3. Only when no value needs rotation any more, remove the old key from the
//     configuration. Removing it earlier makes the values it sealed
//     unreadable for ever.
//
// Random 96-bit nonces are safe for about 2^32 seals per key, far more than a
// district platform writes between rotations.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

const (
	// KeySize is the length in bytes of every key: AES-256 for encryption,
	// 256 bits for the HMAC-SHA256 blind index.
	KeySize = 32
	// MaxKeyIDLen bounds key ids, which are stored in every sealed value.
	MaxKeyIDLen = 16

	version   = "v1"
	nonceSize = 12 // standard GCM nonce
	tagSize   = 16 // standard GCM tag
	aadPrefix = "zwfw.pii." + version
)

// b64 is the encoding of the sealed payload. Strict rejects non-zero
// trailing bits, so that every change to the text changes the bytes (and
// is caught by GCM) rather than decoding to the same payload.
var b64 = base64.RawURLEncoding.Strict()

// Errors returned by Open (and Reseal). The texts are Chinese and contain no
// plaintext or key material; callers may match them with errors.Is.
var (
	ErrMalformed  = errors.New("加密数据格式无效")
	ErrUnknownKey = errors.New("加密数据使用的密钥不在当前密钥配置中")
	ErrDecrypt    = errors.New("加密数据无法解密（数据被篡改、用途不符或密钥错误）")
	ErrContext    = errors.New("加密用途（context）不能为空")
)

// Keys is the keyring from configuration: the encryption keys, the first of
// which is active, and the blind index key. It is safe for concurrent use.
// Its String, GoString and LogValue methods print only key ids, so a Keys
// value that ends up in a log line or error does not leak key material.
type Keys struct {
	active   string
	ids      []string // configuration order, active first
	aeads    map[string]cipher.AEAD
	indexKey []byte
}

// ParseKeys builds a keyring from two configuration values.
//
// encryption is a comma-separated list "id1:BASE64KEY,id2:BASE64KEY". Every
// key is 32 bytes in standard base64 (with padding); every id is 1–16
// characters from [a-z0-9] and unique. The FIRST key is active: new data is
// sealed with it. The others only open data sealed before a rotation (see the
// package documentation for the procedure).
//
// index is one standard-base64 32-byte key for the blind index. It must
// never change without re-indexing every stored value: lookups by Index
// stop finding anything indexed under the old key. It must differ from every
// encryption key.
//
// Spaces around entries are ignored. Errors are one line of Chinese and
// never contain key material; an id is quoted only once it is known valid.
func ParseKeys(encryption string, index string) (*Keys, error) {
	k := &Keys{aeads: make(map[string]cipher.AEAD)}
	if strings.TrimSpace(encryption) == "" {
		return nil, errors.New("未配置数据加密密钥（格式：id:base64密钥，多个以逗号分隔，第一个为当前密钥）")
	}
	var raw [][]byte
	for i, entry := range strings.Split(encryption, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("第%d个数据加密密钥为空（格式：id:base64密钥，多个以逗号分隔）", n)
		}
		id, b64key, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("第%d个数据加密密钥缺少 id（格式：id:base64密钥）", n)
		}
		id, b64key = strings.TrimSpace(id), strings.TrimSpace(b64key)
		if !validID(id) {
			return nil, fmt.Errorf("第%d个数据加密密钥的 id 无效（应为1至%d位小写字母或数字）", n, MaxKeyIDLen)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("数据加密密钥 id %s 重复", id)
		}
		key, err := decodeKey(b64key)
		if err != nil {
			return nil, fmt.Errorf("数据加密密钥 %s %s", id, err.Error())
		}
		block, err := aes.NewCipher(key)
		if err != nil { // cannot happen for 32 bytes; no detail, to be safe
			return nil, fmt.Errorf("数据加密密钥 %s 无法使用", id)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("数据加密密钥 %s 无法使用", id)
		}
		k.aeads[id] = aead
		k.ids = append(k.ids, id)
		raw = append(raw, key)
	}
	k.active = k.ids[0]

	if strings.TrimSpace(index) == "" {
		return nil, errors.New("未配置盲索引密钥（base64 编码的32字节密钥）")
	}
	ik, err := decodeKey(strings.TrimSpace(index))
	if err != nil {
		return nil, fmt.Errorf("盲索引密钥%s", err.Error())
	}
	for i, key := range raw {
		if subtle.ConstantTimeCompare(key, ik) == 1 {
			return nil, fmt.Errorf("盲索引密钥不得与数据加密密钥 %s 相同", k.ids[i])
		}
	}
	k.indexKey = ik
	return k, nil
}

// decodeKey decodes one base64 key. Its error is a phrase to follow the
// key's name and never includes the input or the decoder's error (which
// would quote offsets into the secret).
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("为空（应为 base64 编码的32字节密钥）")
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("不是有效的 base64 编码（应为标准 base64 编码的32字节密钥）")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("长度应为%d字节（base64 编码）", KeySize)
	}
	var zero [KeySize]byte
	if subtle.ConstantTimeCompare(key, zero[:]) == 1 {
		return nil, errors.New("全为零，不能使用（请用 zwfw 生成随机密钥）")
	}
	return key, nil
}

func validID(id string) bool {
	if len(id) == 0 || len(id) > MaxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// GenerateEncryptionKey returns one fresh "id:BASE64KEY" entry, the thing to
// put first in the encryption list when rotating. The id is "k", the UTC
// date and four random hex digits, e.g. "k20260315a1b2", so that ids are
// unique and say when a key was made.
func GenerateEncryptionKey() (string, error) {
	key, err := randomBytes(KeySize)
	if err != nil {
		return "", err
	}
	suffix, err := randomBytes(2)
	if err != nil {
		return "", err
	}
	id := "k" + time.Now().UTC().Format("20060102") + hex.EncodeToString(suffix)
	return id + ":" + base64.StdEncoding.EncodeToString(key), nil
}

// GenerateKeys returns fresh random configuration values: an encryption list
// with one key and a blind index key, for `zwfw demo`, first installs and
// documentation. Keep both secret and back them up: without them the stored
// personal data cannot be read or found.
func GenerateKeys() (encryption, index string, err error) {
	encryption, err = GenerateEncryptionKey()
	if err != nil {
		return "", "", err
	}
	ik, err := randomBytes(KeySize)
	if err != nil {
		return "", "", err
	}
	return encryption, base64.StdEncoding.EncodeToString(ik), nil
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, errors.New("无法生成随机数")
	}
	return b, nil
}

// ActiveID returns the id of the key new data is sealed with.
func (k *Keys) ActiveID() string { return k.active }

// IDs returns the key ids in configuration order, the active one first.
func (k *Keys) IDs() []string { return append([]string(nil), k.ids...) }

// aad is the additional data bound to a sealed value: format version, key id
// and context, separated by NUL. The encoding is unambiguous because the
// prefix is fixed, the key id is [a-z0-9] and the context comes last.
func aad(id, context string) []byte {
	b := make([]byte, 0, len(aadPrefix)+2+len(id)+len(context))
	b = append(b, aadPrefix...)
	b = append(b, 0)
	b = append(b, id...)
	b = append(b, 0)
	b = append(b, context...)
	return b
}

// Seal encrypts plaintext with the active key and returns
// "v1.<keyid>.<base64url(nonce|ciphertext)>". context (e.g.
// "person.id_number") must be non-empty and is bound as GCM additional data,
// so the value opens only with the same context: a value copied to another
// column does not open there. Two seals of the same plaintext differ, since
// the nonce is random; use Index, not the sealed text, to find equal values.
func (k *Keys) Seal(plaintext string, context string) (string, error) {
	if context == "" {
		return "", ErrContext
	}
	aead := k.aeads[k.active]
	buf := make([]byte, nonceSize, nonceSize+len(plaintext)+tagSize)
	if _, err := rand.Read(buf); err != nil {
		return "", errors.New("无法生成随机数")
	}
	buf = aead.Seal(buf, buf[:nonceSize], []byte(plaintext), aad(k.active, context))
	return version + "." + k.active + "." + b64.EncodeToString(buf), nil
}

// split parses the header of a sealed value. It does not decode the payload.
func split(sealed string) (id, payload string, ok bool) {
	rest, ok := strings.CutPrefix(sealed, version+".")
	if !ok {
		return "", "", false
	}
	id, payload, ok = strings.Cut(rest, ".")
	if !ok || !validID(id) {
		return "", "", false
	}
	return id, payload, true
}

// Open decrypts a value made by Seal under the same context. It returns
// ErrMalformed for text that is not a sealed value, ErrUnknownKey when the
// key id is not configured (a key removed too early during rotation), and
// ErrDecrypt when the value was altered, belongs to another context or was
// sealed under a different key of the same id. It never panics.
func (k *Keys) Open(sealed string, context string) (string, error) {
	if context == "" {
		return "", ErrContext
	}
	id, payload, ok := split(sealed)
	if !ok {
		return "", ErrMalformed
	}
	aead, known := k.aeads[id]
	if !known {
		return "", fmt.Errorf("%w：%s", ErrUnknownKey, id) // id is [a-z0-9]{1,16}, safe to show
	}
	// The decoder skips \r and \n; refuse them so that only one text
	// corresponds to each payload.
	if strings.ContainsAny(payload, "\r\n") {
		return "", ErrMalformed
	}
	raw, err := b64.DecodeString(payload)
	if err != nil || len(raw) < nonceSize+tagSize {
		return "", ErrMalformed
	}
	pt, err := aead.Open(raw[nonceSize:nonceSize], raw[:nonceSize], raw[nonceSize:], aad(id, context))
	if err != nil {
		return "", ErrDecrypt
	}
	return string(pt), nil
}

// NeedsRotation reports whether sealed carries a key id other than the
// active one, i.e. whether the re-seal job should rewrite it. It looks only
// at the header: it is false for values under the active key and for text
// that is not a sealed value at all (Open reports those). A value under an
// id no longer configured is reported true, so the job surfaces it when
// Open fails instead of skipping it.
func (k *Keys) NeedsRotation(sealed string) bool {
	id, _, ok := split(sealed)
	return ok && id != k.active
}

// Reseal is the step of the re-seal job: if sealed NeedsRotation it is
// opened and sealed again with the active key, and changed is true; else it
// is returned unchanged. context is the value's context, as for Open.
func (k *Keys) Reseal(sealed string, context string) (out string, changed bool, err error) {
	if !k.NeedsRotation(sealed) {
		if _, _, ok := split(sealed); !ok {
			return "", false, ErrMalformed
		}
		return sealed, false, nil
	}
	pt, err := k.Open(sealed, context)
	if err != nil {
		return "", false, err
	}
	out, err = k.Seal(pt, context)
	if err != nil {
		return "", false, err
	}
	return out, true, nil
}

// IsSealed reports whether s has the form of a sealed value (version and a
// valid key id). It does not check the payload; a migration that encrypts
// legacy plaintext columns can use it to skip values already sealed.
func IsSealed(s string) bool {
	_, _, ok := split(s)
	return ok
}

// Index returns the blind index of value: the lowercase hex of
// HMAC-SHA256(indexKey, kind + "\x00" + value), 64 characters. It is
// deterministic, so equal values under the same kind give equal indexes
// and a lookup is "WHERE id_number_idx = $1"; different kinds (e.g.
// "id_number", "mobile") give unrelated outputs, so equal strings in two
// kinds cannot be linked. kind is a constant in code and must not contain
// NUL.
//
// Index does not normalise: callers must pass the canonical form (for
// example ident's normalised 身份证号码 with an uppercase X, a mobile without
// spaces or +86), or the same person will have several indexes.
func (k *Keys) Index(kind string, value string) string {
	m := hmac.New(sha256.New, k.indexKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	var sum [sha256.Size]byte
	return hex.EncodeToString(m.Sum(sum[:0]))
}

// String describes the keyring by ids only. The value receivers matter:
// they cover a Keys printed by value as well as through a pointer, where
// fmt would otherwise print the unexported fields.
func (k Keys) String() string {
	return fmt.Sprintf("pii.Keys{active: %s, ids: %s}", k.active, strings.Join(k.ids, ","))
}

// GoString keeps %#v from printing key material.
func (k Keys) GoString() string { return k.String() }

// LogValue keeps slog from printing key material.
func (k Keys) LogValue() slog.Value { return slog.StringValue(k.String()) }
