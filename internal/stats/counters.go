// Package stats keeps and reads the figures of case handling (统计分析):
// volumes, on-time rate, handling time against the limits, 最多跑一次 and
// 一次性告知. Each case contributes a few counters to one row of
// case_stats, keyed by the month it was begun, its item, department,
// region and channel; the row is adjusted in the transaction of every
// change of the case (Changed, wired to casework.OnChanged), so the
// dashboards sum a few thousand rows rather than millions of cases, and
// Recount rebuilds the table from the cases themselves.
package stats

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/store"
)

// Counts are the sums the figures are made of.
type Counts struct {
	Submitted     int64 // cases submitted (every case but a draft)
	Accepted      int64 // accepted (受理) at some point
	Finished      int64 // 办结 or 不予受理
	Timed         int64 // finished after acceptance: they had a due date
	OnTime        int64 // of Timed, finished by the due date
	Late          int64 // of Timed, finished after it
	Measured      int64 // of Timed, with limits in working days: the handling-time sums below are theirs
	HandlingDays  int64 // working days from acceptance to finishing
	PromiseDays   int64 // the items' promised limits (承诺时限)
	LegalDays     int64 // the items' legal limits (法定时限)
	OneVisit      int64 // the applicant came in person at most once (最多跑一次)
	OneCorrection int64 // asked for corrections at most once (一次性告知)
	Withdrawn     int64
	Online        int64 // submitted online rather than at the counter
}

// counterColumns are the columns of case_stats that hold Counts, in
// the order of Counts' fields (Online is the online channel's Submitted).
var counterColumns = []string{"submitted", "accepted", "finished", "timed", "on_time", "late", "measured",
	"handling_days", "promise_days", "legal_days", "one_visit", "one_correction", "withdrawn"}

func (c *Counts) fields() []*int64 {
	return []*int64{&c.Submitted, &c.Accepted, &c.Finished, &c.Timed, &c.OnTime, &c.Late, &c.Measured,
		&c.HandlingDays, &c.PromiseDays, &c.LegalDays, &c.OneVisit, &c.OneCorrection, &c.Withdrawn}
}

func (c *Counts) add(o Counts, sign int64) {
	a, b := c.fields(), o.fields()
	for i := range a {
		*a[i] += sign * *b[i]
	}
	c.Online += sign * o.Online
}

func (c Counts) zero() bool { return c == Counts{} }

// Key is the row of case_stats a case counts in.
type Key struct {
	Month        string // YYYY-MM, Beijing, of the day the case was begun
	ItemID       int64
	DepartmentID int64
	RegionCode   string
	Channel      string
}

// Month is the key's month of a moment: Beijing time.
func Month(t time.Time) string { return t.In(clock.China).Format("2006-01") }

// contribution is what case c adds to the figures, and where: a function
// of the case row alone, so that adding after-minus-before on every change
// keeps the table equal to a recount. A case never submitted counts
// nothing: a draft, or a part of a bundle that waits for another's result
// (or closed while waiting).
func contribution(c casework.Case) (Key, Counts) {
	k := Key{Month(c.CreatedAt), c.ItemID, c.DepartmentID, c.RegionCode, c.Channel}
	var n Counts
	if !c.Status.Submitted() || c.ID == 0 {
		return k, n
	}
	n.Submitted = 1
	if c.Channel == "online" {
		n.Online = 1
	}
	if !c.AcceptedOn.IsZero() {
		n.Accepted = 1
	}
	if !c.FinishedOn.IsZero() {
		n.Finished = 1
		if !c.DueOn.IsZero() {
			n.Timed = 1
			if c.FinishedOn.After(c.DueOn) {
				n.Late = 1
			} else {
				n.OnTime = 1
			}
			if c.LegalDays > 0 {
				n.Measured = 1
				n.HandlingDays, n.PromiseDays, n.LegalDays = int64(c.HandlingDays), int64(c.PromiseDays), int64(c.LegalDays)
			}
		}
	}
	if c.Visits <= 1 {
		n.OneVisit = 1
	}
	if c.Corrections <= 1 {
		n.OneCorrection = 1
	}
	if c.Status == casework.Withdrawn {
		n.Withdrawn = 1
	}
	return k, n
}

