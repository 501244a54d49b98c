package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of every delivery (docs/WEBHOOKS.md). The signature is
// HMAC-SHA256 over timestamp + "." + body with the subscription's secret,
// in hex, labelled with the secret's version: "v3=…". For a day after a
// rotation the header carries the previous secret's signature too
// ("v3=…,v2=…"), so that a receiver can switch secrets at its own pace.
const (
	HeaderID        = "Zwfw-Webhook-Id"        // the event's id: the same on every attempt and redelivery
	HeaderEvent     = "Zwfw-Webhook-Event"     // the event's type, e.g. case.accepted
	HeaderTimestamp = "Zwfw-Webhook-Timestamp" // Unix seconds when this attempt was signed
	HeaderSignature = "Zwfw-Webhook-Signature" // v<version>=<hex HMAC-SHA256>[,…]
)

// Tolerance is how far a delivery's timestamp may be from the receiver's
// clock: an older request is a replay (or a very late one) and is refused.
const Tolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("webhook: missing timestamp or signature")
	ErrBadSignature = errors.New("webhook: signature does not match")
	ErrTooOld       = errors.New("webhook: timestamp outside the tolerance (replay?)")
)

// Signature is the hex HMAC-SHA256 of timestamp + "." + body.
func Signature(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery as its receiver gets it: the timestamp is within
// Tolerance of now, and one of the signatures in the header is the
// HMAC-SHA256 of timestamp + "." + body under secret (any version: during
// a rotation, the receiver passes the secret it holds). body must be the
// bytes as received, before any decoding. Receivers then drop an event id
// they have already processed (HeaderID): a redelivery repeats it.
func Verify(h http.Header, body []byte, secret string, now time.Time) error {
	ts, sig := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if ts == "" || sig == "" || secret == "" {
		return ErrNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrNoSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return ErrTooOld
	}
	want := []byte(Signature(secret, sec, body))
	for part := range strings.SplitSeq(sig, ",") {
		_, hexSig, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && hmac.Equal([]byte(hexSig), want) {
			return nil
		}
	}
	return ErrBadSignature
}
