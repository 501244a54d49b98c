// Package calendardays keeps the local calendar days that administrators
// set on top of the State Council's holidays — a district holiday, a
// correction, a changed 调休 — in the calendar_days table, and keeps every
// instance's *calendar.Calendar in step with it.
//
// Each change is one transaction that writes the day, bumps the 'calendar'
// row of cache_versions and appends an audit entry with the value it
// replaced. Every instance polls that row (Watch) and, when it moved, loads
// the days into its calendar with SetOverrides, so deadlines everywhere
// count with a change within one poll interval.
package calendardays

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Day is a local calendar day as stored.
type Day struct {
	Date    calendar.Date
	Workday bool   // true: a working day; false: a rest day
	Label   string // e.g. "区庆", "补班（市政府通知）"
	// Who changed it last, and when: ChangedBy is 0 and ChangedByName empty
	// for the system or the command line.
	ChangedBy     int64
	ChangedByName string
	ChangedAt     time.Time
}

// Override is the day as the calendar takes it.
func (d Day) Override() calendar.Override {
	return calendar.Override{Date: d.Date, Work: d.Workday, Reason: d.Label}
}

// MaxLabel is the longest name of a day, in characters.
const MaxLabel = 40

// Audit actions of the changes.
const (
	ActionSet    = "calendar_set"
	ActionRemove = "calendar_remove"
)

// Store reads and changes the local days.
type Store struct {
	db       *store.DB
	clock    clock.Clock
	log      *slog.Logger
	national *calendar.Calendar // the State Council's days alone: for the audit text and the years allowed
	first    int                // the years a day may be in
	last     int
}

// New returns the store. log may be nil.
func New(db *store.DB, clk clock.Clock, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{db: db, clock: clk, log: log, national: calendar.New(nil)}
	first, last := s.national.CoveredYears()
	if first == 0 { // no national data at all: the current year and the next
		first = calendar.DateOf(clk.Now()).Y
		last = first
	}
	s.first, s.last = first, last+1
	return s
}

// Years returns the first and last year a local day may be in: the years of
// the State Council's data, and the year after them, whose arrangement an
// administrator may have to enter before the data is updated.
func (s *Store) Years() (first, last int) { return s.first, s.last }

// ParseDay reads a date typed into a form, "2026-10-08", and says in
// Chinese what is wrong with it.
func ParseDay(v string) (calendar.Date, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return calendar.Date{}, apperr.New(apperr.Invalid, "请填写日期。")
	}
	d, err := calendar.ParseDate(v)
	if err != nil {
		return calendar.Date{}, apperr.Wrap(apperr.Invalid, "日期格式不正确，应为“2026-10-08”这样的年-月-日。", err)
	}
	return d, nil
}

// List returns every local day, by date.
func (s *Store) List(ctx context.Context) ([]Day, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT d.day, d.workday, d.label, COALESCE(d.changed_by, 0), COALESCE(a.name, ''), d.changed_at
		FROM calendar_days d LEFT JOIN accounts a ON a.id = d.changed_by ORDER BY d.day`)
	if err != nil {
		return nil, fmt.Errorf("calendar days: %w", err)
	}
	defer rows.Close()
	var out []Day
	for rows.Next() {
		var d Day
		var day string
		if err := rows.Scan(&day, &d.Workday, &d.Label, &d.ChangedBy, &d.ChangedByName, &d.ChangedAt); err != nil {
			return nil, fmt.Errorf("calendar days: %w", err)
		}
		if d.Date, err = calendar.ParseDate(day); err != nil {
			return nil, fmt.Errorf("calendar days: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Overrides returns the local days as the calendar takes them.
func (s *Store) Overrides(ctx context.Context) ([]calendar.Override, error) {
	days, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]calendar.Override, len(days))
	for i, d := range days {
		out[i] = d.Override()
	}
	return out, nil
}

// Set makes day a local working day (workday true) or rest day, named
// label, replacing what was set for it before. Only administrators may;
// meta is where the request came from, for the audit log.
func (s *Store) Set(ctx context.Context, who policy.Subject, meta audit.Meta, day calendar.Date, workday bool, label string) error {
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Calendar}); err != nil {
		return err
	}
	day, err := s.checkDay(day)
	if err != nil {
		return err
	}
	if label, err = checkLabel(label); err != nil {
		return err
	}
	key := day.String()
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		now := s.clock.Now()
		old, found, err := get(ctx, tx, key)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO calendar_days (day, workday, label, changed_by, changed_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (day) DO UPDATE SET workday = excluded.workday, label = excluded.label,
				changed_by = excluded.changed_by, changed_at = excluded.changed_at`,
			key, workday, label, accountID(who), now); err != nil {
			return fmt.Errorf("calendar days: set %s: %w", key, err)
		}
		was := "无本地设置（" + s.national.Explain(day) + "）"
		if found {
			was = describe(old.Workday, old.Label)
		}
		return s.changed(ctx, tx, who, meta, now, ActionSet, key,
			fmt.Sprintf("%s 设为%s；原为：%s", key, describe(workday, label), was))
	})
}

