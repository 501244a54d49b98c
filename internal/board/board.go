// Package board keeps the 表扬台 (praise board) and the 曝光台 (exposure
// board): entries that supervisors publish from finished cases, answered
// complaints and ratings (each a Source, implemented in its own package),
// shown to the public with personal data removed.
//
// An entry is a snapshot: at publication the source describes the thing
// (Snapshot), Redact removes personal data from every text of it, and the
// result is stored as it will be shown. Later edits of the record, or a
// key rotation, change nothing the public sees. Publishing and
// withdrawing are the supervisor's (policy.Board, within their region's
// subtree), need a title or a reason, and are audited in their
// transaction.
package board

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Board is one of the two boards.
type Board string

const (
	Praise   Board = "praise"   // 表扬台
	Exposure Board = "exposure" // 曝光台
)

// Boards lists both, in the order pages show them.
var Boards = []Board{Praise, Exposure}

// Name is the board's Chinese name.
func (b Board) Name() string {
	switch b {
	case Praise:
		return "表扬台"
	case Exposure:
		return "曝光台"
	}
	return ""
}

// ParseBoard reads a board from a URL or form.
func ParseBoard(s string) (Board, error) {
	if b := Board(s); b.Name() != "" {
		return b, nil
	}
	return "", apperr.New(apperr.NotFound, "没有这个栏目。")
}

// Source is a kind of thing that may be published: finished cases
// (casework), answered complaints (complaint) and ratings (rating).
// A source reads its own records and decides, through the policy, which
// of them who may see; the board checks that who may publish there.
type Source interface {
	// Kind names the source in URLs and rows: "case", "complaint", "rating".
	Kind() string
	// Name is its Chinese name: 办件, 投诉, 评价.
	Name() string
	// Candidates lists what who may choose from, newest first, filtered.
	Candidates(ctx context.Context, who policy.Subject, f Filter) ([]Candidate, error)
	// Snapshot describes one of them for publication, with the values its
	// record knows to be personal (Snapshot.Personal), which the board
	// removes; it is NotFound for what who may not see.
	Snapshot(ctx context.Context, who policy.Subject, id int64) (Snapshot, error)
}

// Filter narrows a source's candidates. Sources apply what fits them.
type Filter struct {
	Query    string        // a number, or words of the subject's name
	From, To calendar.Date // the day it finished (inclusive); zero: open
	Late     string        // "late": only those finished late; "ontime": only in time; "": either
	Limit    int           // at most this many (0: 50)
}

// Candidate is a thing a supervisor may publish, as their list shows it.
// It is shown to the supervisor only, who may see the record anyway; the
// board redacts at publication.
type Candidate struct {
	ID         int64
	Number     string // the record's own number (办件编号)
	Subject    string // what it is about: the item's name
	Department string
	Region     string
	Finished   calendar.Date
	Outcome    string  // 按时办结, 超期 2 个工作日办结, 不予受理 …
	On         []Board // the boards it is on now
}

// Fact is one labelled line of an entry: 办理部门 区市场监管局.
type Fact struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Snapshot is a thing as its source describes it for a board, before
// redaction.
type Snapshot struct {
	SourceID   int64
	RegionCode string // where it was handled: the policy's scope
	Subject    string // the item's (or complaint's) name
	Department string
	Region     string
	Facts      []Fact
	Text       string // the record's own words (the decision's reasons), if any
	Personal   Personal
}

// Entry is a published (or withdrawn) entry, as stored: every text already
// redacted.
type Entry struct {
	ID          int64
	Board       Board
	Source      string
	SourceID    int64
	RegionCode  string
	Title       string // the supervisor's title
	Note        string // the supervisor's words, optional
	Subject     string
	Department  string
	Region      string
	Facts       []Fact
	Text        string
	PublishedAt time.Time
	Withdrawn   bool
	WithdrawnAt time.Time
	Reason      string // why it was withdrawn
}

