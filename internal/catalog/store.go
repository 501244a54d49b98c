package catalog

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog/item"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// Store keeps items and their versions.
type Store struct {
	db      *store.DB
	regions *region.Store
	clock   clock.Clock
	cache   versionCache
	recent  sync.Map // item ID → recent: PublishedRecent's answers
	rows    sync.Map // item ID → publishedRow: PublishedView's
}

// publishedRow is what PublishedView reads of an item's row, with the
// catalog version it was read at. Every change to those columns (a
// publication, a suspension, a resumption, a cancellation, an import)
// bumps the catalog version in its transaction, and a request reads the
// versions once anyway (store.WithVersions), so while the version stands
// the row is the database's and a guide view needs no query of its own.
type publishedRow struct {
	catalog    int64
	version    int
	status     Status
	reason     string
	popularity int
}

// versionCache keeps item versions read from committed data, decoded. A
// version, once saved, never changes, so nothing needs telling when
// another instance saves one; every application reads its item's, so
// keeping them saves a round trip and a decoding each time. Callers get
// copies (Item.Clone) and may change them freely, except through
// PublishedView, which shares the cached one for pages that only read it.
type versionCache struct {
	mu sync.RWMutex
	m  map[[2]int64]Item
}

const maxCachedVersions = 4096

func (c *versionCache) get(id int64, version int) (Item, bool) {
	it, ok := c.shared(id, version)
	return it.Clone(), ok
}

// shared is the cached version itself: its slices are every caller's.
func (c *versionCache) shared(id int64, version int) (Item, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	it, ok := c.m[[2]int64{id, int64(version)}]
	return it, ok
}

func (c *versionCache) put(id int64, version int, it Item) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedVersions {
		c.m = map[[2]int64]Item{} // simply start over: the working set is far smaller
	}
	c.m[[2]int64{id, int64(version)}] = it.Clone()
}

// NewStore returns a Store over db.
func NewStore(db *store.DB, regions *region.Store, clk clock.Clock) *Store {
	return &Store{db: db, regions: regions, clock: clk}
}

// resolve fills what an item takes from its implementing department: its
// ID, region and level, and the 实施编码 when none was given.
func (s *Store) resolve(ctx context.Context, q store.Querier, it *Item) error {
	d, err := s.regions.DepartmentBySlug(ctx, q, it.Department)
	if apperr.Is(err, apperr.NotFound) {
		return apperr.New(apperr.Invalid, "实施部门 "+it.Department+" 不存在")
	}
	if err != nil {
		return err
	}
	var level int
	if err := q.QueryRow(ctx, `SELECT level FROM regions WHERE code = ?`, d.RegionCode).Scan(&level); err != nil {
		return err
	}
	it.DepartmentID, it.RegionCode, it.Level = d.ID, d.RegionCode, level
	if it.ImplCode == "" && d.CreditCode != "" {
		it.ImplCode = item.ImplCode(d.CreditCode, it.BaseCode, it.HandlingKind)
	}
	return nil
}

// Change is one entry of an item's history.
type Change struct {
	Version int       `json:"version"`
	Action  string    `json:"action"` // create, edit, publish, suspend, cancel, resume
	Actor   string    `json:"actor"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

func (s *Store) record(ctx context.Context, tx *store.Tx, itemID int64, version int, action, actor, reason string, at time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO item_changes (item_id, version, action, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?)`,
		itemID, version, action, actor, reason, at)
	return err
}

// ActorName names who for an item's history: 王五（账户 12）, or the
// command line's own name.
func ActorName(who policy.Subject) string {
	if who.AccountID == 0 {
		return who.Name
	}
	return fmt.Sprintf("%s（账户 %d）", who.Name, who.AccountID)
}

// mayChange checks in tx that who may take a (Edit, Publish) on the items
// of the department an item belongs to, or (id 0) of the department slug
// names.
func (s *Store) mayChange(ctx context.Context, tx *store.Tx, who policy.Subject, a policy.Action, id int64, slug string) error {
	var dept int64
	if id != 0 {
		err := tx.QueryRow(ctx, `SELECT department_id FROM items WHERE id = ?`, id).Scan(&dept)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "事项不存在")
		}
		if err != nil {
			return err
		}
	} else {
		d, err := s.regions.DepartmentBySlug(ctx, tx, slug)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.New(apperr.Invalid, "实施部门 "+slug+" 不存在")
		}
		if err != nil {
			return err
		}
		dept = d.ID
	}
	return policy.Check(who, a, policy.Resource{Kind: policy.Item, DepartmentID: dept})
}

