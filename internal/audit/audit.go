// Package audit is the platform's audit log: sign-ins and their failures,
// role and permission changes, reveals of personal data, exports and
// configuration changes — who, what, when and from where. Entries are
// written in the same transaction as the change they record, the table
// refuses updates and deletes (database triggers), and each entry holds the
// hash of the one before, so that an edit made behind the application's
// back breaks the chain and Verify names it.
package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Meta is where a request came from: every method that changes state
// takes it with the subject, for the audit entry it writes.
type Meta struct {
	IP     string
	Client string // the browser's user agent, shortened
}

// Entry is one audit record.
type Entry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	ActorID int64     `json:"actor_id,omitempty"` // 0 for the system or an unknown person
	Actor   string    `json:"actor"`              // a display name: 王五（区市场监管局）, 命令行, 系统
	Action  string    `json:"action"`             // signin, signin_failed, role_grant, reveal, export, config …
	Object  string    `json:"object,omitempty"`   // what it was done to: account:12, item:40, case:…
	Detail  string    `json:"detail,omitempty"`   // free text, never personal data in clear
	IP      string    `json:"ip,omitempty"`
	Hash    string    `json:"hash"`

	// RegionCode is the region the entry belongs to, for scoped search:
	// the acting staff member's region, or "" (administrators only).
	RegionCode string `json:"region_code,omitempty"`
}

// genesis is the "previous hash" of the first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// chainLock serialises appends on PostgreSQL so that two transactions
// cannot both extend the same entry ("audt" in ASCII).
const chainLock = 0x61756474

func (e Entry) parts(prev string) []string {
	p := []string{prev, e.At.UTC().Format(time.RFC3339Nano), strconv.FormatInt(e.ActorID, 10),
		e.Actor, e.Action, e.Object, e.Detail, e.IP}
	// The region decides who may read the entry, so it is signed too; only
	// when set, so that entries from before it existed still verify (and
	// setting or clearing one later breaks the hash either way).
	if e.RegionCode != "" {
		p = append(p, e.RegionCode)
	}
	return p
}

