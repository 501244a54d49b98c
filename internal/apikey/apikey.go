// Package apikey keeps the keys by which other systems call the platform:
// Open311 clients now, the departments' systems of the integration work
// later. A key has a name, the client (the system or organisation that
// holds it), scopes that say what it may do (policy.Scopes), who made it
// and when, when it was last used, and when it was revoked.
//
// A key is 256 random bits, shown once when it is made and stored only as
// the SHA-256 of the whole key. A slow password hash (argon2id, as
// package password uses) protects secrets people choose, which are few
// enough to guess offline from a stolen hash; a 256-bit random key cannot
// be guessed from its SHA-256 at any speed, and argon2id's ~50 ms and
// 19 MiB on every API call would only make the API slow and easy to
// overload. The key's public part (its prefix) finds the row; the hashes
// are compared in constant time.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Key is a stored key, without its secret.
type Key struct {
	ID     int64
	Name   string   // what the key is for, e.g. "12345 热线 Open311 接口"
	Client string   // who holds it, e.g. "市 12345 政务服务便民热线"
	Prefix string   // the key's public part: "zk_" and 10 characters
	Scopes []string // policy.Scopes
	// Who made it: the staff account (0 for the command line and the
	// demo) and the name the audit log gives them.
	CreatedByID int64
	CreatedBy   string
	CreatedAt   time.Time
	LastUsedAt  time.Time // zero: never used
	RevokedAt   time.Time // zero: in use
	// Integration (issue 12): the API client the key belongs to (0: none,
	// as for Open311 keys made before clients existed), and when a key
	// replaced by rotation stops working (zero: never).
	ClientID  int64
	ExpiresAt time.Time
}

// Revoked reports whether the key no longer works.
func (k Key) Revoked() bool { return !k.RevokedAt.IsZero() }

// Expired reports whether a rotated key's overlap is over at now.
func (k Key) Expired(now time.Time) bool { return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) }

// Subject is the key as the policy sees it: a client with the key's scopes.
func (k Key) Subject() policy.Subject {
	return policy.Subject{Kind: policy.Client, Name: k.Client + "（接口密钥 " + k.Prefix + "）", KeyID: k.ID, Scopes: k.Scopes}
}

// New is what a new key is made with.
type New struct {
	Name, Client string
	Scopes       []string
	ClientID     int64 // the API client (integration); 0: none
}

// MaxName is the longest name or client, in characters.
const MaxName = 100

// Audit actions.
const (
	ActionCreate = "api_key_create"
	ActionRevoke = "api_key_revoke"
	ActionRotate = "api_key_rotate"
)

// usedEvery is how stale last_used_at may be: a key used all the time
// writes it once a minute, not on every call.
const usedEvery = time.Minute

// Service makes, lists, revokes and checks keys.
type Service struct {
	db    *store.DB
	clock clock.Clock
}

// NewService returns the service over db.
func NewService(db *store.DB, clk clock.Clock) *Service { return &Service{db: db, clock: clk} }

// A key reads "zk_" + prefix (10 characters) + "_" + secret (52): both
// parts base32 without padding, lower case, so that a key survives being
// typed, pasted into a URL or a form, or read over the phone. The prefix
// carries 50 random bits, the secret 256 more.
const (
	keyStart   = "zk_"
	prefixLen  = 10
	secretLen  = 52
	prefixByte = 7 // 50 bits of them are used
	secretByte = 32
)

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

func random(n, chars int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return strings.ToLower(enc.EncodeToString(b))[:chars], nil
}

// split returns the key's prefix ("zk_…") if it has the shape of a key.
func split(raw string) (string, bool) {
	if len(raw) != len(keyStart)+prefixLen+1+secretLen || !strings.HasPrefix(raw, keyStart) {
		return "", false
	}
	p := raw[:len(keyStart)+prefixLen]
	if raw[len(p)] != '_' {
		return "", false
	}
	for _, c := range raw[len(keyStart):] {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7' || c == '_') {
			return "", false
		}
	}
	return p, true
}

func hash(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// CheckScopes normalises a list of scopes and refuses unknown ones.
func CheckScopes(scopes []string) ([]string, error) {
	var out []string
	for _, s := range scopes {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" || slices.Contains(out, s) {
			continue
		}
		if !slices.Contains(policy.Scopes, s) {
			return nil, apperr.New(apperr.Invalid, fmt.Sprintf("权限范围 %q 无效，可选：%s。", s, strings.Join(policy.Scopes, "、")))
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, apperr.New(apperr.Invalid, "请指定密钥的权限范围，可选："+strings.Join(policy.Scopes, "、")+"。")
	}
	slices.Sort(out)
	return out, nil
}

func checkText(v, what string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", apperr.New(apperr.Invalid, "请填写"+what+"。")
	case utf8.RuneCountInString(v) > MaxName:
		return "", apperr.New(apperr.Invalid, fmt.Sprintf("%s不能超过 %d 个字。", what, MaxName))
	case strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "", apperr.New(apperr.Invalid, what+"不能含控制字符。")
	}
	return v, nil
}

