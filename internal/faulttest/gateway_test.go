package faulttest

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/loadgen"
	"github.com/zwfw/zwfw/internal/testfixture"
)

// A mail server that stalls, then refuses, slows no request: the demo's
// department accepts one case while the server holds the e-mail of
// another, the step answers at once, and the queue delivers both e-mails —
// each once — when the server recovers.
func TestSlowMailServerSlowsNoRequest(t *testing.T) {
	t.Parallel()
	g, port := testfixture.StartSMTP(t)
	url := demo(t, []string{"ZWFW_SMTP_HOST=127.0.0.1", "ZWFW_SMTP_PORT=" + strconv.Itoa(port), "ZWFW_SMTP_TLS=none",
		"ZWFW_SMTP_FROM=湛河区政务服务 <noreply@zhanhe.example.gov.cn>"}, "--data", t.TempDir())
	ctx := context.Background()
	c := loadgen.NewClient(url, 2)
	var applicants []loadgen.Applicant
	var ids []int64
	for i := range 2 {
		a, err := c.Register(ctx, 10+i)
		if err != nil {
			t.Fatal(err)
		}
		email := "applicant" + strconv.Itoa(i) + "@example.com"
		if resp := post(t, c, a.Token, "/me/email", map[string]string{"email": email}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("set e-mail: %d", resp.StatusCode)
		}
		target, err := c.PickItem(ctx, 2, "scjgj", a)
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Submit(ctx, a, target, []loadgen.File{{Name: "a.pdf", Data: loadgen.SmallPDF(2*i, 1000)}, {Name: "b.pdf", Data: loadgen.SmallPDF(2*i+1, 1000)}})
		if err != nil {
			t.Fatal(err)
		}
		applicants, ids = append(applicants, a), append(ids, r.ID)
	}
	staff := post(t, c, "", "/staff/signin", map[string]string{"username": "scjg.window", "password": "Zwfw-Demo-2026"})
	var token string
	for _, ck := range staff.Cookies() {
		if ck.Name == "zwfw_session" {
			token = ck.Value
		}
	}
	accept := func(id int64) time.Duration {
		t.Helper()
		path := "/workbench/cases/" + strconv.FormatInt(id, 10)
		req, _ := http.NewRequest("GET", url+path, nil)
		req.AddCookie(&http.Cookie{Name: "zwfw_session", Value: token})
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		_, after, _ := strings.Cut(string(page), `name="version" value="`)
		version, _, _ := strings.Cut(after, `"`)
		start := time.Now()
		if r := post(t, c, token, path, map[string]string{"op": "accept", "version": version}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("accept case %d: status %d", id, r.StatusCode)
		}
		return time.Since(start)
	}

	g.Set(testfixture.Stall)
	accept(ids[0])
	select {
	case <-g.Stalled: // the server now holds the first e-mail
	case <-time.After(20 * time.Second):
		t.Fatal("the first e-mail never reached the mail server")
	}
	took := accept(ids[1])
	t.Logf("a case accepted while the mail server stalls: answered in %v", took)
	if took > time.Second {
		t.Fatalf("accepting took %v while the mail server stalled", took)
	}
	g.Set(testfixture.Fail)
	waitFor(t, "the mail server to refuse", func() bool { return g.Failed() >= 1 })
	g.Set(testfixture.OK)
	waitFor(t, "both e-mails", func() bool {
		d := g.Delivered()
		return len(d["applicant0@example.com"]) > 0 && len(d["applicant1@example.com"]) > 0
	})
	time.Sleep(500 * time.Millisecond) // a duplicate would show by now
	if d := g.Delivered(); len(d) != 2 || len(d["applicant0@example.com"]) != 1 || len(d["applicant1@example.com"]) != 1 {
		t.Fatalf("delivered e-mails by recipient %v, want one to each applicant", d)
	}
}

func post(t *testing.T, c *loadgen.Client, token, path string, form map[string]string) *http.Response {
	t.Helper()
	v := url.Values{}
	for k, s := range form {
		v.Set(k, s)
	}
	req, _ := http.NewRequest("POST", c.URL+path, strings.NewReader(v.Encode()))
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

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 40 s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
