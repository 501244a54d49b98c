// Package webhook tells other systems what happens to cases, complaints and
// ratings. A subscription belongs to an API client (internal/integration's
// api_clients) and names a URL, the event types it wants, a signing secret
// (shown once, rotatable) and whether it is active. Administrators keep
// every client's subscriptions; a client keeps its own through the
// integration API. The scopes of the client's keys decide which events it
// may have (EventScopes), checked when it subscribes and again when an
// event is recorded; a revoked client gets nothing.
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
	ActionUpdate    = "webhook_update"
	ActionDelete    = "webhook_delete"
)

// EventScopes are the key scopes (policy.Scopes) of which a client needs
// one to have an event type: a case's events go to the systems that may
// look the case up (results.read, or cases.status for a department's own
// system); a complaint's to those that read complaints or file them
// (open311: the hotline follows what it filed); a rating's to those that
// read ratings.
func EventScopes(typ string) []string {
	switch {
	case strings.HasPrefix(typ, "case."):
		return []string{policy.ScopeResultsRead, policy.ScopeCasesStatus}
	case strings.HasPrefix(typ, "complaint."):
		return []string{policy.ScopeComplaints, policy.ScopeOpen311}
	case strings.HasPrefix(typ, "rating."):
		return []string{policy.ScopeRatings}
	}
	return nil
}

// mayHave reports whether scopes allow the event type.
func mayHave(scopes []string, typ string) bool {
	for _, sc := range EventScopes(typ) {
		if slices.Contains(scopes, sc) {
			return true
		}
	}
	return false
}

// Subscription is one client's webhook.
type Subscription struct {
	ID       int64
	ClientID int64  // the API client (internal/integration) it belongs to
	Client   string // that client's name
	// ClientRevoked: the client was revoked, and the subscription gets nothing.
	ClientRevoked bool
	URL           string
	Events        []string
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
	ClientID int64
	URL      string
	Events   []string
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

// admin checks what only administrators do: the delivery log and sending
// an event again.
func admin(who policy.Subject, a policy.Action) error {
	return policy.Check(who, a, policy.Resource{Kind: policy.APIKey})
}

// mayOwn checks who may do a to the subscriptions of a client: an
// administrator, or the client itself. Another client is told there is
// no such subscription.
func mayOwn(who policy.Subject, a policy.Action, clientID int64) error {
	err := policy.Check(who, a, policy.Resource{Kind: policy.Webhook, OwnerID: clientID})
	if err != nil && who.Kind == policy.Client {
		return errNoSubscription
	}
	return err
}

var errNoSubscription = apperr.New(apperr.NotFound, "没有这个事件订阅。")

// scopesOf is the union of the scopes of a client's keys in use at now.
func scopesOf(ctx context.Context, q store.Querier, clientID int64, now time.Time) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT scopes FROM api_keys WHERE client_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`,
		clientID, now)
	if err != nil {
		return nil, fmt.Errorf("webhook: scopes: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var scopes string
		if err := rows.Scan(&scopes); err != nil {
			return nil, err
		}
		for _, sc := range strings.Fields(scopes) {
			if !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out, rows.Err()
}

// allowEvents refuses the events the client's scopes do not cover: a
// client calling for itself is held to its key's scopes, an administrator
// to those of the client's keys in use.
func allowEvents(ctx context.Context, q store.Querier, who policy.Subject, client string, clientID int64, events []string, now time.Time) error {
	scopes := who.Scopes
	if who.Kind != policy.Client {
		var err error
		if scopes, err = scopesOf(ctx, q, clientID, now); err != nil {
			return err
		}
	}
	for _, e := range events {
		if !mayHave(scopes, e) {
			return apperr.New(apperr.Forbidden, fmt.Sprintf("接入系统「%s」无权订阅「%s」（%s）事件：其接口密钥需要权限 %s 之一。",
				client, TypeName(e), e, strings.Join(EventScopes(e), "、")))
		}
	}
	return nil
}

// clientOf reads a client's name, refusing one that is unknown or revoked.
func clientOf(ctx context.Context, q store.Querier, id int64) (string, error) {
	var name string
	var revoked sql.NullTime
	err := q.QueryRow(ctx, `SELECT name, revoked_at FROM api_clients WHERE id = ?`, id).Scan(&name, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return "", apperr.New(apperr.Invalid, "请选择接入系统（对方系统）。")
	}
	if err != nil {
		return "", err
	}
	if revoked.Valid {
		return "", apperr.New(apperr.Invalid, "接入系统「"+name+"」已停用，不能订阅。")
	}
	return name, nil
}

// Create subscribes a client that is in use to events its keys' scopes
// cover. It returns the signing secret, which cannot be shown again.
// Administrators may, and the client itself; it is audited, without the
// secret.
func (s *Service) Create(ctx context.Context, who policy.Subject, meta audit.Meta, n New) (Subscription, string, error) {
	if err := mayOwn(who, policy.Create, n.ClientID); err != nil {
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
		client, err := clientOf(ctx, tx, n.ClientID)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		if err := allowEvents(ctx, tx, who, client, n.ClientID, events, now); err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO webhook_subscriptions (client_id, url, events, secret, secret_version, active, created_by,
			created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?) RETURNING id`, n.ClientID, u, strings.Join(events, " "), sealed, true,
			actorName(who), now, now).Scan(&id); err != nil {
			return fmt.Errorf("webhook: create: %w", err)
		}
		if err := audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: ActionCreate,
			Object: object(id), Detail: fmt.Sprintf("为接入系统「%s」订阅事件推送 %s，事件 %s", client, u, strings.Join(events, " ")),
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

