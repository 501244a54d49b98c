package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/hall"
	"github.com/zwfw/zwfw/internal/policy"
)

// The hall (internal/hall): booking a slot (预约) and 我的预约 for people,
// the kiosk (取号) and the screen (叫号屏) of each hall, and the window
// clerks' calling page. The administrators' pages are in hall_admin.go.

var hallPages = []string{"hall_list", "hall_page", "hall_bookings", "hall_booking", "hall_kiosk", "hall_screen", "hall_desk", "hall_admin", "hall_waits"}

// hallClerk lets in window clerks: which groups they call for is the
// policy's (their hall's, or those serving their department's items).
var hallClerk = guard{name: "hall clerk", staff: true, allow: func(who policy.Subject) error {
	if !who.Has(policy.Window) {
		return apperr.New(apperr.Forbidden, "叫号只对窗口人员开放。")
	}
	return nil
}}

// hallWaitsViewer lets in those who may see some hall's waiting figures.
var hallWaitsViewer = guard{name: "hall waits", staff: true, allow: func(who policy.Subject) error {
	if !policy.MayViewSomeHallWaits(who) {
		return apperr.New(apperr.Forbidden, "等候时长统计只对督查人员、部门负责人和系统管理员开放。")
	}
	return nil
}}

var hallSettings = policy.Resource{Kind: policy.HallSettings}

func hmTime(t time.Time) string { return t.In(clock.China).Format("15:04") }

func (s *Server) hallList(w http.ResponseWriter, r *http.Request) error {
	halls, err := s.halls.Halls(r.Context())
	if err != nil {
		return err
	}
	var open []hall.Hall
	for _, h := range halls {
		if len(h.Groups) > 0 {
			open = append(open, h)
		}
	}
	return s.render(w, r, http.StatusOK, "hall_list", "hall", open)
}

// hallPageData is a hall's page: its groups, the days and the slots of the
// chosen group and day, and the booking form.
type hallPageData struct {
	Hall   hall.Hall
	Group  hall.Group
	Days   []calendar.Date
	Day    calendar.Date
	Slots  []hall.Slot
	Values url.Values
	Error  string
}

func (p hallPageData) Time(t time.Time) string { return hmTime(t) }

func (p hallPageData) Weekday(d calendar.Date) string {
	return [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}[d.Weekday()]
}

func (s *Server) hallPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderHallPage(w, r, http.StatusOK, r.URL.Query(), "")
}

func (s *Server) renderHallPage(w http.ResponseWriter, r *http.Request, status int, v url.Values, message string) error {
	h, err := s.halls.Hall(r.Context(), r.PathValue("hall"))
	if err != nil {
		return err
	}
	p := hallPageData{Hall: h, Days: s.halls.Days(), Values: v, Error: message}
	if len(h.Groups) == 0 {
		return s.render(w, r, status, "hall_page", "hall", p)
	}
	p.Group = h.Groups[0]
	if id, err := strconv.ParseInt(v.Get("group"), 10, 64); err == nil {
		if g, ok := h.Group(id); ok {
			p.Group = g
		}
	}
	if len(p.Days) > 0 {
		p.Day = p.Days[0]
	}
	if d, err := calendar.ParseDate(v.Get("date")); err == nil {
		p.Day = d
	}
	if p.Day.IsZero() { // no working day ahead (a long holiday)
		return s.render(w, r, status, "hall_page", "hall", p)
	}
	if _, p.Slots, err = s.halls.Slots(r.Context(), p.Group.ID, p.Day); err != nil {
		return err
	}
	return s.render(w, r, status, "hall_page", "hall", p)
}

func formID(v url.Values, key string) int64 {
	id, _ := strconv.ParseInt(v.Get(key), 10, 64)
	return id
}

func (s *Server) hallBook(w http.ResponseWriter, r *http.Request) error {
	in := hall.BookInput{GroupID: formID(r.PostForm, "group"), ItemID: formID(r.PostForm, "item")}
	var err error
	if in.Start, err = time.Parse(time.RFC3339, r.PostForm.Get("slot")); err != nil {
		err = apperr.New(apperr.Invalid, "请选择预约时段。")
	}
	var b hall.Booking
	if err == nil {
		b, err = s.halls.Book(r.Context(), subject(r), in)
	}
	if err != nil {
		return formError(err, func(status int, message string) error { return s.renderHallPage(w, r, status, r.PostForm, message) })
	}
	http.Redirect(w, r, fmt.Sprintf("/me/bookings/%d?booked=1", b.ID), http.StatusSeeOther)
	return nil
}

