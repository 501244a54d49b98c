// Package integration is how other government systems — a department's
// own business system, the city's platform — use the platform's data
// (issue 12): API clients with their keys (one key store with Open311,
// internal/apikey) and a rate limit, the sharing directory (共享目录: which
// data a client may use, for which purpose) and the data-sharing access
// log (共享调用日志: every call, which records it touched and why).
//
// A client is a row of api_clients; its id (Client.ID) is what other
// parts refer to (webhook subscriptions). Its keys are api_keys rows with
// client_id set.
//
// A call goes through Begin (key, purpose, rate limit), then Allow (the
// directory) for each kind of data it touches, then the operation, then
// Finish. A call that changes a case writes its log entry in the change's
// own transaction (Changed, wired to casework's OnChanged hook); every
// other call writes it after the operation, durably, through group
// commit (store.DB.TxBatched), so that a busy client's reads share
// flushes.
package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/throttle"
)

// Client is another system that calls the API.
type Client struct {
	ID   int64
	Name string // e.g. 市场监管局业务系统
	// DepartmentID is the department whose system it is (0: none, e.g. the
	// city's platform): such a client reports its department's case steps.
	DepartmentID int64
	PerMinute    int // calls allowed per minute, over every instance
	CreatedAt    time.Time
	// RevokedAt: the client was revoked (zero: in use). Its keys were
	// revoked with it, and its webhook subscriptions get nothing.
	RevokedAt time.Time
}

// Revoked reports whether the client was revoked.
func (c Client) Revoked() bool { return !c.RevokedAt.IsZero() }

// Data kinds the directory shares.
const (
	DataCatalog    = "catalog"
	DataCases      = "cases"
	DataResults    = "results"
	DataComplaints = "complaints"
	DataRatings    = "ratings"
)

// DataKinds lists them, with their names.
var DataKinds = []struct{ Code, Name string }{
	{DataCatalog, "事项目录"}, {DataCases, "办件"}, {DataResults, "办理结果"}, {DataComplaints, "诉求"}, {DataRatings, "好差评"},
}

// DataName names a data kind in Chinese.
func DataName(code string) string {
	for _, d := range DataKinds {
		if d.Code == code {
			return d.Name
		}
	}
	return code
}

// Grant is one entry of the sharing directory: a client may use one kind
// of data, of one department (0: every department), for a purpose.
type Grant struct {
	ID           int64
	ClientID     int64
	Data         string
	DepartmentID int64
	Purpose      string
	CreatedAt    time.Time
}

// Audit actions.
const (
	ActionClientCreate = "api_client_create"
	ActionClientLimit  = "api_client_limit"
	ActionClientRevoke = "api_client_revoke"
	ActionGrant        = "sharing_grant"
	ActionUngrant      = "sharing_ungrant"
	ActionExport       = "sharing_log_export"
)

// Service keeps clients, the directory and the log, and checks calls.
type Service struct {
	db       *store.DB
	clock    clock.Clock
	keys     *apikey.Service
	throttle *throttle.Throttle
}

// New returns the service.
func New(db *store.DB, clk clock.Clock, keys *apikey.Service) *Service {
	return &Service{db: db, clock: clk, keys: keys, throttle: throttle.New(db, clk)}
}

// MaxPerMinute is the highest rate limit an administrator may set.
const MaxPerMinute = 6000

func checkText(v, what string, max int) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", apperr.New(apperr.Invalid, "请填写"+what+"。")
	case utf8.RuneCountInString(v) > max:
		return "", apperr.New(apperr.Invalid, fmt.Sprintf("%s不能超过 %d 个字。", what, max))
	case strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "", apperr.New(apperr.Invalid, what+"不能含控制字符。")
	}
	return v, nil
}

func checkRate(n int) error {
	if n < 1 || n > MaxPerMinute {
		return apperr.New(apperr.Invalid, fmt.Sprintf("每分钟调用次数须在 1 到 %d 之间。", MaxPerMinute))
	}
	return nil
}

func actor(who policy.Subject) string {
	if who.Name != "" {
		return who.Name
	}
	return "系统"
}