const subColumns = `s.id, s.client_id, c.name, c.revoked_at, s.url, s.events, s.secret_version, s.previous_until, s.active,
	s.created_by, s.created_at, s.updated_at`

const subFrom = ` FROM webhook_subscriptions s JOIN api_clients c ON c.id = s.client_id`

func scanSub(row interface{ Scan(...any) error }) (Subscription, error) {
	var sub Subscription
	var events string
	var until, revoked sql.NullTime
	err := row.Scan(&sub.ID, &sub.ClientID, &sub.Client, &revoked, &sub.URL, &events, &sub.SecretVersion, &until, &sub.Active,
		&sub.CreatedBy, &sub.CreatedAt, &sub.UpdatedAt)
	sub.Events, sub.PreviousUntil, sub.ClientRevoked = strings.Fields(events), until.Time, revoked.Valid
	return sub, err
}

func get(ctx context.Context, q store.Querier, id int64) (Subscription, error) {
	sub, err := scanSub(q.QueryRow(ctx, `SELECT `+subColumns+subFrom+` WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, errNoSubscription
	}
	return sub, err
}

// Get returns one subscription, to an administrator or its client.
func (s *Service) Get(ctx context.Context, who policy.Subject, id int64) (Subscription, error) {
	sub, err := get(ctx, s.db.Read(), id)
	if err != nil {
		return Subscription{}, err
	}
	if err := mayOwn(who, policy.View, sub.ClientID); err != nil {
		return Subscription{}, err
	}
	return sub, nil
}

// List returns the subscriptions of a client (every client's: 0, for
// administrators only), newest first.
func (s *Service) List(ctx context.Context, who policy.Subject, clientID int64) ([]Subscription, error) {
	if err := mayOwn(who, policy.View, clientID); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT `+subColumns+subFrom+` WHERE ? = 0 OR s.client_id = ? ORDER BY s.id DESC`, clientID, clientID)
	if err != nil {
		return nil, fmt.Errorf("webhook: list: %w", err)
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// change runs fn on subscription id in a transaction, once who is known
// to may edit it, and returns it as fn left it.
func (s *Service) change(ctx context.Context, who policy.Subject, id int64, fn func(tx *store.Tx, sub Subscription, now time.Time) error) (Subscription, error) {
	var sub Subscription
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if sub, err = get(ctx, tx, id); err != nil {
			return err
		}
		if err := mayOwn(who, policy.Edit, sub.ClientID); err != nil {
			return err
		}
		if err := fn(tx, sub, s.clock.Now()); err != nil {
			return err
		}
		sub, err = get(ctx, tx, id)
		return err
	})
	return sub, err
}

// SetActive pauses (active false) or resumes a subscription. A paused one
// gets no new events, and what was queued for it is not sent.
// Administrators may, and its client; it is audited.
func (s *Service) SetActive(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, active bool) (Subscription, error) {
	return s.change(ctx, who, id, func(tx *store.Tx, sub Subscription, now time.Time) error {
		if sub.Active == active {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET active = ?, updated_at = ? WHERE id = ?`, active, now, id); err != nil {
			return err
		}
		action, what := ActionPause, "暂停"
		if active {
			action, what = ActionResume, "恢复"
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: action,
			Object: object(id), Detail: fmt.Sprintf("%s接入系统「%s」的事件推送 %s", what, sub.Client, sub.URL),
			IP: meta.IP, RegionCode: who.RegionCode})
	})
}

// Change is an update of a subscription; nil fields stay as they are.
type Change struct {
	URL    *string
	Events []string // nil: unchanged
	Active *bool
}

// Update changes a subscription's address, events or state, checked as
// when it was made (the events against the scopes). Administrators may,
// and its client; it is audited.
func (s *Service) Update(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, c Change) (Subscription, error) {
	var u string
	var events []string
	var err error
	if c.URL != nil {
		if u, err = s.CheckURL(*c.URL); err != nil {
			return Subscription{}, err
		}
	}
	if c.Events != nil {
		if events, err = CheckEvents(c.Events); err != nil {
			return Subscription{}, err
		}
	}
	return s.change(ctx, who, id, func(tx *store.Tx, sub Subscription, now time.Time) error {
		var what []string
		next := sub
		if c.URL != nil && u != sub.URL {
			next.URL = u
			what = append(what, "接收地址改为 "+u)
		}
		if c.Events != nil && !slices.Equal(events, sub.Events) {
			if sub.ClientRevoked {
				return apperr.New(apperr.Invalid, "接入系统「"+sub.Client+"」已停用，不能订阅。")
			}
			if err := allowEvents(ctx, tx, who, sub.Client, sub.ClientID, events, now); err != nil {
				return err
			}
			next.Events = events
			what = append(what, "事件改为 "+strings.Join(events, " "))
		}
		if c.Active != nil && *c.Active != sub.Active {
			next.Active = *c.Active
			what = append(what, map[bool]string{true: "恢复推送", false: "暂停推送"}[next.Active])
		}
		if len(what) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET url = ?, events = ?, active = ?, updated_at = ? WHERE id = ?`,
			next.URL, strings.Join(next.Events, " "), next.Active, now, id); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: ActionUpdate,
			Object: object(id), Detail: fmt.Sprintf("修改接入系统「%s」的事件推送：%s", sub.Client, strings.Join(what, "；")),
			IP: meta.IP, RegionCode: who.RegionCode})
	})
}

