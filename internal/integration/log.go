package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/workbook"
)

// Entry is one call in the data-sharing access log.
type Entry struct {
	ID        int64
	At        time.Time
	ClientID  int64
	Client    string // the client's name, when read back
	KeyID     int64
	Operation string
	Purpose   string
	Status    int
	Outcome   string
	Records   []string
	Hash      string
}

// genesis is the "previous hash" of the first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// chainLock serialises appends on PostgreSQL ("shar" in ASCII).
const chainLock = 0x73686172

func (e Entry) parts(prev string) []string {
	return []string{prev, e.At.UTC().Format(time.RFC3339Nano), strconv.FormatInt(e.ClientID, 10), strconv.FormatInt(e.KeyID, 10),
		e.Operation, e.Purpose, strconv.Itoa(e.Status), e.Outcome, strings.Join(e.Records, " ")}
}

// append writes e in tx, chained to the last entry with the database's
// chain keys (those of the audit log).
func (s *Service) append(ctx context.Context, tx *store.Tx, e Entry) error {
	if tx.Dialect() == store.Postgres {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, chainLock); err != nil {
			return err
		}
	}
	prev := genesis
	err := tx.QueryRow(ctx, `SELECT hash FROM sharing_log ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sharing log: read chain: %w", err)
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = tx.ChainKeys().Sum(e.parts(prev)...)
	if err := tx.QueryRow(ctx, `INSERT INTO sharing_log (at, client_id, key_id, operation, purpose, status, outcome, records, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.At, e.ClientID, e.KeyID, e.Operation, e.Purpose, e.Status, e.Outcome,
		strings.Join(e.Records, " "), prev, e.Hash).Scan(&e.ID); err != nil {
		return fmt.Errorf("sharing log: append: %w", err)
	}
	for _, r := range e.Records {
		if _, err := tx.Exec(ctx, `INSERT INTO sharing_log_records (record, log_id) VALUES (?, ?)`, r, e.ID); err != nil {
			return fmt.Errorf("sharing log: record: %w", err)
		}
	}
	return nil
}

// Filter narrows a search of the log; zero values match everything.
type Filter struct {
	ClientID int64
	Record   string // e.g. "case:…", "account:12"
	Before   int64  // entries with a smaller id, for paging back
	Limit    int    // default 100, at most 1000
}

// Search returns matching entries, newest first. Administrators only.
func (s *Service) Search(ctx context.Context, who policy.Subject, f Filter) ([]Entry, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.APIKey}); err != nil {
		return nil, err
	}
	return search(ctx, s.db.Read(), f)
}

