package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/api"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// casesAPI is the API with the case routes, two citizens signed in by
// token, and the file store behind them.
func casesAPI(t *testing.T, db *store.DB) (http.Handler, *staging.Store) {
	t.Helper()
	return casesAPIWith(t, db, nil)
}

// casesAPIWith is casesAPI with setup run on the case service and the
// catalog before the API starts.
func casesAPIWith(t *testing.T, db *store.DB, setup func(*casework.Service, *catalog.Store)) (http.Handler, *staging.Store) {
	t.Helper()
	ctx := context.Background()
	people := map[string]policy.Subject{}
	for _, name := range []string{"张三", "李四"} {
		var id int64
		now := time.Now()
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', ?, ?, ?) RETURNING id`,
				name, now, now).Scan(&id)
		}); err != nil {
			t.Fatal(err)
		}
		people["t-"+name] = policy.Subject{AccountID: id, Kind: policy.Person, Name: name}
	}
	local, err := filestore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := staging.New(db, local)
	h := newAPIWith(t, db, func(d *api.Deps, items *catalog.Store) {
		d.Cases = casework.New(db, items, clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China)), calendar.New(nil))
		if setup != nil {
			setup(d.Cases, items)
		}
		d.Files = files
		// Sessions are identity's, tested there; here a token names a person.
		d.Authenticate = func(_ context.Context, token string) (policy.Subject, error) {
			if who, ok := people[token]; ok {
				return who, nil
			}
			return policy.Subject{}, apperr.New(apperr.Unauthorized, "登录已失效，请重新登录。")
		}
	})
	// Staff of a department that does not handle the test item.
	mzj, err := region.NewStore(db).DepartmentBySlug(ctx, db.Read(), "mzj")
	if err != nil {
		t.Fatal(err)
	}
	people["t-mzj"] = policy.Subject{AccountID: 1, Kind: policy.Staff, DepartmentID: mzj.ID, DepartmentKind: string(mzj.Kind),
		RegionCode: mzj.RegionCode, Roles: []policy.Role{policy.Window, policy.Reviewer}}
	return h, files
}

type part struct {
	field, filename string
	data            []byte
}

