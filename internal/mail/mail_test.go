package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"net"
	netmail "net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/zwfw/zwfw/internal/apperr"
)

const (
	testFrom     = "某某区政务服务中心 <noreply@zwfw.example.gov.cn>"
	testFromAddr = "noreply@zwfw.example.gov.cn"
	testTo       = "zhangsan@example.com"
	testUser     = "zwfw-notify"
	testPass     = "correct horse battery staple"
)

// delivery is one message the test server accepted.
type delivery struct {
	from, to string
	data     []byte
	tls      bool   // the DATA came over TLS
	user     string // who logged in, "" if nobody
}

// testServer is a real SMTP server (go-smtp) on 127.0.0.1 that records
// what it is sent and can be told to refuse.
type testServer struct {
	port int

	// Set before the first connection, read-only after.
	requireAuth bool  // offer AUTH PLAIN and refuse MAIL without it
	rcptErr     error // answer to RCPT, if not nil
	dataErr     error // answer to DATA, if not nil

	mu       sync.Mutex
	sessions int // NewSession calls: one per EHLO
	authTry  int // AUTH attempts
	got      []delivery
}

type serverOpts struct {
	tls         *tls.Config // with implicit false: offer STARTTLS
	implicit    bool        // TLS from the first byte
	requireAuth bool
	rcptErr     error
	dataErr     error
}

func startServer(t *testing.T, o serverOpts) *testServer {
	t.Helper()
	ts := &testServer{requireAuth: o.requireAuth, rcptErr: o.rcptErr, dataErr: o.dataErr}
	s := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		ts.mu.Lock()
		ts.sessions++
		ts.mu.Unlock()
		return &session{srv: ts, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case o.implicit:
		l = tls.NewListener(l, o.tls)
	case o.tls != nil:
		s.TLSConfig = o.tls
	default:
		// Plain connections are only to 127.0.0.1 here; let AUTH work
		// on them as net/smtp allows for localhost.
		s.AllowInsecureAuth = true
	}
	ts.port = l.Addr().(*net.TCPAddr).Port
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return ts
}

func (ts *testServer) deliveries() []delivery {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]delivery(nil), ts.got...)
}

type session struct {
	srv      *testServer
	conn     *gosmtp.Conn
	user     string
	from, to string
}

