// Package hall runs the service halls: the district's 政务服务中心 and
// each street's 便民服务中心. A hall is a department of kind center or
// street_center (internal/region), not a table of its own: departments
// already carry the name, address, hours and region a hall needs, and
// every staff member already belongs to one. A hall has window groups
// (窗口组): a letter for its numbers, the items it serves, its windows,
// its office periods, its slot length and the bookings a slot takes.
//
// People book a slot for an item (预约), on the calendar's working days
// only (a 调休 Saturday has slots, a holiday none), until BookingCutoff
// before the slot starts and at most BookAhead days ahead; they cancel
// until the slot starts. At the hall they take a number (取号): with the
// booking's number at the kiosk (a number with priority), with their
// 身份证号码 at the kiosk, or from a window clerk. Clerks call the next
// number of their group: booked numbers first, each kind in the order
// taken. The waiting times (taken → called, called → served) are added to
// hall_waits in the transaction of each call and each service.
package hall

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// Rules of booking.
const (
	// BookingCutoff: a slot can be booked until this long before it starts.
	BookingCutoff = 30 * time.Minute
	// BookAhead: slots are offered from today to this many days ahead.
	BookAhead = 7
	// CheckInEarly: a booking checks in at the kiosk from this long before
	// its slot until the slot ends.
	CheckInEarly = 30 * time.Minute
	// NoShowLimit no-shows within NoShowDays days stop a person booking
	// until the oldest of them is NoShowDays days old.
	NoShowLimit = 3
	NoShowDays  = 90
)

// Service keeps the halls' groups, bookings and numbers.
type Service struct {
	db       *store.DB
	clock    clock.Clock
	calendar *calendar.Calendar
	keys     *pii.Keys // seals the ID numbers taken at the kiosk
	regions  *region.Store
}

// New returns the service.
func New(db *store.DB, clk clock.Clock, cal *calendar.Calendar, keys *pii.Keys, regions *region.Store) *Service {
	return &Service{db: db, clock: clk, calendar: cal, keys: keys, regions: regions}
}

// Item is an item a group serves.
type Item struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	DepartmentID int64  `json:"-"`
}

// Group is a window group (窗口组) of a hall.
type Group struct {
	ID           int64
	DepartmentID int64 // the hall
	Name         string
	Prefix       string // one capital letter: its numbers are A001, A002 …
	Windows      []string
	Hours        calendar.OfficeDay
	HoursText    string // as the administrator wrote it
	SlotMinutes  int
	Capacity     int // bookings per slot
	Items        []Item
}

// Serves reports whether the group serves the item.
func (g Group) Serves(itemID int64) bool {
	return slices.ContainsFunc(g.Items, func(it Item) bool { return it.ID == itemID })
}

// Item returns the group's item with id.
func (g Group) Item(id int64) (Item, bool) {
	i := slices.IndexFunc(g.Items, func(it Item) bool { return it.ID == id })
	if i < 0 {
		return Item{}, false
	}
	return g.Items[i], true
}

// queue is the resource of the group's numbers, for policy.
func (g Group) queue() policy.Resource {
	r := policy.Resource{Kind: policy.HallQueue, DepartmentID: g.DepartmentID}
	for _, it := range g.Items {
		if !slices.Contains(r.Helpers, it.DepartmentID) {
			r.Helpers = append(r.Helpers, it.DepartmentID)
		}
	}
	return r
}

// Hall is a service centre with its window groups.
type Hall struct {
	region.Department
	Groups []Group
}

// Group returns the hall's group with id.
func (h Hall) Group(id int64) (Group, bool) {
	i := slices.IndexFunc(h.Groups, func(g Group) bool { return g.ID == id })
	if i < 0 {
		return Group{}, false
	}
	return h.Groups[i], true
}

// IsHall reports whether a department is a hall.
func IsHall(d region.Department) bool {
	return d.Kind == region.ServiceCenter || d.Kind == region.StreetCenter
}

