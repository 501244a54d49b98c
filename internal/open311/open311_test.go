package open311_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/open311"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

var (
	// A Monday morning in Beijing.
	start = time.Date(2026, 12, 7, 9, 0, 0, 0, clock.China)
	meta  = audit.Meta{IP: "127.0.0.1", Client: "test"}
	admin = policy.Subject{Kind: policy.Staff, Name: "管理员", Roles: []policy.Role{policy.Admin}}
)

// The personal data a client sends with a request: none of it may come
// back in any public answer.
var personal = map[string]string{"first_name": "娜娜", "last_name": "欧阳", "phone": "13912345678", "email": "nana@example.cn",
	"device_id": "device-7f3a9c", "account_id": "acct-55021"}

type fixture struct {
	db         *store.DB
	clk        *clock.Manual
	complaints *complaint.Service
	keys       *apikey.Service
	key        string
	cats       map[string]complaint.Category
	unit       region.Department
	reviewer   policy.Subject
	mux        *http.ServeMux
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, clk: clock.NewManual(start), cats: map[string]complaint.Category{}}
	if _, err := demo.SeedDistrict(ctx, db, f.clk); err != nil {
		t.Fatal(err)
	}
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	sealing, err := pii.ParseKeys(enc, idx)
	if err != nil {
		t.Fatal(err)
	}
	regions := region.NewStore(db)
	f.complaints = complaint.New(db, complaint.Options{Clock: f.clk, Calendar: calendar.New(nil), Regions: regions, Keys: sealing})
	if err := f.complaints.SeedDefaults(ctx, admin, meta); err != nil {
		t.Fatal(err)
	}
	cats, err := f.complaints.Categories(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cats {
		f.cats[c.Code] = c
	}
	// 一般类 anywhere in the district goes to 城管局, which signs and replies.
	if f.unit, err = regions.DepartmentBySlug(ctx, db.Read(), "cgj"); err != nil {
		t.Fatal(err)
	}
	if err := f.complaints.SaveRoute(ctx, admin, meta, f.cats["general"].ID, "410411000000", f.unit.ID); err != nil {
		t.Fatal(err)
	}
	f.reviewer = staff(t, db, f.unit, "城管审批")
	f.keys = apikey.NewService(db, f.clk)
	if _, f.key, err = f.keys.Create(ctx, admin, meta, apikey.New{Name: "测试客户端", Client: "随手拍", Scopes: []string{policy.ScopeOpen311}}); err != nil {
		t.Fatal(err)
	}
	f.mux = http.NewServeMux()
	open311.New(open311.Deps{Complaints: f.complaints, Keys: f.keys, Regions: regions, Clock: f.clk, PublicURL: "https://zw.example.gov.cn/"}).Register(f.mux)
	return f
}

func staff(t testing.TB, db *store.DB, d region.Department, name string) policy.Subject {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at) VALUES ('staff', ?, ?, ?, ?, ?) RETURNING id`,
			name, "u."+name, d.ID, start, start).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO staff_roles (account_id, role) VALUES (?, 'reviewer')`, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return policy.Subject{AccountID: id, Kind: policy.Staff, Name: name, DepartmentID: d.ID, DepartmentKind: string(d.Kind), RegionCode: d.RegionCode,
		Roles: []policy.Role{policy.Reviewer}}
}

type answer struct {
	status int
	ctype  string
	body   string
}

