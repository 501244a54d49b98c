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
	for _, name := range missingRequired(it, mats) {
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
	Summary
	Missing []string
}

// IncompleteArchives checks the archives of finished cases (办结 or 不予受理)
// that who may follow up, newest first, and lists those that lack anything.
func (s *Service) IncompleteArchives(ctx context.Context, who policy.Subject, limit int) ([]Incomplete, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Statistics}); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT id FROM cases WHERE status IN ('completed', 'delivered', 'rejected') ORDER BY updated_at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	var out []Incomplete
	for _, id := range ids {
		c, err := load(ctx, s.db.Read(), id)
		if err != nil {
			return nil, err
		}
		if policy.Check(who, policy.Follow, c.Resource()) != nil {
			continue
		}
		it, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
		if err != nil {
			return nil, err
		}
		mats, err := Materials(ctx, s.db.Read(), id)
		if err != nil {
			return nil, err
		}
		docs, err := Documents(ctx, s.db.Read(), id)
		if err != nil {
			return nil, err
		}
		events, err := Events(ctx, s.db.Read(), id)
		if err != nil {
			return nil, err
		}
		if gaps := archiveGaps(c, it, mats, docs, events); len(gaps) > 0 {
			out = append(out, Incomplete{Summary: Summary{ID: c.ID, Number: c.Number, ItemName: it.Name, Status: c.Status,
				Version: c.Version, UpdatedAt: c.UpdatedAt}, Missing: gaps})
		}
	}
	return out, nil
}
