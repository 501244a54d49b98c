// Package app is the zwfw command: it reads the configuration, opens the
// database, wires the parts together and runs the subcommand asked for.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/api"
	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/bench"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/config"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/metrics"
	"github.com/zwfw/zwfw/internal/oidc"
	"github.com/zwfw/zwfw/internal/open311"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/usage"
	"github.com/zwfw/zwfw/internal/web"
)

// Version is set at build time with -ldflags "-X github.com/zwfw/zwfw/internal/app.Version=v1.2.3";
// otherwise it is taken from the module's VCS information.
var Version = ""

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ error }

// ExitCode is the process exit status for an error from Run.
func ExitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

type command struct {
	name    string
	summary string
	flags   []string // the config settings it takes, by flag name
	args    []string // names of its positional arguments, all required
	run     func(ctx context.Context, env *environment) error
}

// environment is what a subcommand runs with.
type environment struct {
	cfg    config.Config
	args   []string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

var dbFlags = []string{"db", "log-format", "log-level"}

var userFlags = []string{"db", "log-format", "log-level", "data-keys", "index-key", "audit-keys"}

var serveFlags = []string{"addr", "metrics-addr", "db", "data", "public-url", "log-format", "log-level", "job-workers", "db-max-conns",
	"sqlite-synchronous", "shutdown-timeout", "trusted-origins", "trusted-proxies", "max-body-bytes", "max-pending-upload-bytes", "migrate", "data-keys", "index-key", "audit-keys", "checkpoint", "licence-keys",
	"usage-idle-days", "evaluation-file", "sms-url", "sms-key", "smtp-host", "smtp-port", "smtp-username", "smtp-password", "smtp-from", "smtp-tls", "staff-totp", "oidc-issuer", "oidc-client-id", "oidc-client-secret", "realname-url", "realname-key", "s3-endpoint", "s3-bucket", "s3-region", "s3-access-key", "s3-secret-key", "s3-ssl"}

func commands() []command {
	return []command{
		{"demo", "启动演示区（湛河区），含演示数据：默认在内置 SQLite 上，也可用 --db 指定一个空的 PostgreSQL", []string{"addr", "db", "data", "reset", "public-url", "log-format",
			"log-level", "job-workers", "db-max-conns", "sqlite-synchronous", "shutdown-timeout", "trusted-origins", "max-body-bytes", "max-pending-upload-bytes", "demo-cases", "usage-idle-days", "evaluation-file",
			"smtp-host", "smtp-port", "smtp-username", "smtp-password", "smtp-from", "smtp-tls",
			// Issue 13: a demo can keep its files on S3-compatible storage (internal/faulttest runs one on an S3 server process).
			"s3-endpoint", "s3-bucket", "s3-region", "s3-access-key", "s3-secret-key", "s3-ssl"}, nil, runDemo},
		{"generate", "为性能测试批量生成大量办件（含事件哈希链、文书、材料）：默认写入演示数据目录的内置 SQLite，也可用 --db 指定数据库", []string{"db", "data",
			"data-keys", "index-key", "audit-keys", "log-format", "log-level", "cases", "seed", "s3-endpoint", "s3-bucket", "s3-region", "s3-access-key",
			"s3-secret-key", "s3-ssl"}, nil, runGenerate},
		{"user create", "开设工作人员账户（首个系统管理员也用它）；密码从标准输入读取一行", append(userFlags, "username", "name", "department", "roles"), nil, runUserCreate},
		{"region import", "在空数据库上导入本区县的区划和部门（格式同 internal/demo/data/zhanhe.json），首次部署时在 user create 之前执行", dbFlags, []string{"文件"}, runRegionImport},
		{"user reset-password", "重置工作人员密码并退出其所有登录；新密码从标准输入读取一行", append(userFlags, "username"), nil, runUserResetPassword},
		{"archive export", "导出一个办件的电子档案（ZIP，含材料、文书、结果、事件和校验清单）", []string{"db", "data", "data-keys", "index-key", "log-format", "log-level", "audit-keys",
			"s3-endpoint", "s3-bucket", "s3-region", "s3-access-key", "s3-secret-key", "s3-ssl"}, []string{"办件编号", "文件"}, runArchiveExport},
		// The self-evaluation's evidence pack (绩效自评): internal/app/evaluation.go.
		{"evidence export", "导出一个年度的绩效自评证据包：A4 报告、全部指标的 XLSX、档案完整性清单、手工指标的证明材料和校验清单", []string{"db", "data",
			"audit-keys", "log-format", "log-level", "usage-idle-days", "evaluation-file", "period", "out",
			"s3-endpoint", "s3-bucket", "s3-region", "s3-access-key", "s3-secret-key", "s3-ssl"}, nil, runEvidenceExport},
		{"audit verify", "核对审计日志和每个办件的事件哈希链，列出被改动的记录", append(dbFlags, "audit-keys", "checkpoint"), nil, runAuditVerify},
		// Statistics (issue 10): internal/app/stats.go.
		{"stats recount", "按全部办件重新统计（统计分析的计数），用于修复或核对", dbFlags, nil, runStatsRecount},
		// API keys of other systems (Open311 clients): internal/app/apikey.go.
		{"apikey create", "开设接口密钥（供 Open311 等外部系统调用；密钥只显示这一次）", append(dbFlags, "audit-keys", "name", "client", "scope"), nil, runAPIKeyCreate},
		{"apikey list", "列出全部接口密钥（不含密钥本身）", dbFlags, nil, runAPIKeyList},
		{"apikey revoke", "停用一个接口密钥，立即生效", append(dbFlags, "audit-keys"), []string{"编号或前缀"}, runAPIKeyRevoke},
		// 电子证照 (e-licences, issue 12): internal/app/licence.go.
		{"licence verify", "核验电子证照文件（从证照夹下载的 .json 文件或证照令牌）：签名、密钥、有效期；指定数据库时也查询是否已吊销或注销，无效时以非零状态退出",
			[]string{"licence-keys", "data", "db", "log-format", "log-level"}, []string{"文件"}, runLicenceVerify},
		// Integration (issue 12): API clients, rotation and rate limits.
		{"apikey rotate", "轮换接口密钥：开设同权限的新密钥，旧密钥在过渡期（如 72h；0 为立即失效，最长 30 天）后失效", append(dbFlags, "audit-keys"), []string{"编号或前缀", "过渡期"}, runAPIKeyRotate},
		{"apikey clients", "列出接入系统、每分钟调用上限和共享目录", dbFlags, nil, runAPIClients},
		{"apikey client", "登记接入系统（部门业务系统可写 --client 部门编号）", append(dbFlags, "audit-keys", "name", "client"), []string{"每分钟调用上限"}, runAPIClientCreate},
		{"apikey limit", "修改接入系统的每分钟调用上限", append(dbFlags, "audit-keys"), []string{"接入系统名称或编号", "每分钟调用上限"}, runAPIKeyLimit},
		{"apikey client-revoke", "停用接入系统及其全部密钥，立即生效，其事件推送随之停止", append(dbFlags, "audit-keys"), []string{"接入系统名称或编号"}, runAPIClientRevoke},
		{"keys rotate", "把全部已加密的个人信息改用当前加密密钥（ZWFW_DATA_KEYS 的第一个）重新加密；可中断后重跑", userFlags, nil, runKeysRotate},
		{"keys", "生成一组新的密钥（ZWFW_DATA_KEYS、ZWFW_INDEX_KEY、ZWFW_AUDIT_KEYS）", nil, nil, runKeys},
		{"serve", "生产环境启动：SQLite 文件或 PostgreSQL", serveFlags, nil, runServe},
		// Backup and restore (issue 13): internal/app/backup.go, docs/OPERATIONS.md.
		{"backup", "备份数据库（运行中即可，取同一时刻的快照；PostgreSQL 使用 pg_dump）和全部上传文件，写入一个 tar 文件；默认不含密钥", append(backupFlags, "with-keys"), []string{"文件"}, runBackup},
		{"restore", "从备份文件恢复：先完整校验，再恢复到空的数据库（SQLite 已有数据须加 --force）和文件存储", append(backupFlags, "force"), []string{"文件"}, runRestore},
		{"migrate", "执行待执行的数据库迁移", []string{"db", "log-format", "log-level", "sqlite-synchronous"}, nil, runMigrate},
		{"jobs", "查看后台任务：各状态数量与失败的任务", []string{"db", "log-format", "log-level"}, nil, runJobs},
		{"catalog import", "导入事项目录及其一件事（.xlsx、.csv 或 .json；.csv 只含事项）：全部无误才导入，有误则逐行报告、不作任何更改", dbFlags, []string{"文件"}, runCatalogImport},
		{"catalog export", "导出已发布的全部事项和全部一件事（.xlsx、.csv 或 .json；.csv 只含事项）", dbFlags, []string{"文件"}, runCatalogExport},
		{"catalog check", "按质量规则检查全部已发布事项，列出不合格的事项", dbFlags, nil, runCatalogCheck},
		{"version", "显示版本", nil, nil, func(ctx context.Context, env *environment) error {
			fmt.Fprintln(env.stdout, "zwfw", version())
			return nil
		}},
	}
}

// Run runs the zwfw command line.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return Run(ctx, append(args[1:], "-h"), getenv, stdin, stdout, stderr)
		}
		printHelp(stdout)
		return nil
	}
	// The load harness (issue 13): internal/bench, with flags of its own
	// (it talks to a running instance over HTTP and reads no configuration).
	if args[0] == "bench" {
		err := bench.Main(ctx, args[1:], stdout, stderr)
		if u, ok := errors.AsType[bench.UsageError](err); ok {
			return usageError{u}
		}
		return err
	}
	for _, c := range commands() {
		// A command's name is one word ("serve") or two ("catalog import").
		words := len(strings.Fields(c.name))
		if len(args) < words || strings.Join(args[:words], " ") != c.name {
			continue
		}
		fs := flag.NewFlagSet("zwfw "+c.name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		usage := c.name
		for _, a := range c.args {
			usage += " " + a
		}
		fs.Usage = func() {
			fmt.Fprintf(stderr, "用法：zwfw %s [参数]\n%s\n\n参数（括号内为对应的环境变量）：\n", usage, c.summary)
			fs.PrintDefaults()
		}
		cfg, err := config.Load(fs, interleaved(args[words:]), getenv, c.flags...)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		if err != nil {
			return usageError{err}
		}
		if fs.NArg() != len(c.args) {
			if fs.NArg() > len(c.args) {
				return usageError{fmt.Errorf("多余的参数：%s", strings.Join(fs.Args()[len(c.args):], " "))}
			}
			return usageError{fmt.Errorf("用法：zwfw %s", usage)}
		}
		env := &environment{cfg: cfg, args: fs.Args(), stdin: stdin, stdout: stdout, stderr: stderr, log: newLogger(cfg, stderr)}
		return c.run(ctx, env)
	}
	printHelp(stderr)
	return usageError{fmt.Errorf("未知命令 %q", args[0])}
}

