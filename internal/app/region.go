package app

import (
	"context"
	"fmt"
	"os"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/store"
)

// runRegionImport creates the district's regions and departments from a
// file in the demo's format (internal/demo/data/zhanhe.json) on a database
// that has none: the first step of a deployment, before user create.
func runRegionImport(ctx context.Context, env *environment) error {
	data, err := os.ReadFile(env.args[0])
	if err != nil {
		return fmt.Errorf("无法读取区划文件：%w", err)
	}
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.Close()
	db, clk := g.DB, g.Clock
	sum, err := demo.ImportDistrict(ctx, db, clk, data, func(tx *store.Tx, sum demo.Summary) error {
		return audit.Append(ctx, tx, audit.Entry{At: clk.Now(), Actor: cliActor("导入区划"), Action: "region_import", IP: "cli",
			Detail: fmt.Sprintf("从 %s 导入区划 %d 个、部门 %d 个", env.args[0], sum.Regions, sum.Departments)})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "已导入区划 %d 个、部门 %d 个\n", sum.Regions, sum.Departments)
	return nil
}