func (s *session) AuthMechanisms() []string {
	if !s.srv.requireAuth {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		s.srv.mu.Lock()
		s.srv.authTry++
		s.srv.mu.Unlock()
		if username != testUser || password != testPass {
			return gosmtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.srv.requireAuth && s.user == "" {
		return gosmtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if s.srv.rcptErr != nil {
		return s.srv.rcptErr
	}
	s.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.srv.dataErr != nil {
		return s.srv.dataErr
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.got = append(s.srv.got, delivery{from: s.from, to: s.to, data: data, tls: isTLS, user: s.user})
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", "" }
func (s *session) Logout() error { return nil }

// newSender returns an SMTP sender for the test server; edit changes the
// default config (plain, no login, 127.0.0.1) before it is checked.
func newSender(t *testing.T, ts *testServer, edit func(*SMTPConfig)) *SMTP {
	t.Helper()
	cfg := SMTPConfig{Host: "127.0.0.1", Port: ts.port, From: testFrom, TLS: TLSNone, Timeout: 5 * time.Second}
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	return s
}

// selfSigned returns a server certificate for 127.0.0.1 and localhost and
// a pool that trusts it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "zwfw test mail server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

var testMessage = Message{
	To: testTo,
	// Long enough to be split into several encoded words.
	Subject: "【某某区政务服务】您申请的“个体工商户设立登记”已受理，请留意后续办理进度并按时领取证照",
	Body: "张三，您好：\n\n" +
		"您于 2025年3月1日 提交的“个体工商户设立登记”申请已受理，受理编号 ZW-2025-000123。\n" +
		".\n" + // a lone dot must not end the SMTP data
		"承诺办结时限为 5 个工作日，办结后将以短信和邮件通知您。\n\n" +
		"某某区政务服务中心\n",
}

var messageID = regexp.MustCompile(`^<[0-9a-f]{32}@zwfw\.example\.gov\.cn>$`)

// checkDelivered parses d as a mail client would and compares it with m.
func checkDelivered(t *testing.T, d delivery, m Message, date time.Time) (msgID string) {
	t.Helper()
	if d.from != testFromAddr || d.to != m.To {
		t.Errorf("envelope MAIL FROM %q RCPT TO %q, want %q %q", d.from, d.to, testFromAddr, m.To)
	}
	head, rawBody, ok := bytes.Cut(d.data, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no CRLF CRLF between header and body in %q", d.data)
	}
	for _, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 998 {
			t.Errorf("header line of %d octets: %q", len(line), line)
		}
		for _, c := range []byte(line) {
			if c >= 0x80 {
				t.Errorf("raw 8-bit octet in header line %q", line)
				break
			}
		}
	}

	msg, err := netmail.ReadMessage(bytes.NewReader(d.data))
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	h := msg.Header
	from, err := netmail.ParseAddress(h.Get("From"))
	if err != nil || from.Name != "某某区政务服务中心" || from.Address != testFromAddr {
		t.Errorf("From %q parses as %v, %v", h.Get("From"), from, err)
	}
	if got := h.Get("To"); got != m.To {
		t.Errorf("To = %q, want %q", got, m.To)
	}
	rawSubject := h.Get("Subject")
	if !strings.HasPrefix(rawSubject, "=?UTF-8?b?") {
		t.Errorf("Subject %q is not a B-encoded word", rawSubject)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(rawSubject)
	if err != nil || subject != m.Subject {
		t.Errorf("Subject decodes to %q, %v; want %q", subject, err, m.Subject)
	}
	if got, err := h.Date(); err != nil || !got.Equal(date) {
		t.Errorf("Date %q = %v, %v; want %v", h.Get("Date"), got, err, date)
	}
	msgID = h.Get("Message-ID")
	if !messageID.MatchString(msgID) {
		t.Errorf("Message-ID = %q", msgID)
	}
	for name, want := range map[string]string{
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=UTF-8",
		"Content-Transfer-Encoding": "base64",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	want := strings.ReplaceAll(m.Body, "\n", "\r\n")
	lines := strings.Split(strings.TrimSuffix(string(rawBody), "\r\n"), "\r\n")
	if n := (base64.StdEncoding.EncodedLen(len(want)) + 75) / 76; len(lines) != n {
		t.Errorf("body is %d lines of base64, want %d", len(lines), n)
	}
	for i, line := range lines {
		if len(line) > 76 || (i < len(lines)-1 && len(line) != 76) {
			t.Errorf("body line %d is %d characters: %q", i, len(line), line)
		}
	}
	body, err := base64.StdEncoding.DecodeString(strings.Join(lines, ""))
	if err != nil {
		t.Fatalf("body is not base64: %v", err)
	}
	if string(body) != want {
		t.Errorf("body decodes to\n%q\nwant\n%q", body, want)
	}
	return msgID
}

func TestSendPlainDelivery(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := newSender(t, ts, nil)
	date := time.Date(2025, 3, 1, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))
	s.now = func() time.Time { return date }

	second := Message{To: "li.si+notice@example.org", Subject: "补正材料通知", Body: "请于5个工作日内补正材料。"}
	for _, m := range []Message{testMessage, second} {
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("Send(%q): %v", m.Subject, err)
		}
	}
	got := ts.deliveries()
	if len(got) != 2 {
		t.Fatalf("server got %d messages, want 2", len(got))
	}
	if !bytes.Contains(got[0].data, []byte("?=\r\n =?UTF-8?b?")) {
		t.Errorf("long subject not folded:\n%s", got[0].data)
	}
	id1 := checkDelivered(t, got[0], testMessage, date)
	id2 := checkDelivered(t, got[1], second, date)
	if id1 == id2 {
		t.Errorf("two messages share Message-ID %s", id1)
	}
	if got[0].tls || got[0].user != "" {
		t.Errorf("plain delivery: tls %v, user %q", got[0].tls, got[0].user)
	}
}

func TestSendAuthPlain(t *testing.T) {
	ts := startServer(t, serverOpts{requireAuth: true})

	wrong := newSender(t, ts, func(c *SMTPConfig) { c.Username, c.Password = testUser, "wrong password" })
	err := wrong.Send(context.Background(), testMessage)
	var reply *textproto.Error
	if !errors.As(err, &reply) || reply.Code != 535 {
		t.Fatalf("wrong password: error %v, want a 535 reply", err)
	}
	if !Permanent(err) {
		t.Errorf("wrong password: Permanent = false, want true")
	}
	if strings.Contains(err.Error(), "wrong password") {
		t.Errorf("error shows the password: %v", err)
	}

	none := newSender(t, ts, nil)
	if err := none.Send(context.Background(), testMessage); !errors.As(err, &reply) || reply.Code != 502 {
		t.Errorf("no login: error %v, want the server's 502", err)
	}
	if n := len(ts.deliveries()); n != 0 {
		t.Fatalf("server accepted %d messages without a valid login", n)
	}

	right := newSender(t, ts, func(c *SMTPConfig) { c.Username, c.Password = testUser, testPass })
	if err := right.Send(context.Background(), testMessage); err != nil {
		t.Fatalf("right password: %v", err)
	}
	got := ts.deliveries()
	if len(got) != 1 || got[0].user != testUser {
		t.Fatalf("deliveries %+v, want one by %s", got, testUser)
	}
}

func TestSendSTARTTLS(t *testing.T) {
	srvTLS, pool := selfSigned(t)
	ts := startServer(t, serverOpts{tls: srvTLS, requireAuth: true})
	login := func(c *SMTPConfig) {
		c.TLS = TLSStart
		c.Username, c.Password = testUser, testPass
	}

	t.Run("trusted", func(t *testing.T) {
		s := newSender(t, ts, func(c *SMTPConfig) { login(c); c.RootCAs = pool })
		date := time.Date(2025, 3, 2, 8, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return date }
		if err := s.Send(context.Background(), testMessage); err != nil {
			t.Fatalf("Send: %v", err)
		}
		got := ts.deliveries()
		if len(got) != 1 || !got[0].tls || got[0].user != testUser {
			t.Fatalf("deliveries %+v, want one over TLS by %s", got, testUser)
		}
		checkDelivered(t, got[0], testMessage, date)
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		before := len(ts.deliveries())
		s := newSender(t, ts, login)
		err := s.Send(context.Background(), testMessage)
		var verr *tls.CertificateVerificationError
		if !errors.As(err, &verr) {
			t.Fatalf("error %v, want a certificate verification error", err)
		}
		if Permanent(err) {
			t.Errorf("Permanent = true for a certificate error; the operator can fix it")
		}
		if n := len(ts.deliveries()); n != before {
			t.Errorf("message delivered despite an untrusted certificate")
		}
	})

	t.Run("server without STARTTLS", func(t *testing.T) {
		plain := startServer(t, serverOpts{requireAuth: true})
		s := newSender(t, plain, login)
		err := s.Send(context.Background(), testMessage)
		if err == nil || !strings.Contains(err.Error(), "未提供 STARTTLS") {
			t.Fatalf("error %v, want a missing STARTTLS error", err)
		}
		plain.mu.Lock()
		defer plain.mu.Unlock()
		if plain.authTry != 0 || len(plain.got) != 0 {
			t.Errorf("sent in clear: %d logins, %d messages", plain.authTry, len(plain.got))
		}
	})
}

func TestSendImplicitTLS(t *testing.T) {
	srvTLS, pool := selfSigned(t)
	ts := startServer(t, serverOpts{tls: srvTLS, implicit: true, requireAuth: true})
	s := newSender(t, ts, func(c *SMTPConfig) {
		c.TLS, c.RootCAs = TLSImplicit, pool
		c.Username, c.Password = testUser, testPass
	})
	if err := s.Send(context.Background(), testMessage); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := ts.deliveries()
	if len(got) != 1 || !got[0].tls || got[0].user != testUser {
		t.Fatalf("deliveries %+v, want one over TLS by %s", got, testUser)
	}
}

func TestSendRefused(t *testing.T) {
	tests := []struct {
		name      string
		opts      serverOpts
		permanent bool
	}{
		{"recipient unknown", serverOpts{rcptErr: &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "<" + testTo + ">: 用户不存在"}}, true},
		{"mailbox busy", serverOpts{rcptErr: &gosmtp.SMTPError{Code: 450, EnhancedCode: gosmtp.EnhancedCode{4, 2, 1}, Message: "<" + testTo + ">: mailbox busy, try later"}}, false},
		{"content refused", serverOpts{dataErr: &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "message refused as spam"}}, true},
		{"server busy", serverOpts{dataErr: &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "local error, try later"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, tt.opts)
			err := newSender(t, ts, nil).Send(context.Background(), testMessage)
			var reply *textproto.Error
			if !errors.As(err, &reply) {
				t.Fatalf("error %v, want the server's reply", err)
			}
			if got := Permanent(err); got != tt.permanent {
				t.Errorf("Permanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			if strings.Contains(err.Error(), testTo) {
				t.Errorf("error shows the recipient: %v", err)
			}
			if tt.opts.rcptErr != nil && !strings.Contains(err.Error(), "zh***@example.com") {
				t.Errorf("error %v lost the masked recipient the server named", err)
			}
			if n := len(ts.deliveries()); n != 0 {
				t.Errorf("server recorded %d messages", n)
			}
		})
	}
}

func TestSendServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, From: testFrom, TLS: TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), testMessage)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("error %v, want connection refused", err)
	}
	if Permanent(err) {
		t.Errorf("Permanent = true for a server that is down")
	}
	if !strings.Contains(err.Error(), "连接邮件服务器") {
		t.Errorf("error %q does not say which step failed", err)
	}
}

