package client

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

// The headers of a webhook delivery (docs/WEBHOOKS.md).
const (
	HeaderWebhookID        = "Zwfw-Webhook-Id"        // the event's id: process each once
	HeaderWebhookEvent     = "Zwfw-Webhook-Event"     // e.g. case.accepted
	HeaderWebhookTimestamp = "Zwfw-Webhook-Timestamp" // Unix seconds of the signature
	HeaderWebhookSignature = "Zwfw-Webhook-Signature" // v<N>=<hex>[,v<N-1>=<hex>]
)

// WebhookTolerance is how far a delivery's timestamp may be from now.
const WebhookTolerance = 5 * time.Minute

// Errors of VerifyWebhook.
var (
	ErrWebhookUnsigned     = errors.New("webhook: missing timestamp or signature")
	ErrWebhookBadSignature = errors.New("webhook: signature does not match")
	ErrWebhookTooOld       = errors.New("webhook: timestamp outside the tolerance (replay?)")
)

// VerifyWebhook checks a delivery as received: one of the signatures in
// the header is the HMAC-SHA256 of timestamp + "." + body under secret,
// and the timestamp is within WebhookTolerance of the clock. body must be
// the bytes as received. Drop an event id already processed afterwards:
// a retry or redelivery repeats it.
func VerifyWebhook(secret string, header http.Header, body []byte) error {
	return VerifyWebhookAt(secret, header, body, time.Now())
}

// VerifyWebhookAt is VerifyWebhook with the receiver's clock reading now.
func VerifyWebhookAt(secret string, header http.Header, body []byte, now time.Time) error {
	ts, sig := header.Get(HeaderWebhookTimestamp), header.Get(HeaderWebhookSignature)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if secret == "" || sig == "" || err != nil {
		return ErrWebhookUnsigned
	}
	if d := now.Sub(time.Unix(sec, 0)); d > WebhookTolerance || d < -WebhookTolerance {
		return ErrWebhookTooOld
	}
	want := []byte(WebhookSignature(secret, sec, body))
	for part := range strings.SplitSeq(sig, ",") {
		if _, got, ok := strings.Cut(strings.TrimSpace(part), "="); ok && hmac.Equal([]byte(got), want) {
			return nil
		}
	}
	return ErrWebhookBadSignature
}

// WebhookSignature is the hex HMAC-SHA256 of timestamp + "." + body under
// secret: what the platform signs each delivery with.
func WebhookSignature(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
