package webhook

import (
	"net/http"
	"time"

	"github.com/zwfw/zwfw/client"
)

// The headers of every delivery (docs/WEBHOOKS.md). The signature is
// HMAC-SHA256 over timestamp + "." + body with the subscription's secret,
// in hex, labelled with the secret's version: "v3=…". For a day after a
// rotation the header carries the previous secret's signature too
// ("v3=…,v2=…"), so that a receiver can switch secrets at its own pace.
// The signing and its check are the Go client's (package client), which
// the departments' receivers use: one implementation on both sides.
const (
	HeaderID        = client.HeaderWebhookID        // the event's id: the same on every attempt and redelivery
	HeaderEvent     = client.HeaderWebhookEvent     // the event's type, e.g. case.accepted
	HeaderTimestamp = client.HeaderWebhookTimestamp // Unix seconds when this attempt was signed
	HeaderSignature = client.HeaderWebhookSignature // v<version>=<hex HMAC-SHA256>[,…]
)

// Tolerance is how far a delivery's timestamp may be from the receiver's
// clock: an older request is a replay (or a very late one) and is refused.
const Tolerance = client.WebhookTolerance

// Errors of Verify.
var (
	ErrNoSignature  = client.ErrWebhookUnsigned
	ErrBadSignature = client.ErrWebhookBadSignature
	ErrTooOld       = client.ErrWebhookTooOld
)

// Signature is the hex HMAC-SHA256 of timestamp + "." + body.
func Signature(secret string, timestamp int64, body []byte) string {
	return client.WebhookSignature(secret, timestamp, body)
}

// Verify checks a delivery as its receiver gets it: the timestamp is within
// Tolerance of now, and one of the signatures in the header is the
// HMAC-SHA256 of timestamp + "." + body under secret (any version: during
// a rotation, the receiver passes the secret it holds). body must be the
// bytes as received, before any decoding. Receivers then drop an event id
// they have already processed (HeaderID): a redelivery repeats it.
func Verify(h http.Header, body []byte, secret string, now time.Time) error {
	return client.VerifyWebhookAt(secret, h, body, now)
}