func submit(h http.Handler, token, contentType string, parts ...part) *httptest.ResponseRecorder {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		if p.filename == "" {
			mw.WriteField(p.field, string(p.data))
			continue
		}
		w, _ := mw.CreateFormFile(p.field, p.filename)
		w.Write(p.data)
	}
	mw.Close()
	req := httptest.NewRequest("POST", "/api/v1/cases", &body)
	if contentType == "" {
		contentType = mw.FormDataContentType()
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// One request submits an application with its materials; every answer,
// good or bad, is what the document says.
func TestSubmitThroughTheAPI(t *testing.T) {
	doc := loadDocument(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, files := casesAPI(t, db)
		form := part{field: "form", data: []byte(`{"name":"张三"}`)}
		item := part{field: "item_id", data: []byte("1")}
		small := []byte("%PDF-1.7 身份证明")
		large := append([]byte("%PDF-1.7 "), bytes.Repeat([]byte("扫描件"), staging.MaxBytes/9+1)...)
		check := func(name string, rec *httptest.ResponseRecorder, status int, path, method string) map[string]any {
			t.Helper()
			if rec.Code != status {
				t.Fatalf("%s: status %d, want %d: %s", name, rec.Code, status, rec.Body)
			}
			var op operation
			if err := json.Unmarshal(doc.Paths[path][method], &op); err != nil {
				t.Fatal(err)
			}
			resp, ok := op.Responses[fmt.Sprint(status)]
			if !ok {
				t.Fatalf("%s: status %d is not documented for %s %s", name, status, method, path)
			}
			s := &schema{Ref: "#/components/schemas/Error"}
			if resp.Ref == "" {
				s = resp.Content["application/json"].Schema
			}
			var v map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := validate(doc, s, v, "$"); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, rec.Body)
			}
			if status >= 400 && !regexp.MustCompile(`\p{Han}`).Match(rec.Body.Bytes()) {
				t.Errorf("%s: error message is not in Chinese: %s", name, rec.Body)
			}
			return v
		}
		count := func() (n int) {
			db.Read().QueryRow(context.Background(), `SELECT (SELECT COUNT(*) FROM cases) + (SELECT COUNT(*) FROM staged_files)`).Scan(&n)
			return n
		}
		for _, tc := range []struct {
			name, token, ctype string
			parts              []part
			status             int
			says               string
		}{
			{"signed out", "", "", []part{item, form, {"material_0", "a.pdf", small}}, 401, "登录"},
			{"stale token", "t-nobody", "", []part{item, form, {"material_0", "a.pdf", small}}, 401, "登录"},
			{"not multipart", "t-张三", "application/json", nil, 400, "multipart"},
			{"no item", "t-张三", "", []part{form}, 400, "item_id"},
			{"form not JSON", "t-张三", "", []part{item, {field: "form", data: []byte("name=张三")}}, 400, "JSON"},
			{"empty form", "t-张三", "", []part{item, {field: "form", data: []byte(`{}`)}, {"material_0", "a.pdf", small}}, 400, "需要修改"},
			{"no material", "t-张三", "", []part{item, form}, 400, "还缺少必需材料"},
			{"not a PDF", "t-张三", "", []part{item, form, {"material_0", "a.pdf", []byte("MZ executable")}}, 400, "PDF"},
			{"unknown field", "t-张三", "", []part{item, form, {field: "colour", data: []byte("red")}}, 400, "colour"},
			{"unknown item", "t-张三", "", []part{{field: "item_id", data: []byte("424242")}, form}, 404, "不存在"},
			{"NUL in an answer", "t-张三", "", []part{item, {field: "form", data: []byte(`{"name":"张\u0000三"}`)}, {"material_0", "a.pdf", small}}, 400, "不允许的字符"},
			{"ESC in an answer", "t-张三", "", []part{item, {field: "form", data: []byte(`{"name":"张\u001b[2J三"}`)}, {"material_0", "a.pdf", small}}, 400, "不允许的字符"},
			{"line break in a one-line answer", "t-张三", "", []part{item, {field: "form", data: []byte(`{"name":"张\r\n三"}`)}, {"material_0", "a.pdf", small}}, 400, "换行"},
			{"right-to-left override in a file name", "t-张三", "", []part{item, form, {"material_0", "a\u202efdp.exe", small}}, 400, "不允许的字符"},
		} {
			before := count()
			rec := submit(h, tc.token, tc.ctype, tc.parts...)
			check(tc.name, rec, tc.status, "/api/v1/cases", "post")
			if !strings.Contains(rec.Body.String(), tc.says) {
				t.Errorf("%s: %s lacks %q", tc.name, rec.Body, tc.says)
			}
			if count() != before {
				t.Errorf("%s: a refused request wrote something", tc.name)
			}
		}
		rec := submit(h, "t-张三", "", item, part{field: "form", data: []byte(`{}`)}, part{"material_0", "a.pdf", small})
		if v := check("fields", rec, 400, "/api/v1/cases", "post"); v["fields"].(map[string]any)["name"] != "请填写姓名" {
			t.Fatalf("field messages: %v", v)
		}

		for i, data := range [][]byte{small, large} {
			rec := submit(h, "t-张三", "", item, form, part{"material_0", "../扫描件.pdf", data})
			v := check("submit", rec, 201, "/api/v1/cases", "post")
			id := int64(v["id"].(float64))
			if rec.Header().Get("Location") != fmt.Sprintf("/api/v1/cases/%d", id) || v["status"] != "submitted" || v["status_name"] != "待预审" {
				t.Fatalf("receipt %d: %v %s", i, v, rec.Header().Get("Location"))
			}
			m := v["materials"].([]any)[0].(map[string]any)
			if m["filename"] != "扫描件.pdf" || int(m["size"].(float64)) != len(data) || m["name"] != "身份证明" {
				t.Fatalf("material %d: %v", i, m)
			}
			// Small files wait in the stage, large ones went to the store;
			// both read back whole.
			rc, _, err := files.Open(context.Background(), m["sha256"].(string))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, data) {
				t.Fatalf("material %d reads back %d bytes, want %d", i, len(got), len(data))
			}
			get := func(token string) *httptest.ResponseRecorder {
				req := httptest.NewRequest("GET", fmt.Sprintf("/api/v1/cases/%d", id), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			if v := check("get", get("t-张三"), 200, "/api/v1/cases/{id}", "get"); v["number"] == "" {
				t.Fatalf("get: %v", v)
			}
			check("another's case", get("t-李四"), 404, "/api/v1/cases/{id}", "get")
			// Another department's staff are not told it exists either.
			check("another department's case", get("t-mzj"), 404, "/api/v1/cases/{id}", "get")
		}
		if n, _ := files.Waiting(context.Background()); n != 1 {
			t.Fatalf("%d files staged, want the small one", n)
		}
	})
}

