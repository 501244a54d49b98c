// Package webhook tells other systems what happens to cases, complaints and
// ratings. A subscription belongs to an API key (internal/apikey: today a
// key row is its client) and names a URL, the event types it wants, a
// signing secret (shown once, rotatable) and whether it is active.
//
// An event is recorded in the transaction of the change that causes it —
// the domain packages call hooks that app wires to Emit, and casework,
// complaint and rating do not import this package — with one delivery per
// active subscription and a durable job (internal/jobs) that posts it: a
// change that rolls back emits nothing, and a slow receiver never slows a
// request. Each attempt is signed (verify.go), bounded by a timeout,
// logged, and retried with exponential backoff up to a number of attempts;
// then the delivery is failed. An administrator may send one again.
//
// Addresses: https only, and never to a private, loopback or link-local
// address (checked when the subscription is saved and again on each
// connection, after the name is resolved, so that DNS cannot point a
// public name at the intranet), unless the host is in Options.Allow
// (ZWFW_WEBHOOK_ALLOW): the departments' own systems on the government
// network are often both plain http and private.
package webhook

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Event types. Case events are the public steps of a case from its
// submission (a draft is the applicant's alone and emits nothing).
const (
	CaseSubmitted           = "case.submitted"
	CaseAccepted            = "case.accepted"
	CaseCorrectionRequested = "case.correction_requested"
	CaseDecided             = "case.decided"
	CaseCompleted           = "case.completed"
	CaseDelivered           = "case.delivered"
	CaseRejected            = "case.rejected"
	CaseWithdrawn           = "case.withdrawn"
	ComplaintCreated        = "complaint.created"
	ComplaintDispatched     = "complaint.dispatched"
	ComplaintReplied        = "complaint.replied"
	ComplaintClosed         = "complaint.closed"
	RatingCreated           = "rating.created"
)

// Types lists every event type, in the order pages show them.
var Types = []string{CaseSubmitted, CaseAccepted, CaseCorrectionRequested, CaseDecided, CaseCompleted, CaseDelivered,
	CaseRejected, CaseWithdrawn, ComplaintCreated, ComplaintDispatched, ComplaintReplied, ComplaintClosed, RatingCreated}

// TypeName is an event type's Chinese name.
func TypeName(t string) string {
	switch t {
	case CaseSubmitted:
		return "办件已提交"
	case CaseAccepted:
		return "办件已受理"
	case CaseCorrectionRequested:
		return "办件需补正"
	case CaseDecided:
		return "办件已决定"
	case CaseCompleted:
		return "办件已办结"
	case CaseDelivered:
		return "办件已送达"
	case CaseRejected:
		return "办件不予受理"
	case CaseWithdrawn:
		return "办件已撤回"
	case ComplaintCreated:
		return "诉求已登记"
	case ComplaintDispatched:
		return "诉求已派单"
	case ComplaintReplied:
		return "诉求已答复"
	case ComplaintClosed:
		return "诉求已办结"
	case RatingCreated:
		return "收到好差评"
	}
	return t
}

// Audit actions.
const (
	ActionCreate    = "webhook_create"
	ActionPause     = "webhook_pause"
	ActionResume    = "webhook_resume"
	ActionRotate    = "webhook_rotate"
	ActionRedeliver = "webhook_redeliver"
)