// snapshot is what board_entries.snapshot holds: an entry's texts as the
// public sees them.
type snapshot struct {
	Note       string `json:"note,omitempty"`
	Subject    string `json:"subject"`
	Department string `json:"department"`
	Region     string `json:"region"`
	Facts      []Fact `json:"facts"`
	Text       string `json:"text,omitempty"`
}

// Limits of what a supervisor writes.
const (
	MaxTitle  = 60
	MaxNote   = 500
	MaxReason = 200
)

// Service publishes, withdraws and lists entries.
type Service struct {
	db      *store.DB
	clock   clock.Clock
	sources map[string]Source
	order   []Source
}

// New returns the service over the sources that may be published from.
func New(db *store.DB, clk clock.Clock, sources ...Source) *Service {
	s := &Service{db: db, clock: clk, sources: map[string]Source{}}
	for _, src := range sources {
		s.sources[src.Kind()] = src
		s.order = append(s.order, src)
	}
	return s
}

// Sources lists the sources, in the order given to New.
func (s *Service) Sources() []Source { return s.order }

func (s *Service) source(kind string) (Source, error) {
	src, ok := s.sources[kind]
	if !ok {
		return nil, apperr.New(apperr.NotFound, "没有这类可发布的内容。")
	}
	return src, nil
}

// Candidates lists what who may publish from the source, marking those
// already on a board.
func (s *Service) Candidates(ctx context.Context, who policy.Subject, kind string, f Filter) ([]Candidate, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Board, RegionCode: who.RegionCode}); err != nil {
		return nil, err
	}
	src, err := s.source(kind)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	cs, err := src.Candidates(ctx, who, f)
	if err != nil || len(cs) == 0 {
		return cs, err
	}
	ids := make([]any, 0, len(cs)+1)
	ids = append(ids, kind)
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	rows, err := s.db.Read().Query(ctx, `SELECT source_id, board FROM board_entries WHERE source = ? AND withdrawn_at IS NULL
		AND source_id IN (?`+strings.Repeat(", ?", len(cs)-1)+`)`, ids...)
	if err != nil {
		return nil, fmt.Errorf("board: candidates: %w", err)
	}
	defer rows.Close()
	on := map[int64][]Board{}
	for rows.Next() {
		var id int64
		var b Board
		if err := rows.Scan(&id, &b); err != nil {
			return nil, err
		}
		on[id] = append(on[id], b)
	}
	for i := range cs {
		cs[i].On = on[cs[i].ID]
	}
	return cs, rows.Err()
}

// Draft is what a supervisor asks to publish.
type Draft struct {
	Board    Board
	Source   string
	SourceID int64
	Title    string
	Note     string
}

// Preview is the entry as the public would see it, redacted, without
// publishing it: the supervisor checks it before Publish.
func (s *Service) Preview(ctx context.Context, who policy.Subject, d Draft) (Entry, error) {
	e, _, err := s.prepare(ctx, who, d)
	return e, err
}

// prepare checks d and who, and builds the redacted entry.
func (s *Service) prepare(ctx context.Context, who policy.Subject, d Draft) (Entry, Source, error) {
	if d.Board.Name() == "" {
		return Entry{}, nil, apperr.New(apperr.Invalid, "请选择发布到表扬台还是曝光台。")
	}
	src, err := s.source(d.Source)
	if err != nil {
		return Entry{}, nil, err
	}
	d.Title, d.Note = strings.TrimSpace(d.Title), strings.TrimSpace(d.Note)
	switch {
	case d.Title == "":
		return Entry{}, nil, apperr.New(apperr.Invalid, "请填写标题：公众看到的一句话，如“当日受理、当日办结”。")
	case utf8.RuneCountInString(d.Title) > MaxTitle:
		return Entry{}, nil, apperr.New(apperr.Invalid, fmt.Sprintf("标题不能超过 %d 个字。", MaxTitle))
	case utf8.RuneCountInString(d.Note) > MaxNote:
		return Entry{}, nil, apperr.New(apperr.Invalid, fmt.Sprintf("说明不能超过 %d 个字。", MaxNote))
	}
	snap, err := src.Snapshot(ctx, who, d.SourceID)
	if err != nil {
		return Entry{}, nil, err
	}
	if err := policy.Check(who, policy.Publish, policy.Resource{Kind: policy.Board, RegionCode: snap.RegionCode}); err != nil {
		return Entry{}, nil, err
	}
	r := func(text string) string { return Redact(text, snap.Personal) }
	e := Entry{Board: d.Board, Source: d.Source, SourceID: d.SourceID, RegionCode: snap.RegionCode,
		Title: r(d.Title), Note: r(d.Note), Subject: r(snap.Subject), Department: r(snap.Department), Region: r(snap.Region),
		Text: r(snap.Text), PublishedAt: s.clock.Now().UTC().Truncate(time.Microsecond)} // as PostgreSQL keeps it: the cursor's precision
	for _, f := range snap.Facts {
		e.Facts = append(e.Facts, Fact{Label: f.Label, Value: r(f.Value)})
	}
	return e, src, nil
}

