package evaluation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/evaluation"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func TestRulePoints(t *testing.T) {
	linear := evaluation.Rule{Kind: evaluation.Linear, Zero: 60, Full: 100}
	steps := evaluation.Rule{Kind: evaluation.Steps, Steps: []evaluation.Step{{Min: 100, Share: 1}, {Min: 90, Share: 0.8}, {Min: 80, Share: 0.6}}}
	score := evaluation.Rule{Kind: evaluation.Score}
	lowerBetter := evaluation.Rule{Kind: evaluation.Linear, Zero: 10, Full: 0} // e.g. a complaint rate
	for _, c := range []struct {
		name          string
		rule          evaluation.Rule
		value, weight float64
		want          float64
	}{
		{"linear at full", linear, 100, 6, 6},
		{"linear above full", linear, 120, 6, 6},
		{"linear at zero", linear, 60, 6, 0},
		{"linear below zero", linear, 10, 6, 0},
		{"linear between", linear, 95, 6, 5.25},
		{"linear thirds rounded", linear, 70, 7, 1.75},
		{"lower is better", lowerBetter, 2.5, 4, 3},
		{"steps top", steps, 100, 5, 5},
		{"steps second", steps, 95, 5, 4},
		{"steps third", steps, 80, 5, 3},
		{"steps none", steps, 79.9, 5, 0},
		{"score", score, 2.5, 3, 2.5},
		{"score capped", score, 4, 3, 3},
		{"score not negative", score, -1, 3, 0},
	} {
		if got := c.rule.Points(c.value, c.weight); got != c.want {
			t.Errorf("%s: Points(%g, %g) = %g, want %g", c.name, c.value, c.weight, got, c.want)
		}
	}
}

func TestBands(t *testing.T) {
	s := evaluation.Default()
	for total, want := range map[float64]string{100: "优", 90: "优", 89.99: "良", 80: "良", 79.5: "中", 60: "中", 59.99: "差", 0: "差"} {
		if got := s.Grade(total); got != want {
			t.Errorf("Grade(%g) = %q, want %q", total, got, want)
		}
	}
}

// The built-in system: four first-level indicators of the national
// framework adding up to 100, 产出 and 效益 together 60.
func TestDefaultSystem(t *testing.T) {
	s := evaluation.Default()
	var names []string
	weights := map[string]float64{}
	for _, in := range s.Indicators {
		names = append(names, in.Name)
		weights[in.Name] = in.Weight
	}
	if strings.Join(names, ",") != "决策,过程,产出,效益" {
		t.Errorf("first-level indicators %v", names)
	}
	if weights["产出"]+weights["效益"] != 60 {
		t.Errorf("产出 + 效益 = %g, want 60", weights["产出"]+weights["效益"])
	}
	for _, code := range []string{"B11", "B12", "B21"} { // budget execution, payment, delivery: by hand
		if in, ok := s.Leaf(code); !ok || in.Source != evaluation.Hand {
			t.Errorf("%s: %+v, want a hand indicator", code, in)
		}
	}
}

