package bundle

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/catalog/exchange"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Bundles travel in the catalog's files (catalog/exchange: the JSON
// file's bundles array, the XLSX 一件事 sheets), beside the items they
// name, and in a JSON file of bundles only (format zwfw-bundles), the
// administrators' page's: both are parsed by catalog/exchange and stored
// by the same code here. A file names items by 实施编码, which is stable
// across installations where item ids are not; each must be an item of
// the file or of the catalog.

// fileBundles turns bundles into the files' form, their items by 实施编码;
// mappings and dependencies in the order of their items, so that an
// export does not depend on item ids.
func (s *Service) fileBundles(ctx context.Context, list []Bundle) ([]exchange.Bundle, error) {
	codes := map[int64]string{}
	code := func(id int64) (string, error) {
		if c, ok := codes[id]; ok {
			return c, nil
		}
		var c string
		if err := s.db.Read().QueryRow(ctx, `SELECT impl_code FROM items WHERE id = ?`, id).Scan(&c); err != nil {
			return "", err
		}
		codes[id] = c
		return c, nil
	}
	out := make([]exchange.Bundle, 0, len(list))
	for _, b := range list {
		fb := exchange.Bundle{Name: b.Name, Theme: b.Theme, Summary: b.Summary, Published: b.Status == Published, Items: []string{}}
		for _, id := range b.Items {
			c, err := code(id)
			if err != nil {
				return nil, err
			}
			fb.Items = append(fb.Items, c)
		}
		position := func(id int64) int { return slices.Index(b.Items, id) }
		fields := slices.Clone(b.Fields)
		slices.SortStableFunc(fields, func(x, y Field) int {
			return cmp.Or(cmp.Compare(position(x.ItemID), position(y.ItemID)), strings.Compare(x.ItemKey, y.ItemKey))
		})
		for _, fl := range fields {
			c, err := code(fl.ItemID)
			if err != nil {
				return nil, err
			}
			fb.Fields = append(fb.Fields, exchange.BundleField{Item: c, Key: fl.ItemKey, From: fl.From})
		}
		deps := slices.Clone(b.Dependencies)
		slices.SortStableFunc(deps, func(x, y Dependency) int { return cmp.Compare(position(x.ItemID), position(y.ItemID)) })
		for _, d := range deps {
			c, err := code(d.ItemID)
			if err != nil {
				return nil, err
			}
			r, err := code(d.Requires)
			if err != nil {
				return nil, err
			}
			fb.Dependencies = append(fb.Dependencies, exchange.BundleDependency{Item: c, Requires: r, Material: d.Material})
		}
		out = append(out, fb)
	}
	return out, nil
}

// Export writes every bundle as a file of bundles only, for those who
// build bundles; the export is audited.
func (s *Service) Export(ctx context.Context, who policy.Subject, meta audit.Meta) ([]byte, error) {
	if err := mayManage(who, policy.Edit); err != nil {
		return nil, err
	}
	list, err := s.list(ctx, s.db.Read(), false)
	if err != nil {
		return nil, err
	}
	files, err := s.fileBundles(ctx, list)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := exchange.WriteBundles(&out, files); err != nil {
		return nil, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: catalog.ActorName(who), Action: "export",
			Object: "bundles", Detail: fmt.Sprintf("%d 件", len(files)), IP: meta.IP, RegionCode: who.RegionCode})
	})
	return out.Bytes(), err
}

// ExportCatalog writes the whole catalog — every item citizens can see
// (catalog.Store.Export) and every bundle — as a catalog file, if who may
// export the catalog. It returns how many items and bundles the catalog
// has; a CSV file holds the items only, and its caller says so.
func (s *Service) ExportCatalog(ctx context.Context, who policy.Subject, w io.Writer, f exchange.Format) (items, bundles int, err error) {
	if err := policy.Check(who, policy.Export, policy.Resource{Kind: policy.Catalog}); err != nil {
		return 0, 0, err
	}
	list, err := s.list(ctx, s.db.Read(), false)
	if err != nil {
		return 0, 0, err
	}
	files, err := s.fileBundles(ctx, list)
	if err != nil {
		return 0, 0, err
	}
	items, err = s.catalog.Export(ctx, w, f, files)
	return items, len(files), err
}