// changed writes the audit entry of a change to an item.
func (s *Store) changed(ctx context.Context, tx *store.Tx, who policy.Subject, meta audit.Meta, id int64, action, detail string) error {
	return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: ActorName(who), Action: action,
		Object: fmt.Sprintf("item:%d", id), Detail: detail, IP: meta.IP, RegionCode: who.RegionCode})
}

// SaveDraft stores it as a new version, if who may edit the items of its
// department (and, for an edit, of the department that has it), and
// records who did, in the item's history and the audit log. See saveDraft.
func (s *Store) SaveDraft(ctx context.Context, who policy.Subject, meta audit.Meta, it *Item) ([]Problem, error) {
	var problems []Problem
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if it.ID != 0 {
			if err := s.mayChange(ctx, tx, who, policy.Edit, it.ID, ""); err != nil {
				return err
			}
		}
		if err := s.mayChange(ctx, tx, who, policy.Edit, 0, it.Department); err != nil {
			return err
		}
		var err error
		if problems, err = s.saveDraft(ctx, tx, it, ActorName(who)); err != nil {
			return err
		}
		return s.changed(ctx, tx, who, meta, it.ID, "item_save", fmt.Sprintf("保存「%s」第 %d 版草稿", it.Name, it.Version))
	})
	if err != nil {
		return nil, err
	}
	return problems, nil
}

// SubmitForReview asks for a draft version to be published, if who may
// edit the department's items: the version must be the newest, newer
// than the published one, and pass the quality rules. A second person
// reviews it (Publish or Return). See ARCHITECTURE "Catalog review".
func (s *Store) SubmitForReview(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, version int) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.mayChange(ctx, tx, who, policy.Edit, id, ""); err != nil {
			return err
		}
		var status Status
		var latest, published int
		if err := tx.QueryRow(ctx, `SELECT status, latest_version, published_version FROM items WHERE id = ?`, id).
			Scan(&status, &latest, &published); err != nil {
			return err
		}
		switch {
		case status == Cancelled:
			return apperr.New(apperr.Conflict, "事项已取消，不能再提交审核")
		case version != latest || version <= published:
			return apperr.New(apperr.Conflict, fmt.Sprintf("第 %d 版不是待发布的最新草稿，请刷新后再提交", version))
		}
		if pending, _, err := s.pendingReview(ctx, tx, id); err != nil || pending == version {
			if err == nil {
				err = apperr.New(apperr.Conflict, "该版本已提交审核，等待审核")
			}
			return err
		}
		it, err := s.version(ctx, tx, id, version)
		if err != nil {
			return err
		}
		if err := refuseProblems(it, "不能提交审核"); err != nil {
			return err
		}
		if err := s.record(ctx, tx, id, version, "submit", ActorName(who), "", s.clock.Now()); err != nil {
			return err
		}
		return s.changed(ctx, tx, who, meta, id, "item_submit", fmt.Sprintf("提交第 %d 版审核", version))
	})
}

// pendingReview is the version of an item waiting for review (0: none)
// and who submitted it: the item's last change, if it is a submission of
// its newest version. A later save, return or publication ends the wait.
func (s *Store) pendingReview(ctx context.Context, q store.Querier, id int64) (int, string, error) {
	var version, latest int
	var action, actor string
	err := q.QueryRow(ctx, `SELECT c.version, c.action, c.actor, i.latest_version FROM item_changes c JOIN items i ON i.id = c.item_id
		WHERE c.item_id = ? ORDER BY c.id DESC LIMIT 1`, id).Scan(&version, &action, &actor, &latest)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil || action != "submit" || version != latest {
		return 0, "", err
	}
	return version, actor, nil
}