// interleaved moves positional arguments after the flags, so that
// "zwfw catalog import FILE --db X" works as well as "--db X FILE".
func interleaved(args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-"):
			flags = append(flags, a)
			// A flag's value follows it unless given as --flag=value;
			// boolean flags take none.
			if !strings.Contains(a, "=") && !isBoolFlag(a) && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, append([]string{"--"}, rest...)...)
}

func isBoolFlag(a string) bool {
	name := strings.TrimLeft(a, "-")
	for _, s := range config.Settings {
		if s.Flag == name {
			return s.Default == "false"
		}
	}
	return name == "h" || name == "help"
}

func printHelp(w io.Writer) {
	fmt.Fprintf(w, "zwfw %s：互联网+政务服务平台（一网通办）\n\n用法：zwfw <命令> [参数]\n\n命令：\n", version())
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-15s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "  bench           对运行中的演示实例施加恒定速率的混合负载（--soak 为 30 分钟浸泡测试），报告吞吐量、延迟分位数和与基线之比")
	fmt.Fprintln(w, "  help            显示帮助；zwfw <命令> -h 显示该命令的参数")
}

func version() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	if v == "" {
		return "dev"
	}
	return v
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// requireAuditKeys refuses to run a command that appends to the audit log
// or the case records, or verifies them, without the chain key: entries
// written without it after signed ones would read as forged.
func requireAuditKeys(cfg config.Config) error {
	if cfg.AuditKeys == "" {
		return usageError{errors.New("配置错误 ZWFW_AUDIT_KEYS：未设置审计完整性密钥（与 serve 所用的相同）；可运行 zwfw keys 生成，并与数据库分开妥善保管")}
	}
	return nil
}

