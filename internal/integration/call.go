package integration

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// PurposeHeader is the request header in which a client states why it
// calls (UTF-8, or percent-encoded UTF-8 for clients that send only
// ASCII headers). A call without it is refused.
const PurposeHeader = "X-Purpose"

// MaxPurpose is the longest stated purpose, in characters.
const MaxPurpose = 200

// Call is one API call by a client, from its key check to its log entry.
type Call struct {
	s         *Service
	Key       apikey.Key
	Client    Client
	Operation string // e.g. "GET /api/v1/integration/cases/{number}"
	Purpose   string
	// Success is the status logged for a call that succeeds (201 for one
	// that creates); 200 unless set.
	Success int
	grants  []Grant
	records []string
	tx      *store.Tx // the transaction the entry was written in, if any
	done    bool
}

// Limited is the refusal of a call over its client's rate limit.
type Limited struct {
	Err        *apperr.Error
	RetryAfter time.Duration
}

func (l *Limited) Error() string { return l.Err.Error() }
func (l *Limited) Unwrap() error { return l.Err }

// RetryAfter returns how long a rate-limited caller should wait.
func RetryAfter(err error) (time.Duration, bool) {
	var l *Limited
	if errors.As(err, &l) {
		return l.RetryAfter, true
	}
	return 0, false
}

// ErrBadKey is the answer to a key that is missing, unknown, revoked or
// expired, or whose client was revoked: 401, and the caller is not told
// which. (Open311 answers apikey.ErrBadKey, 403, as GeoReport v2 says.)
var ErrBadKey = apperr.New(apperr.Unauthorized, "api_key 无效或已停用。")

// Begin checks a call: the key (unknown, revoked or expired, or its client
// revoked: ErrBadKey), that it is a client's key with the scope, the
// stated purpose and the client's rate limit. Refusals after the key is
// known are logged. The returned call must be finished with Finish.
func (s *Service) Begin(ctx context.Context, raw, purpose, operation, scope string) (*Call, error) {
	k, err := s.keys.Authenticate(ctx, raw, "")
	if errors.Is(err, apikey.ErrBadKey) {
		return nil, ErrBadKey
	}
	if err != nil {
		return nil, err
	}
	if k.ClientID == 0 {
		return nil, apperr.New(apperr.Forbidden, "该 api_key 未登记为接入系统的密钥，不能调用共享接口。")
	}
	c := &Call{s: s, Key: k, Operation: operation, Success: 200}
	if c.Client, err = clientByID(ctx, s.db.Read(), k.ClientID); err != nil {
		return nil, err
	}
	if c.Client.Revoked() { // its keys were revoked with it
		return nil, ErrBadKey
	}
	if c.grants, err = grants(ctx, s.db.Read(), k.ClientID); err != nil {
		return nil, err
	}
	c.Purpose, err = statedPurpose(purpose)
	if err == nil && scope != "" && !slices.Contains(k.Scopes, scope) {
		err = apperr.New(apperr.Forbidden, fmt.Sprintf("该 api_key 无权使用此接口（需要权限 %s）。", scope))
	}
	if err == nil {
		ok, end, terr := s.throttle.Allow(ctx, "api_client:"+strconv.FormatInt(k.ClientID, 10), c.Client.PerMinute, time.Minute)
		if terr != nil {
			return nil, terr
		}
		if !ok {
			wait := max(end.Sub(s.clock.Now()), time.Second).Round(time.Second)
			err = &Limited{apperr.New(apperr.TooMany, fmt.Sprintf("「%s」调用过于频繁（每分钟限 %d 次），请 %d 秒后再试。",
				c.Client.Name, c.Client.PerMinute, int(wait/time.Second))), wait}
		}
	}
	if err != nil {
		return nil, c.refuse(ctx, err)
	}
	return c, nil
}

func statedPurpose(v string) (string, error) {
	if strings.Contains(v, "%") {
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
	}
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", apperr.New(apperr.Invalid, "请在请求头 "+PurposeHeader+" 中说明调用用途（如：企业开办审批核验）。")
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "", apperr.New(apperr.Invalid, "调用用途含有无效字符。")
	case utf8.RuneCountInString(v) > MaxPurpose:
		return "", apperr.New(apperr.Invalid, fmt.Sprintf("调用用途不能超过 %d 个字。", MaxPurpose))
	}
	return v, nil
}