// CreateClient registers a system. Only administrators may; audited.
func (s *Service) CreateClient(ctx context.Context, who policy.Subject, meta audit.Meta, c Client) (Client, error) {
	if err := policy.Check(who, policy.Create, policy.Resource{Kind: policy.APIKey}); err != nil {
		return Client{}, err
	}
	var err error
	if c.Name, err = checkText(c.Name, "接入系统名称", apikey.MaxName); err != nil {
		return Client{}, err
	}
	if err := checkRate(c.PerMinute); err != nil {
		return Client{}, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		c.CreatedAt = s.clock.Now()
		var dept any
		if c.DepartmentID != 0 {
			if err := department(ctx, tx, c.DepartmentID); err != nil {
				return err
			}
			dept = c.DepartmentID
		}
		err := tx.QueryRow(ctx, `INSERT INTO api_clients (name, department_id, per_minute, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO NOTHING RETURNING id`, c.Name, dept, c.PerMinute, c.CreatedAt).Scan(&c.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.Conflict, "已有名为「"+c.Name+"」的接入系统。")
		}
		if err != nil {
			return fmt.Errorf("integration: create client: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{At: c.CreatedAt, ActorID: who.AccountID, Actor: actor(who), Action: ActionClientCreate,
			Object: clientObject(c.ID), Detail: fmt.Sprintf("登记接入系统「%s」，每分钟限 %d 次调用", c.Name, c.PerMinute),
			IP: meta.IP, RegionCode: who.RegionCode})
	})
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Microsecond)
	return c, err
}

func department(ctx context.Context, q store.Querier, id int64) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM departments WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.Invalid, "没有这个部门。")
	}
	return err
}

// SetLimit changes a client's calls per minute. Administrators; audited.
func (s *Service) SetLimit(ctx context.Context, who policy.Subject, meta audit.Meta, clientID int64, perMinute int) error {
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.APIKey}); err != nil {
		return err
	}
	if err := checkRate(perMinute); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := clientByID(ctx, tx, clientID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE api_clients SET per_minute = ? WHERE id = ?`, perMinute, clientID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: actor(who), Action: ActionClientLimit,
			Object: clientObject(c.ID), Detail: fmt.Sprintf("接入系统「%s」每分钟调用上限由 %d 改为 %d", c.Name, c.PerMinute, perMinute),
			IP: meta.IP, RegionCode: who.RegionCode})
	})
}

// RevokeClient stops a client for good: its keys are revoked with it, in
// one transaction, so that its calls are refused (401) and its webhook
// subscriptions get nothing from then on, queued deliveries included.
// Administrators; audited.
func (s *Service) RevokeClient(ctx context.Context, who policy.Subject, meta audit.Meta, clientID int64) error {
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.APIKey}); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := clientByID(ctx, tx, clientID)
		if err != nil {
			return err
		}
		if c.Revoked() {
			return apperr.New(apperr.Conflict, "接入系统「"+c.Name+"」已停用。")
		}
		now := s.clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE api_clients SET revoked_at = ? WHERE id = ?`, now, clientID); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL`, now, clientID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actor(who), Action: ActionClientRevoke,
			Object: clientObject(c.ID), Detail: fmt.Sprintf("停用接入系统「%s」及其 %d 个接口密钥，事件推送随之停止", c.Name, n),
			IP: meta.IP, RegionCode: who.RegionCode})
	})
}

// Clients lists every client. Administrators only.
func (s *Service) Clients(ctx context.Context, who policy.Subject) ([]Client, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.APIKey}); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT `+clientColumns+` FROM api_clients ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const clientColumns = `id, name, COALESCE(department_id, 0), per_minute, created_at, revoked_at`

func scanClient(row interface{ Scan(...any) error }) (Client, error) {
	var c Client
	var revoked sql.NullTime
	err := row.Scan(&c.ID, &c.Name, &c.DepartmentID, &c.PerMinute, &c.CreatedAt, &revoked)
	c.RevokedAt = revoked.Time
	return c, err
}

func clientByID(ctx context.Context, q store.Querier, id int64) (Client, error) {
	c, err := scanClient(q.QueryRow(ctx, `SELECT `+clientColumns+` FROM api_clients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "没有这个接入系统。")
	}
	return c, err
}

// ClientByName finds a client by its name (the command line's argument).
func (s *Service) ClientByName(ctx context.Context, who policy.Subject, name string) (Client, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.APIKey}); err != nil {
		return Client{}, err
	}
	if id, err := strconv.ParseInt(name, 10, 64); err == nil {
		return clientByID(ctx, s.db.Read(), id)
	}
	c, err := scanClient(s.db.Read().QueryRow(ctx, `SELECT `+clientColumns+` FROM api_clients WHERE name = ?`, strings.TrimSpace(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "没有名为「"+name+"」的接入系统。")
	}
	return c, err
}

// IssueKey makes a key for the client with the given scopes, through the
// one key store (audited there). The secret is returned once.
func (s *Service) IssueKey(ctx context.Context, who policy.Subject, meta audit.Meta, clientID int64, name string, scopes []string) (apikey.Key, string, error) {
	if err := policy.Check(who, policy.Create, policy.Resource{Kind: policy.APIKey}); err != nil {
		return apikey.Key{}, "", err
	}
	c, err := clientByID(ctx, s.db.Read(), clientID)
	if err != nil {
		return apikey.Key{}, "", err
	}
	if c.Revoked() {
		return apikey.Key{}, "", apperr.New(apperr.Conflict, "接入系统「"+c.Name+"」已停用，不能再开设密钥。")
	}
	return s.keys.Create(ctx, who, meta, apikey.New{Name: name, Client: c.Name, Scopes: scopes, ClientID: c.ID})
}

