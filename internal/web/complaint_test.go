package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// fileComplaint posts the filing form as a browser would, with a photo.
func fileComplaint(b *browser, path string, form url.Values, photo []byte) exchange {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		mw.WriteField(k, vs[0])
	}
	if photo != nil {
		fw, _ := mw.CreateFormFile("photos", "现场.jpg")
		fw.Write(photo)
	}
	mw.Close()
	req := httptest.NewRequest("POST", path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

var jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("photo"), 50)...)

func TestComplaintPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		ctx := context.Background()
		count := func() int {
			list, err := site.complaints.List(ctx, testAdmin, complaint.Filter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		cats, _ := site.complaints.Categories(ctx, false)
		form := url.Values{"category": {itoa(cats[2].ID)}, "title": {"路灯不亮"}, "description": {"小区门口的路灯坏了一个多星期。\n晚上很黑。"},
			"region": {"410411002001"}, "address": {"建设路 18 号"}, "mobile": {"13912345678"}}

		anon := newBrowser(t, site.handler)
		if ex := anon.get("/complaints"); ex.status != 200 || !strings.Contains(ex.body, "有诉即应") || !strings.Contains(ex.body, "7 工作小时内") {
			t.Fatalf("home: %d", ex.status)
		}
		if ex := anon.get("/complaints/new"); ex.status != 200 || !strings.Contains(ex.body, "获取验证码") {
			t.Fatalf("form: %d", ex.status)
		}
		// Without the code, or with a file that is no photo: refused in
		// Chinese, with what was typed, and nothing made.
		ex := fileComplaint(anon, "/complaints", form, jpeg)
		if ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "请填写短信验证码") || !strings.Contains(ex.body, "路灯不亮") {
			t.Fatalf("no code: %d", ex.status)
		}
		if ex := anon.post("/complaints/code", url.Values{"mobile": {"13912345678"}, "title": {"路灯不亮"}}); ex.status != 200 || !strings.Contains(ex.body, "验证码已发送") {
			t.Fatalf("code: %d %s", ex.status, ex.body)
		}
		code := smsCode.FindStringSubmatch(site.sms.Recent()[0].Text)[1]
		withCode := url.Values{}
		for k, v := range form {
			withCode[k] = v
		}
		withCode.Set("code", code)
		if ex := fileComplaint(anon, "/complaints", withCode, []byte("not a photo")); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "现场.jpg") {
			t.Fatalf("bad photo: %d", ex.status)
		}
		if count() != 0 {
			t.Fatal("a refused filing made a complaint")
		}
		ex = fileComplaint(anon, "/complaints", withCode, jpeg)
		loc := ex.header.Get("Location")
		if ex.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/complaints?filed=1&number=TS") {
			t.Fatalf("anonymous filing: %d %s %s", ex.status, loc, ex.body)
		}
		track := anon.get(loc)
		if track.status != 200 || !strings.Contains(track.body, "待派单") || strings.Contains(track.body, "13912345678") {
			t.Errorf("tracking: %d", track.status)
		}
		if ex := anon.get("/complaints?number=TS000"); ex.status != http.StatusNotFound || !strings.Contains(ex.body, "没有找到这个诉求编号") {
			t.Errorf("unknown number: %d", ex.status)
		}

		// A citizen files and follows their own.
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		ex = fileComplaint(citizen, "/complaints", form, nil)
		loc = ex.header.Get("Location")
		if ex.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/me/complaints/") {
			t.Fatalf("citizen filing: %d %s", ex.status, loc)
		}
		if page := citizen.get(loc); page.status != 200 || !strings.Contains(page.body, "诉求已提交") || !strings.Contains(page.body, "13912345678") {
			t.Errorf("citizen page: %d", page.status)
		}
		if list := citizen.get("/me/complaints"); !strings.Contains(list.body, "路灯不亮") {
			t.Error("my complaints")
		}
		// A photo is its complaint's: the person downloads theirs, another
		// person is told there is nothing.
		ex = fileComplaint(citizen, "/complaints", form, jpeg)
		withPhoto := citizen.get(ex.header.Get("Location"))
		link := "/complaints/" + between(withPhoto.body, `href="/complaints/`, `"`)
		if got := citizen.get(link); got.status != 200 || got.header.Get("Content-Type") != "image/jpeg" || got.body != string(jpeg) {
			t.Errorf("download %s: %d %s", link, got.status, got.header.Get("Content-Type"))
		}
		other := registerCitizen(t, site, "李四", "110105198001010016", "13800000002")
		if got := other.get(link); got.status != http.StatusNotFound {
			t.Errorf("someone else's photo: %d", got.status)
		}
		// A reopening of a complaint not closed is refused, and changes nothing.
		page := citizen.get(loc)
		version := between(page.body, `name="version" value="`, `"`)
		if version != "" {
			t.Errorf("a complaint waiting for its unit offers the person a form (version %s)", version)
		}
		ex = citizen.post(strings.TrimSuffix(loc, "?filed=1"), url.Values{"op": {"reopen"}, "version": {"1"}, "comment": {"还是不亮，请再来看看"}})
		if ex.status != http.StatusConflict || !strings.Contains(ex.body, "不能重新办理") {
			t.Errorf("reopen while waiting: %d", ex.status)
		}

		// Window staff take one in for a caller; the queue gives its number.
		window := signInStaff(t, site, db, "cwindow", "xzfwzx", policy.Window)
		if ex := window.get("/workbench/complaints/new"); ex.status != 200 || !strings.Contains(ex.body, "受理渠道") {
			t.Fatalf("intake form: %d", ex.status)
		}
		staffForm := url.Values{"channel": {"phone"}, "name": {"王大爷"}}
		for k, v := range form {
			staffForm[k] = v
		}
		ex = fileComplaint(window, "/workbench/complaints/new", staffForm, nil)
		if ex.status != http.StatusSeeOther || !strings.HasPrefix(ex.header.Get("Location"), "/workbench/complaints?filed=TS") {
			t.Fatalf("intake: %d %s", ex.status, ex.body)
		}
		if q := window.get(ex.header.Get("Location")); !strings.Contains(q.body, "已登记，诉求编号") {
			t.Error("intake notice")
		}
		if count() != 4 {
			t.Errorf("%d complaints, want 4", count())
		}

		// The dispatcher's queue holds the pending ones; a dispatch without a
		// unit is refused and changes nothing; with one it goes.
		dispatcher := signInStaff(t, site, db, "cdispatch", "zwfwj", policy.Dispatcher)
		if wb := dispatcher.get("/workbench"); wb.status != 200 || !strings.Contains(wb.body, "诉求工单") {
			t.Fatalf("dispatcher's workbench: %d", wb.status)
		}
		queue := dispatcher.get("/workbench/complaints?status=pending")
		id := between(queue.body, `<td data-label="诉求编号"><a href="/workbench/complaints/`, `"`)
		page = dispatcher.get("/workbench/complaints/" + id)
		version = between(page.body, `name="version" value="`, `"`)
		ex = dispatcher.post("/workbench/complaints/"+id, url.Values{"op": {"dispatch"}, "version": {version}})
		if ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "请选择承办单位") || !strings.Contains(ex.body, "待派单") {
			t.Errorf("dispatch without a unit: %d %s", ex.status, ex.body[strings.Index(ex.body, "<main"):])
		}
		cgj := regexp.MustCompile(`<option value="(\d+)">平顶山市湛河区城市管理局`).FindStringSubmatch(page.body)[1]
		ex = dispatcher.post("/workbench/complaints/"+id, url.Values{"op": {"dispatch"}, "version": {version}, "department": {cgj}})
		if ex.status != http.StatusSeeOther || !strings.Contains(dispatcher.get(ex.header.Get("Location")).body, "城市管理局") {
			t.Errorf("dispatch: %d %q %s", ex.status, cgj, between(ex.body, `role="alert">`, `<`))
		}

		// 城管局 signs for it, calls and answers; the caller, who has no
		// account, confirms with an SMS code to the number they gave.
		number := between(page.body, `id="cs-number">`, `<`)
		unit := signInStaff(t, site, db, "ccgj", "cgj", policy.Reviewer)
		step := func(op string, form url.Values) {
			t.Helper()
			p := unit.get("/workbench/complaints/" + id)
			form.Set("op", op)
			form.Set("version", between(p.body, `name="version" value="`, `"`))
			if ex := unit.post("/workbench/complaints/"+id, form); ex.status != http.StatusSeeOther {
				t.Fatalf("%s: %d %s", op, ex.status, between(ex.body, `role="alert">`, `<`))
			}
		}
		step("sign", url.Values{})
		step("contact", url.Values{"note": {"电话联系诉求人"}})
		step("reply", url.Values{"answer": {"已更换路灯灯泡，恢复照明。"}})
		if pub := anon.get("/complaints?number=" + number); !strings.Contains(pub.body, "用提交诉求时的手机号确认办理结果") {
			t.Fatal("no confirmation form on the public page of an answered complaint")
		}
		site.clock.Advance(2 * time.Minute) // one code a minute per number
		if ex := anon.post("/complaints/confirm/code", url.Values{"number": {number}, "mobile": {"13912345678"}}); ex.status != 200 || !strings.Contains(ex.body, "验证码已发送") {
			t.Fatalf("confirmation code: %d", ex.status)
		}
		code = smsCode.FindStringSubmatch(site.sms.Recent()[0].Text)[1]
		confirm := url.Values{"number": {number}, "mobile": {"13912345678"}, "code": {"000000"}, "resolved": {"yes"}, "satisfied": {"yes"}}
		if ex := anon.post("/complaints/confirm", confirm); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "验证码") || !strings.Contains(ex.body, "已答复") {
			t.Errorf("a wrong code: %d", ex.status)
		}
		confirm.Set("code", code)
		if ex := anon.post("/complaints/confirm", confirm); ex.status != http.StatusSeeOther || !strings.Contains(anon.get(ex.header.Get("Location")).body, "已办结") {
			t.Errorf("confirmed: %d %s", ex.status, between(ex.body, `role="alert">`, `<`))
		}

		// Administrators keep the categories: a bad limit is refused.
		admin := signInStaff(t, site, db, "cadmin", "xzfwzx", policy.Admin)
		if ex := admin.get("/admin/complaints/settings"); ex.status != 200 || !strings.Contains(ex.body, "派单规则") {
			t.Fatalf("settings: %d", ex.status)
		}
		ex = admin.post("/admin/complaints/categories", url.Values{"code": {"heating"}, "name": {"供暖"}, "dispatch_value": {"0"},
			"dispatch_unit": {"hours"}, "feedback_value": {"2"}, "feedback_unit": {"working_days"}, "active": {"yes"}})
		if ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "派单时限应为 1 到 999 之间的整数") {
			t.Errorf("bad category: %d", ex.status)
		}
		if ex := admin.get("/admin/complaints/stats"); ex.status != 200 || !strings.Contains(ex.body, "响应率") {
			t.Errorf("stats: %d", ex.status)
		}
		if ex := admin.get("/admin/complaints/stats?from=2026-13-01"); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "开始日期格式") {
			t.Errorf("bad date: %d", ex.status)
		}
	})
}