// reviewable checks that version waits for review and that who is not
// the person who submitted it: a guide is published by two people.
func (s *Store) reviewable(ctx context.Context, tx *store.Tx, who policy.Subject, id int64, version int) error {
	pending, submitter, err := s.pendingReview(ctx, tx, id)
	if err != nil {
		return err
	}
	if pending == 0 || pending != version {
		return apperr.New(apperr.Conflict, fmt.Sprintf("第 %d 版没有在等待审核：须先由编辑人员提交审核", version))
	}
	if submitter == ActorName(who) {
		return apperr.New(apperr.Forbidden, "不能审核自己提交的版本，须由另一位事项管理员或部门负责人审核")
	}
	return nil
}

// Publish approves a version submitted for review and makes it what
// citizens see, if who may publish the department's items and did not
// submit it. See publish.
func (s *Store) Publish(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, version int) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.mayChange(ctx, tx, who, policy.Publish, id, ""); err != nil {
			return err
		}
		if err := s.reviewable(ctx, tx, who, id, version); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, id, version, ActorName(who)); err != nil {
			return err
		}
		return s.changed(ctx, tx, who, meta, id, "item_publish", fmt.Sprintf("审核通过并发布第 %d 版", version))
	})
}

// Return sends a version submitted for review back to its editors with
// the reviewer's reason, if who may publish the department's items and
// did not submit it. The version stays a draft.
func (s *Store) Return(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, version int, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return apperr.New(apperr.Invalid, "请填写退回原因，告诉编辑人员要修改什么")
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.mayChange(ctx, tx, who, policy.Publish, id, ""); err != nil {
			return err
		}
		if err := s.reviewable(ctx, tx, who, id, version); err != nil {
			return err
		}
		if err := s.record(ctx, tx, id, version, "return", ActorName(who), reason, s.clock.Now()); err != nil {
			return err
		}
		return s.changed(ctx, tx, who, meta, id, "item_return", fmt.Sprintf("退回第 %d 版，原因：%s", version, reason))
	})
}

// SetStatus suspends, cancels or resumes a published item with a reason,
// if who may publish the department's items. See setStatus.
func (s *Store) SetStatus(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, to Status, reason string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.mayChange(ctx, tx, who, policy.Publish, id, ""); err != nil {
			return err
		}
		if err := s.setStatus(ctx, tx, id, to, reason, ActorName(who)); err != nil {
			return err
		}
		return s.changed(ctx, tx, who, meta, id, "item_status", "改为"+to.Name()+"，原因："+reason)
	})
}