// Keys lists a client's keys, newest first. Administrators only.
func (s *Service) Keys(ctx context.Context, who policy.Subject, clientID int64) ([]apikey.Key, error) {
	all, err := s.keys.List(ctx, who)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(k apikey.Key) bool { return k.ClientID != clientID }), nil
}

// RevokeKey stops a key at once, through the one key store (audited there).
func (s *Service) RevokeKey(ctx context.Context, who policy.Subject, meta audit.Meta, idOrPrefix string) error {
	_, err := s.keys.Revoke(ctx, who, meta, idOrPrefix)
	return err
}

// RotateKey issues a key like the given one and lets the old one work
// until until (apikey.Service.Rotate).
func (s *Service) RotateKey(ctx context.Context, who policy.Subject, meta audit.Meta, idOrPrefix string, until time.Time) (apikey.Key, string, error) {
	return s.keys.Rotate(ctx, who, meta, idOrPrefix, until)
}

// AddGrant adds an entry to the sharing directory. Administrators; audited.
func (s *Service) AddGrant(ctx context.Context, who policy.Subject, meta audit.Meta, g Grant) (Grant, error) {
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.APIKey}); err != nil {
		return Grant{}, err
	}
	if DataName(g.Data) == g.Data {
		return Grant{}, apperr.New(apperr.Invalid, "请选择共享的数据类别。")
	}
	var err error
	if g.Purpose, err = checkText(g.Purpose, "共享用途", 200); err != nil {
		return Grant{}, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := clientByID(ctx, tx, g.ClientID)
		if err != nil {
			return err
		}
		var dept any
		if g.DepartmentID != 0 {
			if err := department(ctx, tx, g.DepartmentID); err != nil {
				return err
			}
			dept = g.DepartmentID
		}
		g.CreatedAt = s.clock.Now()
		if err := tx.QueryRow(ctx, `INSERT INTO sharing_directory (client_id, data, department_id, purpose, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, g.ClientID, g.Data, dept, g.Purpose, g.CreatedAt).Scan(&g.ID); err != nil {
			return fmt.Errorf("integration: grant: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{At: g.CreatedAt, ActorID: who.AccountID, Actor: actor(who), Action: ActionGrant,
			Object: clientObject(c.ID), Detail: fmt.Sprintf("共享目录：向「%s」开放%s（部门 %s），用途：%s", c.Name, DataName(g.Data),
				deptText(g.DepartmentID), g.Purpose), IP: meta.IP, RegionCode: who.RegionCode})
	})
	return g, err
}

func deptText(id int64) string {
	if id == 0 {
		return "全部"
	}
	return strconv.FormatInt(id, 10)
}

// RemoveGrant takes an entry out of the directory. Administrators; audited.
func (s *Service) RemoveGrant(ctx context.Context, who policy.Subject, meta audit.Meta, id int64) error {
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.APIKey}); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		var g Grant
		err := tx.QueryRow(ctx, `SELECT client_id, data, COALESCE(department_id, 0), purpose FROM sharing_directory WHERE id = ?`, id).
			Scan(&g.ClientID, &g.Data, &g.DepartmentID, &g.Purpose)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "共享目录中没有这一项。")
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sharing_directory WHERE id = ?`, id); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: actor(who), Action: ActionUngrant,
			Object: clientObject(g.ClientID), Detail: fmt.Sprintf("共享目录：撤销%s（部门 %s），用途：%s", DataName(g.Data),
				deptText(g.DepartmentID), g.Purpose), IP: meta.IP, RegionCode: who.RegionCode})
	})
}

// Directory lists the directory's entries (of one client, or all: 0).
// Administrators only.
func (s *Service) Directory(ctx context.Context, who policy.Subject, clientID int64) ([]Grant, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.APIKey}); err != nil {
		return nil, err
	}
	return grants(ctx, s.db.Read(), clientID)
}

func grants(ctx context.Context, q store.Querier, clientID int64) ([]Grant, error) {
	rows, err := q.Query(ctx, `SELECT id, client_id, data, COALESCE(department_id, 0), purpose, created_at FROM sharing_directory
		WHERE ? = 0 OR client_id = ? ORDER BY client_id, data, id`, clientID, clientID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		var g Grant
		if err := rows.Scan(&g.ID, &g.ClientID, &g.Data, &g.DepartmentID, &g.Purpose, &g.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func clientObject(id int64) string { return "api_client:" + strconv.FormatInt(id, 10) }
