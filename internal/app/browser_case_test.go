package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
)

// The whole story of a case (issue #5), in Chromium, each person in a
// browser context of their own. A citizen applies online for 内资公司设立登记,
// a 承诺件 of the market regulation bureau: the answers are checked as they
// are typed, a draft is saved and resumed, the materials are uploaded as
// real PDF, JPEG and PNG files. The bureau's window clerk asks for one
// correction naming a material; the citizen finds the request at the top
// of their page, is refused a resubmission that changes nothing, replaces
// the material beside the request and hands it in; the clerk accepts, the
// reviewer reviews, the head decides and the clerk completes with the
// licence; the citizen sees when it finished, downloads the licence and
// prints a notice. Then a walk-in applicant is taken in at
// the counter, and a stranger looks the first case up by number and mobile.
//
// Like the other browser tests it runs on the demo, that is on SQLite; the
// same story over plain HTTP runs on both databases in internal/web
// (TestTheWholeStory).
func TestBrowserCaseStory(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	// The pages are the same on both databases: a page checked in the four
	// configurations on one is not checked again on the other (visited).
	eachDatabase(t, func(t *testing.T, kind string) { caseStory(t, env, copyDemo(t, kind).Args...) })
}

func caseStory(t *testing.T, env browserEnv, args ...string) {
	s := start(t, nil, args...)
	b := newBrowser(t, env)
	files := makeUploads(t)
	const (
		itemName = "内资公司设立登记"
		walkIn   = "个体工商户设立登记" // taken in at the counter
		name     = "张三"
		idNumber = "11010519491231002X"
		mobile   = "13800000001"
	)

	// 1. The citizen registers, finds the item and applies online.
	citizen := newPersonTab(t, b, desktop)
	registerInBrowser(t, citizen, s.URL, name, idNumber, mobile)
	open(t, citizen, s.URL+"/")
	do(t, citizen, "search for the item", chromedp.SendKeys(chromedp.CSS("#q"), "公司设立登记"))
	press(t, citizen, "search", chromedp.CSS(`form[role="search"] button[type="submit"]`))
	press(t, citizen, "open the guide", linkWithText(itemName))
	guide := mainText(t, citizen)
	if m := regexp.MustCompile(`其中必需 (\d+) 项`).FindStringSubmatch(guide); m == nil || m[1] == "0" {
		t.Fatalf("the guide of %s lists no required material", itemName)
	}
	press(t, citizen, "在线申办", chromedp.CSS(`a.button-link[href$="/apply"]`))
	wantText(t, citizen, "the application form", "网上申请："+itemName, "（必填）")
	runAxe(t, citizen, env, "application form")

	// The answers are checked as they are typed: a wrong check character
	// is pointed out at its field, and the message goes once it is fixed.
	do(t, citizen, "type the first answers",
		chromedp.SendKeys(chromedp.CSS("#f-company_name"), "平顶山市湛河区张三商贸有限公司"),
		chromedp.SendKeys(chromedp.CSS("#f-legal_rep"), name),
		chromedp.SendKeys(chromedp.CSS("#f-legal_rep_id"), "110105194912310021"))
	within(t, citizen, 10*time.Second, "the error shows while typing", chromedp.WaitVisible(chromedp.CSS("#err-legal_rep_id")))
	within(t, citizen, 5*time.Second, "the error names the check character (校验位)",
		chromedp.WaitVisible(chromedp.JSPath(`[...document.querySelectorAll('#err-legal_rep_id')].filter(p => p.textContent.includes('校验位'))`)))
	if eval[string](t, citizen, `document.getElementById('f-legal_rep_id').getAttribute('aria-invalid') + ' ' + document.getElementById('f-legal_rep_id').getAttribute('aria-describedby')`) != "true err-legal_rep_id" {
		t.Error("the wrong field is not marked aria-invalid and described by its error")
	}
	if n := eval[int](t, citizen, `document.querySelectorAll('.field-error').length`); n != 1 {
		t.Errorf("%d errors show, want only the one at the identity number (untouched fields are left alone)", n)
	}
	screenshot(t, citizen, env, "story-apply-typing-error-desktop")
	runAxe(t, citizen, env, "application form with an error shown while typing")
	// The check character was mistyped: one backspace and the right one.
	// The mobile number is the account's, filled in (and editable).
	if v := eval[string](t, citizen, `document.getElementById('f-mobile').value + ' ' + document.getElementById('f-mobile').readOnly`); v != mobile+" false" {
		t.Errorf("the mobile number starts as %q, want the account's, editable", v)
	}
	do(t, citizen, "fix the identity number",
		chromedp.SendKeys(chromedp.CSS("#f-legal_rep_id"), kb.Backspace+idNumber[17:]))
	within(t, citizen, 10*time.Second, "the error goes once fixed", chromedp.WaitNotPresent(chromedp.CSS("#err-legal_rep_id")))
	if v := eval[string](t, citizen, `String(document.getElementById('f-legal_rep_id').getAttribute('aria-invalid'))`); v != "null" {
		t.Errorf("the fixed field is still aria-invalid=%q", v)
	}

	// A draft is saved; the citizen leaves and comes back to it.
	if st := press(t, citizen, "save the draft", chromedp.CSS(`button[value="save"]`)); st != 200 {
		t.Fatalf("saving the draft: HTTP %d", st)
	}
	wantText(t, citizen, "the saved draft", "草稿已保存")
	open(t, citizen, s.URL+"/")
	open(t, citizen, s.URL+"/me/cases")
	wantText(t, citizen, "my cases with the draft", itemName, "草稿")
	press(t, citizen, "open the draft", linkWithText(itemName))
	press(t, citizen, "修改申请表", chromedp.CSS(`a[href*="/apply?case="]`))
	if v := eval[string](t, citizen, `document.getElementById('f-legal_rep_id').value + ' ' + document.getElementById('f-legal_rep').value`); v != idNumber+" "+name {
		t.Fatalf("the resumed draft holds %q", v)
	}
	do(t, citizen, "fill in the rest",
		chromedp.SetValue(chromedp.CSS("#f-company_type"), "有限责任公司（自然人独资）"),
		chromedp.SendKeys(chromedp.CSS("#f-domicile"), "平顶山市湛河区开源路88号"),
		chromedp.SendKeys(chromedp.CSS("#f-registered_capital"), "100"),
		chromedp.SendKeys(chromedp.CSS("#f-business_scope"), "日用百货、预包装食品销售"),
		chromedp.SendKeys(chromedp.CSS("#f-shareholders"), "张三，认缴100万元，货币出资，2030年12月31日前缴足"))
	screenshot(t, citizen, env, "story-apply-filled-desktop")
	if st := press(t, citizen, "下一步：上传材料", chromedp.CSS(`button[value="submit"]`)); st != 200 {
		t.Fatalf("the complete form: HTTP %d:\n%s", st, mainText(t, citizen))
	}
	wantText(t, citizen, "the case page after the form", "申请表已保存")
	caseID := strings.TrimPrefix(eval[string](t, citizen, `location.pathname`), "/me/cases/")

	// The required materials, as real files of each accepted kind.
	required := eval[[]int](t, citizen, `[...document.querySelectorAll('ol.materials > li')].flatMap((li, i) => li.querySelector('.badge.required') ? [i] : [])`)
	if len(required) == 0 {
		t.Fatal("the case page lists no required material")
	}
	uploads := []string{files["申请书.pdf"], files["公司章程.pdf"], files["身份证.jpg"], files["任职文件.png"], files["经营场所照片.png"]}
	for k, n := range required {
		f := uploads[k%len(uploads)]
		attach(t, citizen, fmt.Sprintf("upload material %d", n), fmt.Sprintf("#file-%d", n), f)
		wantText(t, citizen, "the uploaded material", "材料已保存", "已提交："+filepath.Base(f))
	}
	// Before submitting, the page shows the answers to check: the
	// applicant's own, in full (masked everywhere else).
	wantText(t, citizen, "the answers to check", "核对并提交", idNumber, mobile, "平顶山市湛河区开源路88号", "日用百货、预包装食品销售")
	screenshot(t, citizen, env, "story-case-before-submit-desktop")
	if st := press(t, citizen, "提交申请", chromedp.CSS(`button[value="submit"]`)); st != 200 {
		t.Fatalf("submit: HTTP %d:\n%s", st, mainText(t, citizen))
	}
	wantText(t, citizen, "the submitted case", "申请已提交", "待预审")
	number := fact(t, citizen, "办件编号")
	if !regexp.MustCompile(`^410411\d{14}$`).MatchString(number) {
		t.Fatalf("办件编号 %q, want the district's code, the date and a serial", number)
	}
	screenshot(t, citizen, env, "story-case-submitted-desktop")

	// 2. The bureau's window clerk finds it in 待预审 and asks for one
	// correction, naming the material.
	clerk := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, clerk, s.URL, "scjg.window", "窗口人员王芳")
	openCaseFromQueue(t, clerk, s.URL, "submitted", caseID, number)
	wantText(t, clerk, "the staff case page", itemName, number, "待预审", "110105********002X")
	if strings.Contains(mainText(t, clerk), idNumber) {
		t.Error("the staff case page shows the identity number unmasked")
	}
	screenshot(t, clerk, env, "story-staff-case-submitted-desktop")
	runAxe(t, clerk, env, "staff case page")
	reason := "经营场所使用证明：照片不清晰，请上传房屋租赁合同或产权证明的清晰扫描件。"
	n := required[len(required)-1]
	do(t, clerk, "name the material and write the correction",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="material"][value="%d"]`, n))),
		chromedp.SendKeys(chromedp.CSS("#r-correct"), reason))
	press(t, clerk, "一次性告知补正", chromedp.CSS(`form:has(#r-correct) button[type="submit"]`))
	wantText(t, clerk, "after asking for the correction", "已办理", "待补正", "补正材料通知书")
	// Nothing is offered that cannot succeed: the case waits for the citizen.
	if eval[bool](t, clerk, `!!document.querySelector('#s-act')`) {
		t.Error("the clerk is offered actions on a case waiting for corrections")
	}

	// 3. The citizen sees the request and its notice, replaces the
	// material and hands the correction in.
	open(t, citizen, s.URL+"/me/cases")
	wantText(t, citizen, "my cases", "待补正")
	press(t, citizen, "open the case", chromedp.CSS(`a.item-name[href="/me/cases/`+caseID+`"]`))
	wantText(t, citizen, "the case to correct", "待补正", reason, "补正材料通知书", "一次性告知补正")
	press(t, citizen, "open the correction notice", linkWithText("补正材料通知书"))
	wantText(t, citizen, "the correction notice", "补正材料通知书", "请一次性补正以下全部内容", reason, "平顶山市湛河区市场监督管理局")
	open(t, citizen, s.URL+"/me/cases/"+caseID)
	// The request is a panel at the top: the reason, the date to correct
	// by, the named material marked (there and in the list) with its upload.
	if got := eval[string](t, citizen, `(() => { const p = document.querySelector('#c-correction'), m = document.querySelector('#c-mat');
		if (!p || !m || (p.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING) === 0) return 'no panel above the materials';
		if (!p.textContent.includes('`+reason+`') || !/请于 \d{4}-\d{2}-\d{2} 前补正/.test(p.textContent)) return 'no reason or date: ' + p.textContent;
		if (!p.querySelector('#cfile-`+fmt.Sprint(n)+`')) return 'no upload beside the named material';
		const named = [...document.querySelectorAll('ol.materials > li.named')];
		return named.length === 1 && named[0].textContent.includes('需补正') ? '' : named.length + ' materials marked'; })()`); got != "" {
		t.Errorf("the correction panel: %s", got)
	}
	if st := press(t, citizen, "提交补正 with nothing changed", chromedp.CSS(`button[value="resubmit"]`)); st != 400 {
		t.Errorf("an unchanged resubmission: HTTP %d", st)
	}
	wantText(t, citizen, "the refused resubmission", "补正通知要求的材料还没有重新提交", "待补正")
	resize(t, citizen, phone)
	checkNoSideScroll(t, citizen, phone)
	screenshot(t, citizen, env, "story-case-correction-phone")
	runAxe(t, citizen, env, "citizen's case to correct at phone size")
	resize(t, citizen, desktop)
	attach(t, citizen, "replace the material beside the request", fmt.Sprintf("#cfile-%d", n), files["租赁合同.pdf"])
	wantText(t, citizen, "the replaced material", "材料已保存", "已提交：租赁合同.pdf", "已重新提交")
	if st := press(t, citizen, "提交补正", chromedp.CSS(`button[value="resubmit"]`)); st != 200 {
		t.Fatalf("resubmit: HTTP %d:\n%s", st, mainText(t, citizen))
	}
	wantText(t, citizen, "the corrected case", "补正材料已提交", "待预审")

	// 4. The clerk accepts (受理通知书, a due date), the reviewer reviews,
	// the head decides (决定书) and the clerk completes with the licence.
	openCaseFromQueue(t, clerk, s.URL, "submitted", caseID, number)
	wantText(t, clerk, "the corrected case", "租赁合同.pdf", "补正次数")
	press(t, clerk, "受理", chromedp.CSS(`form:has(input[name="op"][value="accept"]) button[type="submit"]`))
	wantText(t, clerk, "the accepted case", "已办理", "审查中", "受理通知书", "承诺办结日期")
	due := fact(t, clerk, "承诺办结日期")
	// The item promises one working day, counted from the day after acceptance.
	if m := regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})（还剩 \d+ 个工作日`).FindStringSubmatch(due); m == nil || m[1] <= time.Now().In(clock.China).Format(time.DateOnly) {
		t.Errorf("承诺办结日期 %q, want a date after today with the working days left", due)
	}
	open(t, citizen, s.URL+"/me/cases/"+caseID)
	wantText(t, citizen, "the accepted case", "审查中", "受理通知书")
	if got := fact(t, citizen, "承诺办结日期"); got != due {
		t.Errorf("the citizen's page gives the due date as %q, the clerk's as %q", got, due)
	}
	reviewer := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, reviewer, s.URL, "scjg.reviewer", "审批人员李强")
	openCaseFromQueue(t, reviewer, s.URL, "reviewing", caseID, number)
	// Each timed step has its own date; the reviewer reviews and may not decide.
	steps := eval[[]string](t, reviewer, `[...document.querySelectorAll('#s-steps li')].map(li => li.textContent)`)
	if len(steps) != 3 || !strings.HasPrefix(steps[0], "审查：") || !strings.Contains(steps[0], "当前环节") || !strings.HasPrefix(steps[1], "决定：") || !strings.HasPrefix(steps[2], "办结：") {
		t.Errorf("the steps' dates: %q", steps)
	}
	if eval[bool](t, reviewer, `!!document.querySelector('input[name="outcome"]')`) {
		t.Error("the reviewer is offered the decision")
	}
	do(t, reviewer, "write the review", chromedp.SendKeys(chromedp.CSS("#r-review"), "材料齐全，符合设立条件，建议准予登记。"))
	press(t, reviewer, "审查", chromedp.CSS(`form:has(#r-review) button[type="submit"]`))
	wantText(t, reviewer, "the reviewed case", "待决定", "提出审查意见")
	head := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, head, s.URL, "scjg.head", "科长赵伟")
	openCaseFromQueue(t, head, s.URL, "reviewed", caseID, number)
	wantText(t, head, "the case to decide", "材料齐全，符合设立条件，建议准予登记。")
	do(t, head, "write the decision", chromedp.SendKeys(chromedp.CSS("#r-decide"), "准予登记，核发营业执照。"),
		chromedp.Click(chromedp.CSS(`input[name="outcome"][value="approve"]`)))
	press(t, head, "作出决定", chromedp.CSS(`form:has(#r-decide) button[type="submit"]`))
	wantText(t, head, "the decided case", "待办结", "决定书")
	openCaseFromQueue(t, clerk, s.URL, "decided", caseID, number)
	do(t, clerk, "choose the scanned licence", chromedp.SetUploadFiles(chromedp.CSS(`form[action$="/complete"] input[type="file"]`), []string{files["SCAN_0012.pdf"]}))
	press(t, clerk, "办结", chromedp.CSS(`form[action$="/complete"] button[type="submit"]`))
	wantText(t, clerk, "the completed case", "已办结", "办理结果：SCAN_0012.pdf")
	screenshot(t, clerk, env, "story-staff-case-completed-desktop")
	runAxe(t, clerk, env, "completed staff case page")

	// 5. The citizen sees the whole record, downloads the licence and
	// prints the acceptance notice.
	open(t, citizen, s.URL+"/me/cases/"+caseID)
	// The result is shown by what it is (the item's 审批结果名称), not by
	// the scanner's file name.
	wantText(t, citizen, "the completed case", "已办结", "下载办理结果：营业执照", "受理通知书", "补正材料通知书", "决定书")
	if strings.Contains(mainText(t, citizen), "SCAN_0012") {
		t.Error("the citizen's page names the result by the scanned file")
	}
	timeline := eval[[]string](t, citizen, `[...document.querySelectorAll('ol.timeline li strong')].map(s => s.textContent)`)
	if !inOrder(timeline, "创建申请", "提交申请", "一次性告知补正", "补正材料", "受理", "审查（提出审查意见）", "作出决定", "办结") {
		t.Errorf("the timeline is %v", timeline)
	}
	// Finished: when, and in time; no countdown.
	if got := fact(t, citizen, "办结情况"); !regexp.MustCompile(`^办结于 \d{4}年\d{1,2}月\d{1,2}日 按时办结$`).MatchString(got) || strings.Contains(mainText(t, citizen), "还剩") {
		t.Errorf("办结情况 %q (or a countdown left)", got)
	}
	// The message centre shows each entry with the case as it is now.
	open(t, citizen, s.URL+"/me/messages")
	if got := eval[[]string](t, citizen, `[...document.querySelectorAll('main li')].filter(li => li.textContent.includes('`+number+`')).map(li => li.textContent.match(/办件当前状态：(\S+)/)?.[1] || '')`); len(got) < 3 || slices.ContainsFunc(got, func(s string) bool { return s != "已办结" }) {
		t.Errorf("the message centre's states: %q", got)
	}
	open(t, citizen, s.URL+"/me/cases/"+caseID)
	screenshot(t, citizen, env, "story-case-completed-desktop")
	runAxe(t, citizen, env, "citizen's completed case at desktop size")
	want := sha256.Sum256(mustRead(t, files["营业执照.pdf"]))
	got := eval[string](t, citizen, `fetch(document.querySelector('a[href$="/result"]').href).then(r => r.arrayBuffer()).then(b => crypto.subtle.digest('SHA-256', b)).then(d => [...new Uint8Array(d)].map(x => x.toString(16).padStart(2, '0')).join(''))`, chromedp.EvalAwaitPromise)
	if got != hex.EncodeToString(want[:]) {
		t.Errorf("the result fetched in the page has SHA-256 %s, want %x", got, want)
	}
	downloaded := download(t, citizen, `a[href$="/result"]`)
	if !bytes.Equal(downloaded, mustRead(t, files["营业执照.pdf"])) {
		t.Errorf("the downloaded licence (%d bytes) is not the uploaded one", len(downloaded))
	}
	// 免提交: the next application that asks for the 营业执照 offers the
	// licence just issued, by its name; one click hands it in.
	open(t, citizen, s.URL+"/search?q="+url.QueryEscape("内资公司变更登记"))
	press(t, citizen, "open the change guide", linkWithText("内资公司变更登记"))
	press(t, citizen, "在线申办 the change", chromedp.CSS(`a.button-link[href$="/apply"]`))
	press(t, citizen, "save the change draft", chromedp.CSS(`button[value="save"]`))
	changeID := eval[string](t, citizen, `new URLSearchParams(location.search).get('case')`)
	open(t, citizen, s.URL+"/me/cases/"+changeID)
	offer := chromedp.JSPath(`[...document.querySelectorAll('ol.materials button')].filter(b => b.textContent.includes('使用本平台为您核发的「营业执照.pdf」'))`)
	within(t, citizen, 5*time.Second, "the licence is offered by its name", chromedp.WaitVisible(offer))
	press(t, citizen, "use the licence (免提交)", offer)
	wantText(t, citizen, "the licence handed in", "材料已保存", "已提交：营业执照.pdf（复用已有材料，免提交）")
	open(t, citizen, s.URL+"/me/cases/"+caseID)
	resize(t, citizen, phone)
	checkNoSideScroll(t, citizen, phone)
	screenshot(t, citizen, env, "story-case-completed-phone")
	runAxe(t, citizen, env, "citizen's completed case at phone size")
	resize(t, citizen, desktop)
	press(t, citizen, "open the acceptance notice", linkWithText("受理通知书"))
	wantText(t, citizen, "the acceptance notice", "受理通知书", "予以受理", number, "平顶山市湛河区市场监督管理局")
	// Laid out as GB/T 9704 has it: the 署名 centred over the Chinese date
	// in the right half, room for the seal above, no ISO date anywhere.
	if bad := eval[string](t, citizen, noticeLayout); bad != "" {
		t.Errorf("the acceptance notice's layout: %s", bad)
	}
	if eval[bool](t, citizen, `document.querySelector('[data-print]').hidden`) {
		t.Error("the notice's print button stayed hidden although scripts run")
	}
	screenshot(t, citizen, env, "story-acceptance-notice-desktop")
	printPDF(t, citizen, env, "story-acceptance-notice-a4")
	// One sheet: the 署名 and the date are not carried over to a page of
	// their own, and nothing of the page's frame adds a blank one.
	if pdf := mustRead(t, filepath.Join(env.shots, "story-acceptance-notice-a4.pdf")); !bytes.Contains(pdf, []byte("/Count 1\n")) {
		t.Error("the acceptance notice does not print on one A4 sheet")
	}
	if _, err := chromedp.Call(citizen, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, citizen, noticePrint); got != "notice 21.3333px" {
		t.Errorf("the notice prints on %q, want its A4 page (GB/T 9704 margins) with 3号 text", got)
	}
	if _, err := chromedp.Call(citizen, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}

	// 6. A walk-in applicant at the counter: the clerk takes the case in,
	// types the form, scans the materials and submits; the visit is recorded.
	open(t, clerk, s.URL+"/workbench")
	press(t, clerk, "窗口收件", chromedp.CSS(`a[href="/workbench/intake"]`))
	runAxe(t, clerk, env, "intake page")
	screenshot(t, clerk, env, "story-intake-desktop")
	item := eval[string](t, clerk, `[...document.querySelectorAll('#in-item option')].find(o => o.textContent === '`+walkIn+`')?.value || ''`)
	if item == "" {
		t.Fatalf("the intake form does not offer %s", walkIn)
	}
	do(t, clerk, "fill in the intake",
		chromedp.SetValue(chromedp.CSS("#in-item"), item),
		chromedp.SendKeys(chromedp.CSS("#in-name"), "王五"),
		chromedp.SendKeys(chromedp.CSS("#in-id"), "410411198506152014"),
		chromedp.SendKeys(chromedp.CSS("#in-mobile"), "13700001111"))
	press(t, clerk, "收件", chromedp.CSS(`form[action="/workbench/intake"] button[type="submit"]`))
	wantText(t, clerk, "the new counter case", "已收件", "草稿", "录入申请表", "扫描材料", "申请人到场", "窗口收件")
	walkInID := strings.TrimPrefix(eval[string](t, clerk, `location.pathname`), "/workbench/cases/")
	walkInNumber := fact(t, clerk, "办件编号")
	runAxe(t, clerk, env, "counter case to fill in")
	// The page says who the applicant is, and the form starts with what
	// the intake was told: the clerk does not type it twice.
	if who := fact(t, clerk, "申请人"); !strings.Contains(who, "王五") || !strings.Contains(who, "410411********2014") {
		t.Errorf("the counter case names the applicant as %q", who)
	}
	if v := eval[string](t, clerk, `['applicant_name', 'id_number', 'mobile'].map(k => document.getElementById('sf-' + k)).map(e => e.value + (e.readOnly ? '（固定）' : '')).join(' ')`); v != "王五（固定） 410411198506152014（固定） 13700001111" {
		t.Errorf("the counter form starts with %q", v)
	}
	do(t, clerk, "type the rest of the form",
		chromedp.SendKeys(chromedp.CSS("#sf-address"), "河南省平顶山市湛河区曹镇乡曹镇村"),
		chromedp.SetValue(chromedp.CSS("#sf-org_form"), "家庭经营"),
		chromedp.SendKeys(chromedp.CSS("#sf-premises"), "平顶山市湛河区南环路16号"),
		chromedp.SendKeys(chromedp.CSS("#sf-business_scope"), "餐饮服务"),
		chromedp.SendKeys(chromedp.CSS("#sf-employees"), "3"),
		chromedp.SendKeys(chromedp.CSS("#sf-capital"), "10"),
		chromedp.SetValue(chromedp.CSS("#sf-paper_license"), "不需要（仅电子营业执照）"))
	if st := press(t, clerk, "save the form", chromedp.CSS(`form[action$="/form"] button[type="submit"]`)); st != 200 {
		t.Fatalf("the counter form: HTTP %d:\n%s", st, mainText(t, clerk))
	}
	// Scanning is uploading: every required material, from the scanner's folder.
	scans := eval[[]string](t, clerk, `[...document.querySelectorAll('label[for^="sm-"]')].filter(l => l.textContent.includes('（必需）')).map(l => '#' + l.htmlFor)`)
	if len(scans) == 0 {
		t.Fatal("the counter case offers no scan of a required material")
	}
	scanned := []string{files["申请书.pdf"], files["身份证.jpg"], files["经营场所照片.png"]}
	for k, sel := range scans {
		attach(t, clerk, "scan a material", sel, scanned[k%len(scanned)])
		wantText(t, clerk, "the scanned material", "材料已保存")
	}
	if n := eval[int](t, clerk, `document.querySelectorAll('#s-mat ~ ul.list li').length`); n != len(scans) {
		t.Errorf("the counter case lists %d materials after %d scans", n, len(scans))
	}
	press(t, clerk, "提交申请 at the counter", chromedp.CSS(`form:has(input[name="op"][value="submit"]) button[type="submit"]`))
	wantText(t, clerk, "the submitted counter case", "已办理", "待预审", "申请人到场", "窗口收件", "王五", "410411********2014", "收件回执")
	screenshot(t, clerk, env, "story-counter-case-desktop")
	// The clerk prints the 收件回执 for the applicant: one A4 sheet.
	press(t, clerk, "open the receipt", linkWithText("收件回执"))
	wantText(t, clerk, "the receipt", "收件回执", "收字〔", "王五", walkIn, "收到材料", "后续办理", "平顶山市湛河区市场监督管理局")
	printPDF(t, clerk, env, "story-counter-receipt-a4")
	if pdf := mustRead(t, filepath.Join(env.shots, "story-counter-receipt-a4.pdf")); !bytes.Contains(pdf, []byte("/Count 1\n")) {
		t.Error("the receipt does not print on one A4 sheet")
	}
	openCaseFromQueue(t, clerk, s.URL, "submitted", walkInID, walkInNumber)

	// 7. Anyone can look a case up by its number and the mobile number,
	// and sees only where it stands.
	stranger := newPersonTab(t, b, phone)
	open(t, stranger, s.URL+"/lookup")
	do(t, stranger, "fill in the lookup",
		chromedp.SendKeys(chromedp.CSS("#lk-number"), number),
		chromedp.SendKeys(chromedp.CSS("#lk-mobile"), mobile))
	press(t, stranger, "查询", chromedp.CSS(`form[action="/lookup"] button[type="submit"]`))
	wantText(t, stranger, "the lookup", number, itemName, "已办结")
	for _, secret := range []string{name, idNumber, "002X", "营业执照.pdf", reason} {
		if strings.Contains(mainText(t, stranger), secret) {
			t.Errorf("the public lookup shows %q", secret)
		}
	}
	checkNoSideScroll(t, stranger, phone)
	screenshot(t, stranger, env, "story-lookup-phone")
	runAxe(t, stranger, env, "lookup at phone size")
	// Another mobile number learns nothing, not even that the case exists.
	open(t, stranger, s.URL+"/lookup")
	do(t, stranger, "fill in the lookup with another mobile",
		chromedp.SendKeys(chromedp.CSS("#lk-number"), number),
		chromedp.SendKeys(chromedp.CSS("#lk-mobile"), "13900000000"))
	if st := press(t, stranger, "查询", chromedp.CSS(`form[action="/lookup"] button[type="submit"]`)); st != 404 {
		t.Errorf("a lookup with another mobile: HTTP %d, want 404", st)
	}
	wantText(t, stranger, "the lookup with another mobile", "没有找到该办件")
	if strings.Contains(mainText(t, stranger), itemName) {
		t.Error("a lookup with another mobile shows the item")
	}
}