// saveDraft stores it as a new version: a new item when it.ID is 0,
// otherwise the next version of that item. What citizens see does not
// change until the version is published. It returns the quality problems
// the draft still has, which would stop it being published.
func (s *Store) saveDraft(ctx context.Context, tx *store.Tx, it *Item, actor string) ([]Problem, error) {
	if err := it.Validate(); err != nil {
		return nil, err
	}
	if err := s.resolve(ctx, tx, it); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	it.UpdatedAt = now
	action := "edit"
	if it.ID == 0 {
		action = "create"
		err := tx.QueryRow(ctx, `INSERT INTO items (impl_code, base_code, name, type, level, department_id, region_code, depth,
			case_kind, visits, status, latest_version, generated, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', 1, ?, ?, ?) RETURNING id`,
			it.ImplCode, it.BaseCode, it.Name, it.Type, it.Level, it.DepartmentID, it.RegionCode, it.Depth,
			it.CaseKind, it.Visits, it.Generated, now, now).Scan(&it.ID)
		if store.IsUniqueViolation(err) {
			return nil, apperr.New(apperr.Conflict, "实施编码 "+it.ImplCode+" 已被其他事项使用")
		}
		if err != nil {
			return nil, fmt.Errorf("insert item: %w", err)
		}
		it.Version = 1
	} else {
		var implCode string
		err := tx.QueryRow(ctx, `UPDATE items SET latest_version = latest_version + 1, updated_at = ? WHERE id = ?
			RETURNING latest_version, impl_code`, now, it.ID).Scan(&it.Version, &implCode)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.New(apperr.NotFound, "事项不存在")
		}
		if err != nil {
			return nil, fmt.Errorf("next version: %w", err)
		}
		if implCode != it.ImplCode {
			return nil, apperr.New(apperr.Invalid, "实施编码不能修改；实施主体或办理项变化时应新建事项")
		}
	}
	it.Status = Draft
	body, err := json.Marshal(it)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO item_versions (item_id, version, body, created_by, created_at) VALUES (?, ?, ?, ?, ?)`,
		it.ID, it.Version, string(body), actor, now); err != nil {
		return nil, fmt.Errorf("insert version: %w", err)
	}
	if err := s.record(ctx, tx, it.ID, it.Version, action, actor, "", now); err != nil {
		return nil, err
	}
	return it.Problems(), nil
}

// publish makes a version what citizens see. A version that breaks a
// quality rule is refused with every problem listed.
func (s *Store) publish(ctx context.Context, tx *store.Tx, id int64, version int, actor string) error {
	it, err := s.version(ctx, tx, id, version)
	if err != nil {
		return err
	}
	if err := refuseProblems(it, "不能发布"); err != nil {
		return err
	}
	var status Status
	if err := tx.QueryRow(ctx, `SELECT status FROM items WHERE id = ?`, id).Scan(&status); err != nil {
		return err
	}
	if status == Cancelled {
		return apperr.New(apperr.Conflict, "事项已取消，不能再发布")
	}
	now := s.clock.Now()
	entry, err := SearchEntry(it)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE items SET name = ?, base_code = ?, type = ?, depth = ?, case_kind = ?, visits = ?,
		status = 'published', status_reason = '', published_version = ?, search_entry = ?, updated_at = ?, published_at = ? WHERE id = ?`,
		it.Name, it.BaseCode, it.Type, it.Depth, it.CaseKind, it.Visits, version, string(entry), now, now, id)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := s.record(ctx, tx, id, version, "publish", actor, "", now); err != nil {
		return err
	}
	return bumpCatalogVersion(ctx, tx)
}

// refuseProblems lists every broken quality rule of it, or is nil.
func refuseProblems(it Item, what string) error {
	ps := it.Problems()
	if len(ps) == 0 {
		return nil
	}
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Message
	}
	return apperr.New(apperr.Invalid, "事项未通过质量检查，"+what+"："+strings.Join(msgs, "；"))
}

// setStatus suspends, cancels or resumes a published item, with a reason.
func (s *Store) setStatus(ctx context.Context, tx *store.Tx, id int64, to Status, reason, actor string) error {
	if strings.TrimSpace(reason) == "" {
		return apperr.New(apperr.Invalid, "请填写原因")
	}
	var from Status
	var published int
	err := tx.QueryRow(ctx, `SELECT status, published_version FROM items WHERE id = ?`, id).Scan(&from, &published)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, "事项不存在")
	}
	if err != nil {
		return err
	}
	allowed := map[Status][]Status{Suspended: {Published}, Cancelled: {Published, Suspended, Draft}, Published: {Suspended}}
	ok := false
	for _, f := range allowed[to] {
		ok = ok || f == from
	}
	if !ok {
		return apperr.New(apperr.Conflict, fmt.Sprintf("事项当前状态为%s，不能改为%s", from.Name(), to.Name()))
	}
	now := s.clock.Now()
	if _, err := tx.Exec(ctx, `UPDATE items SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?`, to, reason, now, id); err != nil {
		return err
	}
	action := map[Status]string{Suspended: "suspend", Cancelled: "cancel", Published: "resume"}[to]
	if err := s.record(ctx, tx, id, published, action, actor, reason, now); err != nil {
		return err
	}
	return bumpCatalogVersion(ctx, tx)
}

func bumpCatalogVersion(ctx context.Context, tx *store.Tx) error {
	return store.BumpVersion(ctx, tx, "catalog")
}

// CatalogVersion is bumped by every change citizens can see; instances
// poll it to know when to rebuild their search index.
func (s *Store) CatalogVersion(ctx context.Context) (int64, error) {
	return s.db.CacheVersion(ctx, "catalog")
}

