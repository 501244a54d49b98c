package casework

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Manifest lists every file of a case archive with its SHA-256, and says
// whether the archive is complete.
type Manifest struct {
	Number   string          `json:"number"`
	Item     string          `json:"item"`
	Version  int             `json:"item_version"`
	Status   Status          `json:"status"`
	Created  time.Time       `json:"exported_at"`
	Files    []ManifestEntry `json:"files"`
	Complete bool            `json:"complete"`
	Missing  []string        `json:"missing,omitempty"`
}

// ManifestEntry is one file of an archive.
type ManifestEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Archive writes a case's electronic archive (电子档案) as a ZIP: the form
// data, every material, every notice, the result, the event log and a
// manifest with the SHA-256 of each file, stating whether the archive is
// complete against the item's required materials and the documents its
// steps must have produced. The export is audited (with where the request
// came from, meta), at the clock's time, before anything is written.
func (s *Service) Archive(ctx context.Context, who policy.Subject, meta audit.Meta, caseID int64, files filestore.Store, w io.Writer) (Manifest, error) {
	c, events, err := s.Get(ctx, who, caseID)
	if err != nil {
		return Manifest{}, err
	}
	if err := policy.Check(who, policy.Export, c.Resource()); err != nil {
		return Manifest{}, err
	}
	if err := s.db.Tx(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: who.Name, Action: "export",
			Object: fmt.Sprintf("case:%d", c.ID), Detail: "导出电子档案 " + c.Number, IP: meta.IP})
	}); err != nil {
		return Manifest{}, err
	}
	it, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
	if err != nil {
		return Manifest{}, err
	}
	mats, err := Materials(ctx, s.db.Read(), c.ID)
	if err != nil {
		return Manifest{}, err
	}
	docs, err := Documents(ctx, s.db.Read(), c.ID)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Number: c.Number, Item: it.Name, Version: c.ItemVersion, Status: c.Status, Created: s.clock.Now()}
	zw := zip.NewWriter(w)
	add := func(path string, r io.Reader) error {
		fw, err := zw.Create(path)
		if err != nil {
			return err
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(fw, h), r)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, ManifestEntry{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n})
		return nil
	}
	addJSON := func(path string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		return add(path, bytes.NewReader(b))
	}
	addStored := func(path, sha string) error {
		f, _, err := files.Open(ctx, sha)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer f.Close()
		return add(path, f)
	}
	// The archive is the legal record: its form holds the answers in full,
	// identity and mobile numbers included. Only those who may export (the
	// department's reviewers and heads) get it, and each export is audited.
	form, err := s.unseal(c)
	if err != nil {
		return m, err
	}
	if err := addJSON("form.json", form); err != nil {
		return m, err
	}
	if err := addJSON("events.json", events); err != nil {
		return m, err
	}
	for _, mat := range mats {
		if err := addStored(fmt.Sprintf("materials/%02d-%s", mat.Position+1, mat.Filename), mat.SHA256); err != nil {
			return m, err
		}
	}
	for _, d := range docs {
		if err := add(fmt.Sprintf("documents/%s-%s.txt", d.Title, d.Number), bytes.NewReader([]byte(d.Title+"\n"+d.Number+"\n\n"+d.Body+"\n"))); err != nil {
			return m, err
		}
	}
	if c.ResultSHA256 != "" {
		if err := addStored("result/"+c.ResultName, c.ResultSHA256); err != nil {
			return m, err
		}
	}
	m.Missing = archiveGaps(c, it, mats, docs, events)
	m.Complete = len(m.Missing) == 0
	if err := addJSON("manifest.json", m); err != nil {
		return m, err
	}
	return m, zw.Close()
}

// IDByNumber finds a case's ID by its number.
func (s *Service) IDByNumber(ctx context.Context, number string) (int64, error) {
	var id int64
	err := s.db.Read().QueryRow(ctx, `SELECT id FROM cases WHERE number = ?`, number).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, apperr.New(apperr.NotFound, "没有办件编号为 "+number+" 的办件")
	}
	return id, err
}

// archiveGaps names what a case's archive lacks: required materials, the
// notices its steps must have produced, and the result of a completed case.
func archiveGaps(c Case, it catalog.Item, mats []Material, docs []Document, events []Event) []string {
	var gaps []string
	for _, name := range missingRequired(it, mats, -1) {
		gaps = append(gaps, "材料："+name)
	}
	// By kind: a 决定书's title says its outcome (准予行政许可决定书 …).
	issued := map[string]bool{}
	for _, d := range docs {
		issued[d.Kind] = true
	}
	for _, e := range events {
		// A 收件回执 is the counter's receipt, not a step's decision:
		// online submissions have none, nor counter ones taken in before
		// receipts were printed.
		if e.Action == Submit {
			continue
		}
		if n, ok := notices[e.Action]; ok && !issued[n.kind] {
			gaps = append(gaps, "文书："+n.title)
			issued[n.kind] = true
		}
	}
	if (c.Status == Completed || c.Status == Delivered) && c.Decision != Denied && c.ResultSHA256 == "" {
		gaps = append(gaps, "办理结果")
	}
	return gaps
}

// Incomplete is a finished case whose archive lacks something.
type Incomplete struct {
	Supervised
	Missing []string
}

