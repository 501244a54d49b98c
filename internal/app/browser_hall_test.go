package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/store"
)

// The hall in one browser, each person in a tab of their own: a citizen
// books a slot at the district's centre on a phone and gets its number and
// QR code; at the hall's kiosk the booking number gives a number with
// priority; the window clerk (scjg.window, whose bureau's items the group
// serves) finishes the demo's current number and calls the next, which is
// the booked one; the hall's screen, open all along, shows the call
// without reloading; the clerk serves it, and the waiting figures record
// it. Every new page is checked (axe and layout, four ways) by open and
// press.
//
// The demo runs on the system clock, so the test moves the booked slot to
// the present in the database, as the time before an appointment passes.
// It runs on SQLite and on PostgreSQL, both at once.
func TestBrowserHall(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	eachDatabase(t, func(t *testing.T, kind string) { hallStory(t, env, copyDemo(t, kind)) })
}

func hallStory(t *testing.T, env browserEnv, demo seededDemo) {
	dsn := demo.DSN
	s := start(t, nil, demo.Args...)
	db, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	b := newBrowser(t, env)

	// The screen, open before anything happens, never reloaded.
	screen := newPersonTab(t, b, desktop)
	open(t, screen, s.URL+"/hall/xzfwzx/screen")
	do(t, screen, "mark the page", chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))

	// 1. The citizen books on a phone: the first day with an open slot.
	citizen := newPersonTab(t, b, phone)
	registerInBrowser(t, citizen, s.URL, "张三", "11010519491231002X", "13800000001")
	open(t, citizen, s.URL+"/hall")
	press(t, citizen, "the district's centre", linkWithText("平顶山市湛河区行政服务中心"+"平顶山市湛河区开源路与南环路交叉口西北角区行政服务中心大厅"+"综合受理、社保医保、不动产"))
	for i := 0; ; i++ {
		if eval[bool](t, citizen, `!!document.querySelector('input[name=slot]:not([disabled])')`) {
			break
		}
		days := eval[[]string](t, citizen, `[...document.querySelectorAll('#h-date option')].map(o => o.value)`)
		if i+1 >= len(days) {
			t.Fatalf("no open slot in %v", days)
		}
		do(t, citizen, "choose the next day", chromedp.SetValue(chromedp.CSS("#h-date"), days[i+1]))
		press(t, citizen, "show its slots", chromedp.CSS(`form[method=get] button[type=submit]`))
	}
	wantText(t, citizen, "the hall's page", "综合受理", "余 3 个", "须在时段开始前 30 分钟预约")
	// Without an item the form says so (the browser's own check is off).
	do(t, citizen, "choose a slot", chromedp.Click(chromedp.CSS(`input[name=slot]:not([disabled])`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action$="/book"]').noValidate = true`))
	if st := press(t, citizen, "book without an item", chromedp.CSS(`form[action$="/book"] button[type=submit]`)); st != 400 {
		t.Fatalf("booking without an item: HTTP %d", st)
	}
	wantText(t, citizen, "the refusal", "没有预约成功", "该窗口组不办理所选事项")
	do(t, citizen, "choose the item and the slot",
		chromedp.SetValue(chromedp.CSS("#h-item"), eval[string](t, citizen, `document.querySelector('#h-item option:nth-child(2)').value`)),
		chromedp.Click(chromedp.CSS(`input[name=slot]:not([disabled])`)))
	press(t, citizen, "book", chromedp.CSS(`form[action$="/book"] button[type=submit]`))
	wantText(t, citizen, "the booking", "预约成功", "待签到", "平顶山市湛河区行政服务中心 综合受理")
	number := eval[string](t, citizen, `document.querySelector('[data-booking-number]').textContent.trim()`)
	if len(number) != 10 {
		t.Fatalf("booking number %q", number)
	}
	within(t, citizen, 5*time.Second, "the QR code loads", chromedp.Poll[chromedp.Void](`document.querySelector('.booking-qr').naturalWidth > 0`))
	screenshot(t, citizen, env, "hall-booking")
	open(t, citizen, s.URL+"/me/bookings")
	wantText(t, citizen, "my bookings", number, "待签到")

	// The appointment's time comes.
	now := time.Now()
	if _, err := db.WritePool().Exec(db.Dialect.Rebind(`UPDATE hall_bookings SET starts_at = ?, ends_at = ?, day = ? WHERE number = ?`),
		now.Add(-5*time.Minute).UTC(), now.Add(25*time.Minute).UTC(), calendar.DateOf(now).String(), number); err != nil {
		t.Fatal(err)
	}

	// 2. At the kiosk: a wrong number first, then the booking's.
	kiosk := newPersonTab(t, b, desktop)
	open(t, kiosk, s.URL+"/hall/xzfwzx/kiosk")
	do(t, kiosk, "type a wrong number", chromedp.SendKeys(chromedp.CSS("#k-booking"), "12345"))
	if st := press(t, kiosk, "check in", chromedp.CSS(`form[action$="/kiosk/booking"] button`)); st != 400 {
		t.Fatalf("a wrong number: HTTP %d", st)
	}
	wantText(t, kiosk, "the refusal", "预约号应为 10 位数字")
	do(t, kiosk, "type the booking's number", chromedp.SetValue(chromedp.CSS("#k-booking"), number))
	press(t, kiosk, "check in", chromedp.CSS(`form[action$="/kiosk/booking"] button`))
	wantText(t, kiosk, "the number", "您的号码", "预约优先")
	ticket := eval[string](t, kiosk, `document.querySelector('[data-ticket]').textContent.trim()`)
	if !strings.HasPrefix(ticket, "A") {
		t.Fatalf("ticket %q", ticket)
	}
	screenshot(t, kiosk, env, "hall-kiosk-number")

	// Without a booking: the ID number at the kiosk, never shown back whole.
	press(t, kiosk, "back", linkWithText("返回"))
	do(t, kiosk, "choose 社保医保 and type the ID number",
		chromedp.SetValue(chromedp.CSS("#k-group"), eval[string](t, kiosk, `[...document.querySelectorAll('#k-group option')].find(o => o.textContent === '社保医保').value`)),
		chromedp.SendKeys(chromedp.CSS("#k-id"), "11010519491231002X"))
	press(t, kiosk, "take a number", chromedp.CSS(`form[action$="/kiosk/number"] button`))
	wantText(t, kiosk, "the walk-in's number", "您的号码", "社保医保", "110105********002X")
	if strings.Contains(mainText(t, kiosk), "19491231") {
		t.Fatal("the kiosk shows the ID number")
	}

	// 3. The clerk finishes the demo's current number and calls the next:
	// the booked one goes first.
	clerk := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, clerk, s.URL, "scjg.window", "王芳")
	press(t, clerk, "窗口叫号", chromedp.CSS(`main a[href="/workbench/hall"]`))
	const desk = `section.desk:first-of-type `
	wantText(t, clerk, "the clerk's page", "平顶山市湛河区行政服务中心 · 综合受理（A）", ticket+"（预约）")
	if eval[bool](t, clerk, `!!document.querySelector('`+desk+`[data-current]')`) {
		press(t, clerk, "finish the demo's current number", chromedp.CSS(desk+`form input[value=served] ~ button`))
	}
	press(t, clerk, "叫下一号", chromedp.CSS(desk+`form[action$="/call"] button`))
	wantText(t, clerk, "the call", "已叫号 "+ticket+"，请到1号窗口。")
	if cur := eval[string](t, clerk, `document.querySelector('`+desk+`[data-current]').textContent`); cur != ticket {
		t.Fatalf("current number %q, want %q", cur, ticket)
	}

	// 4. The screen shows the call without reloading.
	within(t, screen, 10*time.Second, "the screen shows "+ticket,
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('[data-calls] tr')].some(tr => tr.textContent.includes('`+ticket+`') && tr.textContent.includes('1号窗口'))`))
	if !eval[bool](t, screen, `window.notReloaded === true`) {
		t.Fatal("the screen reloaded")
	}
	screenshot(t, screen, env, "hall-screen")
	screenshot(t, clerk, env, "hall-desk")

	// 5. Served; the waiting time is recorded and shown.
	press(t, clerk, "办理完毕", chromedp.CSS(desk+`form input[value=served] ~ button`))
	wantText(t, clerk, "served", ticket+" 已办理完毕。")
	var called, waitMax, served int
	if err := db.Read().QueryRow(ctx, `SELECT w.called, w.wait_max, w.served FROM hall_waits w JOIN hall_groups g ON g.id = w.group_id
		JOIN departments d ON d.id = g.department_id WHERE d.slug = 'xzfwzx' AND g.prefix = 'A' AND w.day = ?`, calendar.DateOf(time.Now()).String()).
		Scan(&called, &waitMax, &served); err != nil {
		t.Fatal(err)
	}
	if called < 2 || served < 2 {
		t.Fatalf("today's figures: called %d, served %d", called, served)
	}
	admin := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, admin, s.URL, "admin", "系统管理员")
	open(t, admin, s.URL+"/admin/hall")
	wantText(t, admin, "the window groups", "大厅窗口组", "综合受理（A）", "马庄街道便民服务中心", "新建窗口组")
	sup := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, sup, s.URL, "supervisor", "督查员刘敏")
	open(t, sup, s.URL+"/admin/hall/waits")
	row := `[data-wait="xzfwzx/综合受理/` + calendar.DateOf(time.Now()).String() + `"]`
	wantText(t, sup, "the waiting figures", "大厅等候时长", "平均等候", "综合受理")
	if got := eval[string](t, sup, `document.querySelector('`+row+` td:nth-child(4)').textContent`); got == "" || got == "0" {
		t.Fatalf("today's calls at 综合受理: %q", got)
	}
}
