package web_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// postAssisted posts the second step of 帮办代办 as the browser would:
// the person, the consent, the form and the materials, in one multipart body.
func postAssisted(b *browser, itemID int64, fields url.Values, files map[string][]byte) exchange {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for field, content := range files {
		fw, _ := mw.CreateFormFile(field, field+".pdf")
		fw.Write(content)
	}
	mw.Close()
	req := httptest.NewRequest("POST", fmt.Sprintf("/assist/items/%d", itemID), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func TestAssistedApplicationThroughThePages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newTestSite(t, db)
		id := publish(t, db, site.catalog, guideItem("010100100001", "个体工商户设立登记", catalog.DepthFull))
		elder := registerCitizen(t, site, "王秀兰", "11010519491231002X", "13800001234")
		neighbour := registerCitizen(t, site, "李四", "110105195001010039", "13800005678")
		worker := signInStaff(t, site, db, "mazhuang.assist", "bmfw-410411001001", policy.Assistant)
		clerk := signInStaff(t, site, db, "scjg.window", "scjgj", policy.Window)
		if page := worker.get("/workbench"); !strings.Contains(page.body, `href="/assist/new"`) {
			t.Error("the workbench does not offer 帮办代办 to the worker")
		}
		if page := clerk.get("/workbench"); strings.Contains(page.body, `href="/assist/new"`) {
			t.Error("the workbench offers 帮办代办 to a clerk")
		}
		if ex := clerk.get("/assist/new"); ex.status != http.StatusForbidden {
			t.Errorf("a clerk opens 帮办代办: %d", ex.status)
		}
		if page := worker.get(fmt.Sprintf("/assist/new?item=%d", id)); page.status != 200 || !strings.Contains(page.body, "个体工商户设立登记") {
			t.Fatalf("the first step: %d", page.status)
		}
		site.clock.Advance(2 * time.Minute) // past the number's last code, at registration
		person := url.Values{"item": {fmt.Sprint(id)}, "name": {"王秀兰"}, "id_number": {"11010519491231002X"}, "mobile": {"13800001234"}, "method": {"sms"}}
		step := worker.post("/assist/consent", person)
		if step.status != 200 || !strings.Contains(step.body, "验证码已发送至申请人手机 138****1234") || !strings.Contains(step.body, `name="code"`) {
			t.Fatalf("the code is not sent: %d %s", step.status, step.body)
		}
		code := smsCode.FindStringSubmatch(worker.get("/demo/sms").body)
		if code == nil {
			t.Fatal("no code texted")
		}
		fields := url.Values{"name": {"王秀兰"}, "id_number": {"11010519491231002X"}, "mobile": {"13800001234"}, "method": {"sms"}}
		fields.Set("code", "000000")
		if code[1] == "000000" {
			fields.Set("code", "111111")
		}
		pdf := []byte("%PDF-1.5 申请书")
		ex := postAssisted(worker, id, fields, map[string][]byte{"file-0": pdf})
		if ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "验证码不正确") {
			t.Fatalf("a wrong code: %d", ex.status)
		}
		fields.Set("code", code[1])
		ex = postAssisted(worker, id, fields, map[string][]byte{"file-0": pdf})
		if ex.status != http.StatusSeeOther || !strings.HasPrefix(ex.header.Get("Location"), "/assist/cases/") {
			t.Fatalf("the application: %d %s", ex.status, ex.body)
		}
		workerPath := strings.Split(ex.header.Get("Location"), "?")[0]
		caseID := strings.TrimPrefix(workerPath, "/assist/cases/")
		const line = "帮办代办：马庄社区便民服务站 测试mazhuang.assist（mazhuang.assist） 代 王秀兰 申请，授权方式：短信确认 138****1234"
		page := worker.get(workerPath)
		if page.status != 200 || !strings.Contains(page.body, line) || !strings.Contains(page.body, "待预审") {
			t.Errorf("the worker's case page: %d %s", page.status, between(page.body, `id="c-assisted">`, `</p>`))
		}
		if list := worker.get("/assist"); !strings.Contains(list.body, workerPath) || !strings.Contains(list.body, "王秀兰") {
			t.Error("the worker's list does not have the case")
		}
		// The person owns it; nobody else sees it.
		if mine := elder.get("/me/cases"); !strings.Contains(mine.body, "/me/cases/"+caseID) {
			t.Error("the case is not among the person's cases")
		}
		if page := elder.get("/me/cases/" + caseID); page.status != 200 || !strings.Contains(page.body, line) {
			t.Errorf("the person's case page: %d", page.status)
		}
		if page := neighbour.get("/me/cases/" + caseID); page.status != http.StatusNotFound {
			t.Errorf("another person opens the case: %d", page.status)
		}
		// The department sees who applied for whom.
		if page := clerk.get("/workbench/cases/" + caseID); page.status != 200 || !strings.Contains(page.body, line) {
			t.Errorf("the department's case page: %d", page.status)
		}
		if page := clerk.get(workerPath); page.status != http.StatusForbidden {
			t.Errorf("a clerk opens the worker's page: %d", page.status)
		}
		// The worker takes no department step.
		staffPage := worker.get("/workbench/cases/" + caseID)
		version := between(staffPage.body, `name="version" value="`, `"`)
		if ex := worker.post("/workbench/cases/"+caseID, url.Values{"op": {"accept"}, "version": {version}}); ex.status != http.StatusForbidden {
			t.Errorf("the worker accepts the case: %d", ex.status)
		}

		// By a signed form: the form is kept with the case, for those who
		// may see it.
		person.Set("method", "form")
		if step := worker.post("/assist/consent", person); step.status != 200 || !strings.Contains(step.body, `name="consent_file"`) {
			t.Fatalf("the second step for a signed form: %d", step.status)
		}
		fields.Set("method", "form")
		fields.Del("code")
		if ex := postAssisted(worker, id, fields, map[string][]byte{"file-0": pdf}); ex.status != http.StatusBadRequest || !strings.Contains(ex.body, "授权委托书") {
			t.Errorf("no signed form: %d", ex.status)
		}
		ex = postAssisted(worker, id, fields, map[string][]byte{"file-0": pdf, "consent_file": []byte("%PDF-1.5 授权委托书 王秀兰")})
		if ex.status != http.StatusSeeOther {
			t.Fatalf("the application with a signed form: %d %s", ex.status, ex.body)
		}
		second := strings.TrimPrefix(strings.Split(ex.header.Get("Location"), "?")[0], "/assist/cases/")
		if f := elder.get("/cases/" + second + "/consent"); f.status != 200 || !strings.Contains(f.body, "授权委托书 王秀兰") {
			t.Errorf("the person's signed form: %d", f.status)
		}
		if f := neighbour.get("/cases/" + second + "/consent"); f.status != http.StatusNotFound {
			t.Errorf("another person's signed form: %d", f.status)
		}
		if f := elder.get("/cases/" + caseID + "/consent"); f.status != http.StatusNotFound {
			t.Errorf("a signed form of a case confirmed by SMS: %d", f.status)
		}
	})
}
