package app_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Webhooks in a real browser (issue 12): an Open311 filing reaches the
// demo's built-in receiver; the administrator finds the demo's
// subscription from the admin home, sees the delivery in its log and sends
// it again; a private address is refused with the form kept; a new
// subscription shows its secret once. Every new page is checked by axe as
// it comes up (visited).
//
// It runs on SQLite and on PostgreSQL, both at once.
func TestBrowserWebhooks(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	eachDatabase(t, func(t *testing.T, kind string) { webhookStory(t, env, copyDemo(t, kind).Args...) })
}

func webhookStory(t *testing.T, env browserEnv, args ...string) {
	s := start(t, nil, args...)
	m := demoKey.FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("the demo printed no key:\n%s", s.out.String())
	}
	resp, err := http.PostForm(s.URL+"/open311/v2/requests.json", url.Values{"api_key": {m[1]}, "service_code": {"general"},
		"lat": {"33.7288"}, "long": {"113.2925"}, "description": {"南环路路灯不亮，晚上过马路很危险。"}, "phone": {"13912345678"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("open311 post: HTTP %d %s", resp.StatusCode, body)
	}
	b := newBrowser(t, env)
	admin := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, admin, s.URL, "admin", "系统管理员")
	open(t, admin, s.URL+"/admin")
	press(t, admin, "事件推送", chromedp.CSS(`main a[href="/admin/webhooks"]`))
	wantText(t, admin, "the subscriptions", "市政务服务平台", "推送中", "新增订阅")
	press(t, admin, "the demo's subscription", chromedp.CSS(`main table a[href^="/admin/webhooks/"]`))
	wantText(t, admin, "the subscription", "http://127.0.0.1:", "/demo/webhook", "诉求已登记", "推送记录")
	page := admin
	for end := time.Now().Add(30 * time.Second); !strings.Contains(mainText(t, page), "已送达"); time.Sleep(300 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the filing was not delivered:\n%s", mainText(t, page))
		}
		do(t, page, "reload", chromedp.Reload())
	}
	wantText(t, admin, "the delivery's attempt", "complaint.created", "HTTP 204")
	press(t, admin, "send it again", chromedp.CSS(`main form[action$="/redeliver"] button`))
	wantText(t, admin, "the redelivery", "已重新排入推送", "系统管理员 重新推送")

	// A subscription to a private address is refused, the form kept.
	open(t, admin, s.URL+"/admin/webhooks")
	do(t, admin, "fill in a subscription to the intranet",
		chromedp.SetValue(chromedp.CSS("#w-client"), eval[string](t, admin, `document.querySelector('#w-client option[value]:not([value=""])').value`)),
		chromedp.SendKeys(chromedp.CSS("#w-url"), "https://10.20.0.8/hook"),
		chromedp.Click(chromedp.CSS(`input[name="events"][value="case.accepted"]`)),
		chromedp.Click(chromedp.CSS(`input[name="events"][value="case.completed"]`)))
	if st := press(t, admin, "subscribe", chromedp.CSS(`main form[action="/admin/webhooks"] button[type="submit"]`)); st != 400 {
		t.Fatalf("a private address: HTTP %d", st)
	}
	wantText(t, admin, "the refusal", "不能指向内网")
	if v := eval[string](t, admin, `document.querySelector('#w-url').value`); v != "https://10.20.0.8/hook" ||
		!eval[bool](t, admin, `document.querySelector('input[value="case.completed"]').checked`) {
		t.Fatalf("the form lost what was typed: %q", v)
	}
	do(t, admin, "a public address", chromedp.SetValue(chromedp.CSS("#w-url"), "https://oa.example.gov.cn/hook"))
	if st := press(t, admin, "subscribe", chromedp.CSS(`main form[action="/admin/webhooks"] button[type="submit"]`)); st != 200 {
		t.Fatalf("subscribe: HTTP %d", st)
	}
	wantText(t, admin, "the new subscription", "只显示这一次", "zws_", "办件已受理、办件已办结")

	// The demo's receiver verified what it got, the redelivery too.
	open(t, admin, s.URL+"/demo/webhook")
	for end := time.Now().Add(30 * time.Second); strings.Count(mainText(t, admin), "签名有效") < 2; time.Sleep(300 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the receiver page:\n%s", mainText(t, admin))
		}
		do(t, admin, "reload", chromedp.Reload())
	}
	wantText(t, admin, "the receiver page", "complaint.created")
	if strings.Contains(mainText(t, admin), "拒收") {
		t.Fatalf("the receiver refused a delivery:\n%s", mainText(t, admin))
	}
}
