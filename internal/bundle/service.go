package bundle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// Service keeps bundles and the applications made to them.
type Service struct {
	db      *store.DB
	catalog *catalog.Store
	regions *region.Store
	cases   *casework.Service
	clock   clock.Clock
}

// New returns the service.
func New(db *store.DB, items *catalog.Store, regions *region.Store, cases *casework.Service, clk clock.Clock) *Service {
	return &Service{db: db, catalog: items, regions: regions, cases: cases, clock: clk}
}

// mayManage checks that who builds bundles: catalog managers and
// administrators.
func mayManage(who policy.Subject, a policy.Action) error {
	return policy.Check(who, a, policy.Resource{Kind: policy.Bundle})
}

// List returns every bundle, published or not, to those who build them.
func (s *Service) List(ctx context.Context, who policy.Subject) ([]Bundle, error) {
	if err := mayManage(who, policy.Edit); err != nil {
		return nil, err
	}
	return s.list(ctx, s.db.Read(), false)
}

// Published returns the bundles citizens may apply to, by name.
func (s *Service) Published(ctx context.Context) ([]Bundle, error) {
	return s.list(ctx, s.db.Read(), true)
}

func (s *Service) list(ctx context.Context, q store.Querier, published bool) ([]Bundle, error) {
	where := ""
	if published {
		where = ` WHERE status = 'published'`
	}
	rows, err := q.Query(ctx, `SELECT id FROM bundles`+where+` ORDER BY name`)
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Bundle, 0, len(ids))
	for _, id := range ids {
		b, err := load(ctx, q, id)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// load reads bundle id.
func load(ctx context.Context, q store.Querier, id int64) (Bundle, error) {
	b := Bundle{ID: id}
	err := q.QueryRow(ctx, `SELECT name, theme, summary, status, updated_at FROM bundles WHERE id = ?`, id).
		Scan(&b.Name, &b.Theme, &b.Summary, &b.Status, &b.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return b, apperr.New(apperr.NotFound, "没有找到这件事。")
	}
	if err != nil {
		return b, err
	}
	rows, err := q.Query(ctx, `SELECT item_id FROM bundle_items WHERE bundle_id = ? ORDER BY position`, id)
	if err != nil {
		return b, err
	}
	for rows.Next() {
		var it int64
		if err := rows.Scan(&it); err != nil {
			rows.Close()
			return b, err
		}
		b.Items = append(b.Items, it)
	}
	rows.Close()
	if rows, err = q.Query(ctx, `SELECT item_id, item_key, from_key FROM bundle_fields WHERE bundle_id = ? ORDER BY item_id, item_key`, id); err != nil {
		return b, err
	}
	for rows.Next() {
		var f Field
		if err := rows.Scan(&f.ItemID, &f.ItemKey, &f.From); err != nil {
			rows.Close()
			return b, err
		}
		b.Fields = append(b.Fields, f)
	}
	rows.Close()
	if rows, err = q.Query(ctx, `SELECT item_id, requires_id, material FROM bundle_dependencies WHERE bundle_id = ? ORDER BY item_id`, id); err != nil {
		return b, err
	}
	for rows.Next() {
		var d Dependency
		if err := rows.Scan(&d.ItemID, &d.Requires, &d.Material); err != nil {
			rows.Close()
			return b, err
		}
		b.Dependencies = append(b.Dependencies, d)
	}
	rows.Close()
	return b, rows.Err()
}

// Get returns a bundle to those who build it, published or not.
func (s *Service) Get(ctx context.Context, who policy.Subject, id int64) (Bundle, error) {
	if err := mayManage(who, policy.Edit); err != nil {
		return Bundle{}, err
	}
	return load(ctx, s.db.Read(), id)
}

// items reads the latest version of each item of b that exists (by id),
// for checking: the guide's own items are the published versions.
func (s *Service) items(ctx context.Context, b Bundle) (map[int64]catalog.Item, error) {
	out := map[int64]catalog.Item{}
	for _, id := range b.Items {
		it, found, err := s.item(ctx, id)
		if err != nil {
			return nil, err
		}
		if found {
			out[id] = it
		}
	}
	for _, d := range b.Dependencies {
		if _, ok := out[d.Requires]; !ok {
			if it, _, err := s.catalog.Latest(ctx, d.Requires); err == nil {
				out[d.Requires] = it
			}
		}
	}
	return out, nil
}

// item reads item id as a bundle is checked against it: its published
// version, with its status, else its latest; found is false when there
// is no such item.
func (s *Service) item(ctx context.Context, id int64) (it catalog.Item, found bool, err error) {
	it, _, err = s.catalog.Latest(ctx, id)
	if apperr.CodeOf(err) == apperr.NotFound {
		return it, false, nil
	}
	if err != nil {
		return it, false, err
	}
	if pub, _, err := s.catalog.Published(ctx, id); err == nil {
		it = pub // the version citizens apply under, with its status
	} else if apperr.CodeOf(err) != apperr.NotFound {
		return it, false, err
	}
	return it, true, nil
}

// invalid is the error of a bundle with problems: every one, in one message.
func invalid(problems []string) error {
	return apperr.New(apperr.Invalid, "一件事有 "+fmt.Sprint(len(problems))+" 处需要修改："+strings.Join(problems, "；")+"。")
}

// Save stores b (a new bundle when b.ID is 0), if who builds bundles and b
// is valid — for a published bundle, as publishing asks — and records it
// in the audit log. It keeps the bundle's status.
func (s *Service) Save(ctx context.Context, who policy.Subject, meta audit.Meta, b *Bundle) error {
	if err := mayManage(who, policy.Edit); err != nil {
		return err
	}
	b.Name, b.Theme, b.Summary = strings.TrimSpace(b.Name), strings.TrimSpace(b.Theme), strings.TrimSpace(b.Summary)
	status := Draft
	if b.ID != 0 {
		old, err := load(ctx, s.db.Read(), b.ID)
		if err != nil {
			return err
		}
		status = old.Status
	}
	items, err := s.items(ctx, *b)
	if err != nil {
		return err
	}
	if problems := check(*b, items, status == Published); len(problems) > 0 {
		return invalid(problems)
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		action := "bundle_update"
		if b.ID == 0 {
			action = "bundle_create"
		}
		if err := s.write(ctx, tx, who, b, status); err != nil {
			return err
		}
		return s.audit(ctx, tx, who, meta, b.ID, action, b.Name)
	})
}