func TestSendRejectsBadMessages(t *testing.T) {
	ts := startServer(t, serverOpts{})
	s := newSender(t, ts, nil)
	ok := testMessage
	tests := []struct {
		name string
		edit func(*Message)
		want string
	}{
		{"Bcc injected in To", func(m *Message) { m.To = testTo + "\r\nBcc: victim@example.net" }, "换行"},
		{"LF in To", func(m *Message) { m.To = testTo + "\nBcc: victim@example.net" }, "换行"},
		{"Bcc injected in Subject", func(m *Message) { m.Subject = "受理通知\r\nBcc: victim@example.net" }, "换行"},
		{"CR in Subject", func(m *Message) { m.Subject = "受理通知\rX-Evil: 1" }, "换行"},
		{"display name in To", func(m *Message) { m.To = "Zhang San <" + testTo + ">" }, "格式不正确"},
		{"two recipients", func(m *Message) { m.To = testTo + ", victim@example.net" }, "格式不正确"},
		{"no domain", func(m *Message) { m.To = "zhangsan" }, "格式不正确"},
		{"empty To", func(m *Message) { m.To = "" }, "不能为空"},
		{"Chinese address", func(m *Message) { m.To = "张三@example.com" }, "英文"},
		{"empty subject", func(m *Message) { m.Subject = " " }, "主题不能为空"},
		{"long subject", func(m *Message) { m.Subject = strings.Repeat("长", 201) }, "主题过长"},
		{"empty body", func(m *Message) { m.Body = "\n" }, "正文不能为空"},
		{"invalid UTF-8", func(m *Message) { m.Body = "正文\xff" }, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			err := s.Send(context.Background(), m)
			if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), tt.want) {
				t.Fatalf("Send = %v, want an invalid error saying %q", err, tt.want)
			}
			if !Permanent(err) {
				t.Errorf("Permanent = false for an invalid message")
			}
		})
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.sessions != 0 {
		t.Errorf("sender talked to the server %d times for invalid messages", ts.sessions)
	}
}

