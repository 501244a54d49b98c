package evaluation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Period is the year evaluated, by Beijing dates.
type Period int

// ParsePeriod reads a year such as "2026".
func ParsePeriod(s string) (Period, error) {
	y, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || y < 2000 || y > 2100 {
		return 0, apperr.New(apperr.Invalid, "评价期间应为年份，如 2026。")
	}
	return Period(y), nil
}

// From is the period's first moment, To the first moment after it.
func (p Period) From() time.Time { return time.Date(int(p), 1, 1, 0, 0, 0, 0, clock.China) }
func (p Period) To() time.Time   { return time.Date(int(p)+1, 1, 1, 0, 0, 0, 0, clock.China) }

// Table is a piece of evidence: a list behind a score (the incomplete
// archives, the idle modules, the late cases, the 差评 follow-ups).
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
	Total  int    // rows in the whole list; more than len(Rows) when the page shows the first only
	Note   string // what the list is, where the rest is
}

// Measure is what a source found for a period: the value in the
// indicator's unit, how it was counted, and the evidence.
type Measure struct {
	Value    float64
	Basis    string // "完整 95 件 / 办结 100 件"
	Evidence []Table
}

// ErrNoData says a source had nothing to count in the period (no
// ratings, no finished case): the indicator is not scored, and says so.
var ErrNoData = errors.New("evaluation: nothing to count")

// Source computes a live indicator. Sources read as the platform, not as
// the reader: the evaluation is the same whoever opens it.
type Source struct {
	Name    string // where the figure comes from, as the report says it
	Measure func(ctx context.Context, p Period) (Measure, error)
}

// Holder keeps an uploaded evidence file from being swept as
// unreferenced while its entry is recorded (the staging store).
type Holder interface {
	Hold(ctx context.Context, tx *store.Tx, sums ...string) error
}

// Options are the parts a service needs.
type Options struct {
	System  System
	Sources map[string]Source // by the indicators' source names; those missing are 未接入数据源
	// Evidence adds lists to the indicators of a source that show what
	// lies behind it even when its figure is not connected (the late
	// cases behind the on-time rate).
	Evidence map[string]func(ctx context.Context, p Period) ([]Table, error)
	Files    Files             // the evidence files
	Cases    *casework.Service // the archive manifest of the evidence pack
	Clock    clock.Clock
}

// Service scores the self-evaluation and keeps its hand entries.
type Service struct {
	db   *store.DB
	o    Options
	when func() time.Time
}

// New returns the service on db.
func New(db *store.DB, o Options) *Service {
	return &Service{db: db, o: o, when: func() time.Time { return o.Clock.Now() }}
}

// System is the indicator system in use.
func (s *Service) System() System { return s.o.System }

// Entry is an indicator entered by hand for a period, with its evidence.
type Entry struct {
	Period   Period
	Code     string
	Value    float64
	Note     string
	File     filestore.Object // zero: no file
	FileName string
	By       string
	At       time.Time
}

// States of a line of the report.
const (
	Scored       = "scored"
	NotConnected = "not_connected" // no source wired for it: 未接入数据源
	NoData       = "no_data"       // its source had nothing to count
	NotEntered   = "not_entered"   // a hand indicator without an entry yet
)

// Line is an indicator in the report, in the tree's order.
type Line struct {
	Indicator
	Level    int // 1: 决策 …
	Leaf     bool
	State    string // leaves: Scored …; parents: Scored when any leaf below is
	Value    float64
	Points   float64 // leaves: the score; parents: their leaves' scores added
	Scored   float64 // parents: the weight of their scored leaves
	Basis    string
	SourceOf string // the source's name as shown
	Entry    *Entry // hand indicators with an entry
	Evidence []Table
}

// Report is the scored evaluation of a period.
type Report struct {
	System   System
	Period   Period
	At       time.Time // when it was computed
	Lines    []Line
	Points   float64 // the scored leaves' points added
	Scored   float64 // the scored leaves' weights added
	Unscored float64 // 100 − Scored: indicators not connected, without data or not entered
	Total    float64 // Points scaled to 100 over the scored weights
	Grade    string  // of Total; "" when nothing is scored
}

// Report scores the period. Only administrators read it: its evidence
// lists the whole district's cases.
func (s *Service) Report(ctx context.Context, who policy.Subject, p Period) (Report, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Evaluation}); err != nil {
		return Report{}, err
	}
	return s.report(ctx, p)
}

