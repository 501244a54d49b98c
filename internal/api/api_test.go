package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/api"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

type document struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]*schema `json:"schemas"`
	} `json:"components"`
}

type schema struct {
	Ref        string             `json:"$ref"`
	Type       string             `json:"type"`
	Required   []string           `json:"required"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
	// AdditionalProperties describes the values of an object's other keys.
	AdditionalProperties *schema `json:"additionalProperties"`
	Enum                 []any   `json:"enum"`
}

type operation struct {
	Responses map[string]struct {
		Ref     string `json:"$ref"`
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

func loadDocument(t *testing.T) document {
	t.Helper()
	var doc document
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// The document and the route table describe the same operations, both ways.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	doc := loadDocument(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q, want 3.1.x", doc.OpenAPI)
	}
	var inCode, inDoc []string
	for _, r := range (&api.API{}).Routes() {
		inCode = append(inCode, r.Method+" "+r.Path)
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			inDoc = append(inDoc, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(inCode)
	sort.Strings(inDoc)
	if strings.Join(inCode, "\n") != strings.Join(inDoc, "\n") {
		t.Fatalf("routes and OpenAPI differ.\ncode:\n%s\n\ndocument:\n%s", strings.Join(inCode, "\n"), strings.Join(inDoc, "\n"))
	}
}

func newAPI(t *testing.T, db *store.DB) http.Handler { return newAPIWith(t, db, nil) }

// newAPIWith builds the API on db with the demo district and one item;
// more, if given, adds services to its dependencies.
func newAPIWith(t *testing.T, db *store.DB, more func(d *api.Deps, items *catalog.Store)) http.Handler {
	t.Helper()
	if _, err := demo.SeedDistrict(context.Background(), db, clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
	regions := region.NewStore(db)
	items := catalog.NewStore(db, regions, clk)
	it := catalog.Item{
		BaseCode: "010100100001", Name: "个体工商户设立登记", Type: catalog.Licensing, Department: "scjgj",
		Basis: "《促进个体工商户发展条例》", Subjects: []string{"自然人"}, Themes: []string{"设立变更"},
		CaseKind: catalog.Promised, LegalLimit: catalog.TimeLimit{Value: 15, Unit: "工作日"},
		PromiseLimit: catalog.TimeLimit{Value: 1, Unit: "工作日"}, Depth: catalog.DepthFull, Conditions: "具有完全民事行为能力。",
		Steps: []catalog.Step{{Name: "申请", Description: "网上提交"}}, Result: catalog.Result{Name: "营业执照", Type: "证照"},
		ConsultPhone: "0375-8861002", ComplaintPhone: "12345",
		Materials: []catalog.Material{{Name: "身份证明", Necessity: "必需", Form: "电子", Copies: 1, Source: "政府部门核发", Standard: "真实有效"}},
		Form:      []catalog.FormSection{{Title: "经营者", Fields: []catalog.FormField{{Key: "name", Label: "姓名", Type: "text", Required: true}}}},
		Aliases:   []string{"营业执照"},
	}
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		return items.Load(ctx, tx, &it, "测试")
	}); err != nil {
		t.Fatal(err)
	}
	searcher, err := catalog.NewSearcher(ctx, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	d := api.Deps{Log: slog.New(slog.DiscardHandler), Regions: regions, Catalog: items, Searcher: searcher}
	if more != nil {
		more(&d, items)
	}
	api.New(d).Register(mux)
	return mux
}

func call(t *testing.T, h http.Handler, path string) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: content type %q", path, ct)
	}
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, body
}

// Every documented response is what the code sends: each call's body is
// checked against the schema the document gives for its path and status.
func TestResponsesMatchTheDocument(t *testing.T) {
	doc := loadDocument(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newAPI(t, db)
		_, body := call(t, h, "/api/v1/departments?kind=bureau")
		var bureaus struct{ Items []region.Department }
		if err := json.Unmarshal(body, &bureaus); err != nil || len(bureaus.Items) == 0 {
			t.Fatalf("bureaus: %v %s", err, body)
		}
		id := bureaus.Items[0].ID
		cases := []struct {
			path, template string
			status         int
		}{
			{"/api/v1/district", "/api/v1/district", 200},
			{"/api/v1/regions", "/api/v1/regions", 200},
			{"/api/v1/regions?level=street", "/api/v1/regions", 200},
			{"/api/v1/regions?parent=410411001000", "/api/v1/regions", 200},
			{"/api/v1/regions?q=马庄", "/api/v1/regions", 200},
			{"/api/v1/regions?level=province", "/api/v1/regions", 400},
			{"/api/v1/regions/410411001000", "/api/v1/regions/{code}", 200},
			{"/api/v1/regions/999999999999", "/api/v1/regions/{code}", 404},
			{"/api/v1/departments", "/api/v1/departments", 200},
			{"/api/v1/departments?level=community", "/api/v1/departments", 200},
			{"/api/v1/departments?within=410411001000", "/api/v1/departments", 200},
			{"/api/v1/departments?kind=mystery", "/api/v1/departments", 400},
			{"/api/v1/departments?q=" + strings.Repeat("长", 51), "/api/v1/departments", 400},
			{fmt.Sprintf("/api/v1/departments/%d", id), "/api/v1/departments/{id}", 200},
			{"/api/v1/departments/abc", "/api/v1/departments/{id}", 400},
			{"/api/v1/departments/999999", "/api/v1/departments/{id}", 404},
			{"/api/v1/items", "/api/v1/items", 200},
			{"/api/v1/items?q=yyzz&level=district&limit=5", "/api/v1/items", 200},
			{"/api/v1/items?q=营业执找", "/api/v1/items", 200},
			{"/api/v1/items?depth=4&type=01&department=scjgj&theme=设立变更", "/api/v1/items", 200},
			{"/api/v1/items?limit=1000", "/api/v1/items", 400},
			{"/api/v1/items?type=99", "/api/v1/items", 400},
			{"/api/v1/items/1", "/api/v1/items/{id}", 200},
			{"/api/v1/items/x", "/api/v1/items/{id}", 400},
			{"/api/v1/items/424242", "/api/v1/items/{id}", 404},
		}
		for _, c := range cases {
			status, body := call(t, h, c.path)
			if status != c.status {
				t.Errorf("%s: status %d, want %d: %s", c.path, status, c.status, body)
				continue
			}
			var op operation
			if err := json.Unmarshal(doc.Paths[c.template]["get"], &op); err != nil {
				t.Fatal(err)
			}
			resp, ok := op.Responses[fmt.Sprint(status)]
			if !ok {
				t.Errorf("%s: status %d is not documented", c.path, status)
				continue
			}
			s := &schema{Ref: "#/components/schemas/Error"}
			if resp.Ref == "" {
				s = resp.Content["application/json"].Schema
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Errorf("%s: %v", c.path, err)
				continue
			}
			if err := validate(doc, s, v, "$"); err != nil {
				t.Errorf("%s: %v\n%s", c.path, err, body)
			}
			if status >= 400 && !regexp.MustCompile(`\p{Han}`).Match(body) {
				t.Errorf("%s: error message is not in Chinese: %s", c.path, body)
			}
		}
	})
}

// validate checks v against the subset of JSON Schema our document uses:
// $ref, type, required, properties, additionalProperties, items and enum.
func validate(doc document, s *schema, v any, at string) error {
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		ref, ok := doc.Components.Schemas[name]
		if !ok {
			return fmt.Errorf("%s: unknown schema %s", at, s.Ref)
		}
		return validate(doc, ref, v, at)
	}
	switch s.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want object, got %T", at, v)
		}
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				return fmt.Errorf("%s: missing required %q", at, r)
			}
		}
		for k, val := range m {
			ps, ok := s.Properties[k]
			if !ok {
				ps = s.AdditionalProperties
			}
			if ps == nil {
				return fmt.Errorf("%s: property %q is not documented", at, k)
			}
			if err := validate(doc, ps, val, at+"."+k); err != nil {
				return err
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want array, got %T", at, v)
		}
		for i, x := range a {
			if err := validate(doc, s.Items, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: want string, got %T", at, v)
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: want integer, got %v", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: want boolean, got %T", at, v)
		}
	}
	if len(s.Enum) > 0 {
		for _, e := range s.Enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				return nil
			}
		}
		return fmt.Errorf("%s: %v is not one of %v", at, v, s.Enum)
	}
	return nil
}

func TestItemSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newAPI(t, db)
		for _, q := range []string{"yyzz", "营业执找", "个体", "gtgsh"} {
			_, body := call(t, h, "/api/v1/items?q="+q)
			var res struct {
				Total int
				Items []struct {
					Name       string
					Highlights [][2]int
					MatchedBy  string `json:"matched_by"`
				}
			}
			if err := json.Unmarshal(body, &res); err != nil || res.Total != 1 || res.Items[0].Name != "个体工商户设立登记" {
				t.Errorf("q=%s: %s", q, body)
			}
		}
		_, body := call(t, h, "/api/v1/items?level=street")
		if !strings.Contains(string(body), `"total":0`) {
			t.Errorf("street filter: %s", body)
		}
	})
}

// The document passes the checks an outside linter (Redocly's recommended
// rules) makes: contact and licence, every operation tagged with a declared
// tag, summarised, and with its security stated — [] for a public
// operation, which then documents no 401, and a scheme for one that needs a
// session, which documents its 401.
func TestOpenAPIDescribesEveryOperation(t *testing.T) {
	var doc struct {
		Info struct {
			Contact struct{ Name, URL string }        `json:"contact"`
			License struct{ Name, Identifier string } `json:"license"`
		} `json:"info"`
		Tags  []struct{ Name, Description string } `json:"tags"`
		Paths map[string]map[string]struct {
			OperationID string                     `json:"operationId"`
			Summary     string                     `json:"summary"`
			Tags        []string                   `json:"tags"`
			Security    *[]map[string][]string     `json:"security"`
			Responses   map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Info.Contact.Name == "" || doc.Info.License.Identifier == "" {
		t.Errorf("info lacks contact or licence: %+v", doc.Info)
	}
	declared := map[string]bool{}
	for _, tag := range doc.Tags {
		if tag.Description == "" {
			t.Errorf("tag %s has no description", tag.Name)
		}
		declared[tag.Name] = true
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			name := method + " " + path
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s: no operationId or summary", name)
			}
			if len(op.Tags) == 0 {
				t.Errorf("%s: no tag", name)
			}
			for _, tag := range op.Tags {
				if !declared[tag] {
					t.Errorf("%s: tag %q is not declared", name, tag)
				}
			}
			if op.Security == nil {
				t.Errorf("%s: security not stated (use [] for a public operation)", name)
				continue
			}
			_, has401 := op.Responses["401"]
			if public := len(*op.Security) == 0; public == has401 {
				t.Errorf("%s: public=%v but documents 401=%v", name, public, has401)
			}
		}
	}
}
