package complaint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Unit of a complaint limit.
type Unit string

const (
	Hours        Unit = "hours"         // 小时: around the clock
	WorkingHours Unit = "working_hours" // 工作小时: office periods of working days
	WorkingDays  Unit = "working_days"  // 工作日: to the close of the n-th working day after
)

// Units lists the units in the order forms offer them.
var Units = []Unit{Hours, WorkingHours, WorkingDays}

var unitNames = map[Unit]string{Hours: "小时", WorkingHours: "工作小时", WorkingDays: "工作日"}

// Name is the unit in Chinese.
func (u Unit) Name() string { return unitNames[u] }

// Limit is a time limit of a category.
type Limit struct {
	Value int
	Unit  Unit
}

// String reads 2 小时, 7 工作日.
func (l Limit) String() string { return fmt.Sprintf("%d %s", l.Value, l.Unit.Name()) }

// Category is a kind of complaint with its limits: dispatch (from
// receipt to the unit's signature) and feedback (from receipt to the
// reply).
type Category struct {
	ID          int64  `json:"id"`
	Code        string `json:"code"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Dispatch    Limit  `json:"-"`
	Feedback    Limit  `json:"-"`
	Position    int    `json:"-"`
	Active      bool   `json:"active"`
}

// Defaults after Beijing's 接诉即办 rules. Emergencies and the utilities
// (水电气热) run around the clock, so their limits are natural hours; a
// general request is dispatched within one office day (the "24 hours" of a
// hotline that works day and night is one office day for units that keep
// office hours: 7 working hours) and answered in 7 working days; a complex
// one in 15.
var Defaults = []Category{
	{Code: "emergency", Name: "紧急类", Description: "危及人身财产安全、需立即处置的诉求", Dispatch: Limit{1, Hours}, Feedback: Limit{2, Hours}},
	{Code: "utilities", Name: "水电气热", Description: "停水、停电、燃气、供暖等公用事业诉求", Dispatch: Limit{2, Hours}, Feedback: Limit{24, Hours}},
	{Code: "general", Name: "一般类", Description: "市容环境、噪声扰民、政务服务等一般诉求", Dispatch: Limit{7, WorkingHours}, Feedback: Limit{7, WorkingDays}},
	{Code: "complex", Name: "复杂类", Description: "涉及多个部门或历史遗留问题的诉求", Dispatch: Limit{7, WorkingHours}, Feedback: Limit{15, WorkingDays}},
}

func (l Limit) validate(what string) error {
	if unitNames[l.Unit] == "" {
		return apperr.New(apperr.Invalid, what+"的单位应为小时、工作小时或工作日。")
	}
	if l.Value < 1 || l.Value > 999 {
		return apperr.New(apperr.Invalid, what+"应为 1 到 999 之间的整数。")
	}
	return nil
}

// Validate checks a category as an administrator gives it.
func (c *Category) Validate() error {
	c.Code, c.Name, c.Description = strings.TrimSpace(c.Code), strings.TrimSpace(c.Name), strings.TrimSpace(c.Description)
	if c.Code == "" || len(c.Code) > 32 || strings.Trim(c.Code, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
		return apperr.New(apperr.Invalid, "类别代码应为 1 到 32 个小写字母、数字、下划线或连字符。")
	}
	if c.Name == "" || utf8.RuneCountInString(c.Name) > 30 {
		return apperr.New(apperr.Invalid, "请填写类别名称（不超过 30 个字）。")
	}
	if utf8.RuneCountInString(c.Description) > 200 {
		return apperr.New(apperr.Invalid, "类别说明不超过 200 个字。")
	}
	if err := c.Dispatch.validate("派单时限"); err != nil {
		return err
	}
	return c.Feedback.validate("反馈时限")
}

// due is the end of limit l counted from start; warn is when a quarter
// of it is left (working days: at the close of the working day before).
func (s *Service) due(start time.Time, l Limit) (due, warn time.Time) {
	switch l.Unit {
	case Hours:
		d := time.Duration(l.Value) * time.Hour
		return start.Add(d), start.Add(d * 3 / 4)
	case WorkingHours:
		d := time.Duration(l.Value) * time.Hour
		return s.calendar.AddWorkingTime(start, d, s.opt.OfficeDay), s.calendar.AddWorkingTime(start, d*3/4, s.opt.OfficeDay)
	}
	day := calendar.DateOf(start)
	return s.opt.OfficeDay.Close(s.calendar.AddWorkdays(day, l.Value)), s.opt.OfficeDay.Close(s.calendar.AddWorkdays(day, l.Value-1))
}

const categoryColumns = `id, code, name, description, dispatch_value, dispatch_unit, feedback_value, feedback_unit, position, active`

func scanCategory(row interface{ Scan(...any) error }) (Category, error) {
	var c Category
	err := row.Scan(&c.ID, &c.Code, &c.Name, &c.Description, &c.Dispatch.Value, &c.Dispatch.Unit, &c.Feedback.Value, &c.Feedback.Unit, &c.Position, &c.Active)
	return c, err
}

// Categories lists the categories, active ones only unless all.
func (s *Service) Categories(ctx context.Context, all bool) ([]Category, error) {
	q := `SELECT ` + categoryColumns + ` FROM complaint_categories`
	if !all {
		q += ` WHERE active = ?`
	}
	q += ` ORDER BY position, id`
	var args []any
	if !all {
		args = append(args, true)
	}
	rows, err := s.db.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Category
	for rows.Next() {
		c, err := scanCategory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Category reads one category by id.
func (s *Service) Category(ctx context.Context, id int64) (Category, error) {
	return categoryIn(ctx, s.db.Read(), id)
}

func categoryIn(ctx context.Context, q store.Querier, id int64) (Category, error) {
	c, err := scanCategory(q.QueryRow(ctx, `SELECT `+categoryColumns+` FROM complaint_categories WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "没有这个诉求类别。")
	}
	return c, err
}

