// Package sms sends one-time codes and notices to mobile phone numbers.
//
// Callers depend on the Sender interface. Two implementations are
// provided: Dev, which only logs and remembers messages (for development
// and demo deployments, where a page can show them instead of a phone),
// and HTTP, which posts each message to an SMS gateway.
package sms

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Sender sends one text message to one mobile number.
type Sender interface {
	Send(ctx context.Context, mobile, text string) error
}

// Errors for arguments no sender accepts.
var (
	ErrNoMobile = errors.New("短信发送失败：手机号码为空")
	ErrNoText   = errors.New("短信发送失败：短信内容为空")
)

func checkArgs(mobile, text string) error {
	if strings.TrimSpace(mobile) == "" {
		return ErrNoMobile
	}
	if strings.TrimSpace(text) == "" {
		return ErrNoText
	}
	return nil
}

// mask hides the middle of a mobile number for logs, keeping the first
// three and last four characters: 13812345678 becomes 138****5678. A
// string of seven characters or fewer is masked entirely.
func mask(mobile string) string {
	n := utf8.RuneCountInString(mobile)
	if n <= 7 {
		return strings.Repeat("*", n)
	}
	r := []rune(mobile)
	return string(r[:3]) + strings.Repeat("*", n-7) + string(r[n-4:])
}

// Message is one message a Dev sender was asked to send.
type Message struct {
	Mobile string
	Text   string
	At     time.Time
}

// Dev is the development sender. It sends nothing: it logs each message,
// with the number masked, and keeps the most recent ones in memory so that
// a page shown only in demo mode can display them. Safe for concurrent
// use.
type Dev struct {
	log  *slog.Logger
	keep int
	now  func() time.Time

	mu   sync.Mutex
	msgs []Message // oldest first, at most keep
}

var _ Sender = (*Dev)(nil)

// NewDev returns a Dev that logs to log (slog.Default() if nil) and
// remembers the last keep messages (none if keep ≤ 0).
func NewDev(log *slog.Logger, keep int) *Dev {
	if log == nil {
		log = slog.Default()
	}
	return &Dev{log: log, keep: max(keep, 0), now: time.Now}
}

// Send logs the message and remembers it. It fails only if ctx is done or
// mobile or text is empty.
func (d *Dev) Send(ctx context.Context, mobile, text string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkArgs(mobile, text); err != nil {
		return err
	}
	d.log.InfoContext(ctx, "sms (dev, not sent)", "mobile", mask(mobile), "text", text)
	if d.keep == 0 {
		return nil
	}
	m := Message{Mobile: mobile, Text: text, At: d.now()}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.msgs) == d.keep {
		copy(d.msgs, d.msgs[1:])
		d.msgs[len(d.msgs)-1] = m
	} else {
		d.msgs = append(d.msgs, m)
	}
	return nil
}

// Recent returns a copy of the remembered messages, newest first.
func (d *Dev) Recent() []Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Message, len(d.msgs))
	for i, m := range d.msgs {
		out[len(out)-1-i] = m
	}
	return out
}