func (s *Service) report(ctx context.Context, p Period) (Report, error) {
	rep := Report{System: s.o.System, Period: p, At: s.when()}
	entries, err := s.entries(ctx, p)
	if err != nil {
		return rep, err
	}
	measured := map[string]Measure{}
	empty := map[string]bool{} // sources with nothing to count
	evidence := map[string][]Table{}
	var walk func(list []Indicator, level int) (points, scored float64, any bool, err error)
	walk = func(list []Indicator, level int) (float64, float64, bool, error) {
		var points, scored float64
		anyScored := false
		for _, in := range list {
			at := len(rep.Lines)
			rep.Lines = append(rep.Lines, Line{Indicator: in, Level: level, Leaf: len(in.Children) == 0})
			if len(in.Children) > 0 {
				pts, sc, ok, err := walk(in.Children, level+1)
				if err != nil {
					return 0, 0, false, err
				}
				l := &rep.Lines[at]
				l.Points, l.Scored = round2(pts), sc
				if ok {
					l.State = Scored
				}
				points, scored, anyScored = points+pts, scored+sc, anyScored || ok
				continue
			}
			l := Line{Indicator: in, Level: level, Leaf: true}
			if in.Source == Hand {
				l.SourceOf = "手工录入（附证明材料）"
				if e, ok := entries[in.Code]; ok {
					l.State, l.Value, l.Entry = Scored, e.Value, &e
					l.Basis = e.Note
				} else {
					l.State = NotEntered
				}
			} else if src, ok := s.o.Sources[in.Source]; !ok {
				l.State, l.SourceOf = NotConnected, "未接入数据源"
			} else {
				l.SourceOf = src.Name
				m, seen := measured[in.Source]
				bad := empty[in.Source]
				if !seen && !bad {
					var err error
					m, err = src.Measure(ctx, p)
					switch {
					case errors.Is(err, ErrNoData):
						empty[in.Source], bad = true, true
					case err != nil:
						return 0, 0, false, fmt.Errorf("evaluation: source %s: %w", in.Source, err)
					default:
						measured[in.Source] = m
					}
				}
				if bad {
					l.State = NoData
				} else {
					l.State, l.Value, l.Basis, l.Evidence = Scored, m.Value, m.Basis, m.Evidence
				}
			}
			if add, ok := s.o.Evidence[in.Source]; ok {
				if _, done := evidence[in.Source]; !done {
					t, err := add(ctx, p)
					if err != nil {
						return 0, 0, false, fmt.Errorf("evaluation: evidence of %s: %w", in.Source, err)
					}
					evidence[in.Source] = t
				}
				l.Evidence = append(l.Evidence, evidence[in.Source]...)
			}
			if l.State == Scored {
				l.Points = in.Rule.Points(l.Value, in.Weight)
				points, scored, anyScored = points+l.Points, scored+in.Weight, true
			}
			rep.Lines[at] = l
		}
		return points, scored, anyScored, nil
	}
	points, scored, _, err := walk(s.o.System.Indicators, 1)
	if err != nil {
		return rep, err
	}
	rep.Points, rep.Scored, rep.Unscored = round2(points), round2(scored), round2(100-scored)
	if scored > 0 {
		rep.Total = round2(points * 100 / scored)
		rep.Grade = s.o.System.Grade(rep.Total)
	}
	return rep, nil
}