func openDB(ctx context.Context, cfg config.Config, dsn string) (*store.DB, error) {
	var chain *chainhash.Keys
	if cfg.AuditKeys != "" {
		k, err := chainhash.Parse(cfg.AuditKeys)
		if err != nil {
			return nil, usageError{fmt.Errorf("配置错误 ZWFW_AUDIT_KEYS：%w", err)}
		}
		chain = k
	}
	if dsn == "" {
		return nil, usageError{errors.New("配置错误 ZWFW_DATABASE_URL / --db：未指定数据库（SQLite 文件路径或 postgres:// 连接串）")}
	}
	if !store.IsPostgresURL(dsn) {
		if dir := filepath.Dir(dsn); dir != "." {
			if _, err := os.Stat(dir); err != nil {
				return nil, fmt.Errorf("数据库文件所在目录 %s 不存在", dir)
			}
		}
	}
	db, err := store.Open(ctx, dsn, store.Options{MaxConns: cfg.DBMaxConns, SQLiteSynchronous: cfg.SQLiteSynchronous})
	if err != nil {
		return nil, fmt.Errorf("无法连接数据库：%w", err)
	}
	// Everything this process appends to the audit log and the case
	// records is signed with the chain key (internal/chainhash).
	db.SetChainKeys(chain)
	return db, nil
}