// Subscription is one client's webhook.
type Subscription struct {
	ID        int64
	KeyID     int64  // the API key (internal/apikey) whose client it is
	KeyPrefix string // that key's public part, to name it
	Client    string // that key's client
	// KeyRevoked: the key was revoked, and the subscription gets nothing.
	KeyRevoked bool
	URL        string
	Events     []string
	// The secret's version: 1, then one more at each rotation; the
	// signature header labels each signature with it.
	SecretVersion int
	PreviousUntil time.Time // the previous secret still signs until then (zero: none)
	Active        bool
	CreatedBy     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// New is what a subscription is made with.
type New struct {
	KeyID  int64
	URL    string
	Events []string
}

// Options tune the service; zero values take the defaults.
type Options struct {
	Clock clock.Clock
	Keys  *pii.Keys // seals the signing secrets; required to make one
	// Allow lists hosts (names or addresses) and networks (CIDR) that may
	// be reached over plain http and at private addresses.
	Allow []string
	// Timeout bounds each attempt (10 s).
	Timeout time.Duration
	// MaxAttempts before a delivery is failed (10), and the backoff
	// between attempts: Backoff doubled at each failure, at most
	// MaxBackoff (30 s and 1 h: ten attempts span about three hours).
	MaxAttempts         int
	Backoff, MaxBackoff time.Duration
	// Grace is how long the previous secret still signs after a rotation (24 h).
	Grace time.Duration
}

// Service keeps subscriptions, records events and delivers them.
type Service struct {
	db     *store.DB
	opt    Options
	clock  clock.Clock
	queue  *jobs.Queue
	hosts  []string
	nets   []netip.Prefix
	client *http.Client
}

// NewService returns the service over db. An Allow entry that is neither
// a host nor a network is an error.
func NewService(db *store.DB, opt Options) (*Service, error) {
	if opt.Clock == nil {
		opt.Clock = clock.System{}
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 10
	}
	if opt.Backoff <= 0 {
		opt.Backoff = 30 * time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = time.Hour
	}
	if opt.Grace <= 0 {
		opt.Grace = 24 * time.Hour
	}
	s := &Service{db: db, opt: opt, clock: opt.Clock}
	for _, a := range opt.Allow {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" {
			continue
		}
		if strings.Contains(a, "/") {
			p, err := netip.ParsePrefix(a)
			if err != nil {
				return nil, fmt.Errorf("%q 不是有效的网段（CIDR）", a)
			}
			s.nets = append(s.nets, p.Masked())
			continue
		}
		if strings.ContainsAny(a, "@?#:") {
			if _, err := netip.ParseAddr(a); err != nil {
				return nil, fmt.Errorf("%q 不是有效的主机名、地址或网段", a)
			}
		}
		s.hosts = append(s.hosts, a)
	}
	s.client = s.newClient()
	return s, nil
}

// UseQueue makes the service deliver through durable jobs in q (the queue
// is built after the services, with their workers). Without a queue — a
// command's graph — nothing is recorded: commands send no messages.
func (s *Service) UseQueue(q *jobs.Queue) { s.queue = q }

// allowed reports whether host (a name or an address) is in the allow list.
func (s *Service) allowed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if slices.Contains(s.hosts, host) {
		return true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return s.allowedAddr(a)
	}
	return false
}

func (s *Service) allowedAddr(a netip.Addr) bool {
	a = a.Unmap()
	if slices.Contains(s.hosts, a.String()) {
		return true
	}
	for _, p := range s.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// cgnat is the shared address space of carriers (RFC 6598), private too.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// private reports whether a is not a public unicast address.
func private(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsMulticast() ||
		a.IsUnspecified() || a.IsInterfaceLocalMulticast() || cgnat.Contains(a)
}

// MaxURL is the longest address, in bytes.
const MaxURL = 500

// CheckURL refuses an address the platform will not post to: not http(s),
// with credentials or a fragment, plain http or a private address to a
// host that is not allowed.
func (s *Service) CheckURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "", apperr.New(apperr.Invalid, "请填写接收地址。")
	case len(raw) > MaxURL:
		return "", apperr.New(apperr.Invalid, fmt.Sprintf("接收地址不能超过 %d 个字符。", MaxURL))
	case err != nil || u.Host == "" || u.Hostname() == "" || u.Opaque != "":
		return "", apperr.New(apperr.Invalid, "接收地址无效，应为 https://主机/路径。")
	case u.Scheme != "https" && u.Scheme != "http":
		return "", apperr.New(apperr.Invalid, "接收地址应以 https:// 开头。")
	case u.User != nil || u.Fragment != "":
		return "", apperr.New(apperr.Invalid, "接收地址不能含用户名、密码或“#”片段。")
	}
	host := u.Hostname()
	if s.allowed(host) {
		return u.String(), nil
	}
	if u.Scheme != "https" {
		return "", apperr.New(apperr.Invalid, "接收地址须使用 https；主机 "+host+" 不在管理员允许使用 http 的名单（ZWFW_WEBHOOK_ALLOW）中。")
	}
	if a, err := netip.ParseAddr(host); err == nil && private(a) || strings.EqualFold(host, "localhost") ||
		strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return "", apperr.New(apperr.Invalid, "接收地址不能指向内网、本机或链路本地地址；如确需推送到内网系统，请由管理员将该主机加入 ZWFW_WEBHOOK_ALLOW。")
	}
	return u.String(), nil
}

// errPrivate is a connection refused because the name resolved to a
// private address.
var errPrivate = errors.New("webhook: the address resolves to a private, loopback or link-local network, which is not allowed")