// Changed notes, in tx, the change of a case from before to after
// (before is the zero Case when it was just made): it is the
// casework.OnChanged hook. The additions gather in the transaction and are
// written once, just before it commits (pending.Flush): a batch of
// submissions to one department adds to its rows once, and the rows are
// locked only for the commit, in one order.
func Changed(ctx context.Context, tx *store.Tx, before, after casework.Case) error {
	p := tx.Deferred(pendingKey{}, func() store.Flusher { return pending{} }).(pending)
	kb, nb := contribution(before)
	ka, na := contribution(after)
	p.add(kb, nb, -1)
	p.add(ka, na, 1)
	return nil
}

type pendingKey struct{}

// pending are a transaction's additions to case_stats, by row.
type pending map[Key]Counts

func (p pending) add(k Key, n Counts, sign int64) {
	if n.zero() {
		return
	}
	c := p[k]
	c.add(n, sign)
	p[k] = c
}

// unitKey and itemKey are the rows of case_stats_units and
// case_stats_items a row of case_stats adds to.
type unitKey struct {
	Month        string
	DepartmentID int64
	RegionCode   string
	Channel      string
}

type itemKey struct {
	Month  string
	ItemID int64
}

// Flush UPSERTs the additions: case_stats, then case_stats_units, then
// case_stats_items, each table's rows in key order, so that two
// transactions adding to the same rows wait for each other rather than
// deadlock. The UPSERTs add, so that any number of instances may write at
// once.
func (p pending) Flush(ctx context.Context, tx *store.Tx) error {
	var keys []Key
	units := map[unitKey]Counts{}
	items := map[itemKey]Counts{}
	for k, n := range p {
		if n.zero() {
			continue
		}
		keys = append(keys, k)
		u, i := unitKey{k.Month, k.DepartmentID, k.RegionCode, k.Channel}, itemKey{k.Month, k.ItemID}
		cu, ci := units[u], items[i]
		cu.add(n, 1)
		ci.add(n, 1)
		units[u], items[i] = cu, ci
	}
	slices.SortFunc(keys, func(a, b Key) int {
		return cmp.Or(cmp.Compare(a.Month, b.Month), cmp.Compare(a.ItemID, b.ItemID), cmp.Compare(a.DepartmentID, b.DepartmentID),
			cmp.Compare(a.RegionCode, b.RegionCode), cmp.Compare(a.Channel, b.Channel))
	})
	for _, k := range keys {
		if _, err := tx.Exec(ctx, upsert, append([]any{k.Month, k.ItemID, k.DepartmentID, k.RegionCode, k.Channel}, values(p[k])...)...); err != nil {
			return fmt.Errorf("case_stats: %w", err)
		}
	}
	for _, u := range slices.SortedFunc(maps.Keys(units), func(a, b unitKey) int {
		return cmp.Or(cmp.Compare(a.Month, b.Month), cmp.Compare(a.DepartmentID, b.DepartmentID),
			cmp.Compare(a.RegionCode, b.RegionCode), cmp.Compare(a.Channel, b.Channel))
	}) {
		if n := units[u]; !n.zero() {
			if _, err := tx.Exec(ctx, upsertUnits, append([]any{u.Month, u.DepartmentID, u.RegionCode, u.Channel}, values(n)...)...); err != nil {
				return fmt.Errorf("case_stats_units: %w", err)
			}
		}
	}
	for _, i := range slices.SortedFunc(maps.Keys(items), func(a, b itemKey) int {
		return cmp.Or(cmp.Compare(a.Month, b.Month), cmp.Compare(a.ItemID, b.ItemID))
	}) {
		if n := items[i]; !n.zero() {
			if _, err := tx.Exec(ctx, upsertItems, append([]any{i.Month, i.ItemID}, append(values(n), n.Online)...)...); err != nil {
				return fmt.Errorf("case_stats_items: %w", err)
			}
		}
	}
	return nil
}

func values(n Counts) []any {
	var v []any
	for _, f := range n.fields() {
		v = append(v, *f)
	}
	return v
}

// upsert, upsertUnits and upsertItems add to a row of case_stats, case_stats_units
// and case_stats_items (which counts the online cases in a column).
var (
	upsert      = upsertInto("case_stats", "month, item_id, department_id, region_code, channel", counterColumns)
	upsertUnits = upsertInto("case_stats_units", "month, department_id, region_code, channel", counterColumns)
	upsertItems = upsertInto("case_stats_items", "month, item_id", append(counterColumns[:len(counterColumns):len(counterColumns)], "online"))
)