// CategoryByCode reads one category by its code.
func (s *Service) CategoryByCode(ctx context.Context, code string) (Category, error) {
	c, err := scanCategory(s.db.Read().QueryRow(ctx, `SELECT `+categoryColumns+` FROM complaint_categories WHERE code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "没有这个诉求类别。")
	}
	return c, err
}

// SaveCategory adds a category (ID 0) or changes one; an administrator's.
// A changed limit counts for complaints received afterwards.
func (s *Service) SaveCategory(ctx context.Context, who policy.Subject, meta audit.Meta, c Category) (Category, error) {
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.ComplaintSettings}); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		now := s.clock.Now()
		var err error
		if c.ID == 0 {
			err = tx.QueryRow(ctx, `INSERT INTO complaint_categories (code, name, description, dispatch_value, dispatch_unit, feedback_value, feedback_unit, position, active, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.Code, c.Name, c.Description, c.Dispatch.Value, c.Dispatch.Unit,
				c.Feedback.Value, c.Feedback.Unit, c.Position, c.Active, now).Scan(&c.ID)
		} else {
			var res sql.Result
			res, err = tx.Exec(ctx, `UPDATE complaint_categories SET code = ?, name = ?, description = ?, dispatch_value = ?, dispatch_unit = ?,
				feedback_value = ?, feedback_unit = ?, position = ?, active = ?, updated_at = ? WHERE id = ?`, c.Code, c.Name, c.Description,
				c.Dispatch.Value, c.Dispatch.Unit, c.Feedback.Value, c.Feedback.Unit, c.Position, c.Active, now, c.ID)
			if err == nil {
				if n, _ := res.RowsAffected(); n == 0 {
					return apperr.New(apperr.NotFound, "没有这个诉求类别。")
				}
			}
		}
		if store.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "已有同名或同代码的诉求类别。")
		}
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: who.Name, Action: "config",
			Object: fmt.Sprintf("complaint_category:%d", c.ID), IP: meta.IP,
			Detail: fmt.Sprintf("诉求类别 %s（%s）：派单时限 %s，反馈时限 %s，启用 %v", c.Name, c.Code, c.Dispatch, c.Feedback, c.Active)})
	})
	return c, err
}