// newClient is the HTTP client of deliveries: no proxy from the
// environment, no redirects (a 3xx is a failure: a receiver that moved
// updates its subscription), and a dialer that checks every resolved
// address against the allow list and dials the address it checked, so
// that a name cannot be re-pointed between the check and the connection.
func (s *Service) newClient() *http.Client {
	dialer := &net.Dialer{Timeout: s.opt.Timeout}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if s.allowed(host) {
				return dialer.DialContext(ctx, network, addr)
			}
			ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			if err != nil {
				return nil, err
			}
			var last error = errPrivate
			for _, ip := range ips {
				if private(ip) && !s.allowedAddr(ip) {
					continue
				}
				c, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
				if err == nil {
					return c, nil
				}
				last = err
			}
			return nil, last
		},
		TLSHandshakeTimeout:   s.opt.Timeout,
		ResponseHeaderTimeout: s.opt.Timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: s.opt.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// CheckEvents normalises a list of event types and refuses unknown ones.
func CheckEvents(events []string) ([]string, error) {
	var out []string
	for _, e := range events {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" || slices.Contains(out, e) {
			continue
		}
		if !slices.Contains(Types, e) {
			return nil, apperr.New(apperr.Invalid, fmt.Sprintf("事件类型 %q 无效。", e))
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, apperr.New(apperr.Invalid, "请至少选择一种事件。")
	}
	slices.SortFunc(out, func(a, b string) int { return slices.Index(Types, a) - slices.Index(Types, b) })
	return out, nil
}

const secretContext = "webhook_secret"

// newSecret is 256 random bits, hex, with a prefix that says what it is.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "zws_" + hex.EncodeToString(b), nil
}

func (s *Service) seal(secret string) (string, error) {
	if s.opt.Keys == nil {
		return "", apperr.New(apperr.Unavailable, "未配置数据加密密钥，不能保存签名密钥。")
	}
	return s.opt.Keys.Seal(secret, secretContext)
}

func (s *Service) open(sealed string) (string, error) {
	if s.opt.Keys == nil {
		return "", errors.New("webhook: no keys to open the signing secret")
	}
	return s.opt.Keys.Open(sealed, secretContext)
}

func check(who policy.Subject, a policy.Action) error {
	// Subscriptions are settings of API clients: administrators keep them,
	// as they keep the keys.
	return policy.Check(who, a, policy.Resource{Kind: policy.APIKey})
}

// Create subscribes the client of an API key that is in use. It returns
// the signing secret, which cannot be shown again. Only administrators
// may; it is audited, without the secret.
func (s *Service) Create(ctx context.Context, who policy.Subject, meta audit.Meta, n New) (Subscription, string, error) {
	if err := check(who, policy.Create); err != nil {
		return Subscription{}, "", err
	}
	u, err := s.CheckURL(n.URL)
	if err != nil {
		return Subscription{}, "", err
	}
	events, err := CheckEvents(n.Events)
	if err != nil {
		return Subscription{}, "", err
	}
	secret, err := newSecret()
	if err != nil {
		return Subscription{}, "", err
	}
	sealed, err := s.seal(secret)
	if err != nil {
		return Subscription{}, "", err
	}
	var sub Subscription
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var revoked sql.NullTime
		var prefix, client string
		err := tx.QueryRow(ctx, `SELECT prefix, client, revoked_at FROM api_keys WHERE id = ?`, n.KeyID).Scan(&prefix, &client, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.Invalid, "请选择接口密钥（对方系统）。")
		}
		if err != nil {
			return err
		}
		if revoked.Valid {
			return apperr.New(apperr.Invalid, "接口密钥 "+prefix+" 已停用，不能订阅。")
		}
		now := s.clock.Now()
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO webhook_subscriptions (key_id, url, events, secret, secret_version, active, created_by,
			created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?) RETURNING id`, n.KeyID, u, strings.Join(events, " "), sealed, true,
			actorName(who), now, now).Scan(&id); err != nil {
			return fmt.Errorf("webhook: create: %w", err)
		}
		if err := audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: ActionCreate,
			Object: object(id), Detail: fmt.Sprintf("为接口密钥 %s（%s）订阅事件推送 %s，事件 %s", prefix, client, u, strings.Join(events, " ")),
			IP: meta.IP, RegionCode: who.RegionCode}); err != nil {
			return err
		}
		sub, err = get(ctx, tx, id)
		return err
	})
	if err != nil {
		return Subscription{}, "", err
	}
	return sub, secret, nil
}

const subColumns = `s.id, s.key_id, k.prefix, k.client, k.revoked_at, s.url, s.events, s.secret_version, s.previous_until, s.active,
	s.created_by, s.created_at, s.updated_at`

func scanSub(row interface{ Scan(...any) error }) (Subscription, error) {
	var sub Subscription
	var events string
	var until, revoked sql.NullTime
	err := row.Scan(&sub.ID, &sub.KeyID, &sub.KeyPrefix, &sub.Client, &revoked, &sub.URL, &events, &sub.SecretVersion, &until, &sub.Active,
		&sub.CreatedBy, &sub.CreatedAt, &sub.UpdatedAt)
	sub.Events, sub.PreviousUntil, sub.KeyRevoked = strings.Fields(events), until.Time, revoked.Valid
	return sub, err
}

func get(ctx context.Context, q store.Querier, id int64) (Subscription, error) {
	sub, err := scanSub(q.QueryRow(ctx, `SELECT `+subColumns+` FROM webhook_subscriptions s JOIN api_keys k ON k.id = s.key_id
		WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, apperr.New(apperr.NotFound, "没有这个事件订阅。")
	}
	return sub, err
}