// Create makes a key and returns it with its secret, which is not stored
// and cannot be shown again. Only administrators may; it is audited,
// without the secret.
func (s *Service) Create(ctx context.Context, who policy.Subject, meta audit.Meta, n New) (Key, string, error) {
	if err := policy.Check(who, policy.Create, policy.Resource{Kind: policy.APIKey}); err != nil {
		return Key{}, "", err
	}
	k, raw, err := makeKey(who, n)
	if err != nil {
		return Key{}, "", err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		k.CreatedAt = s.clock.Now()
		if err := insert(ctx, tx, &k, raw); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: k.CreatedAt, ActorID: who.AccountID, Actor: k.CreatedBy, Action: ActionCreate,
			Object: object(k.ID), Detail: fmt.Sprintf("开设接口密钥 %s「%s」，使用单位 %s，权限 %s", k.Prefix, k.Name, k.Client,
				strings.Join(k.Scopes, " ")), IP: meta.IP, RegionCode: who.RegionCode})
	})
	if err != nil {
		return Key{}, "", err
	}
	k.CreatedAt = k.CreatedAt.UTC().Truncate(time.Microsecond)
	return k, raw, nil
}

// makeKey checks n and makes a key of it with its secret, not yet stored.
func makeKey(who policy.Subject, n New) (Key, string, error) {
	var err error
	k := Key{CreatedByID: who.AccountID, CreatedBy: actorName(who), ClientID: n.ClientID}
	if k.Name, err = checkText(n.Name, "密钥名称"); err != nil {
		return Key{}, "", err
	}
	if k.Client, err = checkText(n.Client, "使用单位或系统"); err != nil {
		return Key{}, "", err
	}
	if k.Scopes, err = CheckScopes(n.Scopes); err != nil {
		return Key{}, "", err
	}
	prefix, err := random(prefixByte, prefixLen)
	if err != nil {
		return Key{}, "", err
	}
	secret, err := random(secretByte, secretLen)
	if err != nil {
		return Key{}, "", err
	}
	k.Prefix = keyStart + prefix
	return k, k.Prefix + "_" + secret, nil
}

// insert stores k (made by makeKey, with its CreatedAt set) in tx.
func insert(ctx context.Context, tx *store.Tx, k *Key, raw string) error {
	var by, client any
	if k.CreatedByID != 0 {
		by = k.CreatedByID
	}
	if k.ClientID != 0 {
		client = k.ClientID
	}
	if err := tx.QueryRow(ctx, `INSERT INTO api_keys (name, client, prefix, key_hash, scopes, created_by_id, created_by, created_at, client_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, k.Name, k.Client, k.Prefix, hash(raw), strings.Join(k.Scopes, " "),
		by, k.CreatedBy, k.CreatedAt, client).Scan(&k.ID); err != nil {
		return fmt.Errorf("api keys: create: %w", err)
	}
	return nil
}

// Rotate issues a new key like the one with the given id (or prefix) —
// same name, client and scopes — and lets the old one work until until,
// so that the client can switch without a gap; from until on the old key
// is refused. until may be now (no overlap) but not in the past beyond
// that, nor more than 30 days ahead. Only administrators may; audited.
func (s *Service) Rotate(ctx context.Context, who policy.Subject, meta audit.Meta, idOrPrefix string, until time.Time) (Key, string, error) {
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.APIKey}); err != nil {
		return Key{}, "", err
	}
	now := s.clock.Now()
	if until.Before(now) {
		until = now
	}
	if until.After(now.Add(MaxOverlap)) {
		return Key{}, "", apperr.New(apperr.Invalid, "旧密钥的过渡期最长 30 天。")
	}
	var k Key
	var raw string
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		old, err := s.find(ctx, tx, idOrPrefix)
		if err != nil {
			return err
		}
		if old.Expired(now) {
			return apperr.New(apperr.Conflict, fmt.Sprintf("接口密钥 %s 已过期，不能再轮换。", old.Prefix))
		}
		if k, raw, err = makeKey(who, New{Name: old.Name, Client: old.Client, Scopes: old.Scopes, ClientID: old.ClientID}); err != nil {
			return err
		}
		k.CreatedAt = now
		if err := insert(ctx, tx, &k, raw); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE api_keys SET expires_at = ? WHERE id = ?`, until, old.ID); err != nil {
			return fmt.Errorf("api keys: rotate: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: ActionRotate,
			Object: object(old.ID), Detail: fmt.Sprintf("轮换接口密钥 %s「%s」：新密钥 %s，旧密钥可用至 %s", old.Prefix, old.Name, k.Prefix,
				until.In(clock.China).Format("2006-01-02 15:04")), IP: meta.IP, RegionCode: who.RegionCode})
	})
	if err != nil {
		return Key{}, "", err
	}
	k.CreatedAt = k.CreatedAt.UTC().Truncate(time.Microsecond)
	return k, raw, nil
}

// MaxOverlap is the longest an old key keeps working after a rotation.
const MaxOverlap = 30 * 24 * time.Hour