// Halls lists every hall with its groups: the district's centre first,
// then the streets' in region order.
func (s *Service) Halls(ctx context.Context) ([]Hall, error) {
	var depts []region.Department
	for _, k := range []region.DeptKind{region.ServiceCenter, region.StreetCenter} {
		d, err := s.regions.Departments(ctx, region.DepartmentFilter{Kind: k})
		if err != nil {
			return nil, err
		}
		depts = append(depts, d...)
	}
	groups, err := s.groups(ctx, s.db.Read(), 0)
	if err != nil {
		return nil, err
	}
	out := make([]Hall, 0, len(depts))
	for _, d := range depts {
		h := Hall{Department: d}
		for _, g := range groups {
			if g.DepartmentID == d.ID {
				h.Groups = append(h.Groups, g)
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// Hall returns the hall whose department has slug.
func (s *Service) Hall(ctx context.Context, slug string) (Hall, error) {
	d, err := s.regions.DepartmentBySlug(ctx, s.db.Read(), slug)
	if err != nil || !IsHall(d) {
		if err == nil || apperr.Is(err, apperr.NotFound) {
			return Hall{}, apperr.New(apperr.NotFound, "没有这个服务大厅。")
		}
		return Hall{}, err
	}
	h := Hall{Department: d}
	h.Groups, err = s.groups(ctx, s.db.Read(), d.ID)
	return h, err
}

// group reads one group with its items.
func (s *Service) group(ctx context.Context, q store.Querier, id int64) (Group, error) {
	gs, err := s.groupsWhere(ctx, q, `g.id = ?`, id)
	if err != nil {
		return Group{}, err
	}
	if len(gs) == 0 {
		return Group{}, apperr.New(apperr.NotFound, "没有这个窗口组。")
	}
	return gs[0], nil
}

// groups reads the groups of one hall (0: of every hall), in order of
// their letters.
func (s *Service) groups(ctx context.Context, q store.Querier, dept int64) ([]Group, error) {
	if dept == 0 {
		return s.groupsWhere(ctx, q, `1 = 1`)
	}
	return s.groupsWhere(ctx, q, `g.department_id = ?`, dept)
}

func (s *Service) groupsWhere(ctx context.Context, q store.Querier, where string, args ...any) ([]Group, error) {
	rows, err := q.Query(ctx, `SELECT g.id, g.department_id, g.name, g.prefix, g.windows, g.hours, g.slot_minutes, g.capacity
		FROM hall_groups g WHERE `+where+` ORDER BY g.department_id, g.prefix`, args...)
	if err != nil {
		return nil, fmt.Errorf("hall groups: %w", err)
	}
	var out []Group
	byID := map[int64]int{}
	for rows.Next() {
		var g Group
		var windows string
		if err := rows.Scan(&g.ID, &g.DepartmentID, &g.Name, &g.Prefix, &windows, &g.HoursText, &g.SlotMinutes, &g.Capacity); err != nil {
			rows.Close()
			return nil, err
		}
		g.Windows = splitList(windows)
		if g.Hours, err = calendar.ParseOfficeDay(g.HoursText); err != nil {
			rows.Close()
			return nil, fmt.Errorf("hall group %d: %w", g.ID, err)
		}
		byID[g.ID] = len(out)
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	irows, err := q.Query(ctx, `SELECT gi.group_id, i.id, i.name, i.department_id FROM hall_group_items gi
		JOIN items i ON i.id = gi.item_id JOIN hall_groups g ON g.id = gi.group_id WHERE `+where+` ORDER BY gi.group_id, i.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("hall group items: %w", err)
	}
	defer irows.Close()
	for irows.Next() {
		var gid int64
		var it Item
		if err := irows.Scan(&gid, &it.ID, &it.Name, &it.DepartmentID); err != nil {
			return nil, err
		}
		if i, ok := byID[gid]; ok {
			out[i].Items = append(out[i].Items, it)
		}
	}
	return out, irows.Err()
}

// splitList reads a list typed with commas (either width) or 、.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// GroupInput is a window group as the administrator's form gives it.
type GroupInput struct {
	ID           int64 // 0: a new group
	DepartmentID int64
	Name         string
	Prefix       string
	Windows      string // names separated by commas
	Hours        string // "09:00-12:00,13:30-17:30"
	SlotMinutes  int
	Capacity     int
	ItemIDs      []int64
}

var settings = policy.Resource{Kind: policy.HallSettings}

// SaveGroup creates or changes a window group, for an administrator;
// audited with what it became.
func (s *Service) SaveGroup(ctx context.Context, who policy.Subject, meta audit.Meta, in GroupInput) (Group, error) {
	if err := policy.Check(who, policy.Edit, settings); err != nil {
		return Group{}, err
	}
	in.Name, in.Prefix = strings.TrimSpace(in.Name), strings.ToUpper(strings.TrimSpace(in.Prefix))
	windows := splitList(in.Windows)
	hours, herr := calendar.ParseOfficeDay(in.Hours)
	switch {
	case in.Name == "":
		return Group{}, apperr.New(apperr.Invalid, "请填写窗口组名称，如“综合受理”。")
	case utf8.RuneCountInString(in.Name) > 20:
		return Group{}, apperr.New(apperr.Invalid, "窗口组名称不能超过 20 个字。")
	case len(in.Prefix) != 1 || in.Prefix[0] < 'A' || in.Prefix[0] > 'Z':
		return Group{}, apperr.New(apperr.Invalid, "号码字头应为一个大写英文字母（A–Z）。")
	case len(windows) == 0:
		return Group{}, apperr.New(apperr.Invalid, "请至少填写一个窗口，如“1号窗口”，多个用逗号分隔。")
	case len(windows) > 30:
		return Group{}, apperr.New(apperr.Invalid, "一个窗口组最多 30 个窗口。")
	case herr != nil:
		return Group{}, apperr.New(apperr.Invalid, "办公时间应写成“09:00-12:00,13:30-17:30”，时段按先后排列、互不重叠。")
	case in.SlotMinutes < 5 || in.SlotMinutes > 240:
		return Group{}, apperr.New(apperr.Invalid, "每个预约时段应为 5 到 240 分钟。")
	case in.Capacity < 1 || in.Capacity > 100:
		return Group{}, apperr.New(apperr.Invalid, "每个时段可预约人数应为 1 到 100。")
	case len(in.ItemIDs) == 0:
		return Group{}, apperr.New(apperr.Invalid, "请选择窗口组办理的事项。")
	}
	for _, w := range windows {
		if utf8.RuneCountInString(w) > 20 {
			return Group{}, apperr.New(apperr.Invalid, "窗口名称“"+w+"”太长（最多 20 个字）。")
		}
	}
	if fits := slices.ContainsFunc(hours.Periods, func(p calendar.Period) bool { return p.End-p.Start >= in.SlotMinutes }); !fits {
		return Group{}, apperr.New(apperr.Invalid, "预约时段比每个办公时段都长，一个时段也排不下。")
	}
	d, err := s.regions.Department(ctx, in.DepartmentID)
	if err != nil {
		return Group{}, err
	}
	if !IsHall(d) {
		return Group{}, apperr.New(apperr.Invalid, "只有政务服务中心和便民服务中心设窗口组。")
	}
	slices.Sort(in.ItemIDs)
	in.ItemIDs = slices.Compact(in.ItemIDs)
	var g Group
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		for _, id := range in.ItemIDs {
			var status string
			err := tx.QueryRow(ctx, `SELECT status FROM items WHERE id = ?`, id).Scan(&status)
			if errors.Is(err, sql.ErrNoRows) || err == nil && status != "published" {
				return apperr.New(apperr.Invalid, fmt.Sprintf("事项 %d 不存在或未发布，不能预约。", id))
			}
			if err != nil {
				return err
			}
		}
		now := s.clock.Now()
		action := "hall_group_edit"
		if in.ID == 0 {
			action = "hall_group_create"
			err := tx.QueryRow(ctx, `INSERT INTO hall_groups (department_id, name, prefix, windows, hours, slot_minutes, capacity, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, d.ID, in.Name, in.Prefix, strings.Join(windows, ","), in.Hours, in.SlotMinutes, in.Capacity, now, now).Scan(&in.ID)
			if err != nil {
				return groupConflict(err)
			}
		} else {
			old, err := s.group(ctx, tx, in.ID)
			if err != nil {
				return err
			}
			if old.DepartmentID != d.ID {
				return apperr.New(apperr.Invalid, "窗口组不能移到另一个大厅。")
			}
			if _, err := tx.Exec(ctx, `UPDATE hall_groups SET name = ?, prefix = ?, windows = ?, hours = ?, slot_minutes = ?, capacity = ?, updated_at = ? WHERE id = ?`,
				in.Name, in.Prefix, strings.Join(windows, ","), in.Hours, in.SlotMinutes, in.Capacity, now, in.ID); err != nil {
				return groupConflict(err)
			}
			if _, err := tx.Exec(ctx, `DELETE FROM hall_group_items WHERE group_id = ?`, in.ID); err != nil {
				return err
			}
		}
		for _, id := range in.ItemIDs {
			if _, err := tx.Exec(ctx, `INSERT INTO hall_group_items (group_id, item_id) VALUES (?, ?)`, in.ID, id); err != nil {
				return err
			}
		}
		if g, err = s.group(ctx, tx, in.ID); err != nil {
			return err
		}
		detail := fmt.Sprintf("%s %s（字头 %s）：窗口 %s；办公时间 %s；每 %d 分钟一个时段，每时段 %d 人；事项 %d 项",
			d.Name, g.Name, g.Prefix, strings.Join(g.Windows, "、"), g.HoursText, g.SlotMinutes, g.Capacity, len(g.Items))
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: who.Name, Action: action,
			Object: "hall_group:" + strconv.FormatInt(g.ID, 10), Detail: detail, IP: meta.IP, RegionCode: who.RegionCode})
	})
	return g, err
}

func groupConflict(err error) error {
	if store.IsUniqueViolation(err) {
		return apperr.New(apperr.Conflict, "本大厅已有同名或同字头的窗口组，请换一个名称或字头。")
	}
	return fmt.Errorf("hall group: %w", err)
}

// today is the Beijing date now.
func (s *Service) today() calendar.Date { return calendar.DateOf(s.clock.Now()) }
