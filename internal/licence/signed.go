// Package licence issues, signs, verifies and revokes e-licences (电子证照,
// issue 12). A licence is its signed data: the canonical JSON of Data,
// signed with Ed25519 under a key id. Its token — base64url of the JSON,
// a dot, base64url of the signature — rides in the QR code's URL, so
// that anyone holding the public keys verifies it from the code alone;
// the platform adds only what the signature cannot say: whether the
// issuing department has since revoked it.
package licence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
)

// Version is the format of Data; a verifier refuses others.
const Version = 1

// Data is what a licence says, and all that its signature covers. Its
// JSON, with the fields in this order and nothing else, is canonical:
// Decode refuses any other spelling of the same data.
type Data struct {
	V        int     `json:"v"`
	KeyID    string  `json:"kid"`
	Number   string  `json:"no"`   // 证照编号
	Type     string  `json:"type"` // 证照类型: 食品经营许可证 …
	Holder   string  `json:"holder"`
	IDKind   string  `json:"id_kind"` // 统一社会信用代码 or 身份证号码
	HolderID string  `json:"id"`      // the credit code, or the 身份证号码 masked
	Fields   []Field `json:"fields"`
	Issuer   string  `json:"issuer"` // the issuing department
	Issued   string  `json:"issued"` // YYYY-MM-DD
	Until    string  `json:"until"`  // last valid day, YYYY-MM-DD; "" for 长期
	Case     string  `json:"case"`   // the 办件编号 it was issued on
}

// Field is one printed line of a licence.
type Field struct {
	Label string `json:"k"`
	Value string `json:"v"`
}

// canonical is the JSON that is signed.
func (d Data) canonical() []byte {
	if d.Fields == nil {
		d.Fields = []Field{}
	}
	b, err := json.Marshal(d)
	if err != nil {
		panic(err) // strings and ints only
	}
	return b
}

// Keys sign licences and verify them: the first signs, every one
// verifies, so that licences signed before a rotation stay valid while
// their key is kept.
type Keys struct {
	active  string
	private map[string]ed25519.PrivateKey
}

// ParseKeys reads ZWFW_LICENCE_KEYS: "id:base64 seed,…", each seed 32
// bytes; the first signs.
func ParseKeys(s string) (*Keys, error) {
	k := &Keys{private: map[string]ed25519.PrivateKey{}}
	for _, part := range strings.Split(s, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || id == "" || strings.ContainsAny(id, ".:") {
			return nil, errors.New("密钥格式应为 id:base64密钥,…")
		}
		seed, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("密钥 %s 应为 32 字节的 base64", id)
		}
		if _, dup := k.private[id]; dup {
			return nil, fmt.Errorf("密钥编号 %s 重复", id)
		}
		k.private[id] = ed25519.NewKeyFromSeed(seed)
		if k.active == "" {
			k.active = id
		}
	}
	return k, nil
}

// GenerateKey makes a new key setting with one key named id.
func GenerateKey(id string) (string, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return "", err
	}
	return id + ":" + base64.StdEncoding.EncodeToString(seed), nil
}

// Public returns the verification keys by id, for those who verify
// offline.
func (k *Keys) Public() map[string]ed25519.PublicKey {
	out := map[string]ed25519.PublicKey{}
	for id, p := range k.private {
		out[id] = p.Public().(ed25519.PublicKey)
	}
	return out
}

// Sign sets d's key id to the active key's and returns its token.
func (k *Keys) Sign(d *Data) string {
	d.V, d.KeyID = Version, k.active
	b := d.canonical()
	sig := ed25519.Sign(k.private[k.active], b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// Errors of verification, in Chinese for the page, the API and the
// command line.
var (
	ErrMalformed  = apperr.New(apperr.Invalid, "证照数据格式有误，无法识别。")
	ErrUnknownKey = apperr.New(apperr.Invalid, "证照的签名密钥不是本平台的密钥，无法确认其真实性。")
	ErrSignature  = apperr.New(apperr.Invalid, "证照签名无效：证照内容已被改动或不是本平台签发。")
)

// Decode reads a token's data without checking its signature.
func Decode(token string) (Data, []byte, []byte, error) {
	var d Data
	body, sig, ok := strings.Cut(strings.TrimSpace(token), ".")
	if !ok {
		return d, nil, nil, ErrMalformed
	}
	// Strict: one spelling of each byte string, so that no two tokens
	// carry the same licence.
	b, err1 := base64.RawURLEncoding.Strict().DecodeString(body)
	s, err2 := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err1 != nil || err2 != nil || len(s) != ed25519.SignatureSize {
		return d, nil, nil, ErrMalformed
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil || dec.More() {
		return d, nil, nil, ErrMalformed
	}
	// One spelling only: what is shown is exactly what was signed.
	if d.V != Version || !bytes.Equal(d.canonical(), b) {
		return d, nil, nil, ErrMalformed
	}
	return d, b, s, nil
}

// Verify checks a token's signature under the keys and its validity on
// day: it returns the data, and an error saying in Chinese why it is not
// a valid licence (the data too when it could be read).
func (k *Keys) Verify(token string, day calendar.Date) (Data, error) {
	d, body, sig, err := Decode(token)
	if err != nil {
		return d, err
	}
	priv, ok := k.private[d.KeyID]
	if !ok {
		return d, ErrUnknownKey
	}
	if !ed25519.Verify(priv.Public().(ed25519.PublicKey), body, sig) {
		return d, ErrSignature
	}
	return d, d.validOn(day)
}

// validOn checks the licence's dates on day.
func (d Data) validOn(day calendar.Date) error {
	issued, err := calendar.ParseDate(d.Issued)
	if err != nil {
		return ErrMalformed
	}
	if day.Before(issued) {
		return apperr.New(apperr.Invalid, "证照尚未生效（发证日期 "+d.Issued+"）。")
	}
	if d.Until != "" {
		until, err := calendar.ParseDate(d.Until)
		if err != nil {
			return ErrMalformed
		}
		if until.Before(day) {
			return apperr.New(apperr.Invalid, "证照已超过有效期（有效期至 "+d.Until+"）。")
		}
	}
	return nil
}