// find reads the key with the given id or prefix, revoked ones refused.
func (s *Service) find(ctx context.Context, tx *store.Tx, idOrPrefix string) (Key, error) {
	where, arg := `prefix = ?`, any(strings.TrimSpace(idOrPrefix))
	if id, err := strconv.ParseInt(idOrPrefix, 10, 64); err == nil {
		where, arg = `id = ?`, id
	}
	k, _, err := scan(tx.QueryRow(ctx, `SELECT `+columns+` FROM api_keys WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return k, apperr.New(apperr.NotFound, fmt.Sprintf("没有编号或前缀为 %s 的接口密钥。", idOrPrefix))
	}
	if err != nil {
		return k, err
	}
	if k.Revoked() {
		return k, apperr.New(apperr.Conflict, fmt.Sprintf("接口密钥 %s 已于 %s 停用。", k.Prefix,
			k.RevokedAt.In(clock.China).Format("2006-01-02 15:04")))
	}
	return k, nil
}

// List returns every key, newest first, revoked ones too. Only
// administrators may.
func (s *Service) List(ctx context.Context, who policy.Subject) ([]Key, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.APIKey}); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT `+columns+` FROM api_keys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("api keys: list: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k, _, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Revoke stops the key with the given id (or prefix) from working, at
// once and for good. Only administrators may; it is audited.
func (s *Service) Revoke(ctx context.Context, who policy.Subject, meta audit.Meta, idOrPrefix string) (Key, error) {
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.APIKey}); err != nil {
		return Key{}, err
	}
	var k Key
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if k, err = s.find(ctx, tx, idOrPrefix); err != nil {
			return err
		}
		now := s.clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ?`, now, k.ID); err != nil {
			return fmt.Errorf("api keys: revoke: %w", err)
		}
		k.RevokedAt = now.UTC().Truncate(time.Microsecond)
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: ActionRevoke,
			Object: object(k.ID), Detail: fmt.Sprintf("停用接口密钥 %s「%s」，使用单位 %s", k.Prefix, k.Name, k.Client),
			IP: meta.IP, RegionCode: who.RegionCode})
	})
	return k, err
}

// ErrBadKey is the answer to a key that is missing, malformed, unknown or
// revoked: the caller is not told which.
var ErrBadKey = apperr.New(apperr.Forbidden, "api_key 无效或已停用。")

// Authenticate returns the key whose secret raw is, if it works and
// carries scope ("": any; the caller checks). A missing, unknown or revoked key is ErrBadKey; a key
// without the scope is Forbidden too, with its own message. It records
// when the key was used, at most once a minute.
func (s *Service) Authenticate(ctx context.Context, raw, scope string) (Key, error) {
	prefix, ok := split(raw)
	if !ok {
		return Key{}, ErrBadKey
	}
	k, stored, err := scan(s.db.Read().QueryRow(ctx, `SELECT `+columns+` FROM api_keys WHERE prefix = ?`, prefix))
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, ErrBadKey
	}
	if err != nil {
		return Key{}, err
	}
	want, err := hex.DecodeString(stored)
	if err != nil {
		return Key{}, fmt.Errorf("api keys: stored hash of %s: %w", k.Prefix, err)
	}
	got := sha256.Sum256([]byte(raw))
	now := s.clock.Now()
	if subtle.ConstantTimeCompare(got[:], want) != 1 || k.Revoked() || k.Expired(now) {
		return Key{}, ErrBadKey
	}
	if scope != "" && !slices.Contains(k.Scopes, scope) {
		return Key{}, apperr.New(apperr.Forbidden, fmt.Sprintf("该 api_key 无权使用此接口（需要权限 %s）。", scope))
	}
	if now.Sub(k.LastUsedAt) >= usedEvery {
		// Only when stale, and only if no other request wrote it meanwhile:
		// a busy key costs one write a minute, not one per call.
		if err := s.db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
				now, k.ID, now.Add(-usedEvery))
			return err
		}); err != nil {
			return Key{}, fmt.Errorf("api keys: last used: %w", err)
		}
		k.LastUsedAt = now
	}
	return k, nil
}

const columns = `id, name, client, prefix, key_hash, scopes, COALESCE(created_by_id, 0), created_by, created_at, last_used_at, revoked_at,
	COALESCE(client_id, 0), expires_at`

func scan(row interface{ Scan(...any) error }) (Key, string, error) {
	var k Key
	var stored, scopes string
	var used, revoked, expires sql.NullTime
	if err := row.Scan(&k.ID, &k.Name, &k.Client, &k.Prefix, &stored, &scopes, &k.CreatedByID, &k.CreatedBy, &k.CreatedAt, &used, &revoked,
		&k.ClientID, &expires); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return k, "", err
		}
		return k, "", fmt.Errorf("api keys: %w", err)
	}
	k.Scopes = strings.Fields(scopes)
	k.LastUsedAt, k.RevokedAt, k.ExpiresAt = used.Time, revoked.Time, expires.Time
	return k, stored, nil
}

func object(id int64) string { return "api_key:" + strconv.FormatInt(id, 10) }

func actorName(who policy.Subject) string {
	if who.Name != "" {
		return who.Name
	}
	return "系统"
}