func runMigrate(ctx context.Context, env *environment) error {
	db, err := openDB(ctx, env.cfg, env.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("迁移失败：%w", err)
	}
	for _, m := range applied {
		fmt.Fprintf(env.stdout, "已执行迁移 %04d_%s\n", m.Version, m.Name)
	}
	st, err := db.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "数据库结构已是最新：版本 %d，任务队列版本 %d（%s）\n", st.Current, st.QueueCurrent, db.Dialect)
	return nil
}

func runJobs(ctx context.Context, env *environment) error {
	db, err := openDB(ctx, env.cfg, env.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	q, err := jobs.New(db, nil, jobs.Options{})
	if err != nil {
		return err
	}
	counts, err := q.Counts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "待执行 %d  运行中 %d  待重试 %d  已完成 %d  已放弃 %d  已取消 %d\n",
		counts["available"]+counts["scheduled"]+counts["pending"], counts["running"], counts["retryable"],
		counts["completed"], counts["discarded"], counts["cancelled"])
	troubled, err := q.Troubled(ctx, 20)
	if err != nil {
		return err
	}
	for _, j := range troubled {
		fmt.Fprintf(env.stdout, "#%d %s %s 第%d/%d次 %s：%s\n", j.ID, j.Kind, j.State, j.Attempt, j.MaxAttempts,
			j.ScheduledAt.In(clock.China).Format("2006-01-02 15:04:05"), j.LastError)
	}
	return nil
}