// newPersonTab opens a tab in a browser context of its own (cookies and
// all), so that several people use one browser side by side.
func newPersonTab(t *testing.T, browserCtx context.Context, sz size) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	resize(t, ctx, sz)
	return ctx
}

// press clicks what sel finds (a link or a button that sends a form),
// waits for the page that follows and returns its HTTP status.
func press[S chromedp.Selectable](t *testing.T, ctx context.Context, what string, sel S) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if resp == nil {
		t.Fatalf("%s: no page followed", what)
	}
	do(t, ctx, "wait for the page after: "+what, chromedp.WaitVisible(chromedp.CSS("main")))
	visited(t, ctx)
	return resp.Status
}

// within runs steps that wait for something the page should do soon, so
// that a missing feature fails in seconds rather than at the browser's
// time limit.
func within(t *testing.T, ctx context.Context, d time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(wctx, steps...); err != nil {
		t.Fatalf("%s (within %s): %v\n%s", what, d, err, mainText(t, ctx))
	}
}

// linkWithText selects the first link in <main> whose text is text.
func linkWithText(text string) chromedp.JSPath {
	return chromedp.JSPath(fmt.Sprintf(`[...document.querySelectorAll('main a')].find(a => a.textContent.trim() === %q)`, text))
}

func mainText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `document.querySelector('main').innerText`)
}

