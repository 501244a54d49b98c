package evaluation

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/usage"
)

// Reader is whom the sources read as: the platform, with an
// administrator's scope, since the evaluation is of the whole district
// whoever reads it (and only administrators read it).
var Reader = policy.Subject{Kind: policy.Staff, Name: "绩效自评", Roles: []policy.Role{policy.Admin}}

// EvidenceRows is how many rows of a list the report shows; the evidence
// pack holds the archive manifest whole.
const EvidenceRows = 100

func percent(n, of int) float64 { return round2(float64(n) * 100 / float64(of)) }

func dates(p Period) (calendar.Date, calendar.Date) {
	return calendar.DateOf(p.From()), calendar.DateOf(p.To().Add(-time.Second))
}

// ArchiveSource is 电子档案完整率: of the cases finished in the period,
// those whose archive is complete; the evidence is the incomplete ones.
func ArchiveSource(cases *casework.Service) Source {
	return Source{Name: "电子档案检查（办件库）", Measure: func(ctx context.Context, p Period) (Measure, error) {
		from, to := dates(p)
		all, complete := 0, 0
		t := Table{Title: "电子档案不完整的办件", Header: []string{"办件编号", "事项", "办理部门", "办结时间", "缺少"},
			Note: "评价期内办结（含不予受理）而电子档案不完整的办件；全部办件的检查结果见证据包中的档案完整性清单。"}
		err := cases.ArchiveManifest(ctx, Reader, casework.SupervisionFilter{From: from, To: to}, func(a casework.ArchiveStatus) error {
			all++
			if a.Complete {
				complete++
				return nil
			}
			t.Total++
			if len(t.Rows) < EvidenceRows {
				t.Rows = append(t.Rows, []string{a.Number, a.ItemName, a.Department, a.UpdatedAt.In(clock.China).Format("2006-01-02 15:04"), strings.Join(a.Missing, "；")})
			}
			return nil
		})
		if err != nil {
			return Measure{}, err
		}
		if all == 0 {
			return Measure{}, ErrNoData
		}
		return Measure{Value: percent(complete, all), Basis: fmt.Sprintf("档案完整 %d 件 / 办结 %d 件", complete, all), Evidence: []Table{t}}, nil
	}}
}

// ModuleSource is 建设模块使用率: the share of the platform's modules used
// in the last ZWFW_USAGE_IDLE_DAYS days; the evidence is the idle ones.
// It is the modules' state now, whatever the period.
func ModuleSource(u *usage.Service) Source {
	return Source{Name: "模块使用统计", Measure: func(ctx context.Context, p Period) (Measure, error) {
		rep, err := u.Idle(ctx)
		if err != nil {
			return Measure{}, err
		}
		t := Table{Title: "闲置模块", Header: []string{"模块", "最近使用日期"},
			Note: fmt.Sprintf("连续 %d 天（含今天）无人使用的模块（不含移动端、关怀模式等渠道）。", rep.IdleDays)}
		for _, r := range rep.Rows {
			if r.Idle && !r.Channel {
				last := r.LastUsed
				if last == "" {
					last = "从未使用"
				}
				t.Rows = append(t.Rows, []string{r.Name, last})
			}
		}
		t.Total = len(t.Rows)
		used := rep.Modules - rep.Idle
		return Measure{Value: percent(used, rep.Modules), Evidence: []Table{t},
			Basis: fmt.Sprintf("近 %d 天有使用的模块 %d 个 / 模块 %d 个（截至 %s）", rep.IdleDays, used, rep.Modules, rep.Days[len(rep.Days)-1])}, nil
	}}
}

// SatisfactionSource is 办事群众满意度: 基本满意 and better, of the
// ratings given in the period (those excluded on appeal left out).
func SatisfactionSource(r *rating.Service) Source {
	return Source{Name: "好差评", Measure: func(ctx context.Context, p Period) (Measure, error) {
		from, to := dates(p)
		rates, err := r.Rates(ctx, Reader, rating.RateFilter{From: from, To: to})
		if err != nil {
			return Measure{}, err
		}
		total, satisfied := 0, 0
		for _, x := range rates {
			total, satisfied = total+x.Total, satisfied+x.Satisfied()
		}
		if total == 0 {
			return Measure{}, ErrNoData
		}
		return Measure{Value: percent(satisfied, total), Basis: fmt.Sprintf("基本满意及以上 %d 条 / 评价 %d 条", satisfied, total)}, nil
	}}
}

