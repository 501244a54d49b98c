package survey_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/survey"
)

// BenchmarkResults counts the results of a survey of six questions with
// 10,000 answers (written straight into the table: the benchmark is of
// reading them), as the administrator's results page does on each visit.
//
//	go test -run XXX -bench Results -benchtime 20x ./internal/survey/
func BenchmarkResults(b *testing.B) {
	for _, c := range []struct {
		name string
		db   func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(c.name, func(b *testing.B) {
			db := c.db(b)
			ctx := context.Background()
			clk := clock.NewManual(time.Date(2026, 12, 7, 10, 0, 0, 0, clock.China))
			svc := survey.New(db, clk, nil)
			admin := policy.Subject{Kind: policy.Staff, Name: "管理员", Roles: []policy.Role{policy.Admin}}
			sv, err := svc.Save(ctx, admin, audit.Meta{}, demo.SatisfactionSurvey())
			if err != nil {
				b.Fatal(err)
			}
			const n = 10000
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				for i := range n {
					a := []survey.Answer{{Scale: 5 - i%3}, {Scale: 4}, {Scale: 5}, {Choices: []int{i % 4}}, {Choices: []int{0, 2}}, {}}
					if i%5 == 0 {
						a[5].Text = "希望周末也能办理业务"
					}
					body, _ := json.Marshal(a)
					if _, err := tx.Exec(ctx, `INSERT INTO survey_responses (survey_id, respondent, answers, submitted_at) VALUES (?, ?, ?, ?)`,
						sv.ID, fmt.Sprintf("a:%d", i), string(body), clk.Now()); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				res, err := svc.Results(ctx, admin, sv.ID)
				if err != nil || res.Responses != n {
					b.Fatalf("%d answers: %v", res.Responses, err)
				}
			}
		})
	}
}
