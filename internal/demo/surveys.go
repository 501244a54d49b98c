package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/survey"
)

// SatisfactionSurvey is the demo's open survey, as SeedSurvey builds it.
func SatisfactionSurvey() survey.Survey {
	return survey.Survey{Title: "2026 年度政务服务满意度调查",
		Intro:    "为了解您在湛河区办事的体验，请根据最近一次办事经历作答，约需 2 分钟。本问卷匿名，每人填写一次。",
		Audience: policy.Citizens, OncePer: policy.ByPerson, Anonymous: true,
		Questions: []survey.Question{
			{Title: "总体上，您对本次办事是否满意", Kind: survey.Scale, Required: true},
			{Title: "您对办事效率（办理时间）是否满意", Kind: survey.Scale, Required: true},
			{Title: "您对工作人员的服务态度是否满意", Kind: survey.Scale, Required: true},
			{Title: "这件事从申请到办结，您到现场跑了几次", Kind: survey.Single, Required: true,
				Options: []string{"0 次（全程网办）", "1 次", "2 次", "3 次及以上"}, Satisfied: []int{0, 1}},
			{Title: "您通过哪些渠道办事（可多选）", Kind: survey.Multiple,
				Options: []string{"网上办事大厅", "政务服务 App 或小程序", "政务服务中心窗口", "自助服务终端", "12345 热线"}},
			{Title: "您对改进政务服务有什么意见或建议", Kind: survey.Text},
		}}
}

// SeedSurvey builds the demo's satisfaction survey through the survey
// service and opens it, unless a survey exists already; it returns the
// survey's ID (0 when there was one).
func SeedSurvey(ctx context.Context, db *store.DB, clk clock.Clock, keys *pii.Keys) (int64, error) {
	var n int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM surveys`).Scan(&n); err != nil || n > 0 {
		return 0, err
	}
	svc := survey.New(db, clk, keys)
	meta := audit.Meta{IP: "demo", Client: "zwfw demo"}
	sv, err := svc.Save(ctx, builder, meta, SatisfactionSurvey())
	if err != nil {
		return 0, err
	}
	return sv.ID, svc.SetStatus(ctx, builder, meta, sv.ID, survey.Open)
}

// suggestions are what some respondents write.
var suggestions = []string{"希望周末也能办理业务", "网上申请的材料说明再清楚一些", "窗口排队时间有点长，建议增加高峰时段窗口",
	"工作人员很耐心，点赞", "希望更多事项能手机上办", "停车不太方便", "一次就办好了，很满意", "自助终端操作说明字太小",
	"补正通知能否一次说清楚", "希望办结后短信通知更及时"}

// SeedSurveyAnswers has n demo residents answer the survey with id over
// the last 30 days, through the survey service (each a real, signed-in
// respondent, opened as at a counter): answers that give a realistic
// overall satisfaction rate of about 96%. It makes nothing if the survey
// has answers already.
func SeedSurveyAnswers(ctx context.Context, db *store.DB, ids *identity.Service, keys *pii.Keys, id int64, now time.Time, n int) (int, error) {
	var existing int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM survey_responses WHERE survey_id = ?`, id).Scan(&existing); err != nil || existing > 0 || n <= 0 {
		return 0, err
	}
	n = min(n, 500)
	rng := rand.New(rand.NewPCG(2026, 96))
	clk := clock.NewManual(now.AddDate(0, 0, -30))
	svc := survey.New(db, clk, keys)
	// A scale point: 非常满意 70%, 满意 26%, 基本满意 3%, the rest 1%.
	point := func() int {
		switch x := rng.Float64(); {
		case x < 0.70:
			return 5
		case x < 0.96:
			return 4
		case x < 0.99:
			return 3
		case x < 0.997:
			return 2
		}
		return 1
	}
	surnames := []rune("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹")
	given := []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "建国", "桂兰"}
	made := 0
	for i := range n {
		first17 := fmt.Sprintf("410411%04d%02d%02d%03d", 1950+rng.IntN(56), 1+rng.IntN(12), 1+rng.IntN(28), 500+i) // 500–999: apart from the case applicants' numbers
		check, err := ident.IDCardCheckChar(first17)
		if err != nil {
			return made, err
		}
		name := string(surnames[rng.IntN(len(surnames))]) + given[rng.IntN(len(given))]
		acc, err := ids.PersonAtCounter(ctx, 0, name, first17+string(check), fmt.Sprintf("1370375%04d", i), identity.Meta{IP: "demo"})
		if err != nil {
			return made, err
		}
		answers := []survey.Answer{{Scale: point()}, {Scale: point()}, {Scale: point()}, {}, {}, {}}
		switch x := rng.Float64(); {
		case x < 0.45:
			answers[3].Choices = []int{0}
		case x < 0.95:
			answers[3].Choices = []int{1}
		case x < 0.99:
			answers[3].Choices = []int{2}
		default:
			answers[3].Choices = []int{3}
		}
		for c, share := range []float64{0.55, 0.35, 0.40, 0.12, 0.08} {
			if rng.Float64() < share {
				answers[4].Choices = append(answers[4].Choices, c)
			}
		}
		if rng.Float64() < 0.2 {
			answers[5].Text = suggestions[rng.IntN(len(suggestions))]
		}
		clk.Set(now.AddDate(0, 0, -30).Add(time.Duration(i) * 30 * 24 * time.Hour / time.Duration(n)))
		if err := svc.Submit(ctx, survey.Respondent{Who: policy.Subject{AccountID: acc, Kind: policy.Person, Name: name}}, id, answers); err != nil {
			return made, err
		}
		made++
	}
	return made, nil
}
