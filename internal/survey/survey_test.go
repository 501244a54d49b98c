package survey_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/survey"
)

func keys(t *testing.T) *pii.Keys {
	t.Helper()
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	k, err := pii.ParseKeys(enc, idx)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// account opens an account of kind (person or staff) and returns its subject.
func account(t *testing.T, db *store.DB, kind, name string) policy.Subject {
	t.Helper()
	ctx := context.Background()
	var id int64
	now := time.Now()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		if kind == policy.Person {
			return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, created_at, updated_at) VALUES ('person', ?, ?, ?) RETURNING id`,
				name, now, now).Scan(&id)
		}
		var dept int64
		if err := tx.QueryRow(ctx, `SELECT id FROM departments WHERE slug = 'xzfwzx'`).Scan(&dept); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at) VALUES ('staff', ?, ?, ?, ?, ?) RETURNING id`,
			name, "u-"+name, dept, now, now).Scan(&id)
	}); err != nil {
		t.Fatal(err)
	}
	s := policy.Subject{AccountID: id, Kind: kind, Name: name}
	if kind == policy.Staff {
		s.RegionCode, s.Roles = "410411000000", []policy.Role{policy.Admin}
	}
	return s
}

func satisfaction() survey.Survey {
	return survey.Survey{Title: "2026 年政务服务满意度调查", Intro: "请根据您的办事经历作答。", Audience: policy.Citizens, OncePer: policy.ByPerson, Anonymous: true,
		Questions: []survey.Question{
			{Title: "您对办事效率是否满意", Kind: survey.Scale, Required: true},
			{Title: "您这次办事跑了几次", Kind: survey.Single, Required: true, Options: []string{"0 次（全程网办）", "1 次", "2 次及以上"}, Satisfied: []int{0, 1}},
			{Title: "您用过哪些渠道", Kind: survey.Multiple, Options: []string{"网站", "大厅窗口", "自助终端", "12345 热线"}},
			{Title: "您的建议", Kind: survey.Text},
		}}
}