// wantText fails the test unless the page's <main> shows every one of wants.
func wantText(t *testing.T, ctx context.Context, what string, wants ...string) {
	t.Helper()
	text := mainText(t, ctx)
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Fatalf("%s: the page does not show %q:\n%s", what, w, text)
		}
	}
}

// fact reads the value beside a term of the page's first list of facts.
func fact(t *testing.T, ctx context.Context, term string) string {
	t.Helper()
	return eval[string](t, ctx, `(() => { const dt = [...document.querySelectorAll('dl.facts dt')].find(d => d.textContent.trim() === '`+term+`');
		return dt ? dt.nextElementSibling.textContent.trim() : ''; })()`)
}

// attach chooses file for the file input sel and sends its form.
func attach(t *testing.T, ctx context.Context, what, sel, file string) {
	t.Helper()
	do(t, ctx, what, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{file}))
	if st := press(t, ctx, what, chromedp.CSS(sel+` ~ button[type="submit"]`)); st != 200 {
		t.Fatalf("%s: HTTP %d:\n%s", what, st, mainText(t, ctx))
	}
}

// registerInBrowser registers a citizen with a phone code read from the
// demo's SMS page, as browser_account_test does.
func registerInBrowser(t *testing.T, ctx context.Context, base, name, id, mobile string) {
	t.Helper()
	open(t, ctx, base+"/register")
	do(t, ctx, "fill in the registration",
		chromedp.SendKeys(chromedp.CSS("#r-name"), name),
		chromedp.SendKeys(chromedp.CSS("#r-id"), id),
		chromedp.SendKeys(chromedp.CSS("#r-mobile"), mobile))
	press(t, ctx, "ask for a code", chromedp.CSS(`button[formaction="/register/code"]`))
	code := eval[string](t, ctx, `fetch('/demo/sms').then(r => r.text()).then(t => (t.match(/验证码是(\d{6})/) || [])[1] || '')`,
		chromedp.EvalAwaitPromise)
	if len(code) != 6 {
		t.Fatalf("no code on the demo SMS page: %q", code)
	}
	do(t, ctx, "type the code and a password, agree to the privacy notice",
		chromedp.SendKeys(chromedp.CSS("#r-code"), code),
		chromedp.SendKeys(chromedp.CSS("#r-password"), "Zhangsan-2026!"),
		chromedp.Click(chromedp.CSS("#r-consent")))
	press(t, ctx, "register", chromedp.CSS(`form[action="/register"] button[type="submit"]:not([formaction])`))
	wantText(t, ctx, "my page after registering", name)
	linksOpen(t, ctx, name, "header.site-header a[href^='/']")
	if staffish := eval[[]string](t, ctx, `[...document.querySelectorAll('header.site-header a')].map(a => a.textContent).filter(t => t === '工作台' || t === '管理')`); len(staffish) > 0 {
		t.Errorf("a citizen's header offers %q", staffish)
	}
}

