package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/api"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/survey"
)

// The boards and surveys through the API: each response as the document
// describes it; an answer needs a signed-in person, is checked whole (a
// refused one stores nothing) and is taken once.
func TestBoardsAndSurveysThroughTheAPI(t *testing.T) {
	doc := loadDocument(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 12, 7, 10, 0, 0, 0, clock.China))
		enc, idx, _ := pii.GenerateKeys()
		keys, err := pii.ParseKeys(enc, idx)
		if err != nil {
			t.Fatal(err)
		}
		surveys := survey.New(db, clk, keys)
		var citizen policy.Subject
		h := newAPIWith(t, db, func(d *api.Deps, _ *catalog.Store) {
			d.Boards, d.Surveys = board.New(db, clk), surveys
			d.Authenticate = func(_ context.Context, token string) (policy.Subject, error) {
				if token != "citizen-token" {
					return policy.Subject{}, apperr.New(apperr.Unauthorized, "会话已失效，请重新登录。")
				}
				return citizen, nil
			}
		})
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', '张三', ?, ?) RETURNING id`,
				clk.Now(), clk.Now()).Scan(&citizen.AccountID)
		}); err != nil {
			t.Fatal(err)
		}
		citizen.Kind = policy.Person
		admin := policy.Subject{Kind: policy.Staff, Name: "管理员", Roles: []policy.Role{policy.Admin}}
		sv, err := surveys.Save(ctx, admin, audit.Meta{}, survey.Survey{Title: "满意度", Audience: policy.Citizens, OncePer: policy.ByPerson,
			Anonymous: true, Questions: []survey.Question{{Title: "总体满意度", Kind: survey.Scale, Required: true},
				{Title: "跑了几次", Kind: survey.Single, Options: []string{"0 次", "1 次"}, Satisfied: []int{0}}}})
		if err != nil {
			t.Fatal(err)
		}
		draft := fmt.Sprintf("/api/v1/surveys/%d", sv.ID)
		if status, body := call(t, h, draft); status != 404 {
			t.Fatalf("a draft: %d %s", status, body)
		}
		if err := surveys.SetStatus(ctx, admin, audit.Meta{}, sv.ID, survey.Open); err != nil {
			t.Fatal(err)
		}
		check := func(path, template, method string, status int, body []byte) {
			t.Helper()
			var op operation
			if err := json.Unmarshal(doc.Paths[template][method], &op); err != nil {
				t.Fatal(err)
			}
			resp, ok := op.Responses[fmt.Sprint(status)]
			if !ok {
				t.Fatalf("%s: status %d is not documented: %s", path, status, body)
			}
			s := &schema{Ref: "#/components/schemas/Error"}
			if resp.Ref == "" {
				s = resp.Content["application/json"].Schema
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if err := validate(doc, s, v, "$"); err != nil {
				t.Errorf("%s: %v\n%s", path, err, body)
			}
		}
		for _, c := range []struct {
			path, template string
			status         int
		}{
			{draft, "/api/v1/surveys/{id}", 200},
			{"/api/v1/surveys/x", "/api/v1/surveys/{id}", 400},
			{"/api/v1/boards/praise", "/api/v1/boards/{board}", 200},
			{"/api/v1/boards/praise?after=x", "/api/v1/boards/{board}", 400},
			{"/api/v1/boards/honour", "/api/v1/boards/{board}", 404},
			{"/api/v1/boards/exposure/12", "/api/v1/boards/{board}/{id}", 404},
		} {
			status, body := call(t, h, c.path)
			if status != c.status {
				t.Errorf("%s: %d, want %d: %s", c.path, status, c.status, body)
				continue
			}
			check(c.path, c.template, "get", status, body)
		}

		answer := func(token, body string) (int, []byte) {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest("POST", draft+"/answers", strings.NewReader(body))
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			h.ServeHTTP(rec, r)
			b, _ := io.ReadAll(rec.Body)
			check(draft+"/answers", "/api/v1/surveys/{id}/answers", "post", rec.Code, b)
			return rec.Code, b
		}
		stored := func() int {
			var n int
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM survey_responses`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		good := `{"answers": [{"scale": 5}, {"choices": [0]}]}`
		for _, c := range []struct {
			token, body string
			status      int
			says        string
		}{
			{"", good, http.StatusUnauthorized, "请先登录"},
			{"citizen-token", `{"answers": [{"scale": 7}, {"choices": [0, 1]}]}`, http.StatusBadRequest, "请在 1 至 5 分中选择"},
			{"citizen-token", `{"answers": [{}]}`, http.StatusBadRequest, "题目数不一致"},
			{"citizen-token", `{"answer": []}`, http.StatusBadRequest, "请求体应为 JSON"},
		} {
			status, body := answer(c.token, c.body)
			if status != c.status || !strings.Contains(string(body), c.says) {
				t.Errorf("%s: %d %s, want %d %q", c.body, status, body, c.status, c.says)
			}
		}
		if n := stored(); n != 0 {
			t.Fatalf("refused answers stored %d rows", n)
		}
		if status, body := answer("citizen-token", good); status != http.StatusCreated {
			t.Fatalf("an answer: %d %s", status, body)
		}
		if status, body := answer("citizen-token", good); status != http.StatusConflict || !strings.Contains(string(body), "每人只能填写一次") {
			t.Fatalf("a second answer: %d %s", status, body)
		}
		if n := stored(); n != 1 {
			t.Fatalf("%d answers stored, want 1", n)
		}
	})
}
