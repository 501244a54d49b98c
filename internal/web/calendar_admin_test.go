package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func TestAdminSetsLocalCalendarDays(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		cal := site.calendar
		admin := signInStaff(t, site, db, "boss", "xzfwzx", policy.Admin)
		d := calendar.NewDate

		if page := admin.get("/admin"); !strings.Contains(page.body, `href="/admin/calendar"`) {
			t.Error("the admin page has no link to the calendar")
		}
		// The current year by the server's clock, with the State Council's days.
		page := admin.get("/admin/calendar")
		for _, want := range []string{"2026 年工作日历", "2026-10-01 星期四", "国庆节", "调休上班", "2026-10-10 星期六",
			"2026 年没有本地日期", `href="/admin/calendar?year=2027"`} {
			if page.status != 200 || !strings.Contains(page.body, want) {
				t.Errorf("calendar page (%d) lacks %q", page.status, want)
			}
		}

		// A limit of 5 working days from Thursday 12/3 ends on Thursday 12/10 …
		start := d(2026, 12, 3)
		if due := cal.Due(start, calendar.Workdays(5), nil); due != d(2026, 12, 10) {
			t.Fatalf("due before = %v", due)
		}
		// … and, once Monday 12/7 is a local holiday, on Friday 12/11.
		ex := admin.post("/admin/calendar", url.Values{"year": {"2026"}, "day": {"2026-12-07"}, "kind": {"rest"}, "label": {"区庆放假"}})
		if ex.status != http.StatusSeeOther || ex.header.Get("Location") != "/admin/calendar?year=2026&done=saved" {
			t.Fatalf("add: %d %s", ex.status, ex.header.Get("Location"))
		}
		if due := cal.Due(start, calendar.Workdays(5), nil); due != d(2026, 12, 11) {
			t.Errorf("due after the local holiday = %v, want 2026-12-11", due)
		}
		if got := cal.Explain(d(2026, 12, 7)); got != "本地调整：区庆放假（休息日）" {
			t.Errorf("Explain = %q", got)
		}
		page = admin.get("/admin/calendar?year=2026&done=saved")
		for _, want := range []string{"已保存", "2026-12-07 星期一", "区庆放假", "休息日", "测试boss", `action="/admin/calendar/2026-12-07/delete"`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("calendar page lacks %q after the change", want)
			}
		}
		// A national holiday made a working day shows in both lists.
		if ex := admin.post("/admin/calendar", url.Values{"year": {"2026"}, "day": {"2026-10-07"}, "kind": {"work"}, "label": {"补班"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("add a working day: %d", ex.status)
		}
		page = admin.get("/admin/calendar?year=2026")
		for _, want := range []string{"本地设为工作日「补班」", "法定节假日：国庆节"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("calendar page lacks %q", want)
			}
		}
		if !cal.IsWorkday(d(2026, 10, 7)) {
			t.Error("10/7 not a working day")
		}
		if page := admin.get("/admin/audit?action=calendar_set"); !strings.Contains(page.body, "设置本地工作日历") || !strings.Contains(page.body, "区庆放假") {
			t.Error("the change is not in the audit log")
		}

		// Bad input: the page again with the message and what was typed; nothing changes.
		bad := []struct {
			form url.Values
			msg  string
		}{
			{url.Values{"day": {"2026-12-08"}, "kind": {"rest"}, "label": {""}}, "请填写名称"},
			{url.Values{"day": {"2026-02-30"}, "kind": {"rest"}, "label": {"区庆"}}, "日期格式不正确"},
			{url.Values{"day": {"2099-12-08"}, "kind": {"rest"}, "label": {"区庆"}}, "只能设置"},
			{url.Values{"day": {"2026-12-08"}, "kind": {"holiday"}, "label": {"区庆"}}, "休息日还是工作日"},
			{url.Values{"day": {"2026-12-08"}, "kind": {"rest"}, "label": {strings.Repeat("长", 41)}}, "名称太长了"},
		}
		for _, b := range bad {
			ex := admin.post("/admin/calendar", b.form)
			if ex.status != http.StatusBadRequest || !strings.Contains(ex.body, b.msg) || !strings.Contains(ex.body, "2026 年工作日历") {
				t.Errorf("%v: %d, want 400 with %q", b.form, ex.status, b.msg)
			}
		}
		if len(cal.Overrides()) != 2 || !cal.IsWorkday(d(2026, 12, 8)) {
			t.Errorf("a refused change changed the calendar: %v", cal.Overrides())
		}

		// Other staff get the forbidden page, and no link; visitors must sign in.
		super := signInStaff(t, site, db, "super", "xzfwzx", policy.Supervisor, policy.Head)
		if ex := super.get("/admin/calendar"); ex.status != http.StatusForbidden || !strings.Contains(ex.body, "无权访问") {
			t.Errorf("supervisor: GET %d", ex.status)
		}
		if ex := super.post("/admin/calendar", url.Values{"day": {"2026-12-08"}, "kind": {"rest"}, "label": {"区庆"}}); ex.status != http.StatusForbidden {
			t.Errorf("supervisor: POST %d", ex.status)
		}
		if ex := super.post("/admin/calendar/2026-12-07/delete", nil); ex.status != http.StatusForbidden {
			t.Errorf("supervisor: delete %d", ex.status)
		}
		if page := super.get("/admin"); strings.Contains(page.body, `href="/admin/calendar"`) {
			t.Error("the supervisor's admin page links to the calendar")
		}
		if ex := newBrowser(t, site.handler).get("/admin/calendar"); ex.status != http.StatusSeeOther || !strings.HasPrefix(ex.header.Get("Location"), "/staff/signin") {
			t.Errorf("visitor: %d %s", ex.status, ex.header.Get("Location"))
		}
		if len(cal.Overrides()) != 2 {
			t.Errorf("refused staff changed the calendar: %v", cal.Overrides())
		}

		// Removing the holiday brings the due date back.
		ex = admin.post("/admin/calendar/2026-12-07/delete", nil)
		if ex.status != http.StatusSeeOther || ex.header.Get("Location") != "/admin/calendar?year=2026&done=removed" {
			t.Fatalf("remove: %d %s", ex.status, ex.header.Get("Location"))
		}
		if due := cal.Due(start, calendar.Workdays(5), nil); due != d(2026, 12, 10) {
			t.Errorf("due after removing = %v", due)
		}
		if ex := admin.post("/admin/calendar/2026-12-07/delete", nil); ex.status != http.StatusNotFound {
			t.Errorf("removing twice: %d", ex.status)
		}
		if ex := admin.post("/admin/calendar/not-a-day/delete", nil); ex.status != http.StatusNotFound {
			t.Errorf("removing a bad day: %d", ex.status)
		}

		// Other years.
		for path, status := range map[string]int{"/admin/calendar?year=2027": 200, "/admin/calendar?year=2028": 200,
			"/admin/calendar?year=1990": 404, "/admin/calendar?year=abc": 400} {
			if ex := admin.get(path); ex.status != status {
				t.Errorf("GET %s: %d, want %d", path, ex.status, status)
			}
		}
		if page := admin.get("/admin/calendar?year=2028"); !strings.Contains(page.body, "国家节假日数据中没有 2028 年的安排") {
			t.Error("the page does not say that 2028 is not covered")
		}
	})
}
