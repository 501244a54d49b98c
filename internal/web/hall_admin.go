package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/hall"
	"github.com/zwfw/zwfw/internal/region"
)

// The halls' administration (窗口组) and the waiting figures.

func init() {
	adminTools = append(adminTools,
		adminTool{"GET /admin/hall", "/admin/hall", "大厅窗口组", "政务服务中心和便民服务中心的窗口组、预约时段和容量"},
		adminTool{"GET /admin/hall/waits", "/admin/hall/waits", "大厅等候时长", "各窗口组每天的平均和最长等候、办理时长"})
	for k, v := range map[string]string{"hall_group_create": "新建窗口组", "hall_group_edit": "修改窗口组"} {
		auditActions[k] = v
	}
}

type hallAdminData struct {
	Halls  []hall.Hall
	Items  map[int64][]catalog.Item // by hall: the published items it may serve
	Edit   int64                    // the group whose form shows an error
	Values url.Values
	Error  string
	Notice string
}

// hallGroupForm is one group's form (Group.ID 0: a new one), with what was
// typed when it is the form that was refused.
type hallGroupForm struct {
	Hall   hall.Hall
	Group  hall.Group
	Items  []catalog.Item
	Values url.Values // nil: the group as stored
}

// Form is the form of an existing group.
func (d hallAdminData) Form(h hall.Hall, g hall.Group) hallGroupForm {
	f := hallGroupForm{Hall: h, Group: g, Items: d.Items[h.ID]}
	if d.Values != nil && d.Edit == g.ID && formID(d.Values, "hall") == h.ID {
		f.Values = d.Values
	}
	return f
}

// New is the form of a new group of h.
func (d hallAdminData) New(h hall.Hall) hallGroupForm {
	return d.Form(h, hall.Group{HoursText: "09:00-12:00,13:30-17:30", SlotMinutes: 30, Capacity: 5})
}

// Value is a field's value: as typed, or as stored.
func (f hallGroupForm) Value(name string) string {
	if f.Values != nil {
		return f.Values.Get(name)
	}
	g := f.Group
	switch name {
	case "name":
		return g.Name
	case "prefix":
		return g.Prefix
	case "windows":
		return strings.Join(g.Windows, ",")
	case "hours":
		return g.HoursText
	case "slot_minutes":
		return strconv.Itoa(g.SlotMinutes)
	case "capacity":
		return strconv.Itoa(g.Capacity)
	}
	return ""
}

// Checked reports whether the item's box is ticked.
func (f hallGroupForm) Checked(id int64) bool {
	if f.Values != nil {
		return slices.Contains(f.Values["items"], strconv.FormatInt(id, 10))
	}
	return f.Group.Serves(id)
}

func (s *Server) hallAdmin(w http.ResponseWriter, r *http.Request) error {
	return s.renderHallAdmin(w, r, http.StatusOK, hallAdminData{Notice: map[string]string{"saved": "窗口组已保存。"}[r.URL.Query().Get("done")]})
}

func (s *Server) renderHallAdmin(w http.ResponseWriter, r *http.Request, status int, d hallAdminData) error {
	var err error
	if d.Halls, err = s.halls.Halls(r.Context()); err != nil {
		return err
	}
	items, err := s.catalog.AllPublished(r.Context())
	if err != nil {
		return err
	}
	// The district's centre serves the district's items; a street's centre
	// its own.
	d.Items = map[int64][]catalog.Item{}
	for _, h := range d.Halls {
		for _, it := range items {
			if h.Kind == region.ServiceCenter && it.Level == int(region.District) || it.DepartmentID == h.ID {
				d.Items[h.ID] = append(d.Items[h.ID], it)
			}
		}
	}
	return s.render(w, r, status, "hall_admin", "admin", d)
}

func (s *Server) hallGroupSave(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	in := hall.GroupInput{ID: formID(f, "id"), DepartmentID: formID(f, "hall"), Name: f.Get("name"), Prefix: f.Get("prefix"),
		Windows: f.Get("windows"), Hours: f.Get("hours")}
	in.SlotMinutes, _ = strconv.Atoi(f.Get("slot_minutes"))
	in.Capacity, _ = strconv.Atoi(f.Get("capacity"))
	for _, v := range f["items"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			in.ItemIDs = append(in.ItemIDs, id)
		}
	}
	if _, err := s.halls.SaveGroup(r.Context(), subject(r), meta(r), in); err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderHallAdmin(w, r, status, hallAdminData{Edit: in.ID, Values: f, Error: message})
		})
	}
	http.Redirect(w, r, "/admin/hall?done=saved", http.StatusSeeOther)
	return nil
}

type waitsData struct {
	From, To string
	Waits    []hall.Wait
	Error    string
}

func (waitsData) Minutes(sec int) string { return hall.Minutes(sec) }

// hallWaits shows the average and longest waits per group and day, for
// the last 7 days unless a period is asked for.
func (s *Server) hallWaits(w http.ResponseWriter, r *http.Request) error {
	today := calendar.DateOf(s.clock.Now())
	d := waitsData{From: today.AddDays(-6).String(), To: today.String()}
	status := http.StatusOK
	q := r.URL.Query()
	from, ferr := calendar.ParseDate(q.Get("from"))
	to, terr := calendar.ParseDate(q.Get("to"))
	switch {
	case q.Get("from") == "" && q.Get("to") == "":
		from, to = today.AddDays(-6), today
	case ferr != nil || terr != nil || to.Before(from) || to.AddDays(-366).After(from):
		d.Error, status = "请输入正确的起止日期（不超过一年）。", http.StatusBadRequest
		from, to = today.AddDays(-6), today
	default:
		d.From, d.To = from.String(), to.String()
	}
	var err error
	if d.Waits, err = s.halls.Waits(r.Context(), subject(r), from, to); err != nil {
		return err
	}
	return s.render(w, r, status, "hall_waits", "admin", d)
}