// Delete removes a subscription with its delivery log; what was queued
// for it is not sent. Administrators may, and its client; it is audited.
func (s *Service) Delete(ctx context.Context, who policy.Subject, meta audit.Meta, id int64) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		sub, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := mayOwn(who, policy.Edit, sub.ClientID); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE subscription_id = ?)`,
			`DELETE FROM webhook_deliveries WHERE subscription_id = ?`,
			`DELETE FROM webhook_subscriptions WHERE id = ?`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return fmt.Errorf("webhook: delete: %w", err)
			}
		}
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: actorName(who), Action: ActionDelete,
			Object: object(id), Detail: fmt.Sprintf("删除接入系统「%s」的事件推送 %s", sub.Client, sub.URL),
			IP: meta.IP, RegionCode: who.RegionCode})
	})
}

// Rotate gives a subscription a new secret and returns it (shown once).
// The previous one still signs, beside it, for Options.Grace, so that the
// receiver can switch without losing events. Administrators may, and its
// client; it is audited.
func (s *Service) Rotate(ctx context.Context, who policy.Subject, meta audit.Meta, id int64) (Subscription, string, error) {
	secret, err := newSecret()
	if err != nil {
		return Subscription{}, "", err
	}
	sealed, err := s.seal(secret)
	if err != nil {
		return Subscription{}, "", err
	}
	sub, err := s.change(ctx, who, id, func(tx *store.Tx, sub Subscription, now time.Time) error {
		if _, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET previous_secret = secret, previous_until = ?, secret = ?,
			secret_version = secret_version + 1, updated_at = ? WHERE id = ?`, now.Add(s.opt.Grace), sealed, now, id); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: ActionRotate,
			Object: object(id), Detail: fmt.Sprintf("更换接入系统「%s」事件推送的签名密钥，新版本 v%d，旧密钥 %s 前仍同时签名",
				sub.Client, sub.SecretVersion+1, now.Add(s.opt.Grace).In(clock.China).Format("2006-01-02 15:04")),
			IP: meta.IP, RegionCode: who.RegionCode})
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

// Client is an API client in use, as the subscription form offers it,
// with the scopes of its keys in use (which events it may have).
type Client struct {
	ID     int64
	Name   string
	Scopes []string
}

// Clients lists the API clients in use, which may be subscribed.
// Only administrators may.
func (s *Service) Clients(ctx context.Context, who policy.Subject) ([]Client, error) {
	if err := admin(who, policy.View); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT id, name FROM api_clients WHERE revoked_at IS NULL ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("webhook: clients: %w", err)
	}
	var out []Client
	for rows.Next() {
		var c Client
		if err := rows.Scan(&c.ID, &c.Name); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	for i := range out {
		if out[i].Scopes, err = scopesOf(ctx, s.db.Read(), out[i].ID, now); err != nil {
			return nil, err
		}
	}
	return out, nil
}