func runDemo(ctx context.Context, env *environment) error {
	cfg := env.cfg
	if cfg.Reset {
		for _, name := range []string{"zwfw.db", "zwfw.db-wal", "zwfw.db-shm", "keys.json"} {
			if err := os.Remove(filepath.Join(cfg.DataDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("无法删除旧的演示数据：%w", err)
			}
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("无法创建数据目录 %s：%w", cfg.DataDir, err)
	}
	keys, auditKeys, licenceKeys, err := demoKeys(cfg.DataDir)
	if err != nil {
		return err
	}
	if cfg.AuditKeys == "" {
		cfg.AuditKeys = auditKeys
	}
	if cfg.LicenceKeys == "" {
		cfg.LicenceKeys = licenceKeys
	}
	// The demo runs on embedded SQLite in the data folder unless given a
	// database (a PostgreSQL one, to try the production setup).
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = filepath.Join(cfg.DataDir, "zwfw.db")
	} else if cfg.Reset {
		return usageError{errors.New("--reset 只用于内置的演示数据库；指定了数据库时请自行清空它")}
	}
	cfg.Migrate = true
	// The demo relaxes the staff second factor so that its accounts can be
	// tried without an authenticator app; serve refuses to.
	cfg.StaffTOTP = false
	return serve(ctx, env, cfg, keys, true, func(ctx context.Context, g *Graph) error {
		sum, err := demo.Seed(ctx, g.DB, g.Clock)
		if err != nil {
			return fmt.Errorf("演示数据：%w", err)
		}
		if sum.Created {
			fmt.Fprintf(env.stdout, "已创建演示区：%d 个区划，%d 个部门和服务机构，%d 项政务服务事项（数据在 %s）\n",
				sum.Regions, sum.Departments, sum.Items, cfg.DataDir)
		} else {
			fmt.Fprintf(env.stdout, "沿用已有演示数据（%s）；加 --reset 可重新开始\n", cfg.DataDir)
		}
		// 电子证照: templates before the cases, so that approved ones
		// issue their licences as they complete.
		if _, err := demo.SeedLicenceTemplates(ctx, g.DB, g.Licences); err != nil {
			return fmt.Errorf("演示电子证照模板：%w", err)
		}
		staff, err := demo.SeedStaff(ctx, g.DB, g.Identity)
		if err != nil {
			return fmt.Errorf("演示账号：%w", err)
		}
		fmt.Fprintf(env.stdout, "演示工作人员账号（密码均为 %s；演示环境免动态验证码）：\n", demo.StaffPassword)
		for _, a := range staff {
			fmt.Fprintf(env.stdout, "  %-16s %s · %s · %s\n", a.Username, a.Name, a.Department, a.Roles)
		}
		fmt.Fprintln(env.stdout, "群众账号：在“登录”页注册，短信验证码可在 /demo/sms 查看。")
		// Complaints (有诉即应): categories, routing rules and some thirty
		// complaints of the past weeks, made before the portal opens (a
		// second or so).
		if n, err := seedDemoComplaints(ctx, cfg, g); err != nil {
			return fmt.Errorf("演示诉求：%w", err)
		} else if n > 0 {
			fmt.Fprintf(env.stdout, "已创建 %d 件演示诉求（派单员账号 dispatcher）\n", n)
		}
		// The hall (预约, 取号叫号): window groups, bookings and today's
		// numbers, so that the screens and the clerks' page show something.
		if h, err := demo.SeedHall(ctx, g.DB, g.Identity, g.Keys, g.Calendar, g.Clock.Now()); err != nil {
			return fmt.Errorf("演示大厅：%w", err)
		} else if h.Groups > 0 {
			fmt.Fprintf(env.stdout, "已创建大厅窗口组 %d 个、预约 %d 个、取号 %d 个（叫号屏 /hall/xzfwzx/screen，窗口人员 scjg.window 叫号）\n", h.Groups, h.Bookings, h.Tickets)
		}
		// Module usage of the past weeks (internal/usage), for the usage
		// page and the self-evaluation.
		if sum.Created {
			if _, err := demo.SeedUsage(ctx, g.DB, g.Clock.Now()); err != nil {
				return fmt.Errorf("演示模块使用统计：%w", err)
			}
		}
		// 一件事一次办: the four life events, published; applications to
		// them follow the cases (seedDemoCases).
		if _, err := demo.SeedBundles(ctx, g.DB, g.Bundles); err != nil {
			return fmt.Errorf("演示一件事：%w", err)
		}
		// Boards and surveys: the satisfaction survey opens now; its answers
		// and the boards' entries (from finished cases) follow the cases.
		surveyID, err := demo.SeedSurvey(ctx, g.DB, g.Clock, g.Keys)
		if err != nil {
			return fmt.Errorf("演示问卷：%w", err)
		}
		// Open311: a key for trying /open311/v2/, on a line of its own
		// that scripts can read (docs/OPEN311.md).
		key, err := demo.SeedAPIKey(ctx, g.APIKeys)
		if err != nil {
			return fmt.Errorf("演示接口密钥：%w", err)
		}
		fmt.Fprintf(env.stdout, "open311 api_key=%s\n", key)
		// Integration (issue 12): two API clients with their directory
		// entries, and a key each, one a line (docs/API.md).
		clients, err := demo.SeedIntegration(ctx, g.Integration, g.Regions, g.DB)
		if err != nil {
			return fmt.Errorf("演示接入系统：%w", err)
		}
		for _, c := range clients {
			fmt.Fprintf(env.stdout, "integration client=%s api_key=%s\n", c.Client, c.Key)
		}
		if sum.Created && cfg.DemoCases > 0 {
			// Cases go through the real workflow, which takes a while: the
			// portal serves meanwhile, and the queues fill as it goes.
			go func() {
				start := time.Now()
				n, err := seedDemoCases(ctx, cfg, g)
				if err != nil && ctx.Err() == nil {
					env.log.Error("demo cases", "err", err)
					return
				}
				env.log.Info("demo cases made", "cases", n, "elapsed", time.Since(start).Round(time.Second))
				if err := demo.SeedLicenceRevocation(ctx, g.DB, g.Licences); err != nil && ctx.Err() == nil {
					env.log.Error("demo licence revocation", "err", err)
				}
				if err := seedDemoBoardsSurveys(ctx, g, surveyID); err != nil && ctx.Err() == nil {
					env.log.Error("demo boards and survey answers", "err", err)
				}
			}()
		}
		return nil
	})
}

// seedDemoBoardsSurveys answers the demo's survey (surveyID; 0: it
// existed) as a few hundred residents, and publishes some of the finished
// cases on the boards.
func seedDemoBoardsSurveys(ctx context.Context, g *Graph, surveyID int64) error {
	start := time.Now()
	answers := 0
	if surveyID != 0 {
		var err error
		if answers, err = demo.SeedSurveyAnswers(ctx, g.DB, g.Identity, g.Keys, surveyID, g.Clock.Now(), 320); err != nil {
			return err
		}
	}
	entries, err := demo.SeedBoards(ctx, g.Boards)
	g.Log.Info("demo survey answers and board entries made", "answers", answers, "entries", entries, "elapsed", time.Since(start).Round(time.Millisecond))
	return err
}

// seedDemoCases makes the demo's cases over the past weeks through a
// second graph on the server's database whose clock the demo moves: the
// cases are made as they would have been on those days. That graph sends
// no messages (its past would reach today's phones) and holds no files.
func seedDemoCases(ctx context.Context, cfg config.Config, g *Graph) (int, error) {
	clk := clock.NewManual(g.Clock.Now())
	past, err := Build(ctx, cfg, Options{Log: g.Log, DB: g.DB, Clock: clk, Keys: g.Keys})
	if err != nil {
		return 0, err
	}
	defer past.Close()
	n, err := demo.SeedCases(ctx, g.DB, g.Identity, past.Cases, clk, past.Calendar, g.Files, cfg.DemoCases)
	if err != nil {
		return n, err
	}
	// 好差评: the finished cases rated by their applicants over the same
	// weeks, and the 差评 followed up.
	rated, err := demo.SeedRatings(ctx, g.DB, g.Identity, past.Ratings, clk, past.Calendar, g.Clock.Now())
	if err == nil && rated > 0 {
		g.Log.Info("demo ratings made", "ratings", rated)
	}
	if err != nil {
		return n, err
	}
	// 一件事一次办: applications to the bundles in every state, over the
	// last days on the same clock.
	clk.Set(g.Clock.Now())
	_, err = demo.SeedBundleCases(ctx, g.DB, g.Identity, past.Bundles, past.Cases, clk, past.Calendar, g.Files)
	return n, err
}

// seedDemoComplaints makes the demo's complaints as seedDemoCases makes
// its cases: through a second graph whose clock the demo moves.
func seedDemoComplaints(ctx context.Context, cfg config.Config, g *Graph) (int, error) {
	clk := clock.NewManual(g.Clock.Now())
	past, err := Build(ctx, cfg, Options{Log: g.Log, DB: g.DB, Clock: clk, Keys: g.Keys})
	if err != nil {
		return 0, err
	}
	defer past.Close()
	return demo.SeedComplaints(ctx, g.DB, g.Identity, past.Complaints, clk, past.Calendar)
}

func runServe(ctx context.Context, env *environment) error {
	if !env.cfg.StaffTOTP {
		return usageError{errors.New("配置错误 ZWFW_STAFF_TOTP：工作人员动态验证码只能在演示环境（zwfw demo）中关闭")}
	}
	keys, err := keysFromConfig(env.cfg)
	if err != nil {
		return err
	}
	if err := requireAuditKeys(env.cfg); err != nil {
		return err
	}
	return serve(ctx, env, env.cfg, keys, false, nil)
}

// serve runs the server until ctx ends, then shuts down gracefully:
// in-flight requests finish, then running jobs, within the shutdown timeout.
func serve(ctx context.Context, env *environment, cfg config.Config, keys *pii.Keys, demoMode bool, prepare func(context.Context, *Graph) error) error {
	log := env.log
	g, err := Build(ctx, cfg, Options{Log: log, Keys: keys, Server: true, Demo: demoMode, Prepare: prepare})
	if err != nil {
		return err
	}
	defer g.Close()
	db, queue, handler, metricsHandler := g.DB, g.Queue, g.Handler, g.Metrics

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("无法监听 %s：%w", cfg.Addr, err)
	}
	if demoMode && g.Inbox != nil {
		// Webhooks (issue 12): the demo's API client is subscribed to every
		// event at the demo's own receiver page, on the port it listens on.
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		if ok, err := demo.SeedWebhook(ctx, g.Webhooks, g.Inbox, "http://127.0.0.1:"+port+"/demo/webhook"); err != nil {
			ln.Close()
			return fmt.Errorf("演示事件推送：%w", err)
		} else if ok {
			fmt.Fprintln(env.stdout, "事件推送：演示的市政务服务平台订阅了全部事件，收到的推送见 /demo/webhook")
		}
	}
	// serve keeps /metrics off the public address: on its own one (an
	// internal network, a sidecar) when ZWFW_METRICS_ADDR is set.
	var metricsSrv *http.Server
	if !demoMode && cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("无法监听 %s：%w", cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metricsHandler)
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() {
			if err := metricsSrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		}()
		fmt.Fprintf(env.stdout, "监控指标：http://%s/metrics\n", mln.Addr())
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Jobs stop on our signal, not when the root context ends, so that
	// running ones get the shutdown timeout to finish.
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	if cfg.JobWorkers > 0 {
		if err := queue.Start(jobsCtx); err != nil {
			return fmt.Errorf("无法启动后台任务：%w", err)
		}
	}
	// Every instance keeps its own search index and rebuilds it when
	// another instance publishes a change (docs/ARCHITECTURE.md).
	go g.Searcher.Watch(jobsCtx, catalogPollInterval)
	go g.Days.Watch(jobsCtx, g.Calendar, catalogPollInterval)
	// Module use is added to the database every minute and on shutdown.
	usesDone := make(chan struct{})
	go func() {
		defer close(usesDone)
		g.Uses.Run(jobsCtx, usage.FlushEvery, func(err error) { log.Warn("module usage not saved", "err", err) })
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	url := "http://" + ln.Addr().String()
	fmt.Fprintf(env.stdout, "zwfw %s 已启动：%s （数据库：%s）\n", version(), url, db.Dialect)
	if cfg.PublicURL != "http://"+cfg.Addr {
		fmt.Fprintf(env.stdout, "对外访问地址：%s\n", cfg.PublicURL)
	}
	fmt.Fprintln(env.stdout, "按 Ctrl+C 停止。")

	select {
	case err := <-serveErr:
		return fmt.Errorf("服务异常退出：%w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if metricsSrv != nil {
		err = errors.Join(err, metricsSrv.Shutdown(shutdownCtx))
	}
	if cfg.JobWorkers > 0 {
		err = errors.Join(err, queue.Stop(shutdownCtx))
	}
	stopJobs() // the usage counter's last flush
	<-usesDone
	if err != nil {
		return fmt.Errorf("停止时出错：%w", err)
	}
	log.Info("stopped")
	return nil
}

// fileStore is where uploaded materials live: S3-compatible storage when
// configured (several instances share it), otherwise the data folder.
func fileStore(ctx context.Context, cfg config.Config) (filestore.Store, error) {
	if cfg.S3Endpoint != "" {
		s3, err := filestore.NewS3(ctx, filestore.S3Config{Endpoint: cfg.S3Endpoint, Region: cfg.S3Region, Bucket: cfg.S3Bucket,
			AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, UseSSL: cfg.S3SSL})
		if err != nil {
			return nil, fmt.Errorf("无法连接对象存储：%w", err)
		}
		return s3, nil
	}
	dir := filepath.Join(cfg.DataDir, "files")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("无法创建文件目录 %s：%w", dir, err)
	}
	return filestore.NewLocal(dir)
}

// oidcProvider connects to the province's unified identity platform when
// one is configured. A configuration error stops the start; an unreachable
// platform only turns its sign-in off (logged), so that the portal still
// serves when the province's system is down.
func oidcProvider(ctx context.Context, cfg config.Config, log *slog.Logger) (*oidc.Provider, error) {
	if cfg.OIDCIssuer == "" {
		return nil, nil
	}
	oc := oidc.Config{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
		RedirectURL: cfg.PublicURL + "/signin/oidc/callback"}
	if err := oc.Validate(); err != nil {
		return nil, usageError{fmt.Errorf("配置错误 ZWFW_OIDC_*：%w", err)}
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := oidc.New(dctx, oc, nil)
	if err != nil {
		log.Error("unified identity platform unreachable: its sign-in is off until the next start", "issuer", cfg.OIDCIssuer, "err", err)
		return nil, nil
	}
	return p, nil
}

// catalogPollInterval is how soon an instance learns of a catalog change
// made on another instance.
const catalogPollInterval = 2 * time.Second

// largeBody gives the routes that take files their larger body limits.
func largeBody(r *http.Request) int64 {
	if r.URL.Path == api.CasesPath || strings.HasPrefix(r.URL.Path, "/api/v1/bundles/") && strings.HasSuffix(r.URL.Path, "/applications") {
		return api.MaxSubmissionBytes
	}
	return web.LargeBody(r)
}

// newHandler returns the public handler and the metrics one; the demo
// serves metrics on the public address, serve on its own (see serve).
func newHandler(log *slog.Logger, db *store.DB, queue *jobs.Queue, staged *staging.Store, uses *usage.Counter, cfg config.Config, demoMode bool, deps web.Deps, o311 *open311.Handler) (http.Handler, http.Handler, error) {
	pages, err := web.New(deps)
	if err != nil {
		return nil, nil, err
	}
	m := metrics.New(db, queue)
	m.Count("zwfw_staged_files", "Small uploads waiting in the database to be moved to the file store.", staged.Waiting)
	mux := http.NewServeMux()
	pages.Register(mux)
	api.New(api.Deps{Log: log, Regions: deps.Regions, Catalog: deps.Catalog, Searcher: deps.Searcher, Cases: deps.Cases, Files: deps.Files, Ratings: deps.Ratings,
		Complaints: deps.Complaints, Boards: deps.Boards, Surveys: deps.Surveys, Stats: deps.Stats,
		Halls:       deps.Halls,    // the hall (预约, 取号叫号)
		Bundles:     deps.Bundles,  // 一件事一次办
		Licences:    deps.Licences, // 电子证照 (e-licences)
		Integration: deps.Integration,
		Webhooks:    deps.Webhooks, // clients' own subscriptions (issue 12)
		ClientApplicant: func(who policy.Subject, name, idNumber, mobile, ip string) (casework.Applicant, error) {
			find, err := deps.Identity.ClientApplicant(who, name, idNumber, mobile, identity.Meta{IP: ip})
			return casework.Applicant(find), err
		},
		Authenticate: func(ctx context.Context, token string) (policy.Subject, error) {
			sess, err := deps.Identity.Authenticate(ctx, token)
			return sess.Subject, err
		}}).Register(mux)
	// Open311 (internal/open311) at /open311/v2/: its own error bodies,
	// also for what the middleware below refuses there (answered).
	o311.Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := ready(ctx, db); err != nil {
			log.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	if demoMode {
		mux.Handle("GET /metrics", m.Handler())
	}
	// Each module's use is counted from the pattern the mux matched
	// (internal/usage), inside the middleware so that refusals are not.
	h, err := httpx.Wrap(uses.Handler(mux, web.Elder), httpx.Options{
		Log:            log,
		Observer:       m,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		LargeBody:      largeBody,
		TrustedOrigins: cfg.TrustedOrigins,
		TrustedProxies: cfg.TrustedProxies,
		MultiLine:      multiLine(pages.MultiLine),
		OnInvalid:      answered(log, pages.Error),
		HSTS:           strings.HasPrefix(cfg.PublicURL, "https://"),
		Context:        store.WithVersions,
		OnPanic: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			answered(log, pages.Error)(w, r, apperr.New(apperr.Internal, "panic"))
		}),
		OnCrossOrigin: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			answered(log, pages.Error)(w, r, apperr.New(apperr.Forbidden, "请求来自其他网站，已拒绝。请在本站页面上重新提交。"))
		}),
	})
	return h, m.Handler(), err
}

// answered answers an error the middleware raises in Open311's body
// under /open311/v2/, and as pages do elsewhere.
func answered(log *slog.Logger, pages func(http.ResponseWriter, *http.Request, error)) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if open311.IsOpen311(r) {
			open311.WriteError(log, w, r, err)
			return
		}
		pages(w, r, err)
	}
}

// multiLine adds Open311's description, which may hold line breaks, to
// the pages' multi-line fields.
func multiLine(pages httpx.MultiLineFunc) httpx.MultiLineFunc {
	return func(r *http.Request, field string) bool {
		if open311.IsOpen311(r) {
			return field == "description"
		}
		return pages(r, field)
	}
}

// ready is the readiness check: the database answers and its schema is the
// one this binary expects.
func ready(ctx context.Context, db *store.DB) error {
	if err := db.Ping(ctx); err != nil {
		return err
	}
	st, err := db.Status(ctx)
	if err != nil {
		return err
	}
	return st.Check()
}