// Remove takes day's local setting away, so that the State Council's
// calendar counts for it again. Only administrators may.
func (s *Store) Remove(ctx context.Context, who policy.Subject, meta audit.Meta, day calendar.Date) error {
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Calendar}); err != nil {
		return err
	}
	day = calendar.NewDate(day.Y, day.M, day.D)
	key := day.String()
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		now := s.clock.Now()
		old, found, err := get(ctx, tx, key)
		if err != nil {
			return err
		}
		if !found {
			return apperr.New(apperr.NotFound, key+" 没有本地设置，无需删除。")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM calendar_days WHERE day = ?`, key); err != nil {
			return fmt.Errorf("calendar days: remove %s: %w", key, err)
		}
		return s.changed(ctx, tx, who, meta, now, ActionRemove, key,
			fmt.Sprintf("%s 取消本地设置；原为：%s；恢复为：%s", key, describe(old.Workday, old.Label), s.national.Explain(day)))
	})
}

// changed ends every change: other instances learn of it through the
// version, and the audit log keeps it.
func (s *Store) changed(ctx context.Context, tx *store.Tx, who policy.Subject, meta audit.Meta, now time.Time, action, key, detail string) error {
	if err := store.BumpVersion(ctx, tx, "calendar"); err != nil {
		return fmt.Errorf("calendar days: %w", err)
	}
	return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: action,
		Object: "calendar:" + key, Detail: detail, IP: meta.IP})
}

// Version is bumped by every change; instances poll it.
func (s *Store) Version(ctx context.Context) (int64, error) {
	return s.db.CacheVersion(ctx, "calendar")
}

// Load puts the local days into cal and returns the version they are of.
func (s *Store) Load(ctx context.Context, cal *calendar.Calendar) (int64, error) {
	// The version first: a change committed between the two reads leaves an
	// older version with newer days, which only costs one more load.
	v, err := s.Version(ctx)
	if err != nil {
		return 0, err
	}
	o, err := s.Overrides(ctx)
	if err != nil {
		return 0, err
	}
	cal.SetOverrides(o)
	return v, nil
}

// Watch loads the local days into cal now, then polls the version every
// interval and loads them again when it moved, until ctx ends. Failures are
// logged and retried at the next poll; cal keeps the days it had.
func (s *Store) Watch(ctx context.Context, cal *calendar.Calendar, every time.Duration) {
	loaded, ok := int64(0), false
	refresh := func() {
		if ok {
			v, err := s.Version(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("calendar version check failed", "err", err)
				}
				return
			}
			if v == loaded {
				return
			}
		}
		v, err := s.Load(ctx, cal)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("calendar days load failed", "err", err)
			}
			return
		}
		if ok {
			s.log.Info("calendar days reloaded", "calendar_version", v, "days", len(cal.Overrides()))
		}
		loaded, ok = v, true
	}
	refresh()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			refresh()
		}
	}
}

// checkDay normalises day and refuses years outside the ones allowed.
func (s *Store) checkDay(day calendar.Date) (calendar.Date, error) {
	if day.IsZero() {
		return day, apperr.New(apperr.Invalid, "请填写日期。")
	}
	day = calendar.NewDate(day.Y, day.M, day.D)
	if day.Y < s.first || day.Y > s.last {
		return day, apperr.New(apperr.Invalid, fmt.Sprintf("只能设置 %d 年至 %d 年的日期（国家节假日数据截至 %d 年）。",
			s.first, s.last, s.last-1))
	}
	return day, nil
}

func checkLabel(label string) (string, error) {
	label = strings.TrimSpace(label)
	switch {
	case label == "":
		return "", apperr.New(apperr.Invalid, "请填写名称，例如“区庆放假”或“补班”。")
	case utf8.RuneCountInString(label) > MaxLabel:
		return "", apperr.New(apperr.Invalid, fmt.Sprintf("名称太长了，请控制在 %d 个字以内。", MaxLabel))
	case !utf8.ValidString(label) || strings.ContainsFunc(label, unicode.IsControl):
		return "", apperr.New(apperr.Invalid, "名称不能包含换行等控制字符。")
	}
	return label, nil
}

// get reads one day in the transaction.
func get(ctx context.Context, tx *store.Tx, key string) (Day, bool, error) {
	var d Day
	err := tx.QueryRow(ctx, `SELECT workday, label FROM calendar_days WHERE day = ?`, key).Scan(&d.Workday, &d.Label)
	if errors.Is(err, sql.ErrNoRows) {
		return d, false, nil
	}
	if err != nil {
		return d, false, fmt.Errorf("calendar days: read %s: %w", key, err)
	}
	return d, true, nil
}

func describe(workday bool, label string) string {
	kind := "休息日"
	if workday {
		kind = "工作日"
	}
	return kind + "「" + label + "」"
}

// accountID is the changed_by column: NULL for a subject without an account.
func accountID(who policy.Subject) any {
	if who.AccountID == 0 {
		return nil
	}
	return who.AccountID
}

func actorName(who policy.Subject) string {
	if who.Name != "" {
		return who.Name
	}
	return "系统"
}