// Get returns one subscription. Only administrators may.
func (s *Service) Get(ctx context.Context, who policy.Subject, id int64) (Subscription, error) {
	if err := check(who, policy.View); err != nil {
		return Subscription{}, err
	}
	return get(ctx, s.db.Read(), id)
}

// List returns every subscription, newest first. Only administrators may.
func (s *Service) List(ctx context.Context, who policy.Subject) ([]Subscription, error) {
	if err := check(who, policy.View); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT `+subColumns+` FROM webhook_subscriptions s JOIN api_keys k ON k.id = s.key_id
		ORDER BY s.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("webhook: list: %w", err)
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// SetActive pauses (active false) or resumes a subscription. A paused one
// gets no new events, and what was queued for it is not sent. Only
// administrators may; it is audited.
func (s *Service) SetActive(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, active bool) (Subscription, error) {
	if err := check(who, policy.Edit); err != nil {
		return Subscription{}, err
	}
	var sub Subscription
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if sub, err = get(ctx, tx, id); err != nil {
			return err
		}
		if sub.Active == active {
			return nil
		}
		now := s.clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET active = ?, updated_at = ? WHERE id = ?`, active, now, id); err != nil {
			return err
		}
		action, what := ActionPause, "暂停"
		if active {
			action, what = ActionResume, "恢复"
		}
		if err := audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: action,
			Object: object(id), Detail: fmt.Sprintf("%s接口密钥 %s（%s）的事件推送 %s", what, sub.KeyPrefix, sub.Client, sub.URL),
			IP: meta.IP, RegionCode: who.RegionCode}); err != nil {
			return err
		}
		sub, err = get(ctx, tx, id)
		return err
	})
	return sub, err
}

// Rotate gives a subscription a new secret and returns it (shown once).
// The previous one still signs, beside it, for Options.Grace, so that the
// receiver can switch without losing events. Only administrators may; it
// is audited.
func (s *Service) Rotate(ctx context.Context, who policy.Subject, meta audit.Meta, id int64) (Subscription, string, error) {
	if err := check(who, policy.Edit); err != nil {
		return Subscription{}, "", err
	}
	secret, err := newSecret()
	if err != nil {
		return Subscription{}, "", err
	}
	sealed, err := s.seal(secret)
	if err != nil {
		return Subscription{}, "", err
	}
	var sub Subscription
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if sub, err = get(ctx, tx, id); err != nil {
			return err
		}
		now := s.clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET previous_secret = secret, previous_until = ?, secret = ?,
			secret_version = secret_version + 1, updated_at = ? WHERE id = ?`, now.Add(s.opt.Grace), sealed, now, id); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: ActionRotate,
			Object: object(id), Detail: fmt.Sprintf("更换接口密钥 %s（%s）事件推送的签名密钥，新版本 v%d，旧密钥 %s 前仍同时签名",
				sub.KeyPrefix, sub.Client, sub.SecretVersion+1, now.Add(s.opt.Grace).In(clock.China).Format("2006-01-02 15:04")),
			IP: meta.IP, RegionCode: who.RegionCode}); err != nil {
			return err
		}
		sub, err = get(ctx, tx, id)
		return err
	})
	if err != nil {
		return Subscription{}, "", err
	}
	return sub, secret, nil
}

func object(id int64) string { return "webhook:" + strconv.FormatInt(id, 10) }

func actorName(who policy.Subject) string {
	if who.Name != "" {
		return who.Name
	}
	return "系统"
}

// Client is an API key in use, as the subscription form offers it.
type Client struct {
	KeyID                int64
	Prefix, Name, Client string
}

// Clients lists the API keys in use, whose clients may be subscribed.
// Only administrators may.
func (s *Service) Clients(ctx context.Context, who policy.Subject) ([]Client, error) {
	if err := check(who, policy.View); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT id, prefix, name, client FROM api_keys WHERE revoked_at IS NULL ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("webhook: clients: %w", err)
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		var c Client
		if err := rows.Scan(&c.KeyID, &c.Prefix, &c.Name, &c.Client); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