func (s *Store) version(ctx context.Context, q store.Querier, id int64, version int) (Item, error) {
	if it, ok := s.cache.get(id, version); ok {
		return it, nil
	}
	var body string
	err := q.QueryRow(ctx, `SELECT body FROM item_versions WHERE item_id = ? AND version = ?`, id, version).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return Item{}, apperr.New(apperr.NotFound, "事项或版本不存在")
	}
	if err != nil {
		return Item{}, err
	}
	var it Item
	if err := json.Unmarshal([]byte(body), &it); err != nil {
		return it, fmt.Errorf("item %d version %d: %w", id, version, err)
	}
	// Only what is committed is kept: a version read inside a transaction
	// may yet be rolled back.
	if _, inTx := q.(*store.Tx); !inTx {
		s.cache.put(id, version, it)
	}
	return it, nil
}

// Version returns one version of an item as it was saved.
func (s *Store) Version(ctx context.Context, id int64, version int) (Item, error) {
	return s.version(ctx, s.db.Read(), id, version)
}

// Published returns the version citizens see, with the item's current
// status (a suspended item is shown with its reason; a draft-only or
// cancelled one is not found).
func (s *Store) Published(ctx context.Context, id int64) (Item, string, error) {
	it, reason, err := s.PublishedView(ctx, id)
	return it.Clone(), reason, err
}

// PublishedView is Published for a page that only shows the guide: the
// item shares its slices (materials, form, steps) with the cache and every
// other view, and must not be changed. A guide view then costs one
// point read and no copying.
func (s *Store) PublishedView(ctx context.Context, id int64) (Item, string, error) {
	row, err := s.publishedRow(ctx, id)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (row.version == 0 || row.status == Cancelled || row.status == Draft) {
		return Item{}, "", apperr.New(apperr.NotFound, "事项不存在或已取消")
	}
	if err != nil {
		return Item{}, "", err
	}
	it, ok := s.cache.shared(id, row.version)
	if !ok {
		if it, err = s.version(ctx, s.db.Read(), id, row.version); err != nil {
			return Item{}, "", err
		}
	}
	it.Status, it.Popularity = row.status, row.popularity
	return it, row.reason, nil
}

// publishedRow reads an item's published version and status, or takes
// them from the row read at the current catalog version.
func (s *Store) publishedRow(ctx context.Context, id int64) (publishedRow, error) {
	cv, err := s.db.CacheVersion(ctx, "catalog")
	if err != nil {
		return publishedRow{}, err
	}
	if v, ok := s.rows.Load(id); ok && v.(publishedRow).catalog == cv {
		return v.(publishedRow), nil
	}
	r := publishedRow{catalog: cv}
	err = s.db.Read().QueryRow(ctx, `SELECT published_version, status, status_reason, popularity FROM items WHERE id = ?`, id).
		Scan(&r.version, &r.status, &r.reason, &r.popularity)
	if err == nil {
		// Read after the version: a change committed in between leaves a
		// newer row under the older version, which the next version
		// replaces.
		s.rows.Store(id, r)
	}
	return r, err
}

// recentTTL is how old PublishedRecent's answer may be.
const recentTTL = time.Second

type recent struct {
	it  Item
	at  time.Time
	err error
}

// PublishedRecent is Published as it was at most a second ago, for the
// busiest path (an application): it spares a query per request. Whoever
// acts on it must check in their transaction that the item is still
// published at that version (casework's insert does).
func (s *Store) PublishedRecent(ctx context.Context, id int64) (Item, error) {
	now := time.Now()
	if v, ok := s.recent.Load(id); ok {
		if r := v.(recent); now.Sub(r.at) < recentTTL {
			return r.it.Clone(), r.err
		}
	}
	it, _, err := s.Published(ctx, id)
	if err != nil && apperr.CodeOf(err) == apperr.Internal {
		return it, err // not remembered: the next request tries again
	}
	s.recent.Store(id, recent{it: it.Clone(), at: now, err: err})
	return it, err
}

