package app_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// 有诉即应 in Chromium, on the demo: a citizen files a complaint with a
// photo from the 有诉即应 page; the routing rule sends it to the street's
// convenience centre, whose clerk signs for it, records the call to the
// citizen and answers within the limit; the citizen confirms it solved and
// is satisfied. A second complaint the centre sends back to the dispatcher,
// and the supervisor's statistics count the bounce against the centre.
// Every new page is checked on a phone and in 关怀模式 (visited), on
// SQLite; the same story runs again on PostgreSQL.
func TestBrowserComplaint(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	eachDatabase(t, func(t *testing.T, kind string) { complaintStory(t, env, copyDemo(t, kind).Args...) })
}

func complaintStory(t *testing.T, env browserEnv, args ...string) {
	s := start(t, nil, args...)
	b := newBrowser(t, env)
	files := makeUploads(t)
	const centre = "马庄街道便民服务中心"

	// The supervisor's count of the centre's bounces before.
	sup := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, sup, s.URL, "supervisor", "刘敏")
	bounces := func() int {
		t.Helper()
		open(t, sup, s.URL+"/admin/complaints/stats")
		v := eval[string](t, sup, `(() => { const th = [...document.querySelectorAll('#st-units th[scope=row]')].find(th => th.textContent.trim() === '`+centre+`');
			return th ? th.parentElement.querySelector('td[data-label="退回"]').textContent.trim() : '0'; })()`)
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("the centre's bounces read %q", v)
		}
		return n
	}
	before := bounces()

	// 1. The citizen files two complaints from the 有诉即应 page, the first
	// with a photo.
	citizen := newPersonTab(t, b, phone)
	registerInBrowser(t, citizen, s.URL, "张三", "11010519491231002X", "13800000001")
	file := func(title, detail, photo string) string {
		t.Helper()
		open(t, citizen, s.URL+"/")
		do(t, citizen, "open 菜单", chromedp.Click(chromedp.CSS("details.site-menu > summary")))
		press(t, citizen, "有诉即应 in the menu", chromedp.JSPath(`[...document.querySelectorAll('.site-nav a')].find(a => a.textContent.trim() === '有诉即应')`))
		press(t, citizen, "我要提诉求", chromedp.CSS(`main a[href="/complaints/new"]`))
		do(t, citizen, "fill in the complaint",
			chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('c-category');
				s.value = [...s.options].find(o => o.textContent.startsWith('一般类')).value; })()`),
			chromedp.SendKeys(chromedp.CSS("#c-title"), title),
			chromedp.SendKeys(chromedp.CSS("#c-description"), detail),
			chromedp.SetValue(chromedp.CSS("#c-region"), "410411001002"),
			chromedp.SendKeys(chromedp.CSS("#c-address"), "开源路 18 号"),
			chromedp.SendKeys(chromedp.CSS("#c-mobile"), "13800000001"))
		if photo != "" {
			do(t, citizen, "choose the photo", chromedp.SetUploadFiles(chromedp.CSS("#c-photos"), []string{photo}))
		}
		if st := press(t, citizen, "submit the complaint", chromedp.CSS(`form[action="/complaints"] button[type="submit"]:not([formaction])`)); st != 200 {
			t.Fatalf("filing: HTTP %d:\n%s", st, mainText(t, citizen))
		}
		wantText(t, citizen, "the complaint's page", "诉求已提交", "待签收", centre)
		return fact(t, citizen, "诉求编号")
	}
	first := file("小区门口路灯不亮", "开源社区南门的两盏路灯坏了半个月，晚上出入很不安全。", files["身份证.jpg"])
	firstPage := eval[string](t, citizen, `location.pathname`)
	if n := eval[int](t, citizen, `document.querySelectorAll('main a[href*="/files/"]').length`); n != 1 {
		t.Errorf("the photo is listed %d times", n)
	}
	second := file("楼下商铺占用消防通道", "开源社区3号楼下的商铺把货物堆在消防通道上。", "")

	// 2. The centre's clerk signs for the first, calls the citizen and
	// answers; the second they send back.
	clerk := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, clerk, s.URL, "mazhuang.window", "周涛")
	press(t, clerk, "诉求工单", chromedp.CSS(`main a[href="/workbench/complaints"]`))
	press(t, clerk, "open "+first, linkWithText(first))
	if got := fact(t, clerk, "诉求人"); !strings.Contains(got, "13800000001") {
		t.Errorf("the owning unit sees the contact as %q, want the number to call", got)
	}
	press(t, clerk, "签收", chromedp.CSS(`form:has(input[name=op][value=sign]) button[type=submit]`))
	wantText(t, clerk, "signed", "办理中")
	runAxe(t, clerk, env, "a complaint being handled, with its forms")
	do(t, clerk, "note the call", chromedp.SendKeys(chromedp.CSS("#cs-c-note"), "电话联系诉求人，约定今天下午现场查看"))
	press(t, clerk, "记录联系", chromedp.CSS(`form:has(input[name=op][value=contact]) button[type=submit]`))
	do(t, clerk, "write the answer", chromedp.SendKeys(chromedp.CSS("#cs-r-answer"), "已联系供电所更换两盏路灯，今晚恢复照明。"))
	press(t, clerk, "答复", chromedp.CSS(`form:has(input[name=op][value=reply]) button[type=submit]`))
	wantText(t, clerk, "answered", "已答复", "办结答复")
	if eval[bool](t, clerk, `!!document.querySelector('#cs-status ~ .overdue')`) {
		t.Error("answered within the limit, yet marked 超时")
	}
	open(t, clerk, s.URL+"/workbench/complaints")
	press(t, clerk, "open "+second, linkWithText(second))
	do(t, clerk, "open the bounce form", chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll('summary')].find(s => s.textContent.includes('退回'))`)),
		chromedp.SendKeys(chromedp.CSS("#cs-b-reason"), "消防通道占用属消防和城管部门职责"))
	// Bounced, the complaint leaves the centre: back to the queue.
	if st := press(t, clerk, "退回", chromedp.CSS(`form:has(input[name=op][value=bounce]) button[type=submit]`)); st != 200 {
		t.Fatalf("bounce: HTTP %d", st)
	}
	wantText(t, clerk, "the queue after the bounce", "已退回派单员")

	// 3. The citizen reads the answer and confirms it.
	open(t, citizen, s.URL+firstPage)
	wantText(t, citizen, "the answer", "已答复", "已联系供电所更换两盏路灯")
	runAxe(t, citizen, env, "the answer with the confirmation form, on a phone")
	do(t, citizen, "resolved and satisfied", chromedp.Click(chromedp.CSS(`input[name=resolved][value=yes]`)),
		chromedp.Click(chromedp.CSS(`input[name=satisfied][value=yes]`)))
	press(t, citizen, "confirm", chromedp.CSS(`form:has(input[name=op][value=confirm]) button[type=submit]`))
	wantText(t, citizen, "confirmed", "已办结", "已解决，满意")
	// Closed, it asks the citizen to rate the service (好差评, wired in app).
	open(t, citizen, s.URL+"/me/cases")
	wantText(t, citizen, "the invitation to rate the complaint", "请评价已办结的服务", "评价：一般类")
	open(t, citizen, s.URL+"/me/complaints")
	wantText(t, citizen, "my complaints", "小区门口路灯不亮", "楼下商铺占用消防通道")
	// The second, bounced, is waiting for the dispatcher; the citizen is not
	// told of the bounce.
	open(t, citizen, s.URL+"/complaints?number="+second)
	wantText(t, citizen, "the public view of the second", "待派单")
	if strings.Contains(mainText(t, citizen), "退回") {
		t.Error("the public view shows the bounce")
	}

	// 4. The supervisor sees the bounce counted against the centre.
	if after := bounces(); after != before+1 {
		t.Errorf("the centre's bounces: %d before, %d after", before, after)
	}
	wantText(t, sup, "the statistics", "响应率", "解决率", "满意率")

	// 5. The administrator's categories and routing rules, and taking a
	// complaint in by phone (checked like every other page).
	admin := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, admin, s.URL, "admin", "系统管理员")
	open(t, admin, s.URL+"/admin/complaints/settings")
	wantText(t, admin, "the settings", "紧急类", "派单规则", centre)
	open(t, admin, s.URL+"/workbench/complaints/new")
	wantText(t, admin, "the intake form", "受理渠道", "诉求人姓名")
}
