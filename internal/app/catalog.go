package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/zwfw/zwfw/internal/audit"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/catalog/exchange"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// openCatalog builds a command's graph (Build) and returns its database
// and catalog; closing the database closes the graph.
func openCatalog(ctx context.Context, env *environment) (*store.DB, *catalog.Store, error) {
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return nil, nil, err
	}
	return g.DB, g.Catalog, nil
}

// cliActor names who made a change from the command line, for the
// catalog's history.
func cliActor(what string) string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return "命令行" + what + "（系统用户 " + name + "）"
}

// cliSubject is the command line as the policy sees it: whoever runs zwfw
// on the server holds the database and its keys, so it acts as an
// administrator, and the audit log names it 命令行… (no account).
func cliSubject(what string) policy.Subject {
	return policy.Subject{Kind: policy.Staff, Name: cliActor(what), Roles: []policy.Role{policy.Admin}}
}

// cliMeta is where the command line's changes come from.
var cliMeta = audit.Meta{IP: "cli", Client: "zwfw"}

func runCatalogImport(ctx context.Context, env *environment) error {
	path := env.args[0]
	format, err := exchange.FormatOf(path)
	if err != nil {
		return usageError{err}
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("无法打开 %s：%w", path, errors.Unwrap(err))
	}
	defer f.Close()
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.DB.Close()
	bar := &progressBar{w: env.stderr, label: "导入"}
	what := "导入 " + filepath.Base(path)
	res, err := g.Bundles.ImportCatalog(ctx, cliSubject(what), cliMeta, f, format, cliActor(what), bar.update)
	bar.finish()
	if err != nil {
		var ie *exchange.ImportError
		if errors.As(err, &ie) {
			for _, row := range ie.Rows {
				fmt.Fprintln(env.stderr, describeRow(row))
			}
		}
		return err
	}
	fmt.Fprintf(env.stdout, "导入完成：新增 %d 项，更新 %d 项", res.Created, res.Updated)
	if res.Bundles > 0 {
		fmt.Fprintf(env.stdout, "；一件事 %d 件（同名的被替换）", res.Bundles)
	}
	fmt.Fprintln(env.stdout)
	return nil
}

func describeRow(r exchange.RowError) string {
	var b strings.Builder
	if r.Sheet != "" {
		b.WriteString("工作表「" + r.Sheet + "」")
	}
	b.WriteString(r.Where())
	if r.Field != "" {
		b.WriteString(" " + r.Field)
	}
	b.WriteString("：" + r.Message)
	return b.String()
}

func runCatalogExport(ctx context.Context, env *environment) error {
	path := env.args[0]
	format, err := exchange.FormatOf(path)
	if err != nil {
		return usageError{err}
	}
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.DB.Close()
	// Write beside the target and rename, so that a failed export never
	// leaves a half-written file under the requested name.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".zwfw-export-*")
	if err != nil {
		return fmt.Errorf("无法写入 %s：%w", path, err)
	}
	defer os.Remove(tmp.Name())
	n, bundles, err := g.Bundles.ExportCatalog(ctx, cliSubject("导出"), tmp, format)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("导出失败：%w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	switch {
	case format == exchange.CSV && bundles > 0:
		fmt.Fprintf(env.stdout, "已导出 %d 项事项到 %s；CSV 文件只含事项，%d 件一件事未导出（导出为 .xlsx 或 .json 可包含一件事）\n", n, path, bundles)
	case bundles > 0:
		fmt.Fprintf(env.stdout, "已导出 %d 项事项和 %d 件一件事到 %s\n", n, bundles, path)
	default:
		fmt.Fprintf(env.stdout, "已导出 %d 项事项到 %s\n", n, path)
	}
	return nil
}

func runCatalogCheck(ctx context.Context, env *environment) error {
	db, items, err := openCatalog(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	failing, err := items.QualityReport(ctx)
	if err != nil {
		return err
	}
	for _, f := range failing {
		fmt.Fprintf(env.stdout, "%s（%s，编号 %d）\n", f.Item.Name, f.Item.ImplCode, f.Item.ID)
		for _, p := range f.Problems {
			fmt.Fprintf(env.stdout, "  - %s\n", p.Message)
		}
	}
	fmt.Fprintf(env.stdout, "共 %d 项事项未通过质量检查\n", len(failing))
	return nil
}

// progressBar draws "导入 [#####.....]  50% 650/1300" on one line,
// redrawing only when the whole percentage moves.
type progressBar struct {
	w       io.Writer
	label   string
	percent int
	drawn   bool
}

func (p *progressBar) update(done, total int) {
	if total <= 0 {
		return
	}
	pct := done * 100 / total
	if p.drawn && pct == p.percent {
		return
	}
	p.percent, p.drawn = pct, true
	const width = 30
	fill := pct * width / 100
	fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% %d/%d", p.label, strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct, done, total)
}

func (p *progressBar) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// runArchiveExport writes one case's electronic archive to a ZIP file.
func runArchiveExport(ctx context.Context, env *environment) error {
	number, path := env.args[0], env.args[1]
	if err := requireAuditKeys(env.cfg); err != nil {
		return err // the export is audited
	}
	// The archive holds the answers in full: their keys are needed.
	keys, err := storedKeys(env.cfg)
	if err != nil {
		return err
	}
	// A recent case's small files may still be staged: Files is the
	// staging store over the file store.
	g, err := Build(ctx, env.cfg, Options{Log: env.log, Keys: keys, Files: true})
	if err != nil {
		return err
	}
	defer g.Close()
	cases, files := g.Cases, g.Files
	id, err := cases.IDByNumber(ctx, number)
	if err != nil {
		return err
	}
	// The command line acts as the system administrator; the export is audited.
	system := cliSubject("导出")
	tmp, err := os.CreateTemp(filepath.Dir(path), ".zwfw-archive-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	m, err := cases.Archive(ctx, system, cliMeta, id, files, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("导出失败：%w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "已导出办件 %s 的电子档案到 %s（%d 个文件）\n", number, path, len(m.Files))
	if !m.Complete {
		fmt.Fprintf(env.stdout, "档案不完整，缺少：%s\n", strings.Join(m.Missing, "、"))
	}
	return nil
}