// write stores b with status in tx: a new bundle when b.ID is 0, else in
// place of its items, mappings and dependencies. b was checked.
func (s *Service) write(ctx context.Context, tx *store.Tx, who policy.Subject, b *Bundle, status Status) error {
	now := s.clock.Now()
	if b.ID == 0 {
		if err := tx.QueryRow(ctx, `INSERT INTO bundles (name, theme, summary, status, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			b.Name, b.Theme, b.Summary, status, actor(who), now).Scan(&b.ID); err != nil {
			return nameTaken(err)
		}
	} else {
		if _, err := tx.Exec(ctx, `UPDATE bundles SET name = ?, theme = ?, summary = ?, status = ?, updated_by = ?, updated_at = ? WHERE id = ?`,
			b.Name, b.Theme, b.Summary, status, actor(who), now, b.ID); err != nil {
			return nameTaken(err)
		}
		for _, t := range []string{"bundle_items", "bundle_fields", "bundle_dependencies"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE bundle_id = ?`, b.ID); err != nil {
				return err
			}
		}
	}
	b.Status, b.UpdatedAt = status, now
	for i, id := range b.Items {
		if _, err := tx.Exec(ctx, `INSERT INTO bundle_items (bundle_id, position, item_id) VALUES (?, ?, ?)`, b.ID, i, id); err != nil {
			return err
		}
	}
	for _, f := range b.Fields {
		if _, err := tx.Exec(ctx, `INSERT INTO bundle_fields (bundle_id, item_id, item_key, from_key) VALUES (?, ?, ?, ?)`, b.ID, f.ItemID, f.ItemKey, f.From); err != nil {
			return err
		}
	}
	for _, d := range b.Dependencies {
		if _, err := tx.Exec(ctx, `INSERT INTO bundle_dependencies (bundle_id, item_id, requires_id, material) VALUES (?, ?, ?, ?)`,
			b.ID, d.ItemID, d.Requires, strings.TrimSpace(d.Material)); err != nil {
			return err
		}
	}
	return nil
}

// SetPublished publishes a bundle (checked as publishing asks: every item
// published and applicable online) or takes it back from citizens.
func (s *Service) SetPublished(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, publish bool) error {
	if err := mayManage(who, policy.Publish); err != nil {
		return err
	}
	b, err := load(ctx, s.db.Read(), id)
	if err != nil {
		return err
	}
	to, action := Draft, "bundle_unpublish"
	if publish {
		to, action = Published, "bundle_publish"
		items, err := s.items(ctx, b)
		if err != nil {
			return err
		}
		if problems := check(b, items, true); len(problems) > 0 {
			return invalid(problems)
		}
	}
	if b.Status == to {
		return apperr.New(apperr.Conflict, "这件事已经是「"+to.Name()+"」状态。")
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE bundles SET status = ?, updated_by = ?, updated_at = ? WHERE id = ?`, to, actor(who), s.clock.Now(), id); err != nil {
			return err
		}
		return s.audit(ctx, tx, who, meta, id, action, b.Name)
	})
}

func (s *Service) audit(ctx context.Context, tx *store.Tx, who policy.Subject, meta audit.Meta, id int64, action, detail string) error {
	return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: catalog.ActorName(who), Action: action,
		Object: fmt.Sprintf("bundle:%d", id), Detail: detail, IP: meta.IP, RegionCode: who.RegionCode})
}

// actor is the account column of who (NULL for the command line).
func actor(who policy.Subject) any {
	if who.AccountID == 0 {
		return nil
	}
	return who.AccountID
}

// nameTaken turns the unique name's violation into a message.
func nameTaken(err error) error {
	if store.IsUniqueViolation(err) {
		return apperr.New(apperr.Conflict, "已有同名的一件事，请换一个名称。")
	}
	return err
}

// Guide returns the guide of a published bundle: anyone may read it.
func (s *Service) Guide(ctx context.Context, id int64) (Guide, error) {
	b, err := load(ctx, s.db.Read(), id)
	if err != nil {
		return Guide{}, err
	}
	if b.Status != Published {
		return Guide{}, apperr.New(apperr.NotFound, "没有找到这件事。")
	}
	return s.guide(ctx, b)
}

// guide composes b's guide from its items' published versions.
func (s *Service) guide(ctx context.Context, b Bundle) (Guide, error) {
	items := make([]catalog.Item, len(b.Items))
	departments := make([]string, len(b.Items))
	for i, id := range b.Items {
		it, _, err := s.catalog.Published(ctx, id)
		if err != nil {
			return Guide{}, err
		}
		items[i] = it
		d, err := s.regions.Department(ctx, it.DepartmentID)
		if err != nil {
			return Guide{}, err
		}
		departments[i] = d.Name
	}
	return compose(b, items, departments), nil
}