// staffSignInBrowser signs a demo staff member in to the workbench.
func staffSignInBrowser(t *testing.T, ctx context.Context, base, user, wantName string) {
	t.Helper()
	open(t, ctx, base+"/workbench")
	do(t, ctx, "staff sign-in form",
		chromedp.SendKeys(chromedp.CSS("#s-user"), user),
		chromedp.SendKeys(chromedp.CSS("#s-pass"), demo.StaffPassword))
	press(t, ctx, "sign in as "+user, chromedp.CSS(`form[action="/staff/signin"] button[type="submit"]`))
	if lead := eval[string](t, ctx, `document.querySelector('.lead')?.innerText || ''`); !strings.Contains(lead, wantName) {
		t.Fatalf("the workbench of %s says %q", user, lead)
	}
	linksOpen(t, ctx, user, "header.site-header a[href^='/'], main a[href^='/']")
	if eval[bool](t, ctx, `!!document.querySelector('header.site-header a[href="/admin"]')`) {
		open(t, ctx, base+"/admin")
		linksOpen(t, ctx, user+" on the admin home", "main a[href^='/']")
		open(t, ctx, base+"/workbench")
	}
}

// linksOpen checks that every link the page shows (those sel picks, on
// this site) opens for the person it is shown to: none leads to a refusal
// (issue 17.11: citizens saw 工作台 and 管理, clerks 管理, and got 403).
func linksOpen(t *testing.T, ctx context.Context, who, sel string) {
	t.Helper()
	refused := eval[[]string](t, ctx, `Promise.all([...new Set([...document.querySelectorAll(`+"`"+sel+"`"+`)].map(a => a.getAttribute('href')))]
		.filter(h => !h.startsWith('/signout') && !h.endsWith('.xlsx') && !h.endsWith('.zip'))
		.map(h => fetch(h, {credentials: 'same-origin'}).then(r => r.ok ? '' : h + ' ' + r.status)))
		.then(rs => rs.filter(Boolean))`, chromedp.EvalAwaitPromise)
	if len(refused) > 0 {
		t.Errorf("%s is shown links that refuse them: %q", who, refused)
	}
}

