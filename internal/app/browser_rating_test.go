package app_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// 好差评 in a real browser: a citizen applies online for an 即办件, the
// head settles it, and the case page invites a rating; the citizen gives a
// 差评 (refused first without a reason). The unit's reviewer calls back and
// records the rectification; the public rectification page shows it with
// no personal data, and the supervisor's rates show the call-back rate.
// Then the window clerk pairs the counter tablet, records a visit, and the
// visitor rates it on the tablet with large buttons (一次一评). Every new
// page is checked by axe on a phone and in 关怀模式 as it comes up
// (visited, browser_pages_test.go).
//
// It runs on SQLite and on PostgreSQL, both at once.
func TestBrowserRatingStory(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	eachDatabase(t, func(t *testing.T, kind string) { ratingStory(t, env, copyDemo(t, kind).Args...) })
}

func ratingStory(t *testing.T, env browserEnv, args ...string) {
	s := start(t, nil, args...)
	b := newBrowser(t, env)
	files := makeUploads(t)
	const (
		itemName = "个体工商户设立登记"
		name     = "赵六"
		idNumber = "11010519491231002X"
		mobile   = "13800000002"
		comment  = "网上指南写的经营场所证明与窗口要求不一致，白跑一趟"
		fix      = "已统一网上办事指南与窗口的经营场所证明要求，并组织窗口人员培训。"
	)

	// The citizen applies online and hands in the materials.
	citizen := newPersonTab(t, b, desktop)
	registerInBrowser(t, citizen, s.URL, name, idNumber, mobile)
	open(t, citizen, s.URL+"/search?q="+url.QueryEscape(itemName))
	press(t, citizen, "open the guide", linkWithText(itemName))
	press(t, citizen, "在线申办", chromedp.CSS(`a.button-link[href$="/apply"]`))
	do(t, citizen, "fill in the form",
		chromedp.SendKeys(chromedp.CSS("#f-address"), "河南省平顶山市湛河区曹镇乡曹镇村"),
		chromedp.Click(chromedp.CSS("#f-org_form-0")),
		chromedp.SendKeys(chromedp.CSS("#f-premises"), "平顶山市湛河区南环路16号"),
		chromedp.SendKeys(chromedp.CSS("#f-business_scope"), "餐饮服务"),
		chromedp.SendKeys(chromedp.CSS("#f-employees"), "3"),
		chromedp.SendKeys(chromedp.CSS("#f-capital"), "10"),
		chromedp.Click(chromedp.CSS("#f-paper_license-0")))
	if st := press(t, citizen, "下一步：上传材料", chromedp.CSS(`button[value="submit"]`)); st != 200 {
		t.Fatalf("the form: HTTP %d:\n%s", st, mainText(t, citizen))
	}
	caseID := strings.TrimPrefix(eval[string](t, citizen, `location.pathname`), "/me/cases/")
	required := eval[[]int](t, citizen, `[...document.querySelectorAll('ol.materials > li')].flatMap((li, i) => li.querySelector('.badge.required') ? [i] : [])`)
	uploads := []string{files["申请书.pdf"], files["身份证.jpg"], files["经营场所照片.png"]}
	for k, n := range required {
		attach(t, citizen, "upload a material", fmt.Sprintf("#file-%d", n), uploads[k%len(uploads)])
	}
	if st := press(t, citizen, "提交申请", chromedp.CSS(`button[value="submit"]`)); st != 200 {
		t.Fatalf("submit: HTTP %d:\n%s", st, mainText(t, citizen))
	}
	number := fact(t, citizen, "办件编号")
	if strings.Contains(mainText(t, citizen), "评价本次服务") {
		t.Fatal("a case not yet finished asks for a rating")
	}

	// The head settles it at one sitting.
	head := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, head, s.URL, "scjg.head", "科长赵伟")
	openCaseFromQueue(t, head, s.URL, "submitted", caseID, number)
	do(t, head, "write the settlement",
		chromedp.SendKeys(chromedp.CSS("#settle-reason"), "材料齐全，符合登记条件，准予登记。"),
		chromedp.SetUploadFiles(chromedp.CSS(`form:has(input[name="op"][value="settle"]) input[type="file"]`), []string{files["营业执照.pdf"]}))
	press(t, head, "当场办结", chromedp.CSS(`form:has(input[name="op"][value="settle"]) button[type="submit"]`))
	wantText(t, head, "the settled case", "已办结")

	// The citizen is invited on 我的办件 and on the case page, and rates.
	open(t, citizen, s.URL+"/me/cases")
	wantText(t, citizen, "my cases", "请评价已办结的服务", "评价："+itemName)
	open(t, citizen, s.URL+"/me/cases/"+caseID)
	wantText(t, citizen, "the finished case", "服务评价", "一事一评")
	press(t, citizen, "评价本次服务", chromedp.CSS(`#c-rate a[href^="/me/ratings/"]`))
	wantText(t, citizen, "the rating form", "总体评价", "办事效率", "办事指南准确性", "办理便捷程度", "平台易用性")
	rateAll := func(level string) {
		for _, name := range []string{"level", "score-efficiency", "score-guide", "score-convenience", "score-usability"} {
			do(t, citizen, "choose "+name, chromedp.Click(chromedp.CSS(`input[name="`+name+`"][value="`+level+`"]`)))
		}
	}
	rateAll("1")
	if st := press(t, citizen, "提交评价 without a reason", chromedp.CSS(`main form button[type="submit"]`)); st != 400 {
		t.Fatalf("a 差评 without a reason: HTTP %d", st)
	}
	wantText(t, citizen, "the refused rating", "请写明不满意的原因")
	if !eval[bool](t, citizen, `document.querySelector('input[name="level"][value="1"]').checked`) {
		t.Error("the refused form lost the level chosen")
	}
	do(t, citizen, "write the reason", chromedp.SendKeys(chromedp.CSS("#rate-comment"), comment))
	screenshot(t, citizen, env, "rating-form-desktop")
	if st := press(t, citizen, "提交评价", chromedp.CSS(`main form button[type="submit"]`)); st != 200 {
		t.Fatalf("rate: HTTP %d:\n%s", st, mainText(t, citizen))
	}
	wantText(t, citizen, "the thanks", "感谢您的评价", "非常不满意", "回访", "整改")
	open(t, citizen, s.URL+"/me/cases/"+caseID)
	wantText(t, citizen, "the rated case", "您已评价本次服务")

	// The unit's reviewer calls back and records the rectification.
	reviewer := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, reviewer, s.URL, "scjg.reviewer", "审批人员李强")
	press(t, reviewer, "好差评回访", chromedp.CSS(`a[href="/workbench/ratings"]`))
	wantText(t, reviewer, "the follow-ups", number, itemName, "非常不满意", "待回访")
	press(t, reviewer, "open the follow-up", linkWithText(number))
	wantText(t, reviewer, "the follow-up", comment, "赵*", "138****0002")
	if strings.Contains(mainText(t, reviewer), mobile) {
		t.Error("the follow-up shows the mobile number before it is revealed")
	}
	do(t, reviewer, "record the call-back",
		chromedp.Click(chromedp.CSS(`input[name="reached"][value="yes"]`)),
		chromedp.SendKeys(chromedp.CSS("#fu-note"), "已电话联系申请人，核实属实，已致歉并说明整改措施。"))
	press(t, reviewer, "保存回访记录", chromedp.CSS(`form[action$="/callback"] button[type="submit"]`))
	wantText(t, reviewer, "after the call-back", "回访情况已记录", "待整改", "审批人员李强")
	do(t, reviewer, "write the rectification", chromedp.SendKeys(chromedp.CSS("#fu-what"), fix))
	press(t, reviewer, "保存整改情况", chromedp.CSS(`form[action$="/rectify"] button[type="submit"]`))
	wantText(t, reviewer, "after the rectification", "已整改", "按期", fix)
	screenshot(t, reviewer, env, "rating-followup-desktop")

	// The public sees the rectification and nothing personal.
	stranger := newPersonTab(t, b, phone)
	open(t, stranger, s.URL+"/ratings/rectifications")
	wantText(t, stranger, "the public rectifications", itemName, fix, "按期", "非常不满意")
	for _, private := range []string{name, "赵*", idNumber, mobile, "0002", comment, number} {
		if strings.Contains(mainText(t, stranger), private) {
			t.Errorf("the public rectification page shows %q", private)
		}
	}
	checkNoSideScroll(t, stranger, phone)
	screenshot(t, stranger, env, "rating-rectifications-phone")

	// The supervisor's rates.
	supervisor := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, supervisor, s.URL, "supervisor", "督查员刘敏")
	open(t, supervisor, s.URL+"/admin")
	press(t, supervisor, "好差评统计", chromedp.CSS(`main a[href="/admin/ratings"]`))
	if got := fact(t, supervisor, "实名差评回访率"); !strings.HasPrefix(got, "100.0%") {
		t.Errorf("实名差评回访率 %q", got)
	}
	wantText(t, supervisor, "the rates", "市场监督管理局", itemName, "差评率", "100.0%")

	// 一次一评: the clerk pairs the tablet and records a visit; the visitor
	// rates it there, once.
	clerk := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, clerk, s.URL, "scjg.window", "窗口人员王芳")
	press(t, clerk, "配对窗口评价器", chromedp.CSS(`form[action="/workbench/tablet"] button`))
	link := eval[string](t, clerk, `document.getElementById('tablet-link').textContent`)
	tablet := newPersonTab(t, b, size{"tablet", 800, 1280, false})
	open(t, tablet, s.URL+link)
	wantText(t, tablet, "the waiting tablet", "办理完成后，请在这里评价本次服务")
	open(t, clerk, s.URL+"/workbench/cases/"+caseID)
	do(t, clerk, "the purpose of the visit", chromedp.SendKeys(chromedp.CSS("#v-purpose"), "领取纸质营业执照"))
	press(t, clerk, "登记到场", chromedp.CSS(`form[action$="/visits"] button[type="submit"]`))
	open(t, tablet, s.URL+link)
	wantText(t, tablet, "the tablet with the visit", "请评价本次服务", itemName, "服务态度", "业务能力")
	if h := eval[float64](t, tablet, `Math.min(...[...document.querySelectorAll('.levels label')].map(l => l.getBoundingClientRect().height))`); h < 60 {
		t.Errorf("the tablet's choices are %.0f px high, want large touch targets", h)
	}
	screenshot(t, tablet, env, "rating-tablet")
	for _, name := range []string{"level", "score-efficiency", "score-skill", "score-attitude"} {
		do(t, tablet, "choose 满意 for "+name, chromedp.Click(chromedp.CSS(`input[name="`+name+`"][value="4"]`)))
	}
	press(t, tablet, "提交评价 on the tablet", chromedp.CSS(`main form button[type="submit"]`))
	wantText(t, tablet, "the tablet's thanks", "感谢您的评价")
	open(t, tablet, s.URL+link)
	if strings.Contains(mainText(t, tablet), "服务态度") {
		t.Error("the tablet offers the rated visit again")
	}
}