// entries reads the period's hand entries by code.
func (s *Service) entries(ctx context.Context, p Period) (map[string]Entry, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT code, value, note, file_sha256, file_size, file_type, file_name, entered_by, entered_at
		FROM evaluation_entries WHERE period = ?`, int(p))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Entry{}
	for rows.Next() {
		e := Entry{Period: p}
		if err := rows.Scan(&e.Code, &e.Value, &e.Note, &e.File.SHA256, &e.File.Size, &e.File.ContentType, &e.FileName, &e.By, &e.At); err != nil {
			return nil, err
		}
		out[e.Code] = e
	}
	return out, rows.Err()
}

// Evidence is the hand entry of code in p, for downloading its file.
func (s *Service) Evidence(ctx context.Context, who policy.Subject, p Period, code string) (Entry, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Evaluation}); err != nil {
		return Entry{}, err
	}
	entries, err := s.entries(ctx, p)
	if err != nil {
		return Entry{}, err
	}
	e, ok := entries[code]
	if !ok || e.File.SHA256 == "" {
		return Entry{}, apperr.New(apperr.NotFound, "该指标没有证明材料。")
	}
	return e, nil
}

// Input is a hand entry as typed: the value in the indicator's unit, a
// note saying where it comes from, and the evidence file (already
// stored; zero to keep the one entered before).
type Input struct {
	Period   Period
	Code     string
	Value    string
	Note     string
	File     filestore.Object
	FileName string
}

// maxNote is the longest note, in characters.
const maxNote = 500

// Enter records a hand-scored indicator for a period, replacing an
// earlier entry, with its audit entry; administrators only. A first entry
// needs its evidence file; a correction may keep the earlier file.
func (s *Service) Enter(ctx context.Context, who policy.Subject, meta audit.Meta, in Input) (Entry, error) {
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Evaluation}); err != nil {
		return Entry{}, err
	}
	ind, ok := s.o.System.Leaf(in.Code)
	if !ok || ind.Source != Hand {
		return Entry{}, apperr.New(apperr.Invalid, "没有这个手工录入的指标。")
	}
	field := func(name, msg string) error {
		return &apperr.Error{Code: apperr.Invalid, Message: msg, Fields: map[string]string{name: msg}}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(in.Value), "%")), 64)
	switch {
	case err != nil:
		return Entry{}, field("value", "请填写数值，如 95 或 95.5。")
	case ind.Rule.Kind == Score && (v < 0 || v > ind.Weight):
		return Entry{}, field("value", fmt.Sprintf("“%s”的得分应在 0 到 %g 之间。", ind.Name, ind.Weight))
	case ind.Unit == "%" && (v < 0 || v > 100):
		return Entry{}, field("value", "百分比应在 0 到 100 之间。")
	}
	note := strings.TrimSpace(in.Note)
	if note == "" {
		return Entry{}, field("note", "请说明数值的来源或计算方法。")
	}
	if utf8.RuneCountInString(note) > maxNote {
		return Entry{}, field("note", fmt.Sprintf("说明不能超过 %d 字。", maxNote))
	}
	name := strings.TrimSpace(in.FileName)
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	e := Entry{Period: in.Period, Code: in.Code, Value: v, Note: note, File: in.File, FileName: name, By: who.Name, At: s.when()}
	if in.Period < 2000 || in.Period > 2100 {
		return Entry{}, apperr.New(apperr.Invalid, "评价期间应为年份，如 2026。")
	}
	var byID any // the command line acts without an account
	if who.AccountID != 0 {
		byID = who.AccountID
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if e.File.SHA256 == "" {
			// A correction keeps the evidence entered before; a first
			// entry must bring its own.
			err := tx.QueryRow(ctx, `SELECT file_sha256, file_size, file_type, file_name FROM evaluation_entries WHERE period = ? AND code = ?`,
				int(e.Period), e.Code).Scan(&e.File.SHA256, &e.File.Size, &e.File.ContentType, &e.FileName)
			if errors.Is(err, sql.ErrNoRows) {
				return field("file", "请上传证明材料（PDF、JPG 或 PNG）。")
			}
			if err != nil {
				return err
			}
		} else if err := s.o.Files.Hold(ctx, tx, e.File.SHA256); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO evaluation_entries (period, code, value, note, file_sha256, file_size, file_type, file_name,
			entered_by_id, entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (period, code) DO UPDATE SET value = excluded.value, note = excluded.note, file_sha256 = excluded.file_sha256,
			file_size = excluded.file_size, file_type = excluded.file_type, file_name = excluded.file_name,
			entered_by_id = excluded.entered_by_id, entered_by = excluded.entered_by, entered_at = excluded.entered_at`,
			int(e.Period), e.Code, e.Value, e.Note, e.File.SHA256, e.File.Size, e.File.ContentType, e.FileName,
			byID, e.By, e.At); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: e.At, ActorID: who.AccountID, Actor: who.Name, Action: "evaluation_entry",
			Object: fmt.Sprintf("evaluation:%d:%s", e.Period, e.Code), IP: meta.IP, RegionCode: who.RegionCode,
			Detail: fmt.Sprintf("%s %s：%g%s；说明：%s；证明材料：%s（SHA-256 %s）", e.Code, ind.Name, e.Value, ind.Unit, e.Note, e.FileName, e.File.SHA256)})
	})
	if err != nil {
		return Entry{}, err
	}
	return e, nil
}