func (f *fixture) do(t *testing.T, method, path string, form url.Values) answer {
	t.Helper()
	var req *http.Request
	if method == http.MethodPost {
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	return answer{rec.Code, rec.Header().Get("Content-Type"), rec.Body.String()}
}

// list decodes a JSON answer that is an array of objects.
func (a answer) list(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal([]byte(a.body), &out); err != nil {
		t.Fatalf("not a JSON array (%d): %v\n%s", a.status, err, a.body)
	}
	return out
}

// isError checks an answer is the specification's error body with the
// status as its code, in the format of the path.
func (a answer) isError(t *testing.T, path string, status int, says string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", path, a.status, status, a.body)
	}
	var code int
	var description string
	if strings.Contains(path, ".json") {
		var errs []struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		}
		if err := json.Unmarshal([]byte(a.body), &errs); err != nil || len(errs) != 1 || a.ctype != "application/json; charset=utf-8" {
			t.Fatalf("%s: error body %q (%s): %v", path, a.body, a.ctype, err)
		}
		code, description = errs[0].Code, errs[0].Description
	} else {
		var errs struct {
			XMLName xml.Name `xml:"errors"`
			Errors  []struct {
				Code        int    `xml:"code"`
				Description string `xml:"description"`
			} `xml:"error"`
		}
		if err := xml.Unmarshal([]byte(a.body), &errs); err != nil || len(errs.Errors) != 1 || a.ctype != "text/xml; charset=utf-8" ||
			!strings.HasPrefix(a.body, `<?xml version="1.0" encoding="UTF-8"?>`) {
			t.Fatalf("%s: error body %q (%s): %v", path, a.body, a.ctype, err)
		}
		code, description = errs.Errors[0].Code, errs.Errors[0].Description
	}
	if code != status || !strings.Contains(description, says) {
		t.Fatalf("%s: error %d %q, want %d saying %q", path, code, description, status, says)
	}
}

