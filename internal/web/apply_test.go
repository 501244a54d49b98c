package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/web"
)

// registerCitizen registers a person through the pages, reading the code
// from the demo SMS page, and returns their browser.
func registerCitizen(t *testing.T, site testSite, name, id, mobile string) *browser {
	t.Helper()
	b := newBrowser(t, site.handler)
	form := url.Values{"name": {name}, "id_number": {id}, "mobile": {mobile}}
	b.post("/register/code", form)
	m := smsCode.FindStringSubmatch(b.get("/demo/sms").body)
	if m == nil {
		t.Fatal("no code")
	}
	form.Set("code", m[1])
	form.Set("consent", identity.PrivacyVersion)
	if ex := b.post("/register", form); ex.status != http.StatusSeeOther {
		t.Fatalf("register %s: %d %s", name, ex.status, ex.body)
	}
	return b
}

func TestCitizenAppliesOnline(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull, "营业执照"))
		guide := fmt.Sprintf("/items/%d", id)
		anon := newBrowser(t, site.handler)
		if ex := anon.get(guide + "/apply"); ex.status != http.StatusSeeOther || !strings.HasPrefix(ex.header.Get("Location"), "/signin?next=") {
			t.Fatalf("anonymous apply: %d %s", ex.status, ex.header.Get("Location"))
		}
		b := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		if ex := b.get(guide); !strings.Contains(ex.body, guide+"/apply") || !strings.Contains(ex.body, "在线申办") {
			t.Fatal("the guide has no apply button")
		}
		if ex := b.get(guide + "/apply"); ex.status != 200 || !strings.Contains(ex.body, "经营者姓名") || !strings.Contains(ex.body, "（必填）") {
			t.Fatalf("apply form: %d", ex.status)
		}
		// The page's script asks as the applicant types: the problems come
		// back by field, and nothing is saved.
		chk := b.post(guide+"/apply", url.Values{"op": {"check"}, "name": {"张三"}, "id_number": {"110105194912310021"}})
		var checked struct{ Problems map[string]string }
		if chk.status != 200 || !strings.HasPrefix(chk.header.Get("Content-Type"), "application/json") || json.Unmarshal([]byte(chk.body), &checked) != nil ||
			!strings.Contains(checked.Problems["id_number"], "校验位") || checked.Problems["name"] != "" {
			t.Fatalf("check while typing: %d %s", chk.status, chk.body)
		}
		if list := b.get("/me/cases"); strings.Contains(list.body, "个体工商户设立登记") {
			t.Error("checking the answers saved a draft")
		}
		// The form starts with the account's identity number, fixed (issue 17.4).
		if ex := b.get(guide + "/apply"); !strings.Contains(ex.body, `name="id_number" value="11010519491231002X" readonly`) || !strings.Contains(ex.body, "来自您的实名账户") {
			t.Fatal("the new form does not start with the account's identity number, fixed")
		}
		// A missing answer is listed in the summary above the form, which
		// links to its field; the draft is kept. Another identity number
		// sent is not taken: it is the account's.
		ex := b.post(guide+"/apply", url.Values{"op": {"submit"}, "name": {""}, "id_number": {"110105194912310021"}})
		if ex.status != 400 || !strings.Contains(ex.body, `<a href="#f-name">请填写经营者姓名</a>`) || !strings.Contains(ex.body, "有 1 处需要修改，草稿已保存") ||
			!strings.Contains(ex.body, `value="11010519491231002X"`) || strings.Contains(ex.body, "110105194912310021") {
			t.Fatalf("bad answer: %d\n%s", ex.status, ex.body)
		}
		caseID := between(ex.body, `name="case" value="`, `"`)
		version := between(ex.body, `name="version" value="`, `"`)
		// The check page offers no 提交申请 while the form is incomplete.
		if page := b.get("/me/cases/" + caseID); strings.Contains(page.body, `value="submit"`) || !strings.Contains(page.body, "申请表还有 1 处未填或填错") {
			t.Error("an incomplete draft offers 提交申请")
		}
		ex = b.post(guide+"/apply", url.Values{"op": {"submit"}, "case": {caseID}, "version": {version}, "name": {"张三"}, "id_number": {"11010519491231002X"}})
		if ex.status != http.StatusSeeOther || !strings.HasPrefix(ex.header.Get("Location"), "/me/cases/"+caseID) {
			t.Fatalf("form done: %d %s\n%s", ex.status, ex.header.Get("Location"), ex.body)
		}
		// Submitting without the required material is refused; with it, accepted.
		if ex := submitCase(b, caseID); ex.status != 400 || !strings.Contains(ex.body, "还缺少必需材料") {
			t.Fatalf("submit without material: %d", ex.status)
		}
		if ex := upload(b, caseID, 0, "申请书.txt", []byte("not a pdf")); ex.status != 400 || !strings.Contains(ex.body, "只能上传 PDF") {
			t.Fatalf("text file: %d", ex.status)
		}
		if ex := upload(b, caseID, 0, "申请书.pdf", []byte("%PDF-1.7 申请书")); ex.status != http.StatusSeeOther {
			t.Fatalf("upload: %d %s", ex.status, ex.body)
		}
		if dl := b.get("/cases/" + caseID + "/materials/0"); dl.status != 200 || dl.body != "%PDF-1.7 申请书" {
			t.Fatalf("download: %d", dl.status)
		}
		if ex := submitCase(b, caseID); ex.status != http.StatusSeeOther {
			t.Fatalf("submit: %d %s", ex.status, ex.body)
		}
		// The confirmation says what happens next.
		if page := b.get("/me/cases/" + caseID); !strings.Contains(page.body, "接下来：") || !strings.Contains(page.body, "个工作日内办结") {
			t.Error("the submitted case does not say what happens next")
		}
		page := b.get("/me/cases/" + caseID)
		for _, want := range []string{"待预审", "创建申请", "提交申请", "41041120261125", "110105********002X"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("case page lacks %q", want)
			}
		}
		if list := b.get("/me/cases"); !strings.Contains(list.body, "个体工商户设立登记") || !strings.Contains(list.body, "待预审") {
			t.Error("my cases does not list it")
		}
		// The submitted case's draft can no longer be changed.
		if ex := b.post(guide+"/apply", url.Values{"op": {"save"}, "case": {caseID}, "version": {version}, "name": {"张三"}}); ex.status != http.StatusConflict {
			t.Errorf("editing a submitted case: %d", ex.status)
		}
		if other := newBrowser(t, site.handler); other.get("/cases/"+caseID+"/materials/0").status != http.StatusSeeOther {
			t.Error("an anonymous visitor was not sent to sign in for a material")
		}
		other := registerCitizen(t, site, "李四", "110105199003071239", "13900001111")
		if ex := other.get("/me/cases/" + caseID); ex.status != http.StatusNotFound {
			t.Errorf("another citizen sees the case: %d", ex.status)
		}
	})
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	return s[:strings.Index(s, end)]
}

