// Package mail sends e-mail notifications to applicants: that a case was
// accepted, needs more material, or is finished. The messages are plain
// Chinese text.
//
// Sending is slow and can fail for reasons outside the platform, so it is
// never done inside a request or a database transaction. A durable job,
// queued in the same transaction as the state change it reports, calls
// Send after commit and retries on failure. Permanent tells that job when
// retrying is pointless, so that it can cancel instead.
//
// Callers depend on the Sender interface, so a deployment chooses how mail
// leaves: SMTP hands it to a mail server; Dev only logs it and keeps it in
// memory, for development and demo deployments, where a page shows it
// instead of an inbox.
package mail

import (
	"context"
	"log/slog"
	netmail "net/mail"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
)

// Message is one e-mail to one applicant.
type Message struct {
	To      string // a bare address, as ValidAddress accepts
	Subject string
	Body    string // plain text
}

// Sender sends one message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// maxAddressLen is the longest address SMTP can carry (RFC 5321 §4.5.3.1
// limits a path to 256 octets including the angle brackets).
const maxAddressLen = 254

// ValidAddress reports whether s is an address the platform can send to:
// a bare address such as zhang@example.com, without a display name. Its
// error is an apperr.Invalid whose message can be shown on a form.
//
// Only ASCII addresses are accepted: internationalised addresses need
// SMTPUTF8, which many mail servers still do not offer, and a queued
// notification that can never be delivered helps nobody.
func ValidAddress(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return apperr.New(apperr.Invalid, "电子邮箱地址不能为空。")
	case strings.ContainsAny(s, "\r\n"):
		return apperr.New(apperr.Invalid, "电子邮箱地址不能包含换行符。")
	case len(s) > maxAddressLen:
		return apperr.New(apperr.Invalid, "电子邮箱地址过长。")
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return apperr.New(apperr.Invalid, "电子邮箱地址只能包含英文字母、数字和英文符号。")
		}
	}
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return apperr.New(apperr.Invalid, "电子邮箱地址格式不正确，应形如 zhangsan@example.com。")
	}
	return nil
}

// maxSubject bounds a subject in characters. An ASCII subject goes into
// the header as it is, and a header line must stay under 998 octets.
const maxSubject = 200

// check rejects a message no sender should accept. The CR/LF test on the
// subject is what stops header injection: a subject is copied into the
// message header, and a line break there would start a header of the
// caller's choosing (a Bcc, say).
func check(m Message) error {
	if err := ValidAddress(m.To); err != nil {
		return err
	}
	switch {
	case strings.ContainsAny(m.Subject, "\r\n"):
		return apperr.New(apperr.Invalid, "邮件主题不能包含换行符。")
	case strings.TrimSpace(m.Subject) == "":
		return apperr.New(apperr.Invalid, "邮件主题不能为空。")
	case utf8.RuneCountInString(m.Subject) > maxSubject:
		return apperr.New(apperr.Invalid, "邮件主题过长，请不超过 200 个字。")
	case strings.TrimSpace(m.Body) == "":
		return apperr.New(apperr.Invalid, "邮件正文不能为空。")
	case !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Body):
		return apperr.New(apperr.Invalid, "邮件内容不是有效的 UTF-8 文本。")
	}
	return nil
}

// Mask hides most of an address's local part for logs and errors, keeping
// up to two characters and the domain: zhangsan@example.com becomes
// zh***@example.com. Short local parts keep less, so that the mask never
// gives the whole of one away.
func Mask(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "***"
	}
	local := []rune(addr[:at])
	keep := min(2, len(local)-1)
	return string(local[:max(keep, 0)]) + "***" + addr[at:]
}

// recentMax is how many messages Dev remembers: enough for a demo page.
const recentMax = 50

// Dev is the development sender. It sends nothing: it logs each message
// with the recipient masked and keeps the last 50 in memory, so that a page
// shown only in demo mode can display them. It checks messages as SMTP
// does, so that a bad message fails in development too. Safe for
// concurrent use.
type Dev struct {
	log *slog.Logger

	mu   sync.Mutex
	msgs []Message // oldest first, at most recentMax
}

var _ Sender = (*Dev)(nil)

// NewDev returns a Dev that logs to log (slog.Default() if nil).
func NewDev(log *slog.Logger) *Dev {
	if log == nil {
		log = slog.Default()
	}
	return &Dev{log: log}
}

// Send logs the message and remembers it. It fails only if ctx is done or
// the message is invalid.
func (d *Dev) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := check(m); err != nil {
		return err
	}
	d.log.InfoContext(ctx, "mail (dev, not sent)", "to", Mask(m.To), "subject", m.Subject)
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.msgs) == recentMax {
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