// AllPublished returns every item citizens can see (published or
// suspended), in ID order: for the search index and for export.
func (s *Store) AllPublished(ctx context.Context) ([]Item, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT i.status, i.popularity, v.body FROM items i
		JOIN item_versions v ON v.item_id = i.id AND v.version = i.published_version
		WHERE i.status IN ('published', 'suspended') ORDER BY i.id`)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var status Status
		var popularity int
		var body string
		if err := rows.Scan(&status, &popularity, &body); err != nil {
			return nil, err
		}
		var it Item
		if err := json.Unmarshal([]byte(body), &it); err != nil {
			return nil, err
		}
		it.Status, it.Popularity = status, popularity
		out = append(out, it)
	}
	return out, rows.Err()
}

type listed struct {
	id         int64
	version    int
	popularity int
	status     Status
}

// publishedList lists every item citizens can see, without its guide.
func (s *Store) publishedList(ctx context.Context) ([]listed, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT id, published_version, status, popularity FROM items
		WHERE status IN ('published', 'suspended')`)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	defer rows.Close()
	var out []listed
	for rows.Next() {
		var l listed
		if err := rows.Scan(&l.id, &l.version, &l.status, &l.popularity); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// indexEntries reads what the search index needs of the published
// versions of ids (nil: of every item citizens can see): the entry written
// at publication, or for an item published before there were entries,
// its guide.
func (s *Store) indexEntries(ctx context.Context, ids []int64) (map[int64]entry, error) {
	const q = `SELECT i.id, i.published_version, i.status, i.popularity,
		CASE WHEN i.search_entry = '' THEN (SELECT v.body FROM item_versions v WHERE v.item_id = i.id AND v.version = i.published_version)
		ELSE i.search_entry END
		FROM items i WHERE i.status IN ('published', 'suspended')`
	out := map[int64]entry{}
	read := func(q string, args ...any) error {
		rows, err := s.db.Read().Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("index entries: %w", err)
		}
		defer rows.Close()
		// Decoding is most of the work: it runs on every core while this
		// goroutine reads the rows, in batches.
		type row struct {
			id   int64
			e    entry
			body []byte
		}
		var mu sync.Mutex
		var decodeErr error
		batches := make(chan []row, runtime.GOMAXPROCS(0))
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for batch := range batches {
					for i := range batch {
						if err := json.Unmarshal(batch[i].body, &batch[i].e); err != nil {
							mu.Lock()
							decodeErr = cmp.Or(decodeErr, fmt.Errorf("item %d version %d: %w", batch[i].id, batch[i].e.Version, err))
							mu.Unlock()
						}
					}
					mu.Lock()
					for _, r := range batch {
						out[r.id] = r.e
					}
					mu.Unlock()
				}
			})
		}
		var batch []row
		for rows.Next() {
			var r row
			if err = rows.Scan(&r.id, &r.e.Version, &r.e.Status, &r.e.Popularity, &r.body); err != nil {
				break
			}
			if batch = append(batch, r); len(batch) == 1000 {
				batches <- batch
				batch = nil
			}
		}
		batches <- batch
		close(batches)
		wg.Wait()
		return cmp.Or(err, rows.Err(), decodeErr)
	}
	if ids == nil {
		return out, read(q)
	}
	for chunk := range slices.Chunk(ids, 500) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := read(q+` AND i.id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// History lists an item's changes, newest first.
func (s *Store) History(ctx context.Context, id int64) ([]Change, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT version, action, actor, reason, at FROM item_changes WHERE item_id = ? ORDER BY id DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.Version, &c.Action, &c.Actor, &c.Reason, &c.At); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Synonyms returns the search synonyms kept as catalog data: a term people
// type and what it should also find (开店 → 食品经营许可, 个体工商户设立登记).
func (s *Store) Synonyms(ctx context.Context) (map[string][]string, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT term, expansion FROM search_synonyms ORDER BY term, expansion`)
	if err != nil {
		return nil, fmt.Errorf("synonyms: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var term, exp string
		if err := rows.Scan(&term, &exp); err != nil {
			return nil, err
		}
		out[term] = append(out[term], exp)
	}
	return out, rows.Err()
}