// upload hands in a file for material n of a case, as the browser would.
func upload(b *browser, caseID string, n int, name string, content []byte) exchange {
	page := b.get("/me/cases/" + caseID)
	version := between(page.body, `name="version" value="`, `"`)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("version", version)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	req := httptest.NewRequest("POST", fmt.Sprintf("/me/cases/%s/materials/%d", caseID, n), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func submitCase(b *browser, caseID string) exchange {
	page := b.get("/me/cases/" + caseID)
	version := between(page.body, `name="version" value="`, `"`)
	return b.post("/me/cases/"+caseID, url.Values{"op": {"submit"}, "version": {version}})
}

func TestPublicLookupByNumberAndMobile(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		ex := citizen.post(fmt.Sprintf("/items/%d/apply", id), url.Values{"op": {"submit"}, "name": {"张三"}, "id_number": {"11010519491231002X"}})
		caseID := strings.TrimPrefix(strings.Split(ex.header.Get("Location"), "?")[0], "/me/cases/")
		upload(citizen, caseID, 0, "a.pdf", []byte("%PDF-1.4"))
		submitCase(citizen, caseID)
		number := between(citizen.get("/me/cases/"+caseID).body, "<dt>办件编号</dt><dd>", "<")

		anon := newBrowser(t, site.handler)
		ok := anon.get("/lookup?number=" + number + "&mobile=13800000001")
		if ok.status != 200 || !strings.Contains(ok.body, "待预审") || !strings.Contains(ok.body, "个体工商户设立登记") || strings.Contains(ok.body, "张三") {
			t.Fatalf("lookup: %d", ok.status)
		}
		wrong := anon.get("/lookup?number=" + number + "&mobile=13900000000")
		unknown := anon.get("/lookup?number=41041120991231000001&mobile=13800000001")
		if wrong.status != 404 || unknown.status != 404 || between(wrong.body, `role="alert">`, "<") != between(unknown.body, `role="alert">`, "<") {
			t.Fatalf("wrong mobile %d / unknown number %d must look the same", wrong.status, unknown.status)
		}
		// Naming other addresses in X-Forwarded-For does not escape the
		// limit: the test site trusts no proxy, so the peer's address counts.
		for i := range 10 {
			req := httptest.NewRequest("GET", "/lookup?number="+number+"&mobile=13900000000", nil)
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
			anon.do(req)
		}
		if ex := anon.get("/lookup?number=" + number + "&mobile=13800000001"); ex.status != http.StatusTooManyRequests {
			t.Fatalf("bulk lookups not limited: %d", ex.status)
		}
	})
}