func TestSurveyFromBuildingToResults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 12, 7, 10, 0, 0, 0, clock.China))
		if _, err := demo.SeedDistrict(ctx, db, clk); err != nil {
			t.Fatal(err)
		}
		svc := survey.New(db, clk, keys(t))
		admin := account(t, db, policy.Staff, "管理员")
		citizens := []policy.Subject{account(t, db, policy.Person, "张三"), account(t, db, policy.Person, "李四"), account(t, db, policy.Person, "王五")}
		meta := audit.Meta{IP: "10.1.1.1"}

		// Only an administrator builds one, and a bad one is refused whole.
		if _, err := svc.Save(ctx, citizens[0], meta, satisfaction()); !apperr.Is(err, apperr.NotFound) && !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a citizen builds a survey: %v", err)
		}
		for name, bad := range map[string]func(*survey.Survey){
			"no title":               func(s *survey.Survey) { s.Title = " " },
			"no questions":           func(s *survey.Survey) { s.Questions = nil },
			"one option":             func(s *survey.Survey) { s.Questions[1].Options = []string{"1 次"} },
			"unknown satisfied":      func(s *survey.Survey) { s.Questions[1].Satisfied = []int{5} },
			"duplicate option":       func(s *survey.Survey) { s.Questions[2].Options = []string{"网站", "网站"} },
			"options on a scale":     func(s *survey.Survey) { s.Questions[0].Options = []string{"好"} },
			"unknown kind":           func(s *survey.Survey) { s.Questions[3].Kind = "rank" },
			"named per device":       func(s *survey.Survey) { s.OncePer, s.Anonymous = policy.ByDevice, false },
			"staff per device":       func(s *survey.Survey) { s.Audience, s.OncePer = policy.StaffOnly, policy.ByDevice },
			"no audience":            func(s *survey.Survey) { s.Audience = "" },
			"question with no title": func(s *survey.Survey) { s.Questions[0].Title = "" },
		} {
			sv := satisfaction()
			bad(&sv)
			if _, err := svc.Save(ctx, admin, meta, sv); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("%s: %v", name, err)
			}
		}
		sv, err := svc.Save(ctx, admin, meta, satisfaction())
		if err != nil {
			t.Fatal(err)
		}
		answers := []survey.Answer{{Scale: 5}, {Choices: []int{0}}, {Choices: []int{0, 3}}, {Text: "希望延长周末服务时间"}}
		if err := svc.Submit(ctx, survey.Respondent{Who: citizens[0]}, sv.ID, answers); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("answering a draft: %v", err)
		}
		if err := svc.SetStatus(ctx, admin, meta, sv.ID, survey.Open); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Save(ctx, admin, meta, sv); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("changing an opened survey: %v", err)
		}

		// Answers are checked at the edge, every question at once.
		_, err = survey.ParseAnswers(sv, map[string][]string{"q1": {"6"}, "q2": {"0", "1"}, "q3": {"9"}})
		if !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("bad answers: %v", err)
		}
		fields := apperr.FieldsOf(err)
		for f, want := range map[string]string{"q1": "请在 1 至 5 分中选择", "q2": "只能选一项", "q3": "选项无效"} {
			if !strings.Contains(fields[f], want) {
				t.Errorf("%s: %q, want %q", f, fields[f], want)
			}
		}
		if _, err := survey.ParseAnswers(sv, map[string][]string{"q3": {"1"}}); !strings.Contains(apperr.FieldsOf(err)["q1"], "为必答题，请打分") ||
			!strings.Contains(apperr.FieldsOf(err)["q2"], "为必答题，请选择") {
			t.Errorf("required questions unanswered: %v", err)
		}
		if _, err := survey.ParseAnswers(sv, map[string][]string{"q1": {"4"}, "q2": {"1"}, "q4": {strings.Repeat("长", survey.MaxText+1)}}); !strings.Contains(apperr.MessageOf(err), "不能超过") {
			t.Errorf("a long text: %v", err)
		}
		parsed, err := survey.ParseAnswers(sv, map[string][]string{"q1": {"5"}, "q2": {"0"}, "q3": {"0", "3"}, "q4": {" 希望延长周末服务时间 "}})
		if err != nil {
			t.Fatal(err)
		}
		// A refused set stores nothing; staff do not answer citizens' surveys.
		if err := svc.Submit(ctx, survey.Respondent{Who: citizens[0]}, sv.ID, []survey.Answer{{Scale: 9}, {}, {}, {}}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("submitting bad answers: %v", err)
		}
		if err := svc.Submit(ctx, survey.Respondent{Who: admin}, sv.ID, parsed); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("staff answering: %v", err)
		}
		if err := svc.Submit(ctx, survey.Respondent{Who: policy.Subject{Kind: policy.Anonymous}}, sv.ID, parsed); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("answering without signing in: %v", err)
		}
		if res, err := svc.Results(ctx, admin, sv.ID); err != nil || res.Responses != 0 {
			t.Fatalf("refused answers were stored: %+v %v", res, err)
		}

		// One answer per person.
		if err := svc.Submit(ctx, survey.Respondent{Who: citizens[0]}, sv.ID, parsed); err != nil {
			t.Fatal(err)
		}
		if err := svc.Submit(ctx, survey.Respondent{Who: citizens[0]}, sv.ID, parsed); !apperr.Is(err, apperr.Conflict) || !strings.Contains(apperr.MessageOf(err), "每人只能填写一次") {
			t.Fatalf("a second answer: %v", err)
		}
		if err := svc.Submit(ctx, survey.Respondent{Who: citizens[1]}, sv.ID, []survey.Answer{{Scale: 2}, {Choices: []int{2}}, {}, {}}); err != nil {
			t.Fatal(err)
		}
		if err := svc.Submit(ctx, survey.Respondent{Who: citizens[2]}, sv.ID, []survey.Answer{{Scale: 4}, {Choices: []int{1}}, {Choices: []int{1}}, {}}); err != nil {
			t.Fatal(err)
		}
		// Anonymous: no answer names its account.
		var named int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM survey_responses WHERE account_id IS NOT NULL`).Scan(&named); err != nil || named != 0 {
			t.Fatalf("anonymous answers name %d accounts (%v)", named, err)
		}

		res, err := svc.Results(ctx, admin, sv.ID)
		if err != nil {
			t.Fatal(err)
		}
		scale, runs, channels, text := res.Questions[0], res.Questions[1], res.Questions[2], res.Questions[3]
		if res.Responses != 3 || fmt.Sprint(scale.Counts) != "[0 1 0 1 1]" || fmt.Sprintf("%.2f", scale.Mean()) != "3.67" || scale.Percent() != "66.7%" {
			t.Errorf("the scale: %+v mean %.2f rate %s", scale, scale.Mean(), scale.Percent())
		}
		if fmt.Sprint(runs.Counts) != "[1 1 1]" || runs.Percent() != "66.7%" || fmt.Sprint(channels.Counts) != "[1 1 0 1]" || channels.Rated() {
			t.Errorf("the choices: %+v %+v", runs, channels)
		}
		if len(text.Texts) != 1 || text.Texts[0] != "希望延长周末服务时间" || text.Answered != 1 {
			t.Errorf("the text: %+v", text)
		}
		if res.Satisfied != 4 || res.Rated != 6 || res.Percent() != "66.7%" {
			t.Errorf("overall: %d of %d, %s", res.Satisfied, res.Rated, res.Percent())
		}
		if _, err := svc.Results(ctx, citizens[0], sv.ID); err == nil {
			t.Error("a citizen reads the results")
		}

		// The export: counts and every answer, audited.
		var buf bytes.Buffer
		if err := svc.Export(ctx, admin, meta, sv.ID, &buf); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		summary, _ := x.GetRows("结果汇总")
		all, _ := x.GetRows("答卷")
		if len(all) != 4 || len(summary) < 10 || summary[len(summary)-1][7] != "66.7%" || !strings.Contains(fmt.Sprint(all), "大厅窗口") {
			t.Errorf("workbook: %v / %v", summary, all)
		}
		es, err := audit.NewLog(db).Search(ctx, admin, audit.Filter{Action: "export"})
		if err != nil || len(es) != 1 || es[0].Object != fmt.Sprintf("survey:%d", sv.ID) || !strings.Contains(es[0].Detail, "3 份答卷") {
			t.Errorf("export audit: %+v %v", es, err)
		}
		// Closed: no more answers.
		if err := svc.SetStatus(ctx, admin, meta, sv.ID, survey.Closed); err != nil {
			t.Fatal(err)
		}
		if err := svc.Submit(ctx, survey.Respondent{Who: account(t, db, policy.Person, "赵六")}, sv.ID, parsed); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("answering a closed survey: %v", err)
		}
	})
}

func TestSurveyOncePerDevice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 12, 7, 10, 0, 0, 0, clock.China))
		if _, err := demo.SeedDistrict(ctx, db, clk); err != nil {
			t.Fatal(err)
		}
		svc := survey.New(db, clk, keys(t))
		admin := account(t, db, policy.Staff, "管理员")
		sv := survey.Survey{Title: "大厅满意度", Audience: policy.Citizens, OncePer: policy.ByDevice, Anonymous: true,
			Questions: []survey.Question{{Title: "总体满意度", Kind: survey.Scale, Required: true}}}
		sv, err := svc.Save(ctx, admin, audit.Meta{}, sv)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.SetStatus(ctx, admin, audit.Meta{}, sv.ID, survey.Open); err != nil {
			t.Fatal(err)
		}
		anon := policy.Subject{Kind: policy.Anonymous}
		a := []survey.Answer{{Scale: 5}}
		if err := svc.Submit(ctx, survey.Respondent{Who: anon}, sv.ID, a); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("without a cookie: %v", err)
		}
		device := "c2VjcmV0LWRldmljZS1jb29raWU"
		if err := svc.Submit(ctx, survey.Respondent{Who: anon, Device: device}, sv.ID, a); err != nil {
			t.Fatal(err)
		}
		if err := svc.Submit(ctx, survey.Respondent{Who: anon, Device: device}, sv.ID, a); !apperr.Is(err, apperr.Conflict) || !strings.Contains(apperr.MessageOf(err), "这台设备") {
			t.Fatalf("the same device again: %v", err)
		}
		if err := svc.Submit(ctx, survey.Respondent{Who: anon, Device: device + "2"}, sv.ID, a); err != nil {
			t.Fatalf("another device: %v", err)
		}
		// The cookie itself is not stored, only its keyed hash.
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM survey_responses WHERE respondent LIKE ?`, "%"+device+"%").Scan(&n); err != nil || n != 0 {
			t.Fatalf("the cookie is stored in %d rows (%v)", n, err)
		}
	})
}

