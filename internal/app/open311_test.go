package app_test

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// An Open311 client against the real server, as an integrator meets it:
// zwfw demo prints a key; the client lists the services, files a request
// with the key, reads it back in JSON and XML without the person's data,
// and is refused with the specification's bodies for a bad key (403), a
// missing service_code (400), an unknown id (404) and a character the
// platform refuses everywhere (400, in the middleware).
func TestOpen311EndToEnd(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, kind string) { open311Story(t, copyDemo(t, kind).Args...) })
}

var demoKey = regexp.MustCompile(`(?m)^open311 api_key=(zk_[a-z2-7_]+)$`)

func open311Story(t *testing.T, args ...string) {
	s := start(t, nil, args...)
	m := demoKey.FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("the demo printed no 'open311 api_key=' line:\n%s", s.out.String())
	}
	key := m[1]
	base := s.URL + "/open311/v2/"
	call := func(method, path string, form url.Values) (int, string, string) {
		t.Helper()
		var resp *http.Response
		var err error
		if method == http.MethodPost {
			resp, err = http.PostForm(base+path, form)
		} else {
			resp, err = http.Get(base + path)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	specError := func(path string, form url.Values, status int) {
		t.Helper()
		method := http.MethodGet
		if form != nil {
			method = http.MethodPost
		}
		got, ctype, body := call(method, path, form)
		var code int
		if strings.Contains(path, ".json") {
			var errs []struct{ Code int }
			if err := json.Unmarshal([]byte(body), &errs); err != nil || len(errs) != 1 || ctype != "application/json; charset=utf-8" {
				t.Fatalf("%s: not the specification's JSON error body (%s): %s", path, ctype, body)
			}
			code = errs[0].Code
		} else {
			var errs struct {
				XMLName xml.Name `xml:"errors"`
				Error   []struct {
					Code int `xml:"code"`
				} `xml:"error"`
			}
			if err := xml.Unmarshal([]byte(body), &errs); err != nil || len(errs.Error) != 1 || ctype != "text/xml; charset=utf-8" {
				t.Fatalf("%s: not the specification's XML error body (%s): %s", path, ctype, body)
			}
			code = errs.Error[0].Code
		}
		if got != status || code != status {
			t.Fatalf("%s: %d with code %d, want %d: %s", path, got, code, status, body)
		}
	}

	// The services are the demo's complaint categories.
	st, _, body := call("GET", "services.json", nil)
	var services []struct {
		Code string `json:"service_code"`
		Name string `json:"service_name"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(body), &services); err != nil || st != 200 || len(services) == 0 {
		t.Fatalf("services: %d %s", st, body)
	}
	code := services[0].Code
	for _, s := range services {
		if s.Code == "general" {
			code = s.Code
		}
	}

	form := url.Values{"api_key": {key}, "service_code": {code}, "lat": {"33.7288"}, "long": {"113.2925"},
		"description": {"南环路与开源路交叉口的路灯连续三晚不亮，\n晚上过马路很危险。"}, "last_name": {"欧阳"}, "first_name": {"娜娜"},
		"phone": {"13912345678"}, "email": {"nana@example.cn"}}
	st, _, body = call("POST", "requests.json", form)
	var created []struct {
		ID string `json:"service_request_id"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil || st != 200 || len(created) != 1 || created[0].ID == "" {
		t.Fatalf("post: %d %s", st, body)
	}
	id := created[0].ID

	st, _, body = call("GET", "requests/"+id+".json", nil)
	var got []map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || st != 200 || len(got) != 1 || got[0]["service_request_id"] != id ||
		got[0]["service_code"] != code || !strings.Contains(got[0]["description"].(string), "路灯连续三晚不亮") {
		t.Fatalf("read back in JSON: %d %s", st, body)
	}
	st, ctype, xbody := call("GET", "requests/"+id+".xml", nil)
	if st != 200 || ctype != "text/xml; charset=utf-8" || !strings.Contains(xbody, "<service_request_id>"+id+"</service_request_id>") {
		t.Fatalf("read back in XML: %d %s", st, xbody)
	}
	for _, b := range []string{body, xbody} {
		for _, v := range []string{"欧阳", "娜娜", "13912345678", "nana@example.cn"} {
			if strings.Contains(b, v) {
				t.Errorf("a public answer shows %q:\n%s", v, b)
			}
		}
	}

	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("api_key", key[:len(key)-2]+"zz")
	specError("requests.json", bad, 403)
	specError("requests.xml", url.Values{"service_code": {code}, "lat": {"33.7"}, "long": {"113.3"}}, 403)
	noService := url.Values{}
	for k, v := range form {
		if k != "service_code" {
			noService[k] = v
		}
	}
	specError("requests.json", noService, 400)
	specError("requests.xml", noService, 400)
	specError("requests/TS209901010001.json", nil, 404)
	specError("requests/TS209901010001.xml", nil, 404)
	// Refused before the endpoint, and still answered in its body.
	nul := url.Values{}
	for k, v := range form {
		nul[k] = v
	}
	nul.Set("description", "路灯\x00不亮了很久")
	specError("requests.json", nul, 400)
	// A form posted from a page of another site, as a browser marks it.
	req, err := http.NewRequest("POST", base+"requests.xml", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "<errors>\n  <error>\n    <code>403</code>") {
		t.Errorf("cross-site post: %d %s", resp.StatusCode, b)
	}

	// Webhooks (issue 12): the demo's client is subscribed to every event
	// at the demo's receiver page, which got the filing, signed, without
	// the complainant.
	var page string
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(s.URL + "/demo/webhook")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if page = string(b); strings.Contains(page, id) {
			break
		}
	}
	if !strings.Contains(page, id) || !strings.Contains(page, "complaint.created") || !strings.Contains(page, "签名有效") || strings.Contains(page, "拒收") {
		t.Fatalf("the demo's receiver did not get the filing:\n%s", page)
	}
	for _, v := range []string{"欧阳", "娜娜", "13912345678", "路灯连续"} {
		if strings.Contains(page, v) {
			t.Errorf("the webhook body shows %q", v)
		}
	}
}