// Publish puts the redacted entry on its board, and audits it. A thing is
// on a board at most once at a time.
func (s *Service) Publish(ctx context.Context, who policy.Subject, meta audit.Meta, d Draft) (Entry, error) {
	e, src, err := s.prepare(ctx, who, d)
	if err != nil {
		return e, err
	}
	body, err := json.Marshal(snapshot{Note: e.Note, Subject: e.Subject, Department: e.Department, Region: e.Region, Facts: e.Facts, Text: e.Text})
	if err != nil {
		return e, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM board_entries WHERE board = ? AND source = ? AND source_id = ? AND withdrawn_at IS NULL`,
			e.Board, e.Source, e.SourceID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return apperr.New(apperr.Conflict, "这条"+src.Name()+"已在"+e.Board.Name()+"上，无需重复发布。")
		}
		if err := tx.QueryRow(ctx, `INSERT INTO board_entries (board, source, source_id, region_code, title, snapshot, published_by, published_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.Board, e.Source, e.SourceID, e.RegionCode, e.Title, string(body),
			accountID(who), e.PublishedAt).Scan(&e.ID); err != nil {
			return fmt.Errorf("board: publish: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{At: e.PublishedAt, ActorID: who.AccountID, Actor: who.Name, Action: "board_publish",
			Object: "board:" + strconv.FormatInt(e.ID, 10), RegionCode: who.RegionCode, IP: meta.IP,
			Detail: fmt.Sprintf("发布到%s：%s（%s %s:%d）", e.Board.Name(), e.Title, src.Name(), e.Source, e.SourceID)})
	})
	return e, err
}

// Withdraw takes an entry off its board, for a stated reason, and audits
// it. The row stays, marked withdrawn.
func (s *Service) Withdraw(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return apperr.New(apperr.Invalid, "撤下须写明原因。")
	case utf8.RuneCountInString(reason) > MaxReason:
		return apperr.New(apperr.Invalid, fmt.Sprintf("原因不能超过 %d 个字。", MaxReason))
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		e, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := policy.Check(who, policy.Publish, policy.Resource{Kind: policy.Board, RegionCode: e.RegionCode}); err != nil {
			return err
		}
		if e.Withdrawn {
			return apperr.New(apperr.Conflict, "这条内容已撤下。")
		}
		now := s.clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE board_entries SET withdrawn_by = ?, withdrawn_at = ?, withdraw_reason = ? WHERE id = ? AND withdrawn_at IS NULL`,
			accountID(who), now, reason, id); err != nil {
			return fmt.Errorf("board: withdraw: %w", err)
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: who.Name, Action: "board_withdraw",
			Object: "board:" + strconv.FormatInt(id, 10), RegionCode: who.RegionCode, IP: meta.IP,
			Detail: fmt.Sprintf("从%s撤下：%s；原因：%s", e.Board.Name(), e.Title, reason)})
	})
}

const entryColumns = `id, board, source, source_id, region_code, title, snapshot, published_at, withdrawn_at, withdraw_reason`

func scanEntry(row interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var body string
	var withdrawn sql.NullTime
	if err := row.Scan(&e.ID, &e.Board, &e.Source, &e.SourceID, &e.RegionCode, &e.Title, &body, &e.PublishedAt, &withdrawn, &e.Reason); err != nil {
		return e, err
	}
	var snap snapshot
	if err := json.Unmarshal([]byte(body), &snap); err != nil {
		return e, fmt.Errorf("board: entry %d: %w", e.ID, err)
	}
	e.Note, e.Subject, e.Department, e.Region, e.Facts, e.Text = snap.Note, snap.Subject, snap.Department, snap.Region, snap.Facts, snap.Text
	e.Withdrawn, e.WithdrawnAt = withdrawn.Valid, withdrawn.Time
	return e, nil
}

func get(ctx context.Context, q store.Querier, id int64) (Entry, error) {
	e, err := scanEntry(q.QueryRow(ctx, `SELECT `+entryColumns+` FROM board_entries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, apperr.New(apperr.NotFound, "没有这条内容，或已撤下。")
	}
	return e, err
}