// A staff survey is staff's: a citizen does not learn of it, a visitor is
// asked to sign in, and the portal's list shows each only what they may
// answer (a citizens' survey counted per person to visitors too, who may
// sign in for it).
func TestStaffSurveyIsStaffs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 12, 7, 10, 0, 0, 0, clock.China))
		if _, err := demo.SeedDistrict(ctx, db, clk); err != nil {
			t.Fatal(err)
		}
		svc := survey.New(db, clk, keys(t))
		admin := account(t, db, policy.Staff, "管理员")
		citizen := account(t, db, policy.Person, "张三")
		staffSurvey := survey.Survey{Title: "内部培训评价", Audience: policy.StaffOnly, OncePer: policy.ByPerson,
			Questions: []survey.Question{{Title: "培训是否有用", Kind: survey.Scale, Required: true}}}
		var ids []int64
		for _, sv := range []survey.Survey{staffSurvey, satisfaction()} {
			sv, err := svc.Save(ctx, admin, audit.Meta{}, sv)
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.SetStatus(ctx, admin, audit.Meta{}, sv.ID, survey.Open); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, sv.ID)
		}
		anon := policy.Subject{Kind: policy.Anonymous}
		if _, err := svc.Get(ctx, citizen, ids[0]); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a citizen reads a staff survey: %v", err)
		}
		if _, err := svc.Get(ctx, anon, ids[0]); !apperr.Is(err, apperr.Unauthorized) {
			t.Errorf("a visitor reads a staff survey: %v", err)
		}
		if _, err := svc.Get(ctx, admin, ids[0]); err != nil {
			t.Errorf("staff read a staff survey: %v", err)
		}
		for who, want := range map[string][]int64{"admin": {ids[0]}, "citizen": {ids[1]}, "visitor": {ids[1]}} {
			s := map[string]policy.Subject{"admin": admin, "citizen": citizen, "visitor": anon}[who]
			list, err := svc.Open(ctx, s)
			var got []int64
			for _, sv := range list {
				got = append(got, sv.ID)
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s's open surveys: %v, want %v (%v)", who, got, want, err)
			}
		}
	})
}