// Import reads a file of bundles only and stores its bundles — each in
// place of the bundle of the same name, or new — all in one transaction,
// or, when any bundle is wrong, none: the refusal names every problem
// with its bundle. It returns how many bundles it stored.
func (s *Service) Import(ctx context.Context, who policy.Subject, meta audit.Meta, data []byte) (int, error) {
	if err := mayManage(who, policy.Edit); err != nil {
		return 0, err
	}
	if err := mayManage(who, policy.Publish); err != nil {
		return 0, err
	}
	rows, errs, err := exchange.ReadBundles(bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	more, err := s.checkFile(ctx, rows, nil)
	if err != nil {
		return 0, err
	}
	if errs = append(errs, more...); len(errs) > 0 {
		problems := make([]string, len(errs))
		for i, e := range errs {
			problems[i] = e.String()
		}
		return 0, apperr.New(apperr.Invalid, fmt.Sprintf("一件事文件有 %d 处问题，未导入任何一件事：%s。", len(errs), strings.Join(problems, "；")))
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error { return s.storeFile(ctx, tx, who, meta, rows) })
	return len(rows), err
}

// ImportResult is what a catalog import did.
type ImportResult struct {
	catalog.ImportResult
	Bundles int `json:"bundles"` // stored, each new or in place of the one of its name
}

// ImportCatalog reads a whole catalog file — items and bundles — and, if
// every row is good, applies it in one transaction: the items as
// catalog.Store.ApplyImport does, then the bundles, each in place of the
// bundle of the same name, or new. A bundle may name items of the file
// and of the catalog. If anything is wrong nothing changes and the error
// is an *exchange.ImportError listing every problem with its row. actor
// names the import in the items' history.
func (s *Service) ImportCatalog(ctx context.Context, who policy.Subject, meta audit.Meta, r io.Reader, f exchange.Format, actor string,
	progress func(done, total int)) (ImportResult, error) {
	var res ImportResult
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Catalog}); err != nil {
		return res, err
	}
	p, err := s.catalog.PrepareImport(ctx, r, f)
	if err != nil {
		return res, err
	}
	if len(p.Bundles) > 0 {
		if err := mayManage(who, policy.Publish); err != nil {
			return res, err
		}
	}
	more, err := s.checkFile(ctx, p.Bundles, p.Rows)
	if err != nil {
		return res, err
	}
	p.Errs = append(p.Errs, more...)
	if err := p.Refusal(); err != nil {
		return res, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if res.ImportResult, err = s.catalog.ApplyImport(ctx, tx, p, actor, progress); err != nil {
			return err
		}
		if len(p.Bundles) == 0 {
			return nil
		}
		return s.storeFile(ctx, tx, who, meta, p.Bundles)
	})
	if err != nil {
		return ImportResult{}, err
	}
	res.Bundles = len(p.Bundles)
	return res, nil
}