func TestCheckRefusesBrokenSystems(t *testing.T) {
	base := func() map[string]any {
		var m map[string]any
		b, _ := json.Marshal(evaluation.Default())
		json.Unmarshal(b, &m)
		return m
	}
	for name, change := range map[string]func(m map[string]any){
		"weights not 100": func(m map[string]any) {
			m["indicators"].([]any)[0].(map[string]any)["weight"] = 16.0
		},
		"bands not ending at 0": func(m map[string]any) {
			m["bands"] = []any{map[string]any{"grade": "优", "min": 90.0}, map[string]any{"grade": "差", "min": 10.0}}
		},
		"bands out of order": func(m map[string]any) {
			m["bands"] = []any{map[string]any{"grade": "差", "min": 0.0}, map[string]any{"grade": "优", "min": 90.0}}
		},
		"unknown rule": func(m map[string]any) {
			leaf := m["indicators"].([]any)[1].(map[string]any)["children"].([]any)[0].(map[string]any)["children"].([]any)[0].(map[string]any)
			leaf["rule"] = map[string]any{"kind": "magic"}
		},
		"repeated code": func(m map[string]any) {
			m["indicators"].([]any)[1].(map[string]any)["code"] = "A"
		},
	} {
		m := base()
		change(m)
		b, _ := json.Marshal(m)
		if _, err := evaluation.Parse(b); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if _, err := evaluation.Parse([]byte(`{"name": "x", "extra": 1}`)); err == nil {
		t.Error("an unknown field was accepted")
	}
}

var admin = policy.Subject{AccountID: 0, Kind: policy.Staff, Name: "管理员", Roles: []policy.Role{policy.Admin}}

// A small system: one live indicator, one not connected, two by hand.
const small = `{"name": "测试", "basis": "测试", "bands": [{"grade": "优", "min": 90}, {"grade": "差", "min": 0}],
 "indicators": [
  {"code": "A", "name": "过程", "weight": 40, "children": [
    {"code": "A1", "name": "预算执行率", "weight": 20, "source": "hand", "unit": "%", "rule": {"kind": "linear", "zero": 60, "full": 100}},
    {"code": "A2", "name": "制度", "weight": 20, "source": "hand", "unit": "分", "rule": {"kind": "score"}}]},
  {"code": "B", "name": "产出", "weight": 60, "children": [
    {"code": "B1", "name": "档案", "weight": 30, "source": "live", "unit": "%", "rule": {"kind": "linear", "zero": 80, "full": 100}},
    {"code": "B2", "name": "网上可办率", "weight": 30, "source": "online_rate", "unit": "%", "rule": {"kind": "linear", "zero": 80, "full": 100}}]}]}`

func newService(t *testing.T, db *store.DB, live func() (evaluation.Measure, error)) (*evaluation.Service, *staging.Store) {
	t.Helper()
	sys, err := evaluation.Parse([]byte(small))
	if err != nil {
		t.Fatal(err)
	}
	local, err := filestore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := staging.New(db, local)
	clk := clock.NewManual(time.Date(2026, 12, 7, 10, 0, 0, 0, clock.China))
	return evaluation.New(db, evaluation.Options{System: sys, Files: files, Clock: clk, Sources: map[string]evaluation.Source{
		"live": {Name: "测试来源", Measure: func(context.Context, evaluation.Period) (evaluation.Measure, error) { return live() }},
	}}), files
}

func line(rep evaluation.Report, code string) evaluation.Line {
	for _, l := range rep.Lines {
		if l.Code == code {
			return l
		}
	}
	return evaluation.Line{}
}

func TestReportScoresAndScales(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		live := evaluation.Measure{Value: 90, Basis: "完整 9 / 10"}
		s, files := newService(t, db, func() (evaluation.Measure, error) { return live, nil })
		rep, err := s.Report(ctx, admin, 2026)
		if err != nil {
			t.Fatal(err)
		}
		// Only B1 is scored: 15 of 30, scaled to 50 over the 30 scored.
		if l := line(rep, "B2"); l.State != evaluation.NotConnected || l.ValueText() != "未接入数据源" || l.PointsText() != "—" {
			t.Errorf("B2 %+v", l)
		}
		if l := line(rep, "A1"); l.State != evaluation.NotEntered {
			t.Errorf("A1 %+v", l)
		}
		if rep.Points != 15 || rep.Scored != 30 || rep.Unscored != 70 || rep.Total != 50 || rep.Grade != "差" {
			t.Errorf("points %g of %g (unscored %g), total %g %s", rep.Points, rep.Scored, rep.Unscored, rep.Total, rep.Grade)
		}
		// Hand entries with evidence.
		pdf := []byte("%PDF-1.7\n预算执行情况表")
		obj, err := files.Put(ctx, bytes.NewReader(pdf), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Enter(ctx, admin, audit.Meta{IP: "127.0.0.1"}, evaluation.Input{Period: 2026, Code: "A1", Value: "95%", Note: "决算报表", File: obj, FileName: "预算执行.pdf"}); err != nil {
			t.Fatal(err)
		}
		// A correction keeps the file.
		if _, err := s.Enter(ctx, admin, audit.Meta{}, evaluation.Input{Period: 2026, Code: "A1", Value: "98", Note: "决算报表（更正）"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Enter(ctx, admin, audit.Meta{}, evaluation.Input{Period: 2026, Code: "A2", Value: "18", Note: "制度汇编", File: obj, FileName: "制度.pdf"}); err != nil {
			t.Fatal(err)
		}
		rep, err = s.Report(ctx, admin, 2026)
		if err != nil {
			t.Fatal(err)
		}
		a1 := line(rep, "A1")
		if a1.State != evaluation.Scored || a1.Value != 98 || a1.Points != 19 || a1.Entry == nil || a1.Entry.File.SHA256 != obj.SHA256 || a1.Entry.Note != "决算报表（更正）" {
			t.Errorf("A1 %+v", a1)
		}
		// 19 + 18 + 15 = 52 of 70 → 74.29.
		if rep.Points != 52 || rep.Scored != 70 || rep.Total != 74.29 || line(rep, "A").Points != 37 {
			t.Errorf("points %g of %g, total %g; A %g", rep.Points, rep.Scored, rep.Total, line(rep, "A").Points)
		}
		// Another period has its own entries.
		if rep, _ := s.Report(ctx, admin, 2025); line(rep, "A1").State != evaluation.NotEntered {
			t.Error("2026's entry shows in 2025")
		}
		// A source with nothing to count is not scored.
		live = evaluation.Measure{}
		s2, _ := newService(t, db, func() (evaluation.Measure, error) { return evaluation.Measure{}, evaluation.ErrNoData })
		if rep, _ := s2.Report(ctx, admin, 2026); line(rep, "B1").State != evaluation.NoData || rep.Scored != 40 {
			t.Errorf("no data: B1 %+v, scored %g", line(rep, "B1"), rep.Scored)
		}
		// A failing source fails the report rather than scoring it 0.
		s3, _ := newService(t, db, func() (evaluation.Measure, error) { return evaluation.Measure{}, errors.New("boom") })
		if _, err := s3.Report(ctx, admin, 2026); err == nil {
			t.Error("a failing source was scored")
		}
		// Each entry is in the audit log, with the file's hash.
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'evaluation_entry' AND object = 'evaluation:2026:A1' AND detail LIKE ?`,
			"%"+obj.SHA256+"%").Scan(&n); err != nil || n != 2 {
			t.Errorf("audit entries of A1: %d, %v", n, err)
		}
		// The file is referred to: the sweeper keeps it.
		if deleted, err := files.Discard(ctx, obj.SHA256); err != nil || deleted != 0 {
			t.Errorf("discarding the evidence: %d deleted, %v", deleted, err)
		}
	})
}

func TestEnterRefusesBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, files := newService(t, db, func() (evaluation.Measure, error) { return evaluation.Measure{Value: 100}, nil })
		obj, err := files.Put(ctx, bytes.NewReader([]byte("%PDF-1.7\nx")), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		super := policy.Subject{AccountID: 2, Kind: policy.Staff, Name: "督查", Roles: []policy.Role{policy.Supervisor}}
		for name, c := range map[string]struct {
			who  policy.Subject
			in   evaluation.Input
			want apperr.Code
		}{
			"not an admin":      {super, evaluation.Input{Period: 2026, Code: "A1", Value: "95", Note: "x", File: obj}, apperr.Forbidden},
			"live indicator":    {admin, evaluation.Input{Period: 2026, Code: "B1", Value: "95", Note: "x", File: obj}, apperr.Invalid},
			"no such indicator": {admin, evaluation.Input{Period: 2026, Code: "Z9", Value: "95", Note: "x", File: obj}, apperr.Invalid},
			"not a number":      {admin, evaluation.Input{Period: 2026, Code: "A1", Value: "九十五", Note: "x", File: obj}, apperr.Invalid},
			"over 100%":         {admin, evaluation.Input{Period: 2026, Code: "A1", Value: "101", Note: "x", File: obj}, apperr.Invalid},
			"score over weight": {admin, evaluation.Input{Period: 2026, Code: "A2", Value: "21", Note: "x", File: obj}, apperr.Invalid},
			"no note":           {admin, evaluation.Input{Period: 2026, Code: "A1", Value: "95", Note: "  ", File: obj}, apperr.Invalid},
			"no evidence":       {admin, evaluation.Input{Period: 2026, Code: "A1", Value: "95", Note: "x"}, apperr.Invalid},
			"bad period":        {admin, evaluation.Input{Period: 1999, Code: "A1", Value: "95", Note: "x", File: obj}, apperr.Invalid},
		} {
			if _, err := s.Enter(ctx, c.who, audit.Meta{}, c.in); !apperr.Is(err, c.want) {
				t.Errorf("%s: %v, want %s", name, err, c.want)
			}
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM evaluation_entries) + (SELECT COUNT(*) FROM audit_log)`).Scan(&n); err != nil || n != 0 {
			t.Errorf("refused entries left %d rows, %v", n, err)
		}
		if _, err := s.Report(ctx, super, 2026); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a supervisor's report: %v, want forbidden", err)
		}
		if _, _, err := s.Export(ctx, super, audit.Meta{}, 2026, t.TempDir()); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a supervisor's export: %v, want forbidden", err)
		}
	})
}

type rates evaluation.Rates

func (r rates) CaseRates(context.Context, time.Time, time.Time) (evaluation.Rates, error) {
	return evaluation.Rates(r), nil
}

func TestCaseRateSources(t *testing.T) {
	src := evaluation.CaseRateSources(rates{Online: 97.5, OnTime: -1, OneVisit: 88, OneCorrection: 90})
	m, err := src["online_rate"].Measure(context.Background(), 2026)
	if err != nil || m.Value != 97.5 {
		t.Errorf("online rate %v, %v", m, err)
	}
	if _, err := src["on_time_rate"].Measure(context.Background(), 2026); !errors.Is(err, evaluation.ErrNoData) {
		t.Errorf("on-time rate with nothing to count: %v", err)
	}
}