// SetSynonyms replaces a term's expansions (none removes the term) and
// tells every instance to rebuild its search index.
func (s *Store) SetSynonyms(ctx context.Context, tx *store.Tx, term string, expansions []string) error {
	term = strings.TrimSpace(term)
	if term == "" || len([]rune(term)) > 20 {
		return apperr.New(apperr.Invalid, "同义词不能为空，且不超过20个字")
	}
	if _, err := tx.Exec(ctx, `DELETE FROM search_synonyms WHERE term = ?`, term); err != nil {
		return err
	}
	for _, e := range expansions {
		if e = strings.TrimSpace(e); e == "" || e == term {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO search_synonyms (term, expansion) VALUES (?, ?) ON CONFLICT DO NOTHING`, term, e); err != nil {
			return err
		}
	}
	return bumpCatalogVersion(ctx, tx)
}

// Managed is an item as catalog managers list it.
type Managed struct {
	ID               int64
	Name             string
	ImplCode         string
	DepartmentID     int64
	Level            int
	Status           Status
	PublishedVersion int
	LatestVersion    int
	UpdatedAt        time.Time
	// InReview is the version submitted for review, 0 when none waits.
	InReview int
}

// HasDraft reports whether a version newer than the published one waits.
func (m Managed) HasDraft() bool { return m.LatestVersion > m.PublishedVersion }

// managedColumns lists an item for its managers; in_review is the item's
// last change when it submits the newest version.
const managedColumns = `id, name, impl_code, department_id, level, status, published_version, latest_version, updated_at,
	COALESCE((SELECT CASE WHEN c.action = 'submit' AND c.version = items.latest_version THEN c.version ELSE 0 END
		FROM item_changes c WHERE c.item_id = items.id ORDER BY c.id DESC LIMIT 1), 0)`

func scanManaged(row interface{ Scan(...any) error }) (Managed, error) {
	var m Managed
	err := row.Scan(&m.ID, &m.Name, &m.ImplCode, &m.DepartmentID, &m.Level, &m.Status, &m.PublishedVersion, &m.LatestVersion, &m.UpdatedAt, &m.InReview)
	return m, err
}

// ManagedFilter narrows the managers' list; zero values match everything.
type ManagedFilter struct {
	DepartmentID int64  // 0: every department
	Query        string // a fragment of the name
	// State is "draft" (a version newer than the published one), "review"
	// (one waiting for review) or "" (any).
	State string
}

// ManagedItems lists a page of items for their managers, drafts first,
// and says how many match in all.
func (s *Store) ManagedItems(ctx context.Context, f ManagedFilter, offset, limit int) ([]Managed, int, error) {
	where := ` WHERE 1 = 1`
	var args []any
	if f.DepartmentID != 0 {
		where += ` AND department_id = ?`
		args = append(args, f.DepartmentID)
	}
	if t := strings.TrimSpace(f.Query); t != "" {
		where += ` AND name LIKE ? ESCAPE '\'`
		args = append(args, store.Contains(t))
	}
	switch f.State {
	case "":
	case "draft":
		where += ` AND latest_version > published_version`
	case "review":
		where += ` AND (SELECT c.action FROM item_changes c WHERE c.item_id = items.id ORDER BY c.id DESC LIMIT 1) = 'submit'`
	default:
		return nil, 0, apperr.New(apperr.Invalid, "状态筛选应为草稿或待审核")
	}
	q := s.db.Read()
	var total int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM items`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count managed items: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT `+managedColumns+` FROM items`+where+
		` ORDER BY CASE WHEN latest_version > published_version THEN 0 ELSE 1 END, updated_at DESC, id LIMIT ? OFFSET ?`,
		append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("managed items: %w", err)
	}
	defer rows.Close()
	var out []Managed
	for rows.Next() {
		m, err := scanManaged(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, m)
	}
	return out, total, rows.Err()
}

// Latest returns the newest version of an item (a draft, or the published
// one) for editing, with the item's list entry.
func (s *Store) Latest(ctx context.Context, id int64) (Item, Managed, error) {
	m, err := scanManaged(s.db.Read().QueryRow(ctx, `SELECT `+managedColumns+` FROM items WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Item{}, m, apperr.New(apperr.NotFound, "事项不存在")
	}
	if err != nil {
		return Item{}, m, err
	}
	it, err := s.version(ctx, s.db.Read(), id, m.LatestVersion)
	return it, m, err
}