// The whole story through the pages: apply with a material, one
// correction, acceptance, decision, completion with the licence, and the
// citizen downloads the result.
func TestTheWholeStory(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		ex := citizen.post(fmt.Sprintf("/items/%d/apply", id), url.Values{"op": {"submit"}, "name": {"张三"}, "id_number": {"11010519491231002X"}})
		caseID := strings.TrimPrefix(strings.Split(ex.header.Get("Location"), "?")[0], "/me/cases/")
		upload(citizen, caseID, 0, "申请书.pdf", []byte("%PDF-1.7 v1"))
		submitCase(citizen, caseID)

		window := signInStaff(t, site, db, "clerk", "scjgj", policy.Window)
		reviewer := signInStaff(t, site, db, "reviewer", "scjgj", policy.Reviewer)
		staffPath := "/workbench/cases/" + caseID
		act := func(b *browser, op, reason string, extra ...string) {
			t.Helper()
			page := b.get(staffPath)
			v := between(page.body, `name="version" value="`, `"`)
			form := url.Values{"op": {op}, "version": {v}, "reason": {reason}}
			for i := 0; i+1 < len(extra); i += 2 {
				form.Set(extra[i], extra[i+1])
			}
			if ex := b.post(staffPath, form); ex.status != http.StatusSeeOther {
				t.Fatalf("%s: %d %s", op, ex.status, between(ex.body, `role="alert">`, "<"))
			}
		}
		if ex := window.post(staffPath, url.Values{"op": {"correct"}, "version": {between(window.get(staffPath).body, `name="version" value="`, `"`)},
			"reason": {"申请书未签字"}}); ex.status != 400 || !strings.Contains(ex.body, "请勾选需要补正的材料") {
			t.Fatalf("a correction naming no material: %d", ex.status)
		}
		act(window, "correct", "申请书未签字，请签字后重新上传", "material", "0")
		// The request is at the top of the applicant's page, the material
		// it names marked, its upload beside it; resubmitting unchanged is
		// refused.
		page := citizen.get("/me/cases/" + caseID)
		panel := between(page.body, `id="c-correction"`, `</section>`)
		if !strings.Contains(panel, "申请书未签字，请签字后重新上传") || !strings.Contains(panel, "个体工商户登记申请书") || !strings.Contains(panel, `id="cfile-0"`) ||
			!strings.Contains(panel, "待补正") || strings.Index(page.body, `id="c-correction"`) > strings.Index(page.body, `id="c-mat"`) {
			t.Fatalf("correction panel: %s", panel)
		}
		v := between(page.body, `name="version" value="`, `"`)
		if ex := citizen.post("/me/cases/"+caseID, url.Values{"op": {"resubmit"}, "version": {v}}); ex.status != 400 || !strings.Contains(ex.body, "补正通知要求的材料还没有重新提交") {
			t.Fatalf("resubmit unchanged: %d", ex.status)
		}
		upload(citizen, caseID, 0, "申请书-已签字.pdf", []byte("%PDF-1.7 v2 signed"))
		page = citizen.get("/me/cases/" + caseID)
		if !strings.Contains(between(page.body, `id="c-correction"`, `</section>`), "已重新提交") {
			t.Error("the panel does not show the material handed in again")
		}
		v = between(page.body, `name="version" value="`, `"`)
		if ex := citizen.post("/me/cases/"+caseID, url.Values{"op": {"resubmit"}, "version": {v}}); ex.status != http.StatusSeeOther {
			t.Fatalf("resubmit: %d", ex.status)
		}
		act(window, "accept", "")
		// 审查 by the reviewer, 决定 by the head: the reviewer is offered no decision.
		if page := reviewer.get(staffPath); strings.Contains(page.body, `name="outcome"`) || !strings.Contains(page.body, `value="review"`) ||
			!strings.Contains(page.body, "审查：") || !strings.Contains(page.body, "决定：") {
			t.Fatal("the reviewer is offered the decision, or not the review, or the page lacks each step's date")
		}
		act(reviewer, "review", "申请书已签字，材料齐全，建议准予")
		head := signInStaff(t, site, db, "head", "scjgj", policy.Head)
		if page := head.get(staffPath); !strings.Contains(page.body, `name="outcome" value="approve"`) || !strings.Contains(page.body, "法律依据") {
			t.Fatal("the decision form has no outcome or basis")
		}
		act(head, "decide", "准予登记", "outcome", "approve", "basis", "《促进个体工商户发展条例》第八条")
		page = window.get(staffPath)
		v = between(page.body, `name="version" value="`, `"`)
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("version", v)
		fw, _ := mw.CreateFormFile("file", "SCAN_0012.pdf")
		fw.Write([]byte("%PDF-1.7 licence"))
		mw.Close()
		req := httptest.NewRequest("POST", staffPath+"/complete", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if ex := window.do(req); ex.status != http.StatusSeeOther {
			t.Fatalf("complete: %d %s", ex.status, between(ex.body, `role="alert">`, "<"))
		}
		mine := citizen.get("/me/cases/" + caseID)
		// The result is shown and named by what it is, not by the file
		// the scanner made (issue 17.6).
		for _, want := range []string{"已办结", "下载办理结果：营业执照", "受理通知书", "补正材料通知书", "决定书", "一次性告知补正", "补正材料"} {
			if !strings.Contains(mine.body, want) {
				t.Errorf("the citizen's case page lacks %q", want)
			}
		}
		if res := citizen.get("/cases/" + caseID + "/result"); res.status != 200 || res.body != "%PDF-1.7 licence" ||
			!strings.Contains(res.header.Get("Content-Disposition"), url.PathEscape("营业执照.pdf")) {
			t.Fatalf("result download: %d", res.status)
		}
		if msgs := citizen.get("/me/messages"); !strings.Contains(msgs.body, "您的办件已办结") {
			t.Error("no completion message")
		}
		if dl := citizen.get("/cases/" + caseID + "/materials/0"); dl.body != "%PDF-1.7 v2 signed" {
			t.Error("the replaced material is not the one kept")
		}
		if zip := reviewer.get(staffPath + "/archive"); zip.status != 200 || zip.header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(zip.body, "PK") {
			t.Fatalf("archive: %d", zip.status)
		}
		if zip := window.get(staffPath + "/archive"); zip.status != http.StatusForbidden {
			t.Errorf("a window clerk exports the archive: %d", zip.status)
		}
		// The result is delivered by express, with its 送达回证.
		act(window, "deliver", "", "method", "express", "detail", "SF1234567890")
		mine = citizen.get("/me/cases/" + caseID)
		for _, want := range []string{"已送达", "送达回证", "SF1234567890", "办理结果已送达", "按时办结", "办件当前状态：<strong>已送达</strong>"} {
			if !strings.Contains(mine.body+citizen.get("/me/messages").body, want) {
				t.Errorf("after delivery the citizen does not see %q", want)
			}
		}
		// A finished case shows when it finished, never a countdown.
		for _, page := range []string{mine.body, window.get(staffPath).body, window.get("/workbench/queue/delivered").body} {
			if !strings.Contains(page, "办结于 ") || !strings.Contains(page, "按时办结") || strings.Contains(page, "还剩") || strings.Contains(page, "预警") {
				t.Errorf("a delivered case shows a countdown or no finish:\n%s", between(page, "<main", "</main>"))
			}
		}
	})
}