func upsertInto(table, key string, columns []string) string {
	var set []string
	for _, c := range columns {
		set = append(set, c+" = "+table+"."+c+" + excluded."+c)
	}
	return `INSERT INTO ` + table + ` (` + key + `, ` + strings.Join(columns, ", ") + `) VALUES (` +
		strings.Repeat("?, ", strings.Count(key, ",")+1) + strings.TrimPrefix(strings.Repeat(", ?", len(columns)), ", ") +
		`) ON CONFLICT (` + key + `) DO UPDATE SET ` + strings.Join(set, ", ")
}

// Recount rebuilds case_stats from the cases, in one transaction: after
// cases were written in bulk without the workflow (zwfw generate), or to
// repair the table. It reads every case once, so it takes a while on a
// large database; the counting is contribution's, the one Changed uses.
func Recount(ctx context.Context, db *store.DB) error {
	return db.Tx(ctx, func(tx *store.Tx) error {
		for _, table := range []string{"case_stats", "case_stats_units", "case_stats_items"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table); err != nil {
				return err
			}
		}
		sums, err := recount(ctx, tx)
		if err != nil {
			return err
		}
		// case_stats_units sums the rows of case_stats without their item,
		// case_stats_items without their department, region and channel.
		units, items := map[Key]Counts{}, map[Key]Counts{}
		for k, n := range sums {
			if _, err := tx.Exec(ctx, upsert, append([]any{k.Month, k.ItemID, k.DepartmentID, k.RegionCode, k.Channel}, values(n)...)...); err != nil {
				return fmt.Errorf("case_stats: %w", err)
			}
			u, i := Key{Month: k.Month, DepartmentID: k.DepartmentID, RegionCode: k.RegionCode, Channel: k.Channel}, Key{Month: k.Month, ItemID: k.ItemID}
			un, in := units[u], items[i]
			un.add(n, 1)
			in.add(n, 1)
			units[u], items[i] = un, in
		}
		for k, n := range units {
			if _, err := tx.Exec(ctx, upsertUnits, append([]any{k.Month, k.DepartmentID, k.RegionCode, k.Channel}, values(n)...)...); err != nil {
				return fmt.Errorf("case_stats_units: %w", err)
			}
		}
		for k, n := range items {
			if _, err := tx.Exec(ctx, upsertItems, append([]any{k.Month, k.ItemID}, append(values(n), n.Online)...)...); err != nil {
				return fmt.Errorf("case_stats_items: %w", err)
			}
		}
		return nil
	})
}

// recount sums every case's contribution.
func recount(ctx context.Context, q store.Querier) (map[Key]Counts, error) {
	rows, err := q.Query(ctx, `SELECT id, item_id, department_id, region_code, status, channel, corrections, visits,
		accepted_on, due_on, finished_on, handling_days, promise_days, legal_days, created_at FROM cases WHERE status NOT IN ('draft', 'waiting', 'closed')`)
	if err != nil {
		return nil, fmt.Errorf("recount: %w", err)
	}
	defer rows.Close()
	sums := map[Key]Counts{}
	for rows.Next() {
		var c casework.Case
		var accepted, due, finished string
		if err := rows.Scan(&c.ID, &c.ItemID, &c.DepartmentID, &c.RegionCode, &c.Status, &c.Channel, &c.Corrections, &c.Visits,
			&accepted, &due, &finished, &c.HandlingDays, &c.PromiseDays, &c.LegalDays, &c.CreatedAt); err != nil {
			return nil, err
		}
		for _, d := range []struct {
			text string
			into *calendar.Date
		}{{accepted, &c.AcceptedOn}, {due, &c.DueOn}, {finished, &c.FinishedOn}} {
			if d.text != "" {
				if *d.into, err = calendar.ParseDate(d.text); err != nil {
					return nil, fmt.Errorf("recount case %d: %w", c.ID, err)
				}
			}
		}
		k, n := contribution(c)
		s := sums[k]
		s.add(n, 1)
		sums[k] = s
	}
	return sums, rows.Err()
}
