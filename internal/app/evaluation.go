package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/evaluation"
	"github.com/zwfw/zwfw/internal/stats"
)

// runEvidenceExport writes the self-evaluation's evidence pack (绩效自评)
// of a year into a folder; its last line says how many files it wrote.
func runEvidenceExport(ctx context.Context, env *environment) error {
	cfg := env.cfg
	if cfg.EvidencePeriod == 0 || cfg.EvidenceOut == "" {
		return usageError{errors.New("请用 --period 指定评价年度（如 2026），用 --out 指定写入证据包的目录")}
	}
	if err := requireAuditKeys(cfg); err != nil {
		return err // the export is audited
	}
	// The hand entries' evidence files may still be staged: Files.
	g, err := Build(ctx, cfg, Options{Log: env.log, Files: true})
	if err != nil {
		return err
	}
	defer g.Close()
	p := evaluation.Period(cfg.EvidencePeriod)
	rep, written, err := g.Evaluation.Export(ctx, cliSubject("导出绩效自评证据包"), cliMeta, p, cfg.EvidenceOut)
	for _, f := range written {
		fmt.Fprintln(env.stdout, f)
	}
	if err != nil {
		return fmt.Errorf("导出证据包失败（已写入 %d 个文件）：%w", len(written), err)
	}
	grade := rep.Grade
	if grade == "" {
		grade = "尚无可评分的指标"
	}
	fmt.Fprintf(env.stdout, "%d 年度总分 %s，等级 %s\n", p, evaluation.Num(rep.Total), grade)
	fmt.Fprintf(env.stdout, "wrote %d files\n", len(written))
	return nil
}

// caseRates gives the self-evaluation the statistics' four case rates of
// a period, in per cent, as the platform reads them (every department);
// a rate with nothing to count is negative (本期无数据).
type caseRates struct{ stats *stats.Service }

func (c caseRates) CaseRates(ctx context.Context, from, to time.Time) (evaluation.Rates, error) {
	// The statistics count by the month a case was begun; the period is
	// whole months, from's to the month before to.
	sum, err := c.stats.Summary(ctx, evaluation.Reader, stats.Filter{From: from.In(clock.China).Format("2006-01"),
		To: to.In(clock.China).Add(-time.Nanosecond).Format("2006-01")})
	if err != nil {
		return evaluation.Rates{}, err
	}
	pct := func(rate float64, of int64) float64 {
		if of == 0 {
			return -1
		}
		return 100 * rate
	}
	return evaluation.Rates{
		Online:        pct(sum.OnlineRate, sum.Submitted),
		OnTime:        pct(sum.OnTimeRate, sum.Timed),
		OneVisit:      pct(sum.OneVisitRate, sum.Submitted),
		OneCorrection: pct(sum.OneCorrectionRate, sum.Submitted),
	}, nil
}
