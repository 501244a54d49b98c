package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// An administrator builds a survey counted per device in the editor and
// opens it; a visitor who has not signed in answers once from their
// browser (its cookie), a second answer from it is refused, and a browser
// without the cookie is told why; the results count the answer.
func TestSurveyPerDeviceThroughThePages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		admin := signInStaff(t, site, db, "sadmin", "xzfwzx", policy.Admin)
		form := url.Values{"title": {"大厅现场评价"}, "audience": {"citizens"}, "once_per": {"device"}, "anonymous": {"1"},
			"q1_title": {"总体满意度"}, "q1_kind": {"scale"}, "q1_required": {"1"},
			"q2_title": {"您在哪个窗口办事"}, "q2_kind": {"single"}, "q2_options": {"综合窗口\r\n社保窗口"}, "q2_satisfied": {"一"}}
		// A refused save keeps what was typed.
		if ex := admin.post("/admin/surveys", form); ex.status != 400 || !strings.Contains(ex.body, "应填选项的序号") || !strings.Contains(ex.body, "社保窗口") {
			t.Fatalf("a bad mark: %d %s", ex.status, ex.body)
		}
		form.Set("q2_satisfied", "")
		ex := admin.post("/admin/surveys", form)
		m := regexp.MustCompile(`^/admin/surveys/(\d+)/results$`).FindStringSubmatch(ex.header.Get("Location"))
		if ex.status != 303 || m == nil {
			t.Fatalf("saving: %d %s %s", ex.status, ex.header.Get("Location"), ex.body)
		}
		page := "/surveys/" + m[1]
		if ex := newBrowser(t, site.handler).get(page); ex.status != 404 {
			t.Fatalf("a draft for a visitor: %d", ex.status)
		}
		if ex := admin.post("/admin/surveys/"+m[1]+"/status", url.Values{"to": {"open"}}); ex.status != 303 {
			t.Fatalf("opening: %d %s", ex.status, ex.body)
		}

		visitor := newBrowser(t, site.handler)
		if ex := visitor.get(page); ex.status != 200 || visitor.cookies["zwfw_device"] == nil || !strings.Contains(ex.body, "每台设备只能填写一次") {
			t.Fatalf("the survey: %d, cookie %v", ex.status, visitor.cookies["zwfw_device"])
		}
		if ex := visitor.post(page, url.Values{"q2": {"1"}}); ex.status != 400 || !strings.Contains(ex.body, "第 1 题“总体满意度”为必答题，请打分。") ||
			!strings.Contains(ex.body, `id="q2-1" name="q2" value="1" checked`) {
			t.Fatalf("a missing answer: %d %s", ex.status, ex.body)
		}
		if ex := visitor.post(page, url.Values{"q1": {"5"}, "q2": {"0"}}); ex.status != 303 || ex.header.Get("Location") != page+"?done=1" {
			t.Fatalf("answering: %d %s", ex.status, ex.body)
		}
		if ex := visitor.post(page, url.Values{"q1": {"1"}}); ex.status != 409 || !strings.Contains(ex.body, "这台设备已经填写过这份问卷") {
			t.Fatalf("the same device again: %d %s", ex.status, ex.body)
		}
		if ex := newBrowser(t, site.handler).post(page, url.Values{"q1": {"4"}}); ex.status != 400 || !strings.Contains(ex.body, "Cookie") {
			t.Fatalf("without the cookie: %d %s", ex.status, ex.body)
		}
		if ex := visitor.get(page + "/qr.svg"); ex.status != 200 || !strings.HasPrefix(ex.body, "<svg") {
			t.Fatalf("the QR code: %d", ex.status)
		}
		res := admin.get("/admin/surveys/" + m[1] + "/results")
		if res.status != 200 || !strings.Contains(res.body, "1 份") || !strings.Contains(res.body, "100.0%") {
			t.Fatalf("the results: %d %s", res.status, res.body)
		}
		if ex := admin.get("/admin/surveys/" + m[1]); ex.status != 303 {
			t.Errorf("the editor of an opened survey: %d", ex.status)
		}
	})
}

// Who may answer what, on the pages: a visitor is asked to sign in (on
// the staff's page for a staff survey); a citizen does not see a staff
// survey; a named staff survey keeps the account with the answer.
func TestSurveyAudiencesThroughThePages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		admin := signInStaff(t, site, db, "sadmin", "xzfwzx", policy.Admin)
		open := func(audience, anonymous string) string {
			ex := admin.post("/admin/surveys", url.Values{"title": {"内部调查"}, "audience": {audience}, "once_per": {"person"}, "anonymous": {anonymous},
				"q1_title": {"您对本单位的培训是否满意"}, "q1_kind": {"scale"}, "q1_required": {"1"}})
			id := strings.TrimSuffix(strings.TrimPrefix(ex.header.Get("Location"), "/admin/surveys/"), "/results")
			if ex.status != 303 || admin.post("/admin/surveys/"+id+"/status", url.Values{"to": {"open"}}).status != 303 {
				t.Fatalf("a %s survey: %d %s", audience, ex.status, ex.body)
			}
			return "/surveys/" + id
		}
		citizens, staff := open("citizens", "1"), open("staff", "")
		visitor := newBrowser(t, site.handler)
		if ex := visitor.get(citizens); !strings.Contains(ex.body, `href="/signin?next=`+citizens+`"`) {
			t.Errorf("a visitor on a citizens' survey: %s", ex.body)
		}
		// A staff survey sends a visitor to the staff's sign-in, and is
		// not there for a citizen.
		if ex := visitor.get(staff); ex.status != 303 || ex.header.Get("Location") != "/staff/signin?next="+url.QueryEscape(staff) {
			t.Errorf("a visitor on a staff survey: %d %s", ex.status, ex.header.Get("Location"))
		}
		if ex := visitor.post(staff, url.Values{"q1": {"5"}}); ex.status != 401 {
			t.Errorf("a visitor answering a staff survey: %d", ex.status)
		}
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		if ex := citizen.get(staff); ex.status != 404 {
			t.Errorf("a citizen opening a staff survey: %d", ex.status)
		}
		if ex := citizen.post(staff, url.Values{"q1": {"5"}}); ex.status != 404 {
			t.Errorf("a citizen answering a staff survey: %d %s", ex.status, ex.body)
		}
		clerk := signInStaff(t, site, db, "sclerk", "scjgj", policy.Window)
		if ex := clerk.post(citizens, url.Values{"q1": {"5"}}); ex.status != 403 || !strings.Contains(ex.body, "本问卷面向群众和企业") {
			t.Errorf("a clerk answering a citizens' survey: %d %s", ex.status, ex.body)
		}
		if ex := clerk.post(staff, url.Values{"q1": {"4"}}); ex.status != 303 {
			t.Fatalf("a clerk answering a staff survey: %d %s", ex.status, ex.body)
		}
		var named int
		if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM survey_responses WHERE account_id IS NOT NULL`).Scan(&named); err != nil || named != 1 {
			t.Errorf("named answers: %d %v", named, err)
		}
	})
}