// A refused submission leaves no file behind, unless a case refers to the
// same content; the sweeper deletes files that nothing refers to once
// they are older than its grace period, and keeps the others.
func TestRefusedSubmissionsLeaveNoFiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		h, files := casesAPI(t, db)
		item := part{field: "item_id", data: []byte("1")}
		form := part{field: "form", data: []byte(`{"name":"张三"}`)}
		large := append([]byte("%PDF-1.7 "), bytes.Repeat([]byte("扫描件"), staging.MaxBytes/9+1)...)
		stored := func() (n int) {
			if err := files.List(ctx, func(string, time.Time) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			return n
		}
		refused := []struct {
			name   string
			parts  []part
			status int
		}{
			{"form incomplete", []part{item, {field: "form", data: []byte(`{}`)}, {"material_0", "a.pdf", large}}, 400},
			{"unknown field after the file", []part{item, form, {"material_0", "a.pdf", large}, {field: "colour", data: []byte("red")}}, 400},
			{"unknown item", []part{{field: "item_id", data: []byte("424242")}, form, {"material_0", "a.pdf", large}}, 404},
			{"NUL in an answer", []part{item, {field: "form", data: []byte(`{"name":"\u0000"}`)}, {"material_0", "a.pdf", large}}, 400},
		}
		for _, tc := range refused {
			if rec := submit(h, "t-张三", "", tc.parts...); rec.Code != tc.status {
				t.Fatalf("%s: %d %s", tc.name, rec.Code, rec.Body)
			}
			if n := stored(); n != 0 {
				t.Fatalf("%s: %d files left in the store", tc.name, n)
			}
		}
		// The same content on a case is kept when a later request with it
		// is refused.
		if rec := submit(h, "t-张三", "", item, form, part{"material_0", "a.pdf", large}); rec.Code != 201 {
			t.Fatalf("submit: %d %s", rec.Code, rec.Body)
		}
		if rec := submit(h, "t-李四", "", item, part{field: "form", data: []byte(`{}`)}, part{"material_0", "a.pdf", large}); rec.Code != 400 {
			t.Fatalf("refused: %d %s", rec.Code, rec.Body)
		}
		if n := stored(); n != 1 {
			t.Fatalf("%d files stored, want the case's one", n)
		}
		// A staged file of a case, an orphan in the store (a crash between
		// storing and recording) and an orphan on the stage (a replaced
		// material not yet moved).
		small := []byte("%PDF-1.7 身份证明")
		if rec := submit(h, "t-李四", "", item, form, part{"material_0", "b.pdf", small}); rec.Code != 201 {
			t.Fatalf("submit: %d %s", rec.Code, rec.Body)
		}
		if _, err := files.Put(ctx, bytes.NewReader([]byte("%PDF-1.7 orphan")), 1<<20); err != nil {
			t.Fatal(err)
		}
		orphan := []byte("%PDF-1.7 staged orphan")
		obj, _ := filestore.Inspect(orphan, 1<<20)
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return staging.Stage(ctx, tx, time.Now(), staging.File{Object: obj, Data: orphan})
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := files.Sweep(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Fatalf("sweep within the grace period: %d %v", n, err)
		}
		if n, err := files.Sweep(ctx, time.Now().Add(time.Hour)); err != nil || n != 2 {
			t.Fatalf("sweep: deleted %d (%v), want the 2 orphans", n, err)
		}
		if n, _ := files.Waiting(ctx); n != 1 || stored() != 1 {
			t.Fatalf("after the sweep: %d staged, %d stored; want the cases' 1 and 1", n, stored())
		}
	})
}