func bookingID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.NotFound, "没有找到这个预约。")
	}
	return id, nil
}

type bookingsData struct {
	Bookings []hall.Booking
	NoShows  int
	Now      time.Time
	Notice   string
}

func (d bookingsData) When(b hall.Booking) string {
	return b.Start.In(clock.China).Format("2006-01-02 15:04") + "–" + hmTime(b.End)
}

func (s *Server) myBookings(w http.ResponseWriter, r *http.Request) error {
	who := subject(r)
	list, err := s.halls.MyBookings(r.Context(), who)
	if err != nil {
		return err
	}
	n, err := s.halls.NoShows(r.Context(), who)
	if err != nil {
		return err
	}
	notice := map[string]string{"cancelled": "预约已取消。"}[r.URL.Query().Get("done")]
	return s.render(w, r, http.StatusOK, "hall_bookings", "me", bookingsData{Bookings: list, NoShows: n, Now: s.clock.Now(), Notice: notice})
}

func (s *Server) myBooking(w http.ResponseWriter, r *http.Request) error {
	return s.renderBooking(w, r, http.StatusOK, "")
}

func (s *Server) renderBooking(w http.ResponseWriter, r *http.Request, status int, message string) error {
	id, err := bookingID(r)
	if err != nil {
		return err
	}
	b, err := s.halls.Booking(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	return s.render(w, r, status, "hall_booking", "me", struct {
		bookingsData
		Booking hall.Booking
		Booked  bool
		Error   string
	}{bookingsData{Now: s.clock.Now()}, b, r.URL.Query().Get("booked") == "1", message})
}

func (s *Server) bookingQR(w http.ResponseWriter, r *http.Request) error {
	id, err := bookingID(r)
	if err != nil {
		return err
	}
	b, err := s.halls.Booking(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	svg, err := qrSVG(b.Number)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, err = w.Write([]byte(svg))
	return err
}

func (s *Server) cancelBooking(w http.ResponseWriter, r *http.Request) error {
	id, err := bookingID(r)
	if err != nil {
		return err
	}
	if err := s.halls.Cancel(r.Context(), subject(r), id); err != nil {
		return formError(err, func(status int, message string) error { return s.renderBooking(w, r, status, message) })
	}
	http.Redirect(w, r, "/me/bookings?done=cancelled", http.StatusSeeOther)
	return nil
}

// The kiosk (取号机): no sign-in. A number by booking, or by ID number.

type kioskData struct {
	Hall   hall.Hall
	Ticket *hall.Ticket
	Form   string // which form the error belongs to: "booking" or "number"
	Values url.Values
	Error  string
}

func (s *Server) hallKiosk(w http.ResponseWriter, r *http.Request) error {
	return s.renderKiosk(w, r, http.StatusOK, kioskData{Values: url.Values{}})
}

func (s *Server) renderKiosk(w http.ResponseWriter, r *http.Request, status int, d kioskData) error {
	h, err := s.halls.Hall(r.Context(), r.PathValue("hall"))
	if err != nil {
		return err
	}
	d.Hall = h
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, status, "hall_kiosk", "tablet", d)
}

func (s *Server) kioskCheckIn(w http.ResponseWriter, r *http.Request) error {
	h, err := s.halls.Hall(r.Context(), r.PathValue("hall"))
	if err != nil {
		return err
	}
	number := strings.Join(strings.Fields(r.PostForm.Get("booking")), "")
	t, err := s.halls.CheckIn(r.Context(), h.ID, number)
	return s.kioskAnswer(w, r, "booking", t, err)
}

func (s *Server) kioskNumber(w http.ResponseWriter, r *http.Request) error {
	h, err := s.halls.Hall(r.Context(), r.PathValue("hall"))
	if err != nil {
		return err
	}
	t, err := s.halls.TakeNumber(r.Context(), h.ID, formID(r.PostForm, "group"), r.PostForm.Get("id_number"), formID(r.PostForm, "item"))
	return s.kioskAnswer(w, r, "number", t, err)
}

// kioskAnswer shows the number taken, or the form again with why not; the
// ID number typed is never shown back.
func (s *Server) kioskAnswer(w http.ResponseWriter, r *http.Request, form string, t hall.Ticket, err error) error {
	if err != nil {
		v := url.Values{"booking": r.PostForm["booking"], "group": r.PostForm["group"]}
		return formError(err, func(status int, message string) error {
			return s.renderKiosk(w, r, status, kioskData{Form: form, Values: v, Error: message})
		})
	}
	return s.renderKiosk(w, r, http.StatusOK, kioskData{Ticket: &t, Values: url.Values{}})
}

// hallScreen is the hall's screen: the numbers being called, kept current
// by hall.js from the API's screen feed without reloading.
func (s *Server) hallScreen(w http.ResponseWriter, r *http.Request) error {
	scr, err := s.halls.Screen(r.Context(), r.PathValue("hall"))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "hall_screen", "tablet", struct {
		Slug   string
		Screen hall.Screen
	}{r.PathValue("hall"), scr})
}