func (f *fixture) count(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM complaints`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// good is a complete request, with the person's details.
func (f *fixture) good() url.Values {
	v := url.Values{"api_key": {f.key}, "service_code": {"general"}, "lat": {"33.7288"}, "long": {"113.2925"},
		"address_string": {"湛河区南环路与开源路交叉口"}, "description": {"南环路与开源路交叉口的路灯\n连续三晚不亮，晚上过马路很危险。"},
		"media_url": {"https://img.example.cn/p/1.jpg"}, "jurisdiction_id": {""}}
	for k, val := range personal {
		v.Set(k, val)
	}
	return v
}

func manyIDs(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("TS2026120%05d", i)
	}
	return strings.Join(ids, ",")
}

func without(v url.Values, keys ...string) url.Values {
	out := url.Values{}
	for k, val := range v {
		out[k] = val
	}
	for _, k := range keys {
		out.Del(k)
	}
	return out
}

func with(v url.Values, k, val string) url.Values {
	out := without(v)
	out.Set(k, val)
	return out
}

func TestServicesAndDiscovery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a := f.do(t, "GET", "/open311/v2/services.json", nil)
		services := a.list(t)
		if a.status != 200 || len(services) != 4 {
			t.Fatalf("services: %d %s", a.status, a.body)
		}
		byCode := map[string]map[string]any{}
		for _, s := range services {
			byCode[s["service_code"].(string)] = s
		}
		u := byCode["utilities"]
		if u["service_name"] != "水电气热" || u["metadata"] != false || u["type"] != "realtime" || u["group"] != "有诉即应" ||
			u["keywords"] != "停水,停电,燃气,供暖" || !strings.Contains(u["description"].(string), "停水") {
			t.Errorf("utilities service %v", u)
		}
		if x := f.do(t, "GET", "/open311/v2/services.xml", nil); x.status != 200 || !strings.Contains(x.body, "<services>\n  <service>\n    <service_code>") ||
			!strings.Contains(x.body, "<metadata>false</metadata>") || !strings.Contains(x.body, "<type>realtime</type>") {
			t.Errorf("services XML %d:\n%s", x.status, x.body)
		}
		var def map[string]any
		a = f.do(t, "GET", "/open311/v2/services/general.json", nil)
		if err := json.Unmarshal([]byte(a.body), &def); err != nil || def["service_code"] != "general" || fmt.Sprint(def["attributes"]) != "[]" {
			t.Errorf("definition %d %s", a.status, a.body)
		}
		if x := f.do(t, "GET", "/open311/v2/services/general.xml", nil); !strings.Contains(x.body, "<service_definition>\n  <service_code>general</service_code>") {
			t.Errorf("definition XML %s", x.body)
		}
		f.do(t, "GET", "/open311/v2/services/pothole.json", nil).isError(t, ".json", 404, "pothole")
		f.do(t, "GET", "/open311/v2/services/general.csv", nil).isError(t, ".xml", 404, ".xml 或 .json")

		// An inactive category is no service.
		c := f.cats["complex"]
		c.Active = false
		if _, err := f.complaints.SaveCategory(context.Background(), admin, meta, c); err != nil {
			t.Fatal(err)
		}
		if n := len(f.do(t, "GET", "/open311/v2/services.json", nil).list(t)); n != 3 {
			t.Errorf("%d services after one was made inactive", n)
		}
		f.do(t, "GET", "/open311/v2/services/complex.xml", nil).isError(t, ".xml", 404, "complex")

		var d struct {
			Changeset  string `json:"changeset"`
			KeyService string `json:"key_service"`
			Endpoints  []struct {
				Specification, URL, Type string
				Formats                  []string
			} `json:"endpoints"`
		}
		a = f.do(t, "GET", "/open311/v2/discovery.json", nil)
		if err := json.Unmarshal([]byte(a.body), &d); err != nil || len(d.Endpoints) != 1 {
			t.Fatalf("discovery %s: %v", a.body, err)
		}
		e := d.Endpoints[0]
		if e.Specification != "http://wiki.open311.org/GeoReport_v2" || e.URL != "https://zw.example.gov.cn/open311/v2" || e.Type != "production" ||
			strings.Join(e.Formats, ",") != "text/xml,application/json" || d.Changeset != "2026-12-07T09:00:00+08:00" || d.KeyService == "" {
			t.Errorf("discovery %+v", d)
		}
		if x := f.do(t, "GET", "/open311/v2/discovery.xml", nil); !strings.Contains(x.body, "<discovery>") ||
			!strings.Contains(x.body, "<url>https://zw.example.gov.cn/open311/v2</url>") {
			t.Errorf("discovery XML %s", x.body)
		}
	})
}

// Every refusal is the specification's body and status, and files nothing.
func TestPostRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		good := f.good()
		revoked, rawRevoked, err := f.keys.Create(context.Background(), admin, meta, apikey.New{Name: "旧", Client: "旧系统", Scopes: []string{policy.ScopeOpen311}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.keys.Revoke(context.Background(), admin, meta, revoked.Prefix); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			form   url.Values
			status int
			says   string
		}{
			{"no key", without(good, "api_key"), 403, "api_key"},
			{"empty key", with(good, "api_key", " "), 403, "api_key"},
			{"wrong key", with(good, "api_key", f.key[:len(f.key)-1]+"x"), 403, "api_key"},
			{"revoked key", with(good, "api_key", rawRevoked), 403, "api_key"},
			// The key comes first: without one, nothing else is looked at.
			{"no key, no service", without(good, "api_key", "service_code"), 403, "api_key"},
			{"no service_code", without(good, "service_code"), 400, "service_code"},
			{"empty service_code", with(good, "service_code", ""), 400, "service_code"},
			{"unknown service_code", with(good, "service_code", "pothole"), 404, "pothole"},
			{"no location", without(good, "lat", "long", "address_string"), 400, "位置"},
			{"lat without long", without(good, "long"), 400, "lat 和 long"},
			{"bad lat", with(good, "lat", "91"), 400, "lat"},
			{"exponent long", with(good, "long", "1e2"), 400, "long"},
			{"address_id alone", with(without(good, "lat", "long", "address_string"), "address_id", "545483"), 400, "address_id"},
			{"no description", without(good, "description"), 400, "description"},
			{"description too long", with(good, "description", strings.Repeat("灯", 4001)), 400, "4000"},
			{"description too long for a complaint", with(good, "description", strings.Repeat("灯", 2001)), 400, "2000"},
			{"no phone", without(good, "phone"), 400, "phone"},
			{"not a mobile", with(good, "phone", "0375-1234567"), 400, "手机"},
			{"media_url not http", with(good, "media_url", "ftp://x/y.jpg"), 400, "media_url"},
		} {
			t.Run(c.name, func(t *testing.T) {
				for _, ext := range []string{".json", ".xml"} {
					f.do(t, "POST", "/open311/v2/requests"+ext, c.form).isError(t, ext, c.status, c.says)
				}
			})
		}
		if n := f.count(t); n != 0 {
			t.Fatalf("refused requests filed %d complaints", n)
		}
	})
}

func TestRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()

		// Filed with a point and the person's details, answered in JSON.
		a := f.do(t, "POST", "/open311/v2/requests.json", f.good())
		created := a.list(t)
		if a.status != 200 || len(created) != 1 {
			t.Fatalf("post: %d %s", a.status, a.body)
		}
		id, _ := created[0]["service_request_id"].(string)
		if !strings.HasPrefix(id, "TS20261207") || created[0]["service_notice"] != "本类诉求 7 工作小时内派单签收，7 工作日内答复。" ||
			created[0]["account_id"] != nil {
			t.Fatalf("post answer %v", created[0])
		}
		if _, ok := created[0]["token"]; ok {
			t.Error("a realtime service returned a token")
		}
		// Filed with an address alone, answered in XML.
		f.clk.Advance(time.Hour)
		x := f.do(t, "POST", "/open311/v2/requests.xml", without(with(f.good(), "service_code", "emergency"), "lat", "long"))
		var posted struct {
			Requests []struct {
				ID     string `xml:"service_request_id"`
				Notice string `xml:"service_notice"`
			} `xml:"request"`
		}
		if err := xml.Unmarshal([]byte(x.body), &posted); err != nil || x.status != 200 || len(posted.Requests) != 1 || posted.Requests[0].ID == id ||
			!strings.Contains(x.body, "<service_requests>\n  <request>") || !strings.Contains(x.body, "<account_id></account_id>") {
			t.Fatalf("post XML %d %v\n%s", x.status, err, x.body)
		}
		other := posted.Requests[0].ID

		// The complaint holds what was sent: the person's name and phone
		// sealed for its handlers, the client named in its log.
		d, err := f.complaints.ByNumber(ctx, f.reviewer, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Channel != complaint.Web || d.Title != "南环路与开源路交叉口的路灯" || d.Lat == nil || *d.Lat != 33.7288 ||
			d.RegionCode != "410411000000" || d.DepartmentID != f.unit.ID || !strings.Contains(d.Description, "图片链接：https://img.example.cn/p/1.jpg") {
			t.Errorf("complaint %+v", d.Complaint)
		}
		if len(d.Events) == 0 || !strings.Contains(d.Events[0].Actor, "随手拍") {
			t.Errorf("the log does not name the client: %+v", d.Events)
		}

		// Read back, by id, in both formats.
		a = f.do(t, "GET", "/open311/v2/requests/"+id+".json", nil)
		reqs := a.list(t)
		if a.status != 200 || len(reqs) != 1 {
			t.Fatalf("get: %d %s", a.status, a.body)
		}
		r := reqs[0]
		want := map[string]any{"service_request_id": id, "status": "open", "service_name": "一般类", "service_code": "general",
			"agency_responsible": f.unit.Name, "requested_datetime": "2026-12-07T09:00:00+08:00", "updated_datetime": "2026-12-07T09:00:00+08:00",
			// 7 working days from a Monday: the close of the next Tuesday's office day.
			"expected_datetime": "2026-12-16T17:30:00+08:00", "address": "湛河区南环路与开源路交叉口", "lat": 33.7288, "long": 113.2925,
			"address_id": nil, "zipcode": nil, "media_url": nil, "service_notice": "本类诉求 7 工作小时内派单签收，7 工作日内答复。"}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("%s = %v, want %v", k, r[k], v)
			}
		}
		if !strings.HasPrefix(fmt.Sprint(r["status_notes"]), "待签收") || !strings.Contains(fmt.Sprint(r["description"]), "连续三晚不亮") {
			t.Errorf("status_notes %v, description %v", r["status_notes"], r["description"])
		}
		x = f.do(t, "GET", "/open311/v2/requests/"+id+".xml", nil)
		for _, s := range []string{"<service_request_id>" + id + "</service_request_id>", "<status>open</status>", "<lat>33.7288</lat>",
			"<expected_datetime>2026-12-16T17:30:00+08:00</expected_datetime>", "<address_id></address_id>"} {
			if !strings.Contains(x.body, s) {
				t.Errorf("request XML lacks %s:\n%s", s, x.body)
			}
		}
		f.do(t, "GET", "/open311/v2/requests/TS209901010001.json", nil).isError(t, ".json", 404, "TS209901010001")
		f.do(t, "GET", "/open311/v2/requests/TS209901010001.xml", nil).isError(t, ".xml", 404, "TS209901010001")
		tok := f.do(t, "GET", "/open311/v2/tokens/"+id+".json", nil).list(t)
		if len(tok) != 1 || tok[0]["token"] != id || tok[0]["service_request_id"] != id {
			t.Errorf("token %v", tok)
		}
		f.do(t, "GET", "/open311/v2/tokens/12345.xml", nil).isError(t, ".xml", 404, "realtime")

		// The unit signs and replies: the request is closed, with the reply
		// in its notes, and the updates tell each step.
		f.clk.Advance(time.Hour)
		c, err := f.complaints.Sign(ctx, f.reviewer, meta, d.ID, d.Version)
		if err != nil {
			t.Fatal(err)
		}
		if c, err = f.complaints.RecordContact(ctx, f.reviewer, meta, c.ID, "已电话联系诉求人"); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(time.Hour)
		if _, err = f.complaints.Reply(ctx, f.reviewer, meta, c.ID, c.Version, "已更换灯泡，路灯恢复照明。"); err != nil {
			t.Fatal(err)
		}
		r = f.do(t, "GET", "/open311/v2/requests/"+id+".json", nil).list(t)[0]
		if r["status"] != "closed" || !strings.Contains(fmt.Sprint(r["status_notes"]), "已更换灯泡") || r["updated_datetime"] != "2026-12-07T12:00:00+08:00" {
			t.Errorf("after the reply: %v", r)
		}

		// Lists: by default the last 90 days, newest first.
		ids := func(path string) string {
			t.Helper()
			a := f.do(t, "GET", path, nil)
			var out []string
			for _, r := range a.list(t) {
				out = append(out, r["service_request_id"].(string))
			}
			return strings.Join(out, ",")
		}
		both := other + "," + id
		for path, want := range map[string]string{
			"/open311/v2/requests.json":                                             both,
			"/open311/v2/requests.json?status=&service_code=&start_date=":           both, // empty is absent
			"/open311/v2/requests.json?status=open":                                 other,
			"/open311/v2/requests.json?status=closed":                               id,
			"/open311/v2/requests.json?status=open,closed":                          both,
			"/open311/v2/requests.json?service_code=general":                        id,
			"/open311/v2/requests.json?service_code=general&service_code=emergency": both,
			"/open311/v2/requests.json?service_code=utilities":                      "",
			"/open311/v2/requests.json?start_date=2026-12-07T09:30:00%2B08:00":      other,
			"/open311/v2/requests.json?end_date=2026-12-07T09:30:00+08:00":          id,
			"/open311/v2/requests.json?start_date=2026-12-08T00:00:00Z":             "",
			// Both ends are included: the second came in at exactly 10:00.
			"/open311/v2/requests.json?start_date=2026-12-07T09:00:00%2B08:00&end_date=2026-12-07T10:00:00%2B08:00": both,
			"/open311/v2/requests.json?service_request_id=" + id + ",TS20991231":                                    id,
			// The ids override everything else.
			"/open311/v2/requests.json?service_request_id=" + other + "&status=closed&service_code=general": other,
		} {
			if got := ids(path); got != want {
				t.Errorf("%s lists %q, want %q", path, got, want)
			}
		}
		for path, says := range map[string]string{
			"/open311/v2/requests.xml?status=pending":                                                 "status",
			"/open311/v2/requests.json?service_code=pothole":                                          "pothole",
			"/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-12-01T00:00:00Z": "90",
			"/open311/v2/requests.xml?start_date=yesterday":                                           "start_date",
			"/open311/v2/requests.json?service_request_id=" + manyIDs(101):                            "100",
		} {
			ext := ".xml"
			if strings.Contains(path, ".json") {
				ext = ".json"
			}
			f.do(t, "GET", path, nil).isError(t, ext, 400, says)
		}
		if x := f.do(t, "GET", "/open311/v2/requests.xml?status=closed", nil); !strings.Contains(x.body, "<service_requests>\n  <request>") ||
			strings.Count(x.body, "<request>") != 1 {
			t.Errorf("requests XML %s", x.body)
		}

		// mySociety's updates: each public step, oldest first, with the
		// status after it.
		a = f.do(t, "GET", "/open311/v2/servicerequestupdates.json?start_date=2026-12-07T00:00:00%2B08:00", nil)
		var steps []string
		seen := map[string]bool{}
		for _, u := range a.list(t) {
			if seen[u["update_id"].(string)] {
				t.Errorf("update_id %v repeats", u["update_id"])
			}
			seen[u["update_id"].(string)] = true
			steps = append(steps, fmt.Sprintf("%s %s %s", u["service_request_id"], u["status"], strings.SplitN(u["description"].(string), "：", 2)[0]))
			if u["media_url"] != "" || u["updated_datetime"] == "" {
				t.Errorf("update %v", u)
			}
		}
		wantSteps := []string{id + " open 提交诉求", id + " open 按规则派单", other + " open 提交诉求", id + " open 签收", id + " closed 办结答复"}
		if strings.Join(steps, "|") != strings.Join(wantSteps, "|") {
			t.Errorf("updates:\n%s\nwant\n%s", strings.Join(steps, "\n"), strings.Join(wantSteps, "\n"))
		}
		a = f.do(t, "GET", "/open311/v2/servicerequestupdates.xml?start_date=2026-12-07T11:30:00%2B08:00&end_date=2026-12-07T13:00:00%2B08:00", nil)
		if strings.Count(a.body, "<request_update>") != 1 || !strings.Contains(a.body, "<service_request_updates>\n  <request_update>") ||
			!strings.Contains(a.body, "<status>closed</status>") || !strings.Contains(a.body, "已更换灯泡") {
			t.Errorf("updates XML %s", a.body)
		}
		f.do(t, "GET", "/open311/v2/servicerequestupdates.json?end_date=x", nil).isError(t, ".json", 400, "end_date")

		// None of the person's details is in any public answer, in either
		// format.
		for _, path := range []string{"requests/" + id + ".json", "requests/" + id + ".xml", "requests.json", "requests.xml",
			"requests.json?service_request_id=" + id + "," + other, "tokens/" + id + ".xml",
			"servicerequestupdates.json?start_date=2026-12-07", "servicerequestupdates.xml?start_date=2026-12-07"} {
			body := f.do(t, "GET", "/open311/v2/"+path, nil).body
			for field, v := range personal {
				if strings.Contains(body, v) {
					t.Errorf("%s shows the %s %q:\n%s", path, field, v, body)
				}
			}
			if strings.Contains(body, "欧") || strings.Contains(body, "诉求人") {
				t.Errorf("%s names the person:\n%s", path, body)
			}
		}
	})
}

// BenchmarkRequestsList is GET requests.json at its limit: 1000 requests
// of the last 90 days, each a public view with its log.
func BenchmarkRequestsList(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db := storetest.SQLite(b)
			if name == "postgres" {
				db = storetest.Postgres(b)
			}
			f := newFixture(b, db)
			ctx := context.Background()
			n := complaint.Filing{CategoryID: f.cats["general"].ID, Title: "路灯不亮", Description: "小区门口的路灯坏了一个多星期。",
				RegionCode: "410411000000", Mobile: "13912345678"}
			for range 1000 {
				f.clk.Advance(time.Minute)
				if _, _, err := f.complaints.Create(ctx, admin, meta, with311(n)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/open311/v2/requests.json", nil)
				rec := httptest.NewRecorder()
				f.mux.ServeHTTP(rec, req)
				if rec.Code != 200 || strings.Count(rec.Body.String(), "service_request_id") != 1000 {
					b.Fatalf("%d: %.200s", rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// with311 files as staff by phone, the quickest way to make many.
func with311(n complaint.Filing) complaint.Filing {
	n.Channel, n.Name = complaint.Phone, "王大爷"
	return n
}
