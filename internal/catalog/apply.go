package catalog

// Applying a catalog file to the database, and exporting the catalog as
// one (the formats are catalog/exchange's).
//
// An import is all or nothing. The file is first parsed and every row
// checked without touching the database, then against the items already
// stored; every bad row is reported with its line and the reason. Only a
// file without a single bad row is applied, in one transaction, each item
// becoming a new published version of the item with the same 实施编码, or
// a new item.

import (
	"context"
	"fmt"
	"io"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog/exchange"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// Export writes every item citizens can see (published or suspended), as
// its published version, and bundles (bundle's, which the catalog does
// not know), and returns how many items it wrote.
func (s *Store) Export(ctx context.Context, w io.Writer, f exchange.Format, bundles []exchange.Bundle) (int, error) {
	if err := f.Check(); err != nil {
		return 0, err
	}
	items, err := s.AllPublished(ctx)
	if err != nil {
		return 0, err
	}
	if err := exchange.Write(w, f, items, bundles); err != nil {
		return 0, err
	}
	return len(items), nil
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// existing is what the database knows of an item with a given 实施编码.
type existing struct {
	id           int64
	status       Status
	reason       string
	departmentID int64
}

func existingItems(ctx context.Context, q store.Querier) (map[string]existing, error) {
	rows, err := q.Query(ctx, `SELECT impl_code, id, status, status_reason, department_id FROM items`)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	defer rows.Close()
	out := map[string]existing{}
	for rows.Next() {
		var code string
		var e existing
		if err := rows.Scan(&code, &e.id, &e.status, &e.reason, &e.departmentID); err != nil {
			return nil, err
		}
		out[code] = e
	}
	return out, rows.Err()
}

// checkExisting checks rows against the items already in the catalog: a
// cancelled item cannot be published again, and a 实施编码 belongs to one
// department.
func checkExisting(rows []exchange.Row, have map[string]existing, departments map[string]region.Department) []exchange.RowError {
	var errs []exchange.RowError
	for _, row := range rows {
		e, ok := have[row.Item.ImplCode]
		d, known := departments[row.Item.Department]
		if !ok || !known {
			continue // an unknown department is reported already
		}
		if e.status == Cancelled {
			errs = append(errs, exchange.RowError{Line: row.Line, Sheet: row.Sheet, Field: "实施编码",
				Message: fmt.Sprintf("实施编码“%s”的事项已取消，不能再导入发布；如需恢复请新建事项", row.Item.ImplCode)})
		}
		if d.ID != e.departmentID {
			errs = append(errs, exchange.RowError{Line: row.Line, Sheet: row.Sheet, Field: "实施部门",
				Message: fmt.Sprintf("实施编码“%s”的事项属于另一个实施部门，不能改为“%s”", row.Item.ImplCode, row.Item.Department)})
		}
	}
	return errs
}

// Prepared is an import file parsed and checked against the departments
// and the items stored, ready to apply if it has no problem.
type Prepared struct {
	exchange.Checked
	bySlug map[string]region.Department
}

// PrepareImport reads a whole catalog file and checks every row, without
// changing anything: the file's problems are in the result's Errs (the
// error is for a file that cannot be read at all). Its bundles are
// checked as far as the file can tell; the rest is bundle's.
func (s *Store) PrepareImport(ctx context.Context, r io.Reader, f exchange.Format) (*Prepared, error) {
	depts, err := s.regions.Departments(ctx, region.DepartmentFilter{})
	if err != nil {
		return nil, err
	}
	p := &Prepared{bySlug: make(map[string]region.Department, len(depts))}
	known := make([]exchange.Department, len(depts))
	for i, d := range depts {
		p.bySlug[d.Slug] = d
		known[i] = exchange.Department{Slug: d.Slug, Name: d.Name, CreditCode: d.CreditCode}
	}
	if p.Checked, err = exchange.Check(r, f, known); err != nil {
		return nil, err
	}
	have, err := existingItems(ctx, s.db.Read())
	if err != nil {
		return nil, err
	}
	p.Errs = append(p.Errs, checkExisting(p.Rows, have, p.bySlug)...)
	return p, nil
}

// ApplyImport applies a prepared file's items in tx, which its caller
// opens (and may write the file's bundles in): each item becomes a new
// published version of the item with the same 实施编码, or a new published
// item. A suspended item stays suspended, with its new version published
// behind the suspension. The checks against stored items run again in tx:
// the catalog may have changed since. progress, if not nil, is called
// with the number of items applied so far and the total.
func (s *Store) ApplyImport(ctx context.Context, tx *store.Tx, p *Prepared, actor string, progress func(done, total int)) (ImportResult, error) {
	var res ImportResult
	have, err := existingItems(ctx, tx)
	if err != nil {
		return res, err
	}
	if errs := checkExisting(p.Rows, have, p.bySlug); len(errs) > 0 {
		return res, exchange.Checked{Errs: errs}.Refusal()
	}
	total := len(p.Rows)
	if progress != nil {
		progress(0, total)
	}
	for i, row := range p.Rows {
		it := row.Item
		e, found := have[it.ImplCode]
		it.ID = e.id
		if err := s.Load(ctx, tx, &it, actor); err != nil {
			return res, rowFailed(row, err)
		}
		if found && e.status == Suspended {
			if _, err := tx.Exec(ctx, `UPDATE items SET status = 'suspended', status_reason = ? WHERE id = ?`, e.reason, it.ID); err != nil {
				return res, err
			}
		}
		if found {
			res.Updated++
		} else {
			res.Created++
			have[it.ImplCode] = existing{id: it.ID, status: Published, departmentID: it.DepartmentID}
		}
		if progress != nil {
			progress(i+1, total)
		}
	}
	return res, nil
}

// Import reads a whole catalog file of items and, if every row is good,
// applies it in one transaction (ApplyImport). If any row is bad nothing
// changes and the error is an *exchange.ImportError listing every bad
// row. A file with bundles is bundle.Service.ImportCatalog's, which
// applies them in the same transaction.
func (s *Store) Import(ctx context.Context, r io.Reader, f exchange.Format, actor string, progress func(done, total int)) (ImportResult, error) {
	p, err := s.PrepareImport(ctx, r, f)
	if err != nil {
		return ImportResult{}, err
	}
	if err := p.Refusal(); err != nil {
		return ImportResult{}, err
	}
	if len(p.Bundles) > 0 {
		return ImportResult{}, apperr.New(apperr.Unavailable, "文件中有一件事，但本实例未开放“一件事一次办”，未作任何更改")
	}
	var res ImportResult
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err = s.ApplyImport(ctx, tx, p, actor, progress)
		return err
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// rowFailed reports a row that the checks passed but the store refused
// (the catalog changed meanwhile): the whole import is rolled back.
func rowFailed(row exchange.Row, err error) error {
	code := apperr.CodeOf(err)
	if code == apperr.Internal {
		return fmt.Errorf("import line %d: %w", row.Line, err)
	}
	if code == apperr.Invalid {
		return &exchange.ImportError{Rows: []exchange.RowError{{Line: row.Line, Sheet: row.Sheet, Message: apperr.MessageOf(err)}}}
	}
	where := fmt.Sprintf("第%d行", row.Line)
	if row.Sheet != "" {
		where = row.Sheet + " " + where
	}
	return apperr.Wrap(code, "导入失败，未作任何更改："+where+"："+apperr.MessageOf(err), err)
}

// Load saves it as a new version and publishes it, in tx: the step of a
// bulk load (an import, the demo catalog), whose caller has checked who
// may and records the load once, rather than item by item.
func (s *Store) Load(ctx context.Context, tx *store.Tx, it *Item, actor string) error {
	if _, err := s.saveDraft(ctx, tx, it, actor); err != nil {
		return err
	}
	return s.publish(ctx, tx, it.ID, it.Version, actor)
}

// RecordExport writes the audit entry of a download of the whole catalog
// by who, if the policy lets them export it; the export follows.
func (s *Store) RecordExport(ctx context.Context, who policy.Subject, meta audit.Meta, f exchange.Format) error {
	if err := policy.Check(who, policy.Export, policy.Resource{Kind: policy.Catalog}); err != nil {
		return err
	}
	return audit.Record(ctx, s.db, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: who.Name,
		Action: "export", Object: "catalog", Detail: "导出事项目录（" + string(f) + "）", IP: meta.IP})
}
