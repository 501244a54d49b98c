package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
)

// DefaultTimeout bounds one Send, from dialling to the server's answer to
// the message, when the config sets no timeout.
const DefaultTimeout = 30 * time.Second

// The ways to protect the connection to the mail server.
const (
	TLSStart    = "starttls" // plain connect, then STARTTLS; the default (port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no encryption: only to a relay on this host
)

// SMTPConfig tells SMTP how to reach the mail server.
type SMTPConfig struct {
	Host string
	Port int // 0: 587 for starttls, 465 for tls, 25 for none
	// Username and Password, if set, log in with AUTH PLAIN.
	Username, Password string
	// From is the sender, optionally with a display name:
	// "某某区政务服务中心 <noreply@zwfw.example.gov.cn>".
	From    string
	TLS     string        // TLSStart (if empty), TLSImplicit or TLSNone
	Timeout time.Duration // 0: DefaultTimeout
	// RootCAs, if set, replaces the system roots for checking the server's
	// certificate: for a server with a certificate from a private CA.
	RootCAs *x509.CertPool
}

// SMTP sends messages through a mail server with the standard library's
// SMTP client, one connection per message: notifications are few, and a
// fresh connection cannot be left half-used by an earlier failure. Safe
// for concurrent use.
type SMTP struct {
	addr     string // host:port
	host     string
	tlsMode  string
	tlsConf  *tls.Config
	auth     smtp.Auth // nil: no login
	fromAddr string    // the envelope sender
	fromHdr  string    // the From header's value, encoded once
	idDomain string    // the right side of every Message-ID
	timeout  time.Duration
	now      func() time.Time // for the Date header; tests pin it
}

var _ Sender = (*SMTP)(nil)