// Get returns a published entry, for anyone; a withdrawn one is not found.
func (s *Service) Get(ctx context.Context, id int64) (Entry, error) {
	e, err := get(ctx, s.db.Read(), id)
	if err == nil && e.Withdrawn {
		return Entry{}, apperr.New(apperr.NotFound, "没有这条内容，或已撤下。")
	}
	return e, err
}

// Page is one page of a board, newest first.
type Page struct {
	Entries []Entry
	Next    string // the cursor of the next page; "" on the last
}

// PageSize is how many entries a board shows at once.
const PageSize = 20

// List returns the published entries of a board after the cursor, newest
// first, by keyset on (published_at, id) along board_entries_public.
func (s *Service) List(ctx context.Context, b Board, after string) (Page, error) {
	var p Page
	where, args := `board = ? AND withdrawn_at IS NULL`, []any{b}
	if after != "" {
		at, id, ok := parseCursor(after)
		if !ok {
			return p, apperr.New(apperr.Invalid, "翻页参数无效，请从第一页重新查看。")
		}
		where += ` AND (published_at < ? OR published_at = ? AND id < ?)`
		args = append(args, at, at, id)
	}
	rows, err := s.db.Read().Query(ctx, `SELECT `+entryColumns+` FROM board_entries WHERE `+where+
		` ORDER BY published_at DESC, id DESC LIMIT ?`, append(args, PageSize+1)...)
	if err != nil {
		return p, fmt.Errorf("board: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return p, err
		}
		p.Entries = append(p.Entries, e)
	}
	if len(p.Entries) > PageSize {
		p.Entries = p.Entries[:PageSize]
		last := p.Entries[PageSize-1]
		p.Next = strconv.FormatInt(last.PublishedAt.UnixMicro(), 10) + "," + strconv.FormatInt(last.ID, 10)
	}
	return p, rows.Err()
}

func parseCursor(after string) (time.Time, int64, bool) {
	t, id, ok := strings.Cut(after, ",")
	us, err1 := strconv.ParseInt(t, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, 0, false
	}
	return time.UnixMicro(us).UTC(), n, true
}

// Managed lists, for the supervisor's page, the latest entries of both
// boards within who's scope, withdrawn ones too, newest first.
func (s *Service) Managed(ctx context.Context, who policy.Subject, limit int) ([]Entry, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Board, RegionCode: who.RegionCode}); err != nil {
		return nil, err
	}
	scope := policy.BoardRegion(who)
	rows, err := s.db.Read().Query(ctx, `SELECT `+entryColumns+` FROM board_entries WHERE region_code LIKE ?
		ORDER BY published_at DESC, id DESC LIMIT ?`, scope+"%", max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("board: managed: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func accountID(who policy.Subject) any {
	if who.AccountID == 0 {
		return nil
	}
	return who.AccountID
}