// checkFile checks a file's bundles as saving them would (check), their
// items being the file's (items, to be published by the import) or else
// the catalog's; it returns every problem at its row.
func (s *Service) checkFile(ctx context.Context, rows []exchange.BundleRow, items []exchange.Row) ([]exchange.RowError, error) {
	inFile := map[string]catalog.Item{}
	for _, row := range items {
		if _, dup := inFile[row.Item.ImplCode]; !dup {
			inFile[row.Item.ImplCode] = row.Item
		}
	}
	// An item of the file has no id yet: it gets a stand-in, below zero.
	ids := map[string]int64{}
	known := map[int64]catalog.Item{}
	var lookupErr error
	resolve := func(code string) (int64, bool) {
		if id, ok := ids[code]; ok {
			return id, id != 0
		}
		var id int64
		var status catalog.Status
		err := s.db.Read().QueryRow(ctx, `SELECT id, status FROM items WHERE impl_code = ?`, code).Scan(&id, &status)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			lookupErr = err
			return 0, false
		}
		if it, ok := inFile[code]; ok {
			// Imported, it is published: behind its suspension if it is suspended.
			it.Status = catalog.Published
			if status == catalog.Suspended {
				it.Status = status
			}
			if id == 0 {
				id = -int64(len(ids) + 1)
			}
			it.ID = id
			known[id] = it
		} else if id != 0 {
			it, found, err := s.item(ctx, id)
			if err != nil {
				lookupErr = err
				return 0, false
			}
			if found {
				known[id] = it
			}
		}
		ids[code] = id
		return id, id != 0
	}
	var errs []exchange.RowError
	for _, row := range rows {
		var b Bundle
		unknown := false
		id := func(at exchange.Place, field, code string) int64 {
			id, ok := resolve(code)
			if !ok && code != "" && lookupErr == nil {
				errs = append(errs, at.Error(field, fmt.Sprintf("没有实施编码为“%s”的事项：文件和事项目录中都没有", code)))
			}
			unknown = unknown || !ok
			return id
		}
		b.Name = row.Name
		for i, c := range row.Items {
			b.Items = append(b.Items, id(row.ItemsAt[i], "实施编码", c))
		}
		for i, fl := range row.Fields {
			b.Fields = append(b.Fields, Field{ItemID: id(row.FieldsAt[i], "实施编码", fl.Item), ItemKey: fl.Key, From: fl.From})
		}
		for i, d := range row.Dependencies {
			b.Dependencies = append(b.Dependencies, Dependency{ItemID: id(row.DepsAt[i], "实施编码", d.Item),
				Requires: id(row.DepsAt[i], "前置事项实施编码", d.Requires), Material: d.Material})
		}
		if lookupErr != nil {
			return nil, lookupErr
		}
		if unknown {
			continue // said; what else is wrong shows once it names its items
		}
		for _, p := range check(b, known, row.Published) {
			errs = append(errs, row.At.Error("", p))
		}
	}
	return errs, nil
}

// storeFile stores checked bundles in tx, their items by 实施编码 found in
// tx (an import may have just made them), and records the import.
func (s *Service) storeFile(ctx context.Context, tx *store.Tx, who policy.Subject, meta audit.Meta, rows []exchange.BundleRow) error {
	id := func(code string) (int64, error) {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM items WHERE impl_code = ?`, code).Scan(&id)
		return id, err
	}
	for _, row := range rows {
		b := Bundle{Name: row.Name, Theme: row.Theme, Summary: row.Summary}
		for _, c := range row.Items {
			it, err := id(c)
			if err != nil {
				return err
			}
			b.Items = append(b.Items, it)
		}
		for _, fl := range row.Fields {
			it, err := id(fl.Item)
			if err != nil {
				return err
			}
			b.Fields = append(b.Fields, Field{ItemID: it, ItemKey: fl.Key, From: fl.From})
		}
		for _, d := range row.Dependencies {
			it, err := id(d.Item)
			if err != nil {
				return err
			}
			req, err := id(d.Requires)
			if err != nil {
				return err
			}
			b.Dependencies = append(b.Dependencies, Dependency{ItemID: it, Requires: req, Material: d.Material})
		}
		err := tx.QueryRow(ctx, `SELECT id FROM bundles WHERE name = ?`, b.Name).Scan(&b.ID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		status := Draft
		if row.Published {
			status = Published
		}
		if err := s.write(ctx, tx, who, &b, status); err != nil {
			return err
		}
	}
	return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: catalog.ActorName(who), Action: "bundle_import",
		Object: "bundles", Detail: fmt.Sprintf("%d 件", len(rows)), IP: meta.IP, RegionCode: who.RegionCode})
}