// An upload the case refuses (here: the case changed meanwhile) leaves no
// file in the store.
func TestRefusedUploadLeavesNoFile(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		ex := citizen.post(fmt.Sprintf("/items/%d/apply", id), url.Values{"op": {"submit"}, "name": {"张三"}, "id_number": {"11010519491231002X"}})
		caseID := strings.TrimPrefix(strings.Split(ex.header.Get("Location"), "?")[0], "/me/cases/")
		stored := func() (n int) {
			site.files.List(context.Background(), func(string, time.Time) error { n++; return nil })
			return n
		}
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("version", "999")
		fw, _ := mw.CreateFormFile("file", "a.pdf")
		fw.Write([]byte("%PDF-1.4 refused"))
		mw.Close()
		req := httptest.NewRequest("POST", fmt.Sprintf("/me/cases/%s/materials/0", caseID), &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if ex := citizen.do(req); ex.status != http.StatusConflict {
			t.Fatalf("upload to a changed case: %d", ex.status)
		}
		if n := stored(); n != 0 {
			t.Fatalf("%d files left by a refused upload", n)
		}
		if ex := upload(citizen, caseID, 0, "a.pdf", []byte("%PDF-1.4 kept")); ex.status != http.StatusSeeOther {
			t.Fatalf("upload: %d", ex.status)
		}
		if n := stored(); n != 1 {
			t.Fatalf("%d files after an accepted upload", n)
		}
	})
}