// The window clerk's page: each group they call for, its current number
// and its queue.

type deskData struct {
	Desks  []hall.Desk
	Notice string
	Error  string
	Group  int64 // the group the error or notice is about
}

func (d deskData) Time(t time.Time) string { return hmTime(t) }
func (d deskData) State(s string) string   { return hall.TicketStateName(s) }

func (s *Server) hallDesk(w http.ResponseWriter, r *http.Request) error {
	d := deskData{Notice: r.URL.Query().Get("notice")}
	d.Group, _ = strconv.ParseInt(r.URL.Query().Get("group"), 10, 64)
	return s.renderDesk(w, r, http.StatusOK, d)
}

func (s *Server) renderDesk(w http.ResponseWriter, r *http.Request, status int, d deskData) error {
	var err error
	if d.Desks, err = s.halls.Desks(r.Context(), subject(r)); err != nil {
		return err
	}
	return s.render(w, r, status, "hall_desk", "workbench", d)
}

func groupParam(r *http.Request) int64 {
	id, _ := strconv.ParseInt(r.PathValue("group"), 10, 64)
	return id
}

// deskDone goes back to the clerk's page with a notice, or shows it again
// with why a step was refused.
func (s *Server) deskDone(w http.ResponseWriter, r *http.Request, group int64, notice string, err error) error {
	if err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderDesk(w, r, status, deskData{Error: message, Group: group})
		})
	}
	http.Redirect(w, r, "/workbench/hall?"+url.Values{"notice": {notice}, "group": {strconv.FormatInt(group, 10)}}.Encode(), http.StatusSeeOther)
	return nil
}

func (s *Server) hallCall(w http.ResponseWriter, r *http.Request) error {
	g := groupParam(r)
	t, err := s.halls.CallNext(r.Context(), subject(r), g, r.PostForm.Get("window"))
	return s.deskDone(w, r, g, "已叫号 "+t.Number+"，请到"+t.Window+"。", err)
}

func (s *Server) hallTake(w http.ResponseWriter, r *http.Request) error {
	g := groupParam(r)
	t, err := s.halls.TakeAtCounter(r.Context(), subject(r), g, strings.TrimSpace(r.PostForm.Get("id_number")))
	return s.deskDone(w, r, g, "已为群众取号 "+t.Number+"。", err)
}

func (s *Server) hallTicketStep(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "没有这个号码。")
	}
	who := subject(r)
	var t hall.Ticket
	var notice string
	switch r.PostForm.Get("op") {
	case "recall":
		t, err = s.halls.Recall(r.Context(), who, id)
		notice = "已重新呼叫 " + t.Number + "。"
	case "served":
		t, err = s.halls.Finish(r.Context(), who, id, true)
		notice = t.Number + " 已办理完毕。"
	case "absent":
		t, err = s.halls.Finish(r.Context(), who, id, false)
		notice = t.Number + " 已标为过号。"
	default:
		err = apperr.New(apperr.Invalid, "未知的操作。")
	}
	return s.deskDone(w, r, formID(r.PostForm, "group"), notice, err)
}
