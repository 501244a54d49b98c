package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/zwfw/zwfw/internal/stats"
	"os"
	"path/filepath"
	"time"

	"github.com/zwfw/zwfw/internal/generate"
	"github.com/zwfw/zwfw/internal/pii"
)

// runGenerate fills a database with made-up cases for benchmarks: the
// demo's database in the data folder by default, or the one --db names;
// with the demo's keys unless keys are configured. It migrates the
// database first; nothing else may write cases to it meanwhile.
func runGenerate(ctx context.Context, env *environment) error {
	cfg := env.cfg
	// The keys are the demo's, kept in the data folder, unless configured:
	// zwfw demo then serves the cases, on SQLite or on --db.
	var keys *pii.Keys
	var err error
	if cfg.DataKeys == "" && cfg.IndexKey == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("无法创建数据目录 %s：%w", cfg.DataDir, err)
		}
		var audit string
		if keys, audit, _, err = demoKeys(cfg.DataDir); err != nil {
			return err
		}
		if cfg.AuditKeys == "" {
			cfg.AuditKeys = audit
		}
	} else {
		if err := requireAuditKeys(cfg); err != nil {
			return err
		}
		if keys, err = keysFromConfig(cfg); err != nil {
			return err
		}
	}
	if keys == nil {
		return usageError{errors.New("配置错误：生成办件须同时设置 ZWFW_DATA_KEYS 和 ZWFW_INDEX_KEY（与 serve 所用的相同）")}
	}
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = filepath.Join(cfg.DataDir, "zwfw.db")
	}
	db, err := openDB(ctx, cfg, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	_, err = db.Migrate(ctx)
	db.Close()
	if err != nil {
		return fmt.Errorf("迁移失败：%w", err)
	}
	g, err := Build(ctx, cfg, Options{Log: env.log, Keys: keys, Files: true})
	if err != nil {
		return err
	}
	defer g.Close()
	start := time.Now()
	last := start
	res, err := generate.Run(ctx, generate.Deps{DB: g.DB, Clock: g.Clock, Identity: g.Identity, Calendar: g.Calendar, Files: g.Files, Keys: keys},
		generate.Options{Cases: cfg.GenerateCases, Seed: cfg.GenerateSeed, Progress: func(done int) {
			switch {
			case done == cfg.GenerateCases:
				// Building the indexes of a fresh database comes after.
				fmt.Fprintf(env.stdout, "已写入 %d 件，正在收尾（建立索引）……\n", done)
			case time.Since(last) >= 10*time.Second:
				fmt.Fprintf(env.stdout, "已生成 %d 件（%.0f%%，每秒 %.0f 件）……\n", done, 100*float64(done)/float64(cfg.GenerateCases),
					float64(done)/time.Since(start).Seconds())
				last = time.Now()
			}
		}})
	if err != nil {
		return fmt.Errorf("生成办件：%w", err)
	}
	// The cases were written without the workflow: count them into the
	// statistics (issue 10) as a whole.
	if err := stats.Recount(ctx, g.DB); err != nil {
		return fmt.Errorf("重新统计：%w", err)
	}
	fmt.Fprintf(env.stdout, "已生成 %d 件办件，用时 %.1f 秒（每秒 %.0f 件）\n", res.Cases, res.Elapsed.Seconds(), float64(res.Cases)/res.Elapsed.Seconds())
	for _, s := range generate.DefaultMix {
		fmt.Fprintf(env.stdout, "  %-6s %d\n", s.Status.Name(), res.ByStatus[s.Status])
	}
	return nil
}