func search(ctx context.Context, q store.Querier, f Filter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	where, args := []string{"1 = 1"}, []any{}
	if f.ClientID != 0 {
		where, args = append(where, "l.client_id = ?"), append(args, f.ClientID)
	}
	if f.Record = strings.TrimSpace(f.Record); f.Record != "" {
		where = append(where, "l.id IN (SELECT log_id FROM sharing_log_records WHERE record = ?)")
		args = append(args, f.Record)
	}
	if f.Before != 0 {
		where, args = append(where, "l.id < ?"), append(args, f.Before)
	}
	rows, err := q.Query(ctx, `SELECT l.id, l.at, l.client_id, c.name, l.key_id, l.operation, l.purpose, l.status, l.outcome, l.records, l.hash
		FROM sharing_log l JOIN api_clients c ON c.id = l.client_id WHERE `+strings.Join(where, " AND ")+
		` ORDER BY l.id DESC LIMIT `+strconv.Itoa(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("sharing log: search: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var records string
		if err := rows.Scan(&e.ID, &e.At, &e.ClientID, &e.Client, &e.KeyID, &e.Operation, &e.Purpose, &e.Status, &e.Outcome, &records, &e.Hash); err != nil {
			return nil, err
		}
		e.Records = strings.Fields(records)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Use is one use of a person's data by another system, as they see it.
type Use struct {
	At      time.Time
	Client  string
	Purpose string
	Cases   []string // the numbers of their cases the call touched
}

// UsesOf lists, for a citizen, the successful calls whose records include
// their account (every call that reads or writes one of their cases names
// its applicant's account too), newest first: 我的数据被谁使用.
func (s *Service) UsesOf(ctx context.Context, who policy.Subject, limit int) ([]Use, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Account, OwnerID: who.AccountID}); err != nil {
		return nil, err
	}
	entries, err := search(ctx, s.db.Read(), Filter{Record: AccountRecord(who.AccountID), Limit: limit})
	if err != nil {
		return nil, err
	}
	var out []Use
	for _, e := range entries {
		if e.Status >= 300 {
			continue // refused: nothing was read
		}
		var mine []string
		for _, r := range e.Records {
			if n, ok := strings.CutPrefix(r, "case:"); ok {
				mine = append(mine, n)
			}
		}
		out = append(out, Use{At: e.At, Client: e.Client, Purpose: e.Purpose, Cases: mine})
	}
	return out, nil
}

// Records in the log: what a call read or wrote, named without the
// personal data itself.
func AccountRecord(id int64) string   { return "account:" + strconv.FormatInt(id, 10) }
func CaseRecord(number string) string { return "case:" + number }

// Export writes the matching entries to w as XLSX, page by page, after
// the export's audit entry. Administrators only.
func (s *Service) Export(ctx context.Context, who policy.Subject, meta audit.Meta, f Filter, w io.Writer) error {
	if err := policy.Check(who, policy.Export, policy.Resource{Kind: policy.APIKey}); err != nil {
		return err
	}
	b := workbook.New()
	defer b.Close()
	f.Limit = 1000
	header := []any{"编号", "时间", "接入系统", "密钥编号", "操作", "用途", "状态码", "结果", "涉及记录"}
	n, err := workbook.Sheet(b, "共享调用日志", header, func(after string) ([]Entry, string, error) {
		g := f
		g.Before, _ = strconv.ParseInt(after, 10, 64)
		list, err := search(ctx, s.db.Read(), g)
		if err != nil || len(list) < g.Limit {
			return list, "", err
		}
		return list, strconv.FormatInt(list[len(list)-1].ID, 10), nil
	}, func(e Entry) []any {
		return []any{e.ID, e.At.In(clock.China).Format("2006-01-02 15:04:05"), e.Client, e.KeyID, e.Operation, e.Purpose,
			e.Status, e.Outcome, strings.Join(e.Records, " ")}
	})
	if err != nil {
		return err
	}
	return b.Write(ctx, s.db, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: actor(who), Action: ActionExport,
		Detail: fmt.Sprintf("导出共享调用日志 %d 条（接入系统 %d，记录 %q）", n, f.ClientID, f.Record), IP: meta.IP, RegionCode: who.RegionCode}, w)
}

// Verify walks the whole log's chain, like audit.Verify does the audit
// log's: `zwfw audit verify` checks both.
func Verify(ctx context.Context, q store.Querier, keys *chainhash.Keys) (checked int, broken []audit.Broken, err error) {
	rows, err := q.Query(ctx, `SELECT id, at, client_id, key_id, operation, purpose, status, outcome, records, prev_hash, hash FROM sharing_log ORDER BY id`)
	if err != nil {
		return 0, nil, fmt.Errorf("sharing log: verify: %w", err)
	}
	defer rows.Close()
	prev, sawKeyed := genesis, false
	for rows.Next() {
		var e Entry
		var records, storedPrev string
		if err := rows.Scan(&e.ID, &e.At, &e.ClientID, &e.KeyID, &e.Operation, &e.Purpose, &e.Status, &e.Outcome, &records, &storedPrev, &e.Hash); err != nil {
			return checked, broken, err
		}
		e.Records = strings.Fields(records)
		checked++
		ok, keyed := keys.Check(e.Hash, e.parts(prev)...)
		switch {
		case storedPrev != prev:
			broken = append(broken, audit.Broken{ID: e.ID, Reason: "与前一条记录不衔接（有记录被删除或插入）"})
		case !ok:
			broken = append(broken, audit.Broken{ID: e.ID, Reason: "记录内容与其哈希不符（被修改）"})
		case sawKeyed && !keyed:
			broken = append(broken, audit.Broken{ID: e.ID, Reason: "记录未经完整性密钥签署（被改写并重算哈希）"})
		}
		sawKeyed = sawKeyed || keyed
		prev = e.Hash
	}
	return checked, broken, rows.Err()
}
