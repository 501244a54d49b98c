package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/hall"
	"github.com/zwfw/zwfw/internal/httpx"
)

// The hall through the API: a group's slots of a day and each hall's
// screen feed are public; a signed-in person lists, makes and cancels
// their bookings.

// BookingsPath is the signed-in person's bookings.
const BookingsPath = "/api/v1/me/bookings"

func (a *API) hallService() (*hall.Service, error) {
	if a.halls == nil {
		return nil, apperr.New(apperr.Unavailable, "本实例未开放大厅预约接口。")
	}
	return a.halls, nil
}

func (a *API) hallSlots(w http.ResponseWriter, r *http.Request) error {
	hs, err := a.hallService()
	if err != nil {
		return err
	}
	h, err := hs.Hall(r.Context(), r.PathValue("hall"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	id, err := strconv.ParseInt(q.Get("group"), 10, 64)
	g, ok := h.Group(id)
	if err != nil || !ok {
		return apperr.New(apperr.Invalid, "参数 group 应为本大厅窗口组的编号。")
	}
	day, err := calendar.ParseDate(q.Get("date"))
	if err != nil {
		return apperr.New(apperr.Invalid, "参数 date 应为日期，如 2026-12-08。")
	}
	_, slots, err := hs.Slots(r.Context(), g.ID, day)
	if err != nil {
		return err
	}
	if slots == nil {
		slots = []hall.Slot{}
	}
	items := g.Items
	if items == nil {
		items = []hall.Item{}
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		Hall    string      `json:"hall"`
		GroupID int64       `json:"group_id"`
		Group   string      `json:"group"`
		Date    string      `json:"date"`
		Workday bool        `json:"workday"`
		Items   []hall.Item `json:"items"`
		Slots   []hall.Slot `json:"slots"`
	}{h.Name, g.ID, g.Name, day.String(), len(slots) > 0, items, slots})
	return nil
}

func (a *API) hallScreen(w http.ResponseWriter, r *http.Request) error {
	hs, err := a.hallService()
	if err != nil {
		return err
	}
	scr, err := hs.Screen(r.Context(), r.PathValue("hall"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, scr)
	return nil
}

type bookingOut struct {
	ID       int64       `json:"id"`
	Number   string      `json:"number"`
	Hall     string      `json:"hall"`
	HallSlug string      `json:"hall_slug"`
	GroupID  int64       `json:"group_id"`
	Group    string      `json:"group"`
	ItemID   int64       `json:"item_id"`
	Item     string      `json:"item"`
	StartsAt time.Time   `json:"starts_at"`
	EndsAt   time.Time   `json:"ends_at"`
	Status   hall.Status `json:"status"`
	Ticket   string      `json:"ticket,omitempty"`
}

func toBookingOut(b hall.Booking) bookingOut {
	return bookingOut{ID: b.ID, Number: b.Number, Hall: b.Hall, HallSlug: b.HallSlug, GroupID: b.GroupID, Group: b.Group, ItemID: b.ItemID, Item: b.Item,
		StartsAt: b.Start, EndsAt: b.End, Status: b.Status, Ticket: b.Ticket}
}

func (a *API) myBookings(w http.ResponseWriter, r *http.Request) error {
	hs, err := a.hallService()
	if err != nil {
		return err
	}
	who, err := a.who(r)
	if err != nil {
		return err
	}
	list, err := hs.MyBookings(r.Context(), who)
	if err != nil {
		return err
	}
	out := make([]bookingOut, 0, len(list))
	for _, b := range list {
		out = append(out, toBookingOut(b))
	}
	httpx.WriteJSON(w, http.StatusOK, items(out))
	return nil
}

func (a *API) book(w http.ResponseWriter, r *http.Request) error {
	hs, err := a.hallService()
	if err != nil {
		return err
	}
	who, err := a.who(r)
	if err != nil {
		return err
	}
	var in struct {
		GroupID  int64     `json:"group_id"`
		ItemID   int64     `json:"item_id"`
		StartsAt time.Time `json:"starts_at"`
	}
	if err := httpx.DecodeJSON(r.Body, &in, `请求体应为 JSON：{"group_id": 1, "item_id": 2, "starts_at": "2026-12-08T09:00:00+08:00"}。`); err != nil {
		return err
	}
	b, err := hs.Book(r.Context(), who, hall.BookInput{GroupID: in.GroupID, ItemID: in.ItemID, Start: in.StartsAt})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, toBookingOut(b))
	return nil
}

func (a *API) cancelBooking(w http.ResponseWriter, r *http.Request) error {
	hs, err := a.hallService()
	if err != nil {
		return err
	}
	who, err := a.who(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.Invalid, "预约编号应为整数。")
	}
	if err := hs.Cancel(r.Context(), who, id); err != nil {
		return err
	}
	b, err := hs.Booking(r.Context(), who, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toBookingOut(b))
	return nil
}