// openCaseFromQueue goes from the workbench to a queue and opens the case
// from it, as a clerk does.
func openCaseFromQueue(t *testing.T, ctx context.Context, base, status, caseID, number string) {
	t.Helper()
	open(t, ctx, base+"/workbench")
	press(t, ctx, "open the queue "+status, chromedp.CSS(`a[href="/workbench/queue/`+status+`"]`))
	press(t, ctx, "open "+number+" from the queue", linkWithText(number))
	if p := eval[string](t, ctx, `location.pathname`); p != "/workbench/cases/"+caseID {
		t.Fatalf("the queue's link %s led to %s", number, p)
	}
}

// inOrder reports whether want appears in got in that order, perhaps with
// other entries between.
func inOrder(got []string, want ...string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// download clicks a download link and returns the file the browser saved.
func download(t *testing.T, ctx context.Context, sel string) []byte {
	t.Helper()
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, BrowserContextID: chromedp.FromContext(ctx).BrowserContextID, DownloadPath: dir}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	do(t, ctx, "click the download link", chromedp.Click(chromedp.CSS(sel)))
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".crdownload") {
				t.Logf("downloaded %s", e.Name())
				return mustRead(t, filepath.Join(dir, e.Name()))
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no download within 10s (in %s: %v)", dir, entries)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// printPDF prints the page on A4 as a person would and keeps the PDF.
// noticeLayout says what is wrong with the layout of the notice shown, or "".
const noticeLayout = `(() => {
  const doc = document.querySelector('.notice-doc'), signer = document.querySelector('.doc-signer'), date = document.querySelector('.doc-date');
  if (!doc || !signer || !date) return 'no 署名 or 成文日期';
  const r = document.createRange(); r.selectNodeContents(signer);
  const a = doc.getBoundingClientRect(), s = r.getBoundingClientRect(), d = date.getBoundingClientRect();
  const text = [...document.querySelectorAll('.doc-text')], last = text[text.length - 1].getBoundingClientRect();
  if (!/^\d{4}年[1-9]\d?月[1-9]\d?日$/.test(date.textContent)) return 'date ' + date.textContent;
  if (/\d{4}-\d{1,2}-\d{1,2}/.test(doc.innerText)) return 'an ISO date in the notice';
  if (d.top < s.bottom - 1) return 'the date is not under the 署名';
  if (Math.abs((s.left + s.right) / 2 - (d.left + d.right) / 2) > 2) return 'the 署名 is not centred over the date';
  if (d.left < a.left + a.width / 2) return 'the date is not on the right';
  if (s.top - last.bottom < 40) return 'no room for the seal';
  return '';
})()`

// noticePrint is the printed notice's named page and text size.
const noticePrint = `(() => {
  const el = document.querySelector('.doc-text');
  return getComputedStyle(document.body).page + ' ' + getComputedStyle(el).fontSize;
})()`

func printPDF(t *testing.T, ctx context.Context, env browserEnv, name string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatalf("emulate print: %v", err)
	}
	if shown := eval[string](t, ctx, `getComputedStyle(document.querySelector('.site-header')).display`); shown != "none" {
		t.Errorf("the header is printed (display %q)", shown)
	}
	res, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{PaperWidth: 8.27, PaperHeight: 11.69})
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatalf("end print emulation: %v", err)
	}
	if !bytes.HasPrefix(res.Data, []byte("%PDF")) || !bytes.Contains(res.Data, []byte("/Type /Page")) {
		t.Fatalf("the printed notice is not a PDF with pages (%d bytes)", len(res.Data))
	}
	if err := os.WriteFile(filepath.Join(env.shots, name+".pdf"), res.Data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// makeUploads writes small but valid files of each kind a material may
// be, and returns their paths by file name.
func makeUploads(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 64, 40))
	for y := range 40 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 6), 160, 255})
		}
	}
	var jpg, pngBytes bytes.Buffer
	if err := jpeg.Encode(&jpg, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&pngBytes, img); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"申请书.pdf":    tinyPDF("Application form, signed"),
		"身份证.jpg":    jpg.Bytes(),
		"经营场所照片.png": pngBytes.Bytes(),
		"任职文件.png":   pngBytes.Bytes(),
		"公司章程.pdf":   tinyPDF("Articles of association"),
		"租赁合同.pdf":   tinyPDF("Lease of the premises"),
		"营业执照.pdf":   tinyPDF("Business licence"),
		// The licence as the clerk's scanner names it.
		"SCAN_0012.pdf": tinyPDF("Business licence"),
	}
	out := map[string]string{}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		out[name] = p
	}
	return out
}

// tinyPDF is a one-page PDF that says text, with a correct
// cross-reference table.
func tinyPDF(text string) []byte {
	content := fmt.Sprintf("BT /F1 24 Tf 72 760 Td (%s) Tj ET", text)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}