// A refused step keeps the status of httpx's one table: a material over
// the limit is 413 on the case page, with the message in Chinese, for the
// applicant and for the clerk at the counter alike.
func TestTooLargeMaterialIs413(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		ex := citizen.post(fmt.Sprintf("/items/%d/apply", id), url.Values{"op": {"submit"}, "name": {"张三"}, "id_number": {"11010519491231002X"}})
		caseID := strings.TrimPrefix(strings.Split(ex.header.Get("Location"), "?")[0], "/me/cases/")
		big := append([]byte("%PDF-1.7 "), bytes.Repeat([]byte("x"), web.MaxMaterialBytes)...)
		ex = upload(citizen, caseID, 0, "申请书.pdf", big)
		if ex.status != http.StatusRequestEntityTooLarge || !strings.Contains(ex.body, "文件超过大小限制") || !strings.Contains(ex.body, "个体工商户设立登记") {
			t.Fatalf("too large a material: %d %.300s", ex.status, ex.body)
		}
	})
}

// An application form's answers are one line, except where the item's
// form says textarea: there the applicant may write several lines.
func TestLineBreaksOnlyInTextareaAnswers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		it := guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull)
		it.Form[0].Fields = append(it.Form[0].Fields, catalog.FormField{Key: "scope", Label: "经营范围", Type: "textarea"})
		id := publish(t, db, site.catalog, it)
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		path := fmt.Sprintf("/items/%d/apply", id)
		if ex := citizen.post(path, url.Values{"op": {"submit"}, "name": {"张\r\n三"}, "id_number": {"11010519491231002X"}}); ex.status != 400 || !strings.Contains(ex.body, "换行") {
			t.Fatalf("a line break in a one-line answer: %d", ex.status)
		}
		if ex := citizen.post(path, url.Values{"op": {"submit"}, "name": {"张三"}, "id_number": {"11010519491231002X"}, "scope": {"零售\r\n餐饮"}}); ex.status != http.StatusSeeOther {
			t.Fatalf("lines in a textarea answer: %d %.300s", ex.status, ex.body)
		}
		if ex := citizen.post(path, url.Values{"op": {"submit"}, "name": {"张三"}, "id_number": {"11010519491231002X"}, "scope": {"零售\x1b[2J"}}); ex.status != 400 {
			t.Fatalf("a control character in a textarea answer: %d", ex.status)
		}
	})
}

