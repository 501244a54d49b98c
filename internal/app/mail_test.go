package app_test

import (
	"context"
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/loadgen"
	"github.com/zwfw/zwfw/internal/testfixture"
)

// A citizen who gave an e-mail address is told of their case by e-mail
// too: when the department accepts it, the message goes out through a
// durable job after the step commits, to a real SMTP server.
func TestApplicantIsEmailed(t *testing.T) {
	t.Parallel()
	box, port := testfixture.StartSMTP(t)
	s := start(t, map[string]string{"ZWFW_SMTP_HOST": "127.0.0.1", "ZWFW_SMTP_PORT": strconv.Itoa(port), "ZWFW_SMTP_TLS": "none",
		"ZWFW_SMTP_FROM": "湛河区政务服务 <noreply@zhanhe.example.gov.cn>"}, copyDemo(t, "sqlite").Args...)
	ctx := context.Background()
	c := loadgen.NewClient(s.URL, 2)
	a, err := c.Register(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if resp := postForm(t, c, a.Token, "/me/email", url.Values{"email": {"zhangsan@example.com"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set e-mail: %d", resp.StatusCode)
	}
	var req *http.Request
	var resp *http.Response
	target, err := c.PickItem(ctx, 2, "scjgj", a)
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := c.Submit(ctx, a, target, []loadgen.File{{Name: "a.pdf", Data: loadgen.SmallPDF(1, 1000)}, {Name: "b.pdf", Data: loadgen.SmallPDF(2, 1000)}})
	if err != nil {
		t.Fatal(err)
	}
	// The department accepts it: that is what the applicant is told of.
	staff := postForm(t, c, "", "/staff/signin", url.Values{"username": {"scjg.window"}, "password": {"Zwfw-Demo-2026"}})
	var token string
	for _, ck := range staff.Cookies() {
		if ck.Name == "zwfw_session" {
			token = ck.Value
		}
	}
	casePath := "/workbench/cases/" + strconv.FormatInt(receipt.ID, 10)
	req, _ = http.NewRequest("GET", s.URL+casePath, nil)
	req.AddCookie(&http.Cookie{Name: "zwfw_session", Value: token})
	resp, err = c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	version := between(string(page), `name="version" value="`, `"`)
	if accepted := postForm(t, c, token, casePath, url.Values{"op": {"accept"}, "version": {version}}); accepted.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", accepted.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(box.Delivered()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no e-mail within 20 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := box.Delivered()["zhangsan@example.com"]
	if d := box.Delivered(); len(d) != 1 || len(got) != 1 {
		t.Fatalf("e-mails by recipient: %v, want one to zhangsan@example.com", d)
	}
	m, err := mail.ReadMessage(strings.NewReader(got[0]))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	body, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, m.Body))
	if err != nil {
		t.Fatalf("the body is not base64: %v", err)
	}
	if !strings.Contains(subject, "您的申请已受理") || !strings.Contains(subject, receipt.Number) || !strings.Contains(string(body), target.Item.Name) {
		t.Fatalf("mail: %q\n%s", subject, body)
	}
}

// postForm posts a form as the holder of a session token ("" for none).
func postForm(t *testing.T, c *loadgen.Client, token, path string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", c.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.AddCookie(&http.Cookie{Name: "zwfw_session", Value: token})
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func between(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, to)
	return v
}