// Subject is the call's client as the policy sees it: its key's scopes,
// and its department if it is a department's system.
func (c *Call) Subject() policy.Subject {
	s := c.Key.Subject()
	s.Name = c.Client.Name + "（接口密钥 " + c.Key.Prefix + "）"
	s.DepartmentID = c.Client.DepartmentID
	s.ClientID = c.Client.ID
	return s
}

// Departments is what the directory opens of a kind of data to the
// client, for a list to filter on: every department (all), or those ids.
func (c *Call) Departments(data string) (all bool, ids []int64) {
	for _, g := range c.grants {
		if g.Data != data {
			continue
		}
		if g.DepartmentID == 0 {
			return true, nil
		}
		if !slices.Contains(ids, g.DepartmentID) {
			ids = append(ids, g.DepartmentID)
		}
	}
	return false, ids
}

// Allow checks the sharing directory: whether the client may use data of
// the kind, of the department (0: data that belongs to no department, such
// as the catalog as a whole). A refusal is logged and ends the call.
func (c *Call) Allow(ctx context.Context, data string, departmentID int64) error {
	for _, g := range c.grants {
		if g.Data == data && (g.DepartmentID == 0 || g.DepartmentID == departmentID) {
			return nil
		}
	}
	return c.refuse(ctx, apperr.New(apperr.Forbidden, fmt.Sprintf("共享目录未向「%s」开放该部门的%s数据。", c.Client.Name, DataName(data))))
}

// Touch names records the call reads or writes: "case:<number>",
// "account:<id>", "complaint:<number>", "rating:<id>" — never the
// personal data itself.
func (c *Call) Touch(records ...string) {
	for _, r := range records {
		if r != "" && !slices.Contains(c.records, r) {
			c.records = append(c.records, r)
		}
	}
}

type ctxKey struct{}

// Context returns ctx carrying the call, so that a change made in it
// writes the call's entry in its own transaction (see Changed).
func (c *Call) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// Changed writes, in tx, the entry of the call that ctx carries (if any),
// as a success, with the records changed: the application calls it from
// casework's OnChanged hook with the case's number and applicant, so that
// a write call's change and its log entry commit together. Called again in
// the same transaction (a step of several), it writes nothing.
func Changed(ctx context.Context, tx *store.Tx, records ...string) error {
	c, ok := ctx.Value(ctxKey{}).(*Call)
	if !ok || c.tx == tx {
		return nil
	}
	c.tx = tx
	c.Touch(records...)
	return c.s.append(ctx, tx, c.entry(c.Success, "成功"))
}

// Finish logs the call's outcome unless its change already did in its
// transaction. status is the HTTP status answered; err the failure, if
// any. A read's entry is written through group commit, durably, before
// the answer goes out.
func (c *Call) Finish(ctx context.Context, status int, err error) error {
	if c.done {
		return nil
	}
	c.done = true
	if err == nil && c.tx != nil {
		return nil // written with the change
	}
	outcome := "成功"
	if err != nil {
		outcome = "失败：" + apperr.MessageOf(err)
	}
	e := c.entry(status, outcome)
	return c.s.db.TxBatched(ctx, func(tx *store.Tx) error { return c.s.append(ctx, tx, e) })
}

// refuse logs a refused call and returns err.
func (c *Call) refuse(ctx context.Context, err error) error {
	status := 403
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		status = 400
	case apperr.TooMany:
		status = 429
	}
	c.done = true
	e := c.entry(status, "拒绝："+apperr.MessageOf(err))
	if lerr := c.s.db.TxBatched(ctx, func(tx *store.Tx) error { return c.s.append(ctx, tx, e) }); lerr != nil {
		return lerr
	}
	return err
}

func (c *Call) entry(status int, outcome string) Entry {
	return Entry{At: c.s.clock.Now(), ClientID: c.Client.ID, KeyID: c.Key.ID, Operation: c.Operation, Purpose: c.Purpose,
		Status: status, Outcome: outcome, Records: slices.Clone(c.records)}
}