// The applicant's check page: each answer with its 修改 link; 撤回申请
// asks once more before it withdraws; an upload refused names its
// material and links to its file field (issue 17.5).
func TestCheckPageAndWithdrawal(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		citizen := registerCitizen(t, site, "张三", "11010519491231002X", "13800000001")
		ex := citizen.post(fmt.Sprintf("/items/%d/apply", id), url.Values{"op": {"submit"}, "name": {"张三"}})
		caseID := strings.TrimPrefix(strings.Split(ex.header.Get("Location"), "?")[0], "/me/cases/")
		page := citizen.get("/me/cases/" + caseID)
		if !strings.Contains(page.body, fmt.Sprintf(`href="/items/%d/apply?case=%s#f-id_number">修改<span class="sr-only">身份证号码</span>`, id, caseID)) ||
			!strings.Contains(page.body, "11010519491231002X") {
			t.Error("the check page has no 修改 link per answer, or masks the applicant's own answers")
		}
		if strings.Contains(page.body, `value="submit"`) || !strings.Contains(page.body, "请上传「个体工商户登记申请书」") {
			t.Error("a draft without its required material offers 提交申请")
		}
		if ex := upload(citizen, caseID, 0, "申请书.txt", []byte("not a pdf")); ex.status != 400 ||
			!strings.Contains(ex.body, `<a href="#file-0">「个体工商户登记申请书」：`) {
			t.Errorf("a refused upload: %d\n%s", ex.status, ex.body)
		}
		version := between(page.body, `name="version" value="`, `"`)
		ex = citizen.post("/me/cases/"+caseID, url.Values{"op": {"withdraw"}, "version": {version}})
		if ex.status != 200 || !strings.Contains(ex.body, "确定撤回申请吗？") || !strings.Contains(ex.body, `name="confirm" value="yes"`) {
			t.Fatalf("撤回申请 without confirming: %d", ex.status)
		}
		if page := citizen.get("/me/cases/" + caseID); !strings.Contains(page.body, "草稿") {
			t.Fatal("asking to withdraw withdrew")
		}
		ex = citizen.post("/me/cases/"+caseID, url.Values{"op": {"withdraw"}, "version": {version}, "confirm": {"yes"}})
		if ex.status != http.StatusSeeOther {
			t.Fatalf("confirmed withdrawal: %d %s", ex.status, ex.body)
		}
		if page := citizen.get("/me/cases/" + caseID); !strings.Contains(page.body, "已撤回") {
			t.Error("the confirmed withdrawal did not withdraw")
		}
	})
}