// CallbackSource is 实名差评回访率: the 差评 of the period called back;
// the evidence is the period's follow-ups.
func CallbackSource(r *rating.Service) Source {
	return Source{Name: "好差评差评回访", Measure: func(ctx context.Context, p Period) (Measure, error) {
		from, to := dates(p)
		f, err := r.FollowUpRatesOf(ctx, Reader, from, to)
		if err != nil {
			return Measure{}, err
		}
		if f.Bad == 0 {
			return Measure{}, ErrNoData
		}
		t := Table{Title: "差评回访与整改", Header: []string{"评价对象", "办理单位", "评价等级", "差评日期", "状态", "整改期限"},
			Note: "评价期内的差评及其回访、整改情况。"}
		var after int64
		for {
			list, next, err := r.FollowUps(ctx, Reader, rating.FollowUpFilter{After: after}, 200)
			if err != nil {
				return Measure{}, err
			}
			for _, u := range list {
				if u.OpenedAt.Before(p.From()) || !u.OpenedAt.Before(p.To()) {
					continue
				}
				t.Total++
				if len(t.Rows) < EvidenceRows {
					t.Rows = append(t.Rows, []string{u.Rating.Subject.Number + " " + u.Rating.Subject.Title, u.DepartmentName, u.Rating.Level.Name(),
						calendar.DateOf(u.OpenedAt).String(), rating.StateName(u.State), u.DueOn.String()})
				}
			}
			// Newest first: past the period's start, the rest are older.
			if next == 0 || len(list) > 0 && list[len(list)-1].OpenedAt.Before(p.From()) {
				break
			}
			after = next
		}
		return Measure{Value: percent(f.CalledBack, f.Bad), Evidence: []Table{t},
			Basis: fmt.Sprintf("已回访 %d 条 / 差评 %d 条；按期整改 %d / 应整改 %d", f.CalledBack, f.Bad, f.OnTime, f.Due)}, nil
	}}
}

// ComplaintSource is 诉求解决率: said resolved, of the complaints of the
// period whose complainant confirmed the answer.
func ComplaintSource(c *complaint.Service) Source {
	return Source{Name: "诉求办理统计", Measure: func(ctx context.Context, p Period) (Measure, error) {
		st, err := c.Stats(ctx, Reader, p.From(), p.To())
		if err != nil {
			return Measure{}, err
		}
		if st.Total.Confirmed == 0 {
			return Measure{}, ErrNoData
		}
		return Measure{Value: percent(st.Total.Resolved, st.Total.Confirmed),
			Basis: fmt.Sprintf("已解决 %d 件 / 群众已确认 %d 件（受理 %d 件）", st.Total.Resolved, st.Total.Confirmed, st.Total.Received)}, nil
	}}
}

// LateEvidence lists the running cases past their deadline now, behind
// the on-time rate.
func LateEvidence(cases *casework.Service) func(ctx context.Context, p Period) ([]Table, error) {
	return func(ctx context.Context, p Period) ([]Table, error) {
		page, err := cases.Late(ctx, Reader, casework.LateFilter{Due: "late"}, EvidenceRows)
		if err != nil {
			return nil, err
		}
		t := Table{Title: "超期办件", Header: []string{"办件编号", "事项", "办理部门", "到期日", "超期（工作日）"}, Total: page.Total,
			Note: "当前已超过承诺时限仍未办结的办件（时限监督）。"}
		for _, e := range page.Rows {
			t.Rows = append(t.Rows, []string{e.Number, e.ItemName, e.Department, e.Deadline.Due.String(), strconv.Itoa(-e.Deadline.Left)})
		}
		return []Table{t}, nil
	}
}

// CaseRates is the case figures of a period that internal/stats computes
// (网上可办率, 按时办结率, 最多跑一次率, 一次性告知率), in per cent; a
// negative figure has nothing to count.
type CaseRates interface {
	CaseRates(ctx context.Context, from, to time.Time) (Rates, error)
}

// Rates are CaseRates' figures.
type Rates struct {
	Online, OnTime, OneVisit, OneCorrection float64
}

// CaseRateSources are the sources of the four case figures, for the
// wiring to register once statistics are there; until then those
// indicators are 未接入数据源.
func CaseRateSources(cr CaseRates) map[string]Source {
	one := func(pick func(Rates) float64) Source {
		return Source{Name: "办件统计", Measure: func(ctx context.Context, p Period) (Measure, error) {
			r, err := cr.CaseRates(ctx, p.From(), p.To())
			if err != nil {
				return Measure{}, err
			}
			v := pick(r)
			if v < 0 {
				return Measure{}, ErrNoData
			}
			return Measure{Value: round2(v)}, nil
		}}
	}
	return map[string]Source{
		"online_rate":         one(func(r Rates) float64 { return r.Online }),
		"on_time_rate":        one(func(r Rates) float64 { return r.OnTime }),
		"one_visit_rate":      one(func(r Rates) float64 { return r.OneVisit }),
		"one_correction_rate": one(func(r Rates) float64 { return r.OneCorrection }),
	}
}