// blackHole accepts connections and never answers, like a server that
// hangs or a firewall that swallows packets after the handshake.
func blackHole(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func TestSendHonoursContext(t *testing.T) {
	port := blackHole(t)
	tests := []struct {
		name    string
		timeout time.Duration // the config's
		ctx     func() (context.Context, context.CancelFunc)
		want    error
	}{
		{"caller's deadline", 10 * time.Second, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, context.DeadlineExceeded},
		{"config timeout", 200 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return context.Background(), func() {}
		}, context.DeadlineExceeded},
		{"cancelled while waiting", 10 * time.Second, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"cancelled before", 10 * time.Second, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, From: testFrom, TLS: TLSNone, Timeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := tt.ctx()
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- s.Send(ctx, testMessage) }()
			select {
			case err = <-done:
			case <-time.After(3 * time.Second):
				t.Fatal("Send did not return in time")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if Permanent(err) {
				t.Errorf("Permanent = true for %v", err)
			}
		})
	}
}

func TestNewSMTPConfig(t *testing.T) {
	base := SMTPConfig{Host: "smtp.example.gov.cn", From: testFrom, Username: testUser, Password: testPass}
	tests := []struct {
		name     string
		edit     func(*SMTPConfig)
		want     string // substring of the error, "" for success
		wantAddr string
	}{
		{"defaults to STARTTLS on 587", nil, "", "smtp.example.gov.cn:587"},
		{"implicit TLS on 465", func(c *SMTPConfig) { c.TLS = TLSImplicit }, "", "smtp.example.gov.cn:465"},
		{"port given", func(c *SMTPConfig) { c.Port = 2525 }, "", "smtp.example.gov.cn:2525"},
		{"none on localhost", func(c *SMTPConfig) { c.Host, c.TLS = "localhost", TLSNone }, "", "localhost:25"},
		{"none on ::1", func(c *SMTPConfig) { c.Host, c.TLS, c.Port = "::1", TLSNone, 1025 }, "", "[::1]:1025"},
		{"no login", func(c *SMTPConfig) { c.Username, c.Password = "", "" }, "", "smtp.example.gov.cn:587"},
		{"bare From", func(c *SMTPConfig) { c.From = testFromAddr }, "", "smtp.example.gov.cn:587"},
		{"no host", func(c *SMTPConfig) { c.Host = " " }, "地址不能为空", ""},
		{"URL as host", func(c *SMTPConfig) { c.Host = "smtp://smtp.example.gov.cn" }, "只填主机名", ""},
		{"port in host", func(c *SMTPConfig) { c.Host = "smtp.example.gov.cn:587" }, "不要带端口", ""},
		{"unknown TLS", func(c *SMTPConfig) { c.TLS = "ssl" }, "加密方式 \"ssl\" 无效", ""},
		{"none to a remote host", func(c *SMTPConfig) { c.TLS = TLSNone }, "只能用于本机", ""},
		{"port too big", func(c *SMTPConfig) { c.Port = 70000 }, "端口 70000 无效", ""},
		{"STARTTLS on 465", func(c *SMTPConfig) { c.Port = 465 }, "加密方式请设为 tls", ""},
		{"user without password", func(c *SMTPConfig) { c.Password = "" }, "密码为空", ""},
		{"password without user", func(c *SMTPConfig) { c.Username = "" }, "用户名为空", ""},
		{"negative timeout", func(c *SMTPConfig) { c.Timeout = -time.Second }, "不能为负数", ""},
		{"no From", func(c *SMTPConfig) { c.From = "" }, "发件人地址不能为空", ""},
		{"From injection", func(c *SMTPConfig) { c.From = testFromAddr + "\r\nBcc: victim@example.net" }, "换行符", ""},
		{"From malformed", func(c *SMTPConfig) { c.From = "noreply at example" }, "格式不正确", ""},
		{"From not ASCII", func(c *SMTPConfig) { c.From = "通知@例子.中国" }, "英文", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			s, err := NewSMTP(cfg)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("NewSMTP error = %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewSMTP: %v", err)
			}
			if s.addr != tt.wantAddr {
				t.Errorf("addr = %q, want %q", s.addr, tt.wantAddr)
			}
			if s.timeout != DefaultTimeout {
				t.Errorf("timeout = %v, want %v", s.timeout, DefaultTimeout)
			}
			if (s.auth != nil) != (cfg.Username != "") {
				t.Errorf("auth set = %v with username %q", s.auth != nil, cfg.Username)
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{fmt.Errorf("step: %w", &textproto.Error{Code: 550, Msg: "no such user"}), true},
		{fmt.Errorf("step: %w", &textproto.Error{Code: 535, Msg: "auth failed"}), true},
		{fmt.Errorf("step: %w", &textproto.Error{Code: 421, Msg: "closing"}), false},
		{apperr.New(apperr.Invalid, "邮件主题不能为空。"), true},
		{apperr.Wrap(apperr.Unavailable, "暂不可用", &textproto.Error{Code: 452, Msg: "full"}), false},
		{context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		if got := Permanent(tt.err); got != tt.want {
			t.Errorf("Permanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestValidAddress(t *testing.T) {
	for _, s := range []string{"zhangsan@example.com", "li.si+notice@mail.example.gov.cn", "a@b.cn", "123456@qq.com"} {
		if err := ValidAddress(s); err != nil {
			t.Errorf("ValidAddress(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "  ", "zhangsan", "@example.com", "zhangsan@", "zhang san@example.com",
		" zhangsan@example.com", "张三 <zhangsan@example.com>", "a@example.com, b@example.com",
		"a@example.com\r\nBcc: b@example.com", "张三@example.com", "a@例子.中国",
		strings.Repeat("a", 250) + "@b.cn"} {
		err := ValidAddress(s)
		if !apperr.Is(err, apperr.Invalid) || apperr.MessageOf(err) == "" {
			t.Errorf("ValidAddress(%q) = %v, want an invalid error", s, err)
		}
	}
}

// FuzzValidAddress checks that an address ValidAddress lets through comes
// back unchanged as the To of a composed message, with no header added.
func FuzzValidAddress(f *testing.F) {
	for _, s := range []string{testTo, "a@b.cn", `"a b"@example.com`, "a@[127.0.0.1]", "a@b\r\nBcc: c@d", "(x)a@b.cn"} {
		f.Add(s)
	}
	s, err := NewSMTP(SMTPConfig{Host: "localhost", TLS: TLSNone, From: testFrom})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		if ValidAddress(addr) != nil {
			return
		}
		raw, err := s.compose(Message{To: addr, Subject: "通知", Body: "正文"})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := netmail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("composed message does not parse: %v", err)
		}
		if got := msg.Header.Get("To"); got != addr {
			t.Errorf("To = %q, want %q", got, addr)
		}
		if len(msg.Header) != 8 {
			t.Errorf("message has %d headers, want 8: %v", len(msg.Header), msg.Header)
		}
	})
}

func TestMask(t *testing.T) {
	tests := map[string]string{
		"zhangsan@example.com": "zh***@example.com",
		"abc@example.com":      "ab***@example.com",
		"ab@example.com":       "a***@example.com",
		"a@example.com":        "***@example.com",
		"no-at-sign":           "***",
	}
	for in, want := range tests {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDev(t *testing.T) {
	var logs syncBuffer
	d := NewDev(slog.New(slog.NewTextHandler(&logs, nil)))

	// Concurrent senders and readers, for the race detector.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				m := Message{To: fmt.Sprintf("user%d.%d@example.com", g, i), Subject: "并发", Body: "正文"}
				if err := d.Send(context.Background(), m); err != nil {
					t.Error(err)
				}
				_ = d.Recent()
			}
		})
	}
	wg.Wait()
	if n := len(d.Recent()); n != recentMax {
		t.Fatalf("after 80 sends Recent has %d, want %d", n, recentMax)
	}

	for i := range 55 {
		m := Message{To: testTo, Subject: fmt.Sprintf("受理通知 %d", i), Body: "您的申请已受理。"}
		if err := d.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	recent := d.Recent()
	if len(recent) != 50 || recent[0].Subject != "受理通知 54" || recent[49].Subject != "受理通知 5" {
		t.Fatalf("Recent: %d messages, first %q, last %q", len(recent), recent[0].Subject, recent[len(recent)-1].Subject)
	}
	if recent[0].To != testTo || recent[0].Body != "您的申请已受理。" {
		t.Errorf("Recent()[0] = %+v", recent[0])
	}
	recent[0].Subject = "changed"
	if d.Recent()[0].Subject != "受理通知 54" {
		t.Errorf("Recent shares its slice with the sender")
	}

	out := logs.String()
	if !strings.Contains(out, "to=zh***@example.com") || !strings.Contains(out, `subject="受理通知 54"`) {
		t.Errorf("log lacks the masked recipient or the subject:\n%s", out)
	}
	if strings.Contains(out, testTo) || strings.Contains(out, "您的申请已受理") {
		t.Errorf("log shows the address or the body:\n%s", out)
	}

	if err := d.Send(context.Background(), Message{To: testTo, Subject: "a\r\nBcc: b@example.com", Body: "x"}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("Dev accepted header injection: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Send(ctx, testMessage); !errors.Is(err, context.Canceled) {
		t.Errorf("Dev with a cancelled context: %v", err)
	}
	if d.Recent()[0].Subject != "受理通知 54" {
		t.Errorf("a refused message was remembered")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
