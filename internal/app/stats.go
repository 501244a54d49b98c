package app

import (
	"context"
	"fmt"

	"github.com/zwfw/zwfw/internal/stats"
)

// runStatsRecount rebuilds the statistics' counters from the cases (issue
// 10): a repair, after cases were changed outside the platform, or a
// check, since it says how many submitted cases the counters held before
// and hold after.
func runStatsRecount(ctx context.Context, env *environment) error {
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.Close()
	count := func() (int64, error) {
		var n int64
		err := g.DB.Read().QueryRow(ctx, `SELECT COALESCE(SUM(submitted), 0) FROM case_stats_units`).Scan(&n)
		return n, err
	}
	before, err := count()
	if err != nil {
		return err
	}
	if err := stats.Recount(ctx, g.DB); err != nil {
		return fmt.Errorf("重新统计：%w", err)
	}
	after, err := count()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "已重新统计：计入办件 %d 件（此前统计数为 %d 件）\n", after, before)
	return nil
}
