package app_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRefusedCharactersOnEachDatabase sends the characters of issue 14
// (NUL, which PostgreSQL refused with a 500; ESC; the right-to-left
// override; a line break in a one-line field) to the routes that took
// them, through the real server, and wants a 400 with a clear message.
func TestRefusedCharactersOnEachDatabase(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := start(t, nil, copyDemo(t, name).Args...)
			post := func(path string, form url.Values) (*http.Response, string) {
				t.Helper()
				req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return resp, string(body)
			}
			for _, bad := range []string{"\x00", "\x1b[2J", "\u202e", "\r\n"} {
				v := "张三" + bad + "李四"
				q := url.QueryEscape(v)
				for _, c := range []struct {
					name string
					send func() (*http.Response, string)
				}{
					{"register", func() (*http.Response, string) {
						return post("/register", url.Values{"name": {v}, "id_number": {"410411199001011234"}, "mobile": {"13800138000"}})
					}},
					{"enterprise", func() (*http.Response, string) {
						return post("/me/enterprises", url.Values{"name": {v}, "credit_code": {"91410400MA00000000"}})
					}},
					{"department edit", func() (*http.Response, string) { return post("/admin/departments/1", url.Values{"name": {v}}) }},
					{"visit purpose", func() (*http.Response, string) {
						return post("/workbench/cases/1/visits", url.Values{"version": {"1"}, "purpose": {v}})
					}},
					{"staff sign-in", func() (*http.Response, string) {
						return post("/staff/signin", url.Values{"username": {v}, "password": {"x"}})
					}},
					{"search", func() (*http.Response, string) { return get(t, s.URL+"/search?q="+q) }},
					{"lookup", func() (*http.Response, string) { return get(t, s.URL+"/lookup?number="+q) }},
					{"api departments", func() (*http.Response, string) { return get(t, s.URL+"/api/v1/departments?q="+q) }},
					{"api region", func() (*http.Response, string) { return get(t, s.URL+"/api/v1/regions/"+q) }},
				} {
					resp, body := c.send()
					if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "重新提交") {
						t.Errorf("%s with %q: %d, want 400 with a clear message\n%.300s", c.name, bad, resp.StatusCode, body)
					}
					if strings.HasPrefix(c.name, "api") && !strings.Contains(body, `"code":"invalid"`) {
						t.Errorf("%s with %q: not the API's JSON error: %.300s", c.name, bad, body)
					}
				}
			}
			// A reason is a multi-line field: its line breaks pass the
			// check (and the request goes on to ask for a sign-in).
			if resp, body := post("/workbench/cases/1", url.Values{"version": {"1"}, "op": {"return"}, "reason": {"第一条\r\n第二条"}}); resp.StatusCode == http.StatusBadRequest {
				t.Errorf("a reason over two lines: %d %.300s", resp.StatusCode, body)
			}
			if resp, _ := get(t, s.URL+"/search?q="+url.QueryEscape("营业执照")); resp.StatusCode != 200 {
				t.Errorf("plain search: %d", resp.StatusCode)
			}
		})
	}
}
