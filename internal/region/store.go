package region

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Store reads and writes regions and departments.
type Store struct {
	db    *store.DB
	clock clock.Clock
	dir   *directoryCache // shared by the copies WithClock makes
}

// NewStore returns a Store over db. Most users only read, so the clock
// its changes are stamped with is the system's unless WithClock says.
func NewStore(db *store.DB) *Store {
	return &Store{db: db, clock: clock.System{}, dir: &directoryCache{}}
}

// WithClock returns a Store whose changes take their time from clk.
func (s *Store) WithClock(clk clock.Clock) *Store { return &Store{db: s.db, clock: clk, dir: s.dir} }

const regionColumns = `code, name, level, COALESCE(parent_code, ''), kind, illustrative`

func scanRegion(row interface{ Scan(...any) error }) (Region, error) {
	var r Region
	err := row.Scan(&r.Code, &r.Name, &r.Level, &r.ParentCode, &r.Kind, &r.Illustrative)
	return r, err
}

// AddRegion validates r against its parent and inserts it in tx.
func (s *Store) AddRegion(ctx context.Context, tx *store.Tx, r Region) error {
	var parent *Region
	if r.ParentCode != "" {
		p, err := scanRegion(tx.QueryRow(ctx, `SELECT `+regionColumns+` FROM regions WHERE code = ?`, r.ParentCode))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.Invalid, "上级区划 "+r.ParentCode+" 不存在")
		}
		if err != nil {
			return fmt.Errorf("read parent region: %w", err)
		}
		parent = &p
	}
	if err := r.Validate(parent); err != nil {
		return err
	}
	var parentCode any
	if r.ParentCode != "" {
		parentCode = r.ParentCode
	}
	_, err := tx.Exec(ctx, `INSERT INTO regions (code, name, level, parent_code, kind, illustrative) VALUES (?, ?, ?, ?, ?, ?)`,
		r.Code, r.Name, r.Level, parentCode, r.Kind, r.Illustrative)
	if store.IsUniqueViolation(err) {
		return apperr.New(apperr.Conflict, "区划代码 "+r.Code+" 已存在")
	}
	if err == nil && r.Level == District {
		// One district per installation: the portal is that district's.
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM regions WHERE level = 1`).Scan(&n); err != nil {
			return err
		}
		if n > 1 {
			return apperr.New(apperr.Conflict, "平台只能有一个区县级区划")
		}
	}
	if err != nil {
		return err
	}
	return bumpDirectory(ctx, tx)
}

// District returns the root of the tree: the district this platform serves.
// Every page's layout names it, so it comes from the directory.
func (s *Store) District(ctx context.Context) (Region, error) {
	d, err := s.directory(ctx)
	if err != nil {
		return Region{}, err
	}
	for _, r := range d.regions {
		if r.Level == District {
			return r, nil
		}
	}
	return Region{}, apperr.New(apperr.NotFound, "尚未配置本区县的区划")
}

// Region returns one region by code.
func (s *Store) Region(ctx context.Context, code string) (Region, error) {
	d, err := s.directory(ctx)
	if err != nil {
		return Region{}, err
	}
	return d.region(code)
}

// RegionFilter narrows a region listing. Zero values match everything.
type RegionFilter struct {
	Level  Level
	Parent string
	Query  string // a substring of the name
}

// Regions lists regions in code order.
func (s *Store) Regions(ctx context.Context, f RegionFilter) ([]Region, error) {
	d, err := s.directory(ctx)
	if err != nil {
		return nil, err
	}
	return d.listRegions(f), nil
}

const departmentColumns = `d.id, d.slug, d.name, d.short_name, d.region_code, d.kind, d.credit_code, d.phone, d.address, d.hours, d.illustrative`

func scanDepartment(row interface{ Scan(...any) error }) (Department, error) {
	var d Department
	err := row.Scan(&d.ID, &d.Slug, &d.Name, &d.ShortName, &d.RegionCode, &d.Kind, &d.CreditCode, &d.Phone, &d.Address, &d.Hours, &d.Illustrative)
	return d, err
}

// AddDepartment validates d and inserts it in tx, returning its ID.
func (s *Store) AddDepartment(ctx context.Context, tx *store.Tx, d Department, now time.Time) (int64, error) {
	if err := d.Validate(); err != nil {
		return 0, err
	}
	var level Level
	err := tx.QueryRow(ctx, `SELECT level FROM regions WHERE code = ?`, d.RegionCode).Scan(&level)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, apperr.New(apperr.Invalid, "部门所属区划 "+d.RegionCode+" 不存在")
	}
	if err != nil {
		return 0, err
	}
	if want := kindLevel(d.Kind); want != 0 && want != level {
		return 0, apperr.New(apperr.Invalid, d.Kind.Name()+"应设在"+want.Name()+"区划")
	}
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO departments (slug, name, short_name, region_code, kind, credit_code, phone, address, hours, illustrative, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.Slug, d.Name, d.ShortName, d.RegionCode, d.Kind, d.CreditCode, d.Phone, d.Address, d.Hours, d.Illustrative, now, now).Scan(&id)
	if store.IsUniqueViolation(err) {
		return 0, apperr.New(apperr.Conflict, "部门标识或名称已存在："+d.Name)
	}
	if err != nil {
		return 0, err
	}
	return id, bumpDirectory(ctx, tx)
}

// kindLevel is the level at which a kind of department sits.
func kindLevel(k DeptKind) Level {
	switch k {
	case ServiceCenter, Bureau:
		return District
	case StreetCenter:
		return Street
	case CommunityStation:
		return Community
	}
	return 0
}

// Department returns one department by ID.
func (s *Store) Department(ctx context.Context, id int64) (Department, error) {
	d, err := s.directory(ctx)
	if err != nil {
		return Department{}, err
	}
	i, ok := d.byID[id]
	if !ok {
		return Department{}, apperr.New(apperr.NotFound, "部门不存在")
	}
	return d.departments[i], nil
}

// DepartmentBySlug returns one department by its stable slug.
func (s *Store) DepartmentBySlug(ctx context.Context, q store.Querier, slug string) (Department, error) {
	d, err := scanDepartment(q.QueryRow(ctx, `SELECT `+departmentColumns+` FROM departments d WHERE d.slug = ?`, slug))
	if errors.Is(err, sql.ErrNoRows) {
		return d, apperr.New(apperr.NotFound, "部门 "+slug+" 不存在")
	}
	return d, err
}

// DepartmentFilter narrows a department listing. Zero values match all.
type DepartmentFilter struct {
	Region string // exactly this region
	Within string // this region and everything below it
	Level  Level
	Kind   DeptKind
	Query  string // a substring of the name or short name
}

// Departments lists departments: the service centre first, then bureaus,
// then the street and community centres in region order.
func (s *Store) Departments(ctx context.Context, f DepartmentFilter) ([]Department, error) {
	d, err := s.directory(ctx)
	if err != nil {
		return nil, err
	}
	return d.listDepartments(f)
}

// DepartmentContact is what administrators keep up to date about a
// department: how and when people reach it.
type DepartmentContact struct {
	ShortName, Phone, Address, Hours string
}

// UpdateContact changes a department's short name, phone, address and
// opening hours, and records the change with what they were before. Only
// those who may edit the department may (administrators).
func (s *Store) UpdateContact(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, c DepartmentContact) error {
	d, err := s.Department(ctx, id)
	if err != nil {
		return err
	}
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.Department, DepartmentID: d.ID, RegionCode: d.RegionCode}); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		now := s.clock.Now()
		old, err := updateContact(ctx, tx, id, &c, now)
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: who.Name, Action: "department_update",
			Object: fmt.Sprintf("department:%d", id), IP: meta.IP,
			Detail: fmt.Sprintf("简称「%s」→「%s」；电话「%s」→「%s」；地址「%s」→「%s」；办公时间「%s」→「%s」",
				old.ShortName, c.ShortName, old.Phone, c.Phone, old.Address, c.Address, old.Hours, c.Hours)})
	})
}

// updateContact writes c (trimmed) in tx and returns what was there.
func updateContact(ctx context.Context, tx *store.Tx, id int64, c *DepartmentContact, now time.Time) (DepartmentContact, error) {
	var old DepartmentContact
	err := tx.QueryRow(ctx, `SELECT short_name, phone, address, hours FROM departments WHERE id = ?`, id).
		Scan(&old.ShortName, &old.Phone, &old.Address, &old.Hours)
	if errors.Is(err, sql.ErrNoRows) {
		return old, apperr.New(apperr.NotFound, "部门不存在")
	}
	if err != nil {
		return old, err
	}
	c.ShortName, c.Phone, c.Address, c.Hours = strings.TrimSpace(c.ShortName), strings.TrimSpace(c.Phone), strings.TrimSpace(c.Address), strings.TrimSpace(c.Hours)
	switch {
	case c.ShortName == "" || len([]rune(c.ShortName)) > 30:
		return old, apperr.New(apperr.Invalid, "部门简称不能为空，且不超过30个字")
	case len([]rune(c.Phone)) > 40 || len([]rune(c.Address)) > 200 || len([]rune(c.Hours)) > 200:
		return old, apperr.New(apperr.Invalid, "电话不超过40个字，地址和办公时间不超过200个字")
	}
	if _, err = tx.Exec(ctx, `UPDATE departments SET short_name = ?, phone = ?, address = ?, hours = ?, updated_at = ? WHERE id = ?`,
		c.ShortName, c.Phone, c.Address, c.Hours, now, id); err != nil {
		return old, err
	}
	return old, bumpDirectory(ctx, tx)
}
