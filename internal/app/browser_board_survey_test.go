package app_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/store"
)

// The boards and the survey in one browser, each person in a tab of
// their own: the supervisor publishes a finished case of the demo to the
// 表扬台 with personal data in the words they type, the public page shows
// none of it nor the applicant's name, and the supervisor withdraws it; a
// citizen answers the demo's satisfaction survey on a phone (a refused
// answer first), a second answer is refused, and the administrator sees
// the rate and exports the results. Every new page is checked (axe and
// layout) on a phone and a desktop, normal and in 关怀模式, by open and
// press.
//
// It runs on SQLite and on PostgreSQL, both at once.
func TestBrowserBoardsAndSurvey(t *testing.T) {
	t.Parallel()
	env := needBrowser(t)
	eachDatabase(t, func(t *testing.T, kind string) { boardSurveyStory(t, env, copyDemoWithCases(t, kind)) })
}

// boardSurveyStory runs the story on a demo whose cases, survey answers
// and board entries are made; the test reads its database too.
func boardSurveyStory(t *testing.T, env browserEnv, demo seededDemo) {
	s := start(t, nil, demo.Args...)
	db, err := store.Open(context.Background(), demo.DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	count := func(q string, args ...any) int {
		var n int
		if err := db.Read().QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The demo answers its survey and publishes a few cases, a complaint
	// and ratings once its cases are made, in the background.
	for deadline := time.Now().Add(90 * time.Second); count(`SELECT COUNT(*) FROM survey_responses`) < 320 ||
		count(`SELECT COUNT(DISTINCT source) FROM board_entries`) < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("the demo's survey answers and board entries did not come:\n%s", s.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The demo's complaint and rating entries do not name the complainant
	// or the rater.
	rows, err := db.Read().Query(ctx, `SELECT e.id, e.snapshot, a.name FROM board_entries e
		JOIN complaints c ON e.source = 'complaint' AND c.id = e.source_id JOIN accounts a ON a.id = c.account_id
		UNION ALL SELECT e.id, e.snapshot, a.name FROM board_entries e
		JOIN ratings r ON e.source = 'rating' AND r.id = e.source_id JOIN accounts a ON a.id = r.rater_id`)
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for rows.Next() {
		var id int64
		var snap, name string
		if err := rows.Scan(&id, &snap, &name); err != nil {
			t.Fatal(err)
		}
		if named++; strings.Contains(snap, name) {
			t.Errorf("board entry %d names %s: %s", id, name, snap)
		}
	}
	rows.Close()
	if named == 0 {
		t.Error("no complaint or rating entry of a known person to check")
	}
	var caseID int64
	var number, applicant string
	if err := db.Read().QueryRow(ctx, `SELECT c.id, c.number, a.name FROM cases c JOIN accounts a ON a.id = c.applicant_id
		WHERE c.status IN ('completed', 'delivered') AND c.id NOT IN (SELECT source_id FROM board_entries) ORDER BY c.id LIMIT 1`).
		Scan(&caseID, &number, &applicant); err != nil {
		t.Fatalf("no finished case to publish: %v", err)
	}

	b := newBrowser(t, env)
	sup := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, sup, s.URL, "supervisor", "督查员刘敏")
	open(t, sup, s.URL+"/admin/boards?q="+number)
	wantText(t, sup, "the supervisor's page", "可发布的办件", number, "已发布的内容")
	// Complaints and ratings have their tabs, in their own words.
	press(t, sup, "the complaints' tab", linkWithText("诉求"))
	wantText(t, sup, "the complaints' tab", "可发布的诉求", "最近答复的诉求", "按时答复")
	press(t, sup, "the ratings' tab", linkWithText("评价"))
	wantText(t, sup, "the ratings' tab", "可发布的评价", "附有评价内容的好评和已回访的差评", "非常满意")
	open(t, sup, s.URL+"/admin/boards?q="+number)
	do(t, sup, "title the entry", chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("#ct-%d", caseID)), "感谢"+applicant+"的认可：当天办结"))
	press(t, sup, "preview", chromedp.CSS(fmt.Sprintf(`#ct-%d ~ button[type="submit"]`, caseID)))
	wantText(t, sup, "the preview", "预览：公众将看到", "感谢某某的认可：当天办结", "办理部门")
	do(t, sup, "add a note with personal data",
		chromedp.SendKeys(chromedp.CSS("#pb-note"), "申请人电话13912345678，身份证410411199003071234，住建设路12号院3号楼。"))
	press(t, sup, "preview again", chromedp.CSS(`button[formaction="/admin/boards/preview"]`))
	wantText(t, sup, "the second preview", "申请人电话（电话已隐去），身份证（证件号已隐去），住建设路。")
	press(t, sup, "publish", chromedp.CSS(`form[action="/admin/boards"] button:not([formaction])`))
	entryURL := eval[string](t, sup, `location.href`)
	if !regexp.MustCompile(`/boards/praise/\d+$`).MatchString(entryURL) {
		t.Fatalf("after publishing: %s", entryURL)
	}

	// Anyone reads it, on a phone, without a trace of the applicant.
	visitor := newPersonTab(t, b, phone)
	open(t, visitor, s.URL+"/boards/praise")
	press(t, visitor, "open the entry", linkWithText("感谢某某的认可：当天办结"))
	page := mainText(t, visitor)
	for _, leak := range []string{applicant, "13912345678", "410411199003071234", "12号院", number} {
		if strings.Contains(page, leak) {
			t.Errorf("the public entry shows %q:\n%s", leak, page)
		}
	}
	wantText(t, visitor, "the public entry", "表扬台", "办理事项", "按时办结", "（电话已隐去）")
	open(t, visitor, s.URL+"/boards/exposure")
	if n := count(`SELECT COUNT(*) FROM audit_log WHERE action = 'board_publish' AND actor = '督查员刘敏'`); n != 1 {
		t.Errorf("%d audit entries of the publication", n)
	}

	// The supervisor withdraws it, with a reason; the page is gone.
	open(t, sup, s.URL+"/admin/boards")
	id := entryURL[strings.LastIndex(entryURL, "/")+1:]
	do(t, sup, "give the reason", chromedp.SendKeys(chromedp.CSS("#wd-"+id), "申请人不同意公开"))
	press(t, sup, "withdraw", chromedp.CSS(`form[action="/admin/boards/`+id+`/withdraw"] button`))
	wantText(t, sup, "after withdrawing", "已撤下。", "已撤下（申请人不同意公开）")
	if resp, err := chromedp.RunResponse(visitor, chromedp.Navigate(entryURL)); err != nil || resp.Status != 404 {
		t.Fatalf("the withdrawn entry: %v %v", resp, err)
	}
	if n := count(`SELECT COUNT(*) FROM audit_log WHERE action = 'board_withdraw'`); n != 1 {
		t.Errorf("%d audit entries of the withdrawal", n)
	}

	// A citizen answers the survey on a phone.
	citizen := newPersonTab(t, b, phone)
	registerInBrowser(t, citizen, s.URL, "张三", "11010519491231002X", "13800000001")
	open(t, citizen, s.URL+"/surveys")
	press(t, citizen, "open the survey", linkWithText("2026 年度政务服务满意度调查"))
	surveyURL := eval[string](t, citizen, `location.href`)
	before := count(`SELECT COUNT(*) FROM survey_responses`)
	do(t, citizen, "answer two questions", chromedp.Click(chromedp.CSS("#q1-4")), chromedp.Click(chromedp.CSS("#q2-3")))
	if st := press(t, citizen, "submit with required answers missing", chromedp.CSS(`main form button[type="submit"]`)); st != 400 {
		t.Fatalf("an incomplete answer: HTTP %d", st)
	}
	wantText(t, citizen, "the refused answer", "还有题目需要修改", "第 3 题“您对工作人员的服务态度是否满意”为必答题，请打分。", "第 4 题")
	if n := count(`SELECT COUNT(*) FROM survey_responses`); n != before {
		t.Fatalf("a refused answer stored something: %d answers, were %d", n, before)
	}
	if !eval[bool](t, citizen, `document.querySelector('#q1-4').checked && document.querySelector('#q2-3').checked`) {
		t.Error("the answers given were not kept")
	}
	do(t, citizen, "answer the rest", chromedp.Click(chromedp.CSS("#q3-4")), chromedp.Click(chromedp.CSS("#q4-1")),
		chromedp.Click(chromedp.CSS("#q5-0")), chromedp.Click(chromedp.CSS("#q5-2")), chromedp.SendKeys(chromedp.CSS("#q6-0"), "窗口服务很好"))
	press(t, citizen, "submit", chromedp.CSS(`main form button[type="submit"]`))
	wantText(t, citizen, "after answering", "提交成功，感谢您的参与！")
	// A second answer from the same person is refused.
	open(t, citizen, surveyURL)
	do(t, citizen, "answer again", chromedp.Click(chromedp.CSS("#q1-0")), chromedp.Click(chromedp.CSS("#q2-0")), chromedp.Click(chromedp.CSS("#q3-0")),
		chromedp.Click(chromedp.CSS("#q4-3")))
	if st := press(t, citizen, "submit again", chromedp.CSS(`main form button[type="submit"]`)); st != 409 {
		t.Fatalf("a second answer: HTTP %d", st)
	}
	wantText(t, citizen, "the second answer", "您已经填写过这份问卷，每人只能填写一次。")
	if n := count(`SELECT COUNT(*) FROM survey_responses`); n != before+1 {
		t.Fatalf("%d answers, want %d", n, before+1)
	}

	// The administrator reads the rate and exports the answers.
	admin := newPersonTab(t, b, desktop)
	staffSignInBrowser(t, admin, s.URL, "admin", "系统管理员")
	open(t, admin, s.URL+"/admin/surveys")
	press(t, admin, "open the results", linkWithText("2026 年度政务服务满意度调查"))
	wantText(t, admin, "the results", fmt.Sprintf("%d 份", before+1), "总体满意率", "窗口服务很好", "平均")
	rate := eval[string](t, admin, `document.querySelector('#overall-rate').textContent`)
	var pct float64
	if _, err := fmt.Sscanf(rate, "%f%%", &pct); err != nil || pct < 93 || pct > 99 {
		t.Errorf("the overall rate %q is not the demo's realistic ~96%%", rate)
	}
	x, err := excelize.OpenReader(bytes.NewReader(download(t, admin, `a[href$="/results.xlsx"]`)))
	if err != nil {
		t.Fatalf("the export does not open: %v", err)
	}
	defer x.Close()
	answers, _ := x.GetRows("答卷")
	summary, _ := x.GetRows("结果汇总")
	if len(answers) != before+2 || len(summary) < 20 || summary[len(summary)-1][7] != rate {
		t.Errorf("the export: %d answer rows (want %d), summary %v", len(answers), before+2, summary[len(summary)-1])
	}
	if n := count(`SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND object LIKE 'survey:%'`); n != 1 {
		t.Errorf("%d audit entries of the export", n)
	}
	// The editor, with a refused save that keeps what was typed.
	open(t, admin, s.URL+"/admin/surveys/new")
	do(t, admin, "a question without a survey title", chromedp.SendKeys(chromedp.CSS("#q1-title"), "您对大厅环境是否满意"),
		chromedp.SetValue(chromedp.CSS("#q1-kind"), "scale"))
	if st := press(t, admin, "save", chromedp.CSS(`form[action="/admin/surveys"] button[type="submit"]`)); st != 400 {
		t.Fatalf("saving without a title: HTTP %d", st)
	}
	wantText(t, admin, "the refused save", "请填写问卷标题。")
	if v := eval[string](t, admin, `document.querySelector('#q1-title').value`); v != "您对大厅环境是否满意" {
		t.Errorf("the question typed is gone: %q", v)
	}
}