// Append writes e in tx, chained to the last entry. The time should be the
// step's one timestamp from the clock.
func Append(ctx context.Context, tx *store.Tx, e Entry) error {
	if e.Action == "" || e.Actor == "" {
		return errors.New("audit: entry without actor or action")
	}
	if tx.Dialect() == store.Postgres {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, chainLock); err != nil {
			return err
		}
	}
	prev := genesis
	err := tx.QueryRow(ctx, `SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit: read chain: %w", err)
	}
	// Timestamps are stored to the microsecond on PostgreSQL; hash what is stored.
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = tx.ChainKeys().Sum(e.parts(prev)...)
	var actorID any
	if e.ActorID != 0 {
		actorID = e.ActorID
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (at, actor_id, actor, action, object, detail, ip, region_code, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.At, actorID, e.Actor, e.Action, e.Object, e.Detail, e.IP, e.RegionCode, prev, e.Hash)
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// Record appends e in a transaction of its own, for events that change
// nothing else (a failed sign-in, a reveal).
func Record(ctx context.Context, db *store.DB, e Entry) error {
	return db.Tx(ctx, func(tx *store.Tx) error { return Append(ctx, tx, e) })
}

// Filter narrows a search of the log. Zero values match everything.
type Filter struct {
	ActorID int64
	Action  string
	Object  string // exact, e.g. "account:12"
	Text    string // in actor or detail
	Since   time.Time
	Until   time.Time
	Limit   int   // default 100, at most 1000
	Before  int64 // entries with a smaller ID, for paging back
	// RegionPrefix, if set, keeps only entries whose region code starts
	// with it (a supervisor's subtree); entries without a region are left
	// out too.
	RegionPrefix string
	// Masked is for readers who may not see citizens' personal data
	// (supervisors): addresses are left out, the names of the citizens an
	// entry is by or about are masked (张三 → 张*) in its actor and detail,
	// and Text matches only what such a reader is shown, so that a search
	// cannot confirm a name the page hides.
	Masked bool
}

// Log is the audit log as its readers see it.
type Log struct{ db *store.DB }

// NewLog returns the log over db.
func NewLog(db *store.DB) *Log { return &Log{db: db} }

// Search returns the entries matching f that who may read, newest first:
// administrators the whole log; supervisors only their region's subtree,
// without addresses and with citizens' names masked, whatever f says.
func (l *Log) Search(ctx context.Context, who policy.Subject, f Filter) ([]Entry, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.AuditLog}); err != nil {
		return nil, err
	}
	if !who.Has(policy.Admin) {
		f.RegionPrefix, f.Masked = policy.RegionPrefix(who.RegionCode), true
	}
	return Search(ctx, l.db.Read(), f)
}

// Search returns matching entries, newest first.
func Search(ctx context.Context, q store.Querier, f Filter) ([]Entry, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	if !f.Masked {
		return search(ctx, q, f, limit)
	}
	text := strings.ToLower(strings.TrimSpace(f.Text))
	var out []Entry
	for {
		page, err := search(ctx, q, f, limit)
		if err != nil {
			return nil, err
		}
		masked, err := maskCitizens(ctx, q, page)
		if err != nil {
			return nil, err
		}
		for i, e := range page {
			e.IP = ""
			if masked[i] && text != "" && !strings.Contains(strings.ToLower(e.Actor+"\x00"+e.Detail), text) {
				continue // matched a hidden name only
			}
			if out = append(out, e); len(out) == limit {
				return out, nil
			}
		}
		if len(page) < limit {
			return out, nil
		}
		f.Before = page[len(page)-1].ID
	}
}

// maskCitizens masks, in each entry's actor and detail, the names of the
// citizens (person accounts) it is by or about: its actor, the account it
// names (account:N) and the applicant of the case it names (case:N). It
// reports which entries it changed.
func maskCitizens(ctx context.Context, q store.Querier, entries []Entry) ([]bool, error) {
	var accounts, cases []any
	for _, e := range entries {
		if e.ActorID != 0 {
			accounts = append(accounts, e.ActorID)
		}
		kind, id, _ := strings.Cut(e.Object, ":")
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && kind == "account" {
			accounts = append(accounts, n)
		} else if err == nil && kind == "case" {
			cases = append(cases, n)
		}
	}
	changed := make([]bool, len(entries))
	if len(accounts)+len(cases) == 0 {
		return changed, nil
	}
	// The accounts and cases tables are identity's and casework's; this
	// reads only who is a citizen and by what name.
	sqlq := `SELECT 'account:' || id, name FROM accounts WHERE kind = 'person' AND id IN (0` + strings.Repeat(", ?", len(accounts)) + `)
		UNION ALL SELECT 'case:' || c.id, a.name FROM cases c JOIN accounts a ON a.id = c.applicant_id
		WHERE a.kind = 'person' AND c.id IN (0` + strings.Repeat(", ?", len(cases)) + `)`
	rows, err := q.Query(ctx, sqlq, append(accounts, cases...)...)
	if err != nil {
		return nil, fmt.Errorf("audit: mask names: %w", err)
	}
	defer rows.Close()
	names := map[string]string{}
	for rows.Next() {
		var object, name string
		if err := rows.Scan(&object, &name); err != nil {
			return nil, err
		}
		names[object] = name
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range entries {
		e := &entries[i]
		hide := []string{names[e.Object]}
		if name, ok := names["account:"+strconv.FormatInt(e.ActorID, 10)]; ok {
			// A citizen's own entry: its actor is their name as it was then.
			hide = append(hide, name, e.Actor)
			e.Actor, changed[i] = ident.MaskName(e.Actor), true
		}
		for _, name := range hide {
			name = strings.TrimSpace(name)
			if utf8.RuneCountInString(name) < 2 {
				continue // masking one character would mask it throughout the detail
			}
			if d := strings.ReplaceAll(e.Detail, name, ident.MaskName(name)); d != e.Detail {
				e.Detail, changed[i] = d, true
			}
		}
	}
	return changed, nil
}

func search(ctx context.Context, q store.Querier, f Filter, limit int) ([]Entry, error) {
	sqlq := `SELECT id, at, COALESCE(actor_id, 0), actor, action, object, detail, ip, region_code, hash FROM audit_log WHERE 1 = 1`
	var args []any
	if f.ActorID != 0 {
		sqlq += ` AND actor_id = ?`
		args = append(args, f.ActorID)
	}
	if f.Action != "" {
		sqlq += ` AND action = ?`
		args = append(args, f.Action)
	}
	if f.Object != "" {
		sqlq += ` AND object = ?`
		args = append(args, f.Object)
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		like := store.Contains(t)
		sqlq += ` AND (actor LIKE ? ESCAPE '\' OR detail LIKE ? ESCAPE '\')`
		args = append(args, like, like)
	}
	if !f.Since.IsZero() {
		sqlq += ` AND at >= ?`
		args = append(args, f.Since.UTC())
	}
	if !f.Until.IsZero() {
		sqlq += ` AND at < ?`
		args = append(args, f.Until.UTC())
	}
	if f.RegionPrefix != "" {
		sqlq += ` AND region_code LIKE ?`
		args = append(args, f.RegionPrefix+"%")
	}
	if f.Before > 0 {
		sqlq += ` AND id < ?`
		args = append(args, f.Before)
	}
	sqlq += ` ORDER BY id DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := q.Query(ctx, sqlq, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: search: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.Actor, &e.Action, &e.Object, &e.Detail, &e.IP, &e.RegionCode, &e.Hash); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Broken is where the chain does not hold.
type Broken struct {
	ID     int64
	Reason string
}

// Verify walks the whole chain and returns every entry whose stored hash
// does not match its content or its predecessor, under keys. Entries
// hashed without a key (written before keys were set) are accepted only
// before the first keyed one: an unkeyed entry after it was recomputed by
// someone without the key.
func Verify(ctx context.Context, q store.Querier, keys *chainhash.Keys) (checked int, broken []Broken, err error) {
	rows, err := q.Query(ctx, `SELECT id, at, COALESCE(actor_id, 0), actor, action, object, detail, ip, region_code, prev_hash, hash FROM audit_log ORDER BY id`)
	if err != nil {
		return 0, nil, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	prev, sawKeyed := genesis, false
	for rows.Next() {
		var e Entry
		var storedPrev string
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.Actor, &e.Action, &e.Object, &e.Detail, &e.IP, &e.RegionCode, &storedPrev, &e.Hash); err != nil {
			return checked, broken, err
		}
		checked++
		ok, keyed := keys.Check(e.Hash, e.parts(prev)...)
		switch {
		case storedPrev != prev:
			broken = append(broken, Broken{e.ID, "与前一条记录不衔接（有记录被删除或插入）"})
		case !ok:
			broken = append(broken, Broken{e.ID, "记录内容与其哈希不符（被修改）"})
		case sawKeyed && !keyed:
			broken = append(broken, Broken{e.ID, "记录未经完整性密钥签署（被改写并重算哈希）"})
		}
		sawKeyed = sawKeyed || keyed
		prev = e.Hash
	}
	return checked, broken, rows.Err()
}