// SeedDefaults adds the default categories to a database that has none.
func (s *Service) SeedDefaults(ctx context.Context, who policy.Subject, meta audit.Meta) error {
	cats, err := s.Categories(ctx, true)
	if err != nil || len(cats) > 0 {
		return err
	}
	for i, c := range Defaults {
		c.Position, c.Active = i+1, true
		if _, err := s.SaveCategory(ctx, who, meta, c); err != nil {
			return err
		}
	}
	return nil
}

// Route is a routing rule: complaints of a category in a region (and its
// subtree, unless a more specific rule says otherwise) go to a department.
type Route struct {
	ID           int64
	CategoryID   int64
	Category     string
	RegionCode   string
	Region       string
	DepartmentID int64
	Department   string
}

// Routes lists the routing rules by category and region.
func (s *Service) Routes(ctx context.Context) ([]Route, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT r.id, r.category_id, c.name, r.region_code, g.name, r.department_id, d.name
		FROM complaint_routes r JOIN complaint_categories c ON c.id = r.category_id JOIN regions g ON g.code = r.region_code
		JOIN departments d ON d.id = r.department_id ORDER BY c.position, c.id, r.region_code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Route
	for rows.Next() {
		var r Route
		if err := rows.Scan(&r.ID, &r.CategoryID, &r.Category, &r.RegionCode, &r.Region, &r.DepartmentID, &r.Department); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveRoute sets the department for a category in a region (replacing the
// rule there, if any); an administrator's.
func (s *Service) SaveRoute(ctx context.Context, who policy.Subject, meta audit.Meta, categoryID int64, regionCode string, departmentID int64) error {
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.ComplaintSettings}); err != nil {
		return err
	}
	cat, err := s.Category(ctx, categoryID)
	if err != nil {
		return apperr.New(apperr.Invalid, "请选择诉求类别。")
	}
	reg, err := s.regions.Region(ctx, regionCode)
	if err != nil {
		return apperr.New(apperr.Invalid, "请选择区域。")
	}
	dept, err := s.regions.Department(ctx, departmentID)
	if err != nil {
		return apperr.New(apperr.Invalid, "请选择承办单位。")
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO complaint_routes (category_id, region_code, department_id) VALUES (?, ?, ?)
			ON CONFLICT (category_id, region_code) DO UPDATE SET department_id = excluded.department_id`, cat.ID, reg.Code, dept.ID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: who.Name, Action: "config",
			Object: "complaint_route:" + cat.Code + ":" + reg.Code, IP: meta.IP,
			Detail: fmt.Sprintf("派单规则：%s · %s → %s", cat.Name, reg.Name, dept.Name)})
	})
}

// RemoveRoute deletes a routing rule; an administrator's.
func (s *Service) RemoveRoute(ctx context.Context, who policy.Subject, meta audit.Meta, id int64) error {
	if err := policy.Check(who, policy.Edit, policy.Resource{Kind: policy.ComplaintSettings}); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		var cat, reg string
		var dept int64
		err := tx.QueryRow(ctx, `SELECT c.code, r.region_code, r.department_id FROM complaint_routes r JOIN complaint_categories c ON c.id = r.category_id
			WHERE r.id = ?`, id).Scan(&cat, &reg, &dept)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "没有这条派单规则。")
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM complaint_routes WHERE id = ?`, id); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: who.Name, Action: "config",
			Object: "complaint_route:" + cat + ":" + reg, IP: meta.IP, Detail: fmt.Sprintf("删除派单规则（原承办单位 %d）", dept)})
	})
}

// routeFor is the department of the most specific rule for a category
// whose region holds code: the community's, the street's, the district's;
// 0 when none matches.
func routeFor(ctx context.Context, q store.Querier, categoryID int64, code string) (int64, error) {
	if len(code) != 12 {
		return 0, nil
	}
	var dept int64
	err := q.QueryRow(ctx, `SELECT department_id FROM complaint_routes WHERE category_id = ? AND region_code IN (?, ?, ?)
		ORDER BY region_code DESC LIMIT 1`, categoryID, code, code[:9]+"000", code[:6]+"000000").Scan(&dept)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return dept, err
}