// archiveBatch is how many finished cases IncompleteArchives checks with
// one set of queries.
const archiveBatch = 200

// IncompleteArchives checks the archives of finished cases (办结 or 不予受理)
// that who may follow up, most recently finished first (or f.Oldest: the
// earliest), and lists a page of those that lack anything. It checks
// finished cases a batch at a time with four set-based queries per batch
// (the cases, their materials, notices and steps) until the page is full.
// What an archive lacks depends on the item version's required materials,
// which the database does not hold as rows, so the list has no total:
// Page.Total is -1.
func (s *Service) IncompleteArchives(ctx context.Context, who policy.Subject, f SupervisionFilter, limit int) (Page[Incomplete], error) {
	page := Page[Incomplete]{Total: -1}
	limit = max(limit, 1)
	var c conds
	if err := c.supervision(who, f); err != nil {
		return page, err
	}
	// Spelt as the partial index's predicate, so that both databases use it.
	c.add(`c.status IN ('completed', 'delivered', 'rejected')`)
	c.period(`c.updated_at`, f)
	order, cmp := `c.updated_at DESC, c.id DESC`, "<"
	if f.Oldest {
		order, cmp = `c.updated_at, c.id`, ">"
	}
	at, err := parseCursor(f.After, 2)
	if err != nil {
		return page, err
	}
	items := map[[2]int64]catalog.Item{}
	for {
		q := c
		if at != nil {
			t, err1 := at.time(0)
			id, err2 := at.int(1)
			if err1 != nil || err2 != nil {
				return page, errCursor
			}
			q.add(`(c.updated_at, c.id) `+cmp+` (?, ?)`, t, id)
		}
		batch, err := s.finishedBatch(ctx, q, order)
		if err != nil {
			return page, err
		}
		for i := range batch {
			b := &batch[i]
			key := [2]int64{b.c.ItemID, int64(b.c.ItemVersion)}
			it, ok := items[key]
			if !ok {
				if it, err = s.catalog.Version(ctx, b.c.ItemID, b.c.ItemVersion); err != nil {
					return page, err
				}
				items[key] = it
			}
			if gaps := archiveGaps(b.c, it, b.mats, b.docs, b.events); len(gaps) > 0 {
				if len(page.Rows) == limit {
					last := page.Rows[limit-1]
					page.Next = makeCursor(last.UpdatedAt, last.ID)
					return page, nil
				}
				b.row.Missing = gaps
				page.Rows = append(page.Rows, b.row)
			}
		}
		if len(batch) < archiveBatch {
			return page, nil
		}
		last := batch[len(batch)-1].row
		at = cursor{makeCursor(last.UpdatedAt), makeCursor(last.ID)}
	}
}

// finished is a finished case with what archiveGaps reads of it.
type finished struct {
	row    Incomplete
	c      Case
	mats   []Material
	docs   []Document
	events []Event
}

// finishedBatch reads the next archiveBatch finished cases that c matches
// in order and, in one query each, their materials, notices and steps.
func (s *Service) finishedBatch(ctx context.Context, c conds, order string) ([]finished, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT `+supervisedColumns+`, c.item_id, c.item_version, c.decision, c.result_sha256`+
		supervisedFrom+c.where()+` ORDER BY `+order+` LIMIT ?`, append(c.args, archiveBatch)...)
	if err != nil {
		return nil, err
	}
	var out []finished
	index := map[int64]int{}
	for rows.Next() {
		var b finished
		if err := rows.Scan(append(b.row.dest(), &b.c.ItemID, &b.c.ItemVersion, &b.c.Decision, &b.c.ResultSHA256)...); err != nil {
			rows.Close()
			return nil, err
		}
		b.c.ID, b.c.Status = b.row.ID, b.row.Status
		index[b.c.ID] = len(out)
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]any, len(out))
	for i, b := range out {
		ids[i] = b.c.ID
	}
	in := `(?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
	// The distinct materials by position, notices by kind and steps by
	// action: all archiveGaps looks at; steps in the order first taken, as
	// the gaps name the notices in that order.
	for _, part := range []struct {
		q   string
		add func(b *finished, n int64, text string)
	}{
		{`SELECT DISTINCT case_id, position, '' FROM case_materials WHERE case_id IN ` + in,
			func(b *finished, n int64, _ string) { b.mats = append(b.mats, Material{Position: int(n)}) }},
		{`SELECT DISTINCT case_id, 0, kind FROM case_documents WHERE case_id IN ` + in,
			func(b *finished, _ int64, kind string) { b.docs = append(b.docs, Document{Kind: kind}) }},
		{`SELECT case_id, MIN(seq), action FROM case_events WHERE case_id IN ` + in + ` GROUP BY case_id, action ORDER BY case_id, MIN(seq)`,
			func(b *finished, seq int64, action string) {
				b.events = append(b.events, Event{Seq: int(seq), Action: Action(action)})
			}},
	} {
		rows, err := s.db.Read().Query(ctx, part.q, ids...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, n int64
			var text string
			if err := rows.Scan(&id, &n, &text); err != nil {
				rows.Close()
				return nil, err
			}
			part.add(&out[index[id]], n, text)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
