package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/zwfw/zwfw/internal/generate"
	"github.com/zwfw/zwfw/internal/pii"
)

// runGenerate fills a database with made-up cases for benchmarks: the
// demo's data folder by default (zwfw demo then serves them), or the
// database --db names, with the keys it is served with. It migrates the
// database first; nothing else may write cases to it meanwhile.
func runGenerate(ctx context.Context, env *environment) error {
	cfg := env.cfg
	var keys *pii.Keys
	if cfg.DatabaseURL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("无法创建数据目录 %s：%w", cfg.DataDir, err)
		}
		var audit string
		var err error
		if keys, audit, err = demoKeys(cfg.DataDir); err != nil {
			return err
		}
		if cfg.AuditKeys == "" {
			cfg.AuditKeys = audit
		}
		cfg.DatabaseURL = filepath.Join(cfg.DataDir, "zwfw.db")
	} else {
		if err := requireAuditKeys(cfg); err != nil {
			return err
		}
		var err error
		if keys, err = storedKeys(cfg); err != nil {
			return err
		}
	}
	if keys == nil {
		return usageError{errors.New("配置错误：生成办件须设置个人信息加密密钥 ZWFW_DATA_KEYS 和 ZWFW_INDEX_KEY（与 serve 所用的相同）")}
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
	last := time.Now()
	res, err := generate.Run(ctx, generate.Deps{DB: g.DB, Clock: g.Clock, Identity: g.Identity, Calendar: g.Calendar, Files: g.Files, Keys: keys},
		generate.Options{Cases: cfg.GenerateCases, Seed: cfg.GenerateSeed, Progress: func(done int) {
			if time.Since(last) >= 10*time.Second {
				fmt.Fprintf(env.stdout, "已生成 %d 件……\n", done)
				last = time.Now()
			}
		}})
	if err != nil {
		return fmt.Errorf("生成办件：%w", err)
	}
	fmt.Fprintf(env.stdout, "已生成 %d 件办件，用时 %.1f 秒（每秒 %.0f 件）\n", res.Cases, res.Elapsed.Seconds(), float64(res.Cases)/res.Elapsed.Seconds())
	for _, s := range generate.DefaultMix {
		fmt.Fprintf(env.stdout, "  %-6s %d\n", s.Status.Name(), res.ByStatus[s.Status])
	}
	return nil
}