// NewSMTP checks cfg and returns a sender. Nothing is dialled until Send.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	host := strings.TrimSpace(cfg.Host)
	mode := cfg.TLS
	if mode == "" {
		mode = TLSStart
	}
	switch {
	case host == "":
		return nil, errors.New("邮件服务器地址不能为空")
	case strings.ContainsAny(host, " /@"):
		return nil, errors.New("邮件服务器地址只填主机名，如 smtp.example.gov.cn，不要带协议或路径")
	case isHostPort(host):
		return nil, errors.New("邮件服务器地址不要带端口，端口请单独设置")
	case mode != TLSStart && mode != TLSImplicit && mode != TLSNone:
		return nil, fmt.Errorf("邮件加密方式 %q 无效，应为 starttls、tls 或 none", cfg.TLS)
	case mode == TLSNone && !isLocalhost(host):
		return nil, errors.New("不加密（none）只能用于本机的邮件服务器（localhost、127.0.0.1 或 ::1），否则密码和邮件内容会以明文在网络上传输")
	case cfg.Port < 0 || cfg.Port > 65535:
		return nil, fmt.Errorf("邮件服务器端口 %d 无效，应在 1 到 65535 之间", cfg.Port)
	// On 465 the server waits for a TLS handshake while a STARTTLS client
	// waits for a greeting: every Send would hang until its timeout.
	case cfg.Port == 465 && mode == TLSStart:
		return nil, errors.New("端口 465 使用隐式 TLS，加密方式请设为 tls")
	case cfg.Username != "" && cfg.Password == "":
		return nil, errors.New("已设置邮件服务器用户名，但密码为空")
	case cfg.Username == "" && cfg.Password != "":
		return nil, errors.New("已设置邮件服务器密码，但用户名为空")
	case cfg.Timeout < 0:
		return nil, errors.New("邮件发送超时时间不能为负数")
	}
	if strings.TrimSpace(cfg.From) == "" {
		return nil, errors.New("发件人地址不能为空")
	}
	if strings.ContainsAny(cfg.From, "\r\n") {
		return nil, errors.New("发件人地址不能包含换行符")
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("发件人地址 %q 格式不正确，应形如 noreply@example.gov.cn 或 某某中心 <noreply@example.gov.cn>", cfg.From)
	}
	if err := ValidAddress(from.Address); err != nil {
		return nil, fmt.Errorf("发件人地址 %q 无效：%s", cfg.From, apperr.MessageOf(err))
	}

	port := cfg.Port
	if port == 0 {
		port = map[string]int{TLSStart: 587, TLSImplicit: 465, TLSNone: 25}[mode]
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	s := &SMTP{
		addr:     net.JoinHostPort(host, strconv.Itoa(port)),
		host:     host,
		tlsMode:  mode,
		tlsConf:  &tls.Config{ServerName: host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		fromAddr: from.Address,
		fromHdr:  from.String(),
		idDomain: from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		timeout:  timeout,
		now:      time.Now,
	}
	if cfg.Username != "" {
		// net/smtp refuses to send these credentials over a connection
		// that is neither TLS nor to localhost, so they never go in clear.
		s.auth = smtp.PlainAuth("", cfg.Username, cfg.Password, host)
	}
	return s, nil
}

// isHostPort reports whether host carries a port ("smtp.example.com:587").
// A bare IPv6 address has colons too, but more than one.
func isHostPort(host string) bool {
	_, _, err := net.SplitHostPort(host)
	return err == nil
}

// isLocalhost names the hosts net/smtp lets PLAIN authentication reach
// without TLS; the same set may be used without encryption at all.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Send delivers m to the mail server. An invalid message is refused
// before dialling, with an apperr.Invalid error. Otherwise the error says
// which step failed and wraps the cause, so errors.Is and errors.As work:
// a *textproto.Error for a refusal by the server, the context's error if
// ctx ended or the timeout passed first. Where the server echoes the
// recipient's address, the error shows it masked. Use Permanent to decide
// whether to retry.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := check(m); err != nil {
		return err
	}
	msg, err := s.compose(m)
	if err != nil {
		return fmt.Errorf("邮件发送失败：生成邮件：%w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err = s.deliver(ctx, m.To, msg)
	if err != nil && ctx.Err() != nil {
		// The step failed because ctx ended and pulled in the deadline:
		// wrap the context's error, which is the reason.
		return fmt.Errorf("%v：%w", err, ctx.Err())
	}
	return err
}

// deliver runs one SMTP session. Every step's error is wrapped with what
// the step was; *textproto.Error replies keep their code for Permanent.
func (s *SMTP) deliver(ctx context.Context, to string, msg []byte) error {
	fail := func(step string, err error) error {
		var reply *textproto.Error
		if errors.As(err, &reply) && strings.Contains(reply.Msg, to) {
			err = &textproto.Error{Code: reply.Code, Msg: strings.ReplaceAll(reply.Msg, to, Mask(to))}
		}
		return fmt.Errorf("邮件发送失败（%s）：%s：%w", s.addr, step, err)
	}

	conn, err := s.dial(ctx)
	if err != nil {
		return fail("连接邮件服务器", err)
	}
	// net/smtp knows no context: when ctx ends, move the deadline into
	// the past so that the read or write under way returns at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.host) // closes conn on failure
	if err != nil {
		return fail("等待服务器问候", err)
	}
	defer c.Close()
	// "localhost" is net/smtp's own default; called here so that a
	// refused EHLO is reported as such and not as a missing extension.
	if err := c.Hello("localhost"); err != nil {
		return fail("EHLO", err)
	}
	if s.tlsMode == TLSStart {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fail("STARTTLS", errors.New("服务器未提供 STARTTLS，为免明文传输，邮件未发送"))
		}
		if err := c.StartTLS(s.tlsConf); err != nil {
			return fail("STARTTLS", err)
		}
	}
	if s.auth != nil {
		if err := c.Auth(s.auth); err != nil {
			return fail("登录邮件服务器", err)
		}
	}
	if err := c.Mail(s.fromAddr); err != nil {
		return fail("发件人被拒绝", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fail("收件人被拒绝", err)
	}
	w, err := c.Data()
	if err != nil {
		return fail("开始传送邮件", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fail("传送邮件", err)
	}
	if err := w.Close(); err != nil {
		return fail("邮件被拒绝", err)
	}
	// The server has taken the message. A failed QUIT must not make the
	// job retry, or the applicant gets the notice twice.
	_ = c.Quit()
	return nil
}

func (s *SMTP) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{}
	if s.tlsMode == TLSImplicit {
		td := &tls.Dialer{NetDialer: d, Config: s.tlsConf}
		return td.DialContext(ctx, "tcp", s.addr)
	}
	return d.DialContext(ctx, "tcp", s.addr)
}

// maxLine is the longest line of base64 in a MIME body (RFC 2045 §6.8).
const maxLine = 76

// compose builds the RFC 5322 message. The body goes as base64 so that
// Chinese text passes any server, 8BITMIME or not, and no line of it can
// be mistaken for the end of the data.
func (s *SMTP) compose(m Message) ([]byte, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	subject := mime.BEncoding.Encode("UTF-8", m.Subject)
	// Long subjects come back as several encoded words; put each on its
	// own folded line to keep header lines short.
	if subject != m.Subject {
		subject = strings.ReplaceAll(subject, "?= =?", "?=\r\n =?")
	}

	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", s.fromHdr)
	header("To", m.To)
	header("Subject", subject)
	header("Date", s.now().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id)+"@"+s.idDomain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")

	// Text is encoded in canonical form, with CRLF line breaks (RFC 2045
	// §6.8), whatever the template used.
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	for len(enc) > maxLine {
		b.WriteString(enc[:maxLine] + "\r\n")
		enc = enc[maxLine:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes(), nil
}

// Permanent reports whether sending failed for a reason that retrying the
// same message cannot cure, so a job queue should cancel the job rather
// than retry it: the message was invalid (an apperr.Invalid from Send), or
// the server answered with a 5xx reply, which RFC 5321 defines as
// permanent — the recipient does not exist, the message was refused, or
// the login was wrong (535). A login failure is the operator's to fix; the
// cancelled job stays in the queue to be retried by hand once they have.
// Network errors, timeouts and 4xx replies are temporary.
func Permanent(err error) bool {
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return reply.Code >= 500 && reply.Code <= 599
	}
	return apperr.Is(err, apperr.Invalid)
}
