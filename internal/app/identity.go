package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/config"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/licence"
	"github.com/zwfw/zwfw/internal/mail"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
)

// keysFromConfig parses the personal-data keys; serve cannot run without them.
func keysFromConfig(cfg config.Config) (*pii.Keys, error) {
	if cfg.DataKeys == "" || cfg.IndexKey == "" {
		return nil, usageError{errors.New("配置错误 ZWFW_DATA_KEYS / ZWFW_INDEX_KEY：未设置个人信息加密密钥；可运行 zwfw keys 生成，并妥善保管")}
	}
	keys, err := pii.ParseKeys(cfg.DataKeys, cfg.IndexKey)
	if err != nil {
		return nil, usageError{fmt.Errorf("配置错误 ZWFW_DATA_KEYS / ZWFW_INDEX_KEY：%w", err)}
	}
	return keys, nil
}

// demoKeys reads the demo's keys from its data folder, making them on the
// first run: demo data stays readable, and its chains verifiable, across
// restarts. A folder from before the audit or licence keys gets them added.
func demoKeys(dir string) (*pii.Keys, string, string, error) {
	path := filepath.Join(dir, "keys.json")
	var k struct {
		DataKeys  string `json:"data_keys"`
		IndexKey  string `json:"index_key"`
		AuditKeys string `json:"audit_keys,omitempty"`
		// 电子证照: the demo's licences verify across restarts too.
		LicenceKeys string `json:"licence_keys,omitempty"`
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if k.DataKeys, k.IndexKey, err = pii.GenerateKeys(); err != nil {
			return nil, "", "", err
		}
	case err != nil:
		return nil, "", "", err
	default:
		if err := json.Unmarshal(b, &k); err != nil {
			return nil, "", "", fmt.Errorf("演示密钥文件 %s 已损坏：%w", path, err)
		}
	}
	if k.AuditKeys == "" || k.LicenceKeys == "" {
		if k.AuditKeys == "" {
			if k.AuditKeys, err = chainhash.Generate(); err != nil {
				return nil, "", "", err
			}
		}
		if k.LicenceKeys == "" {
			if k.LicenceKeys, err = licence.GenerateKey(licenceKeyID()); err != nil {
				return nil, "", "", err
			}
		}
		b, _ = json.Marshal(k)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, "", "", fmt.Errorf("无法保存演示密钥：%w", err)
		}
	}
	keys, err := pii.ParseKeys(k.DataKeys, k.IndexKey)
	return keys, k.AuditKeys, k.LicenceKeys, err
}

// storedKeys are the keys a command opens stored personal data with: the
// configured ones, or, when none are configured, the demo's in the data
// folder if it has them.
func storedKeys(cfg config.Config) (*pii.Keys, error) {
	if cfg.DataKeys == "" && cfg.IndexKey == "" {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "keys.json")); err == nil {
			keys, _, _, err := demoKeys(cfg.DataDir)
			return keys, err
		}
	}
	return keysFromConfig(cfg)
}

// smsSender is the configured gateway, or the development sender that only
// logs (and, in the demo, shows messages on a page).
func smsSender(cfg config.Config, log *slog.Logger) (sms.Sender, *sms.Dev, error) {
	if cfg.SMSURL != "" {
		s, err := sms.NewHTTP(cfg.SMSURL, cfg.SMSKey, nil)
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("配置错误 ZWFW_SMS_URL / ZWFW_SMS_KEY：%w", err)}
		}
		return s, nil, nil
	}
	dev := sms.NewDev(log.With("part", "sms"), 50)
	return dev, dev, nil
}

// mailSender is where notification e-mail goes: the configured SMTP
// server, or in the demo the log; without either, none is sent.
func mailSender(cfg config.Config, log *slog.Logger, demoMode bool) (mail.Sender, error) {
	if cfg.SMTPHost != "" {
		s, err := mail.NewSMTP(mail.SMTPConfig{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername,
			Password: cfg.SMTPPassword, From: cfg.SMTPFrom, TLS: cfg.SMTPTLS})
		if err != nil {
			return nil, usageError{fmt.Errorf("配置错误 ZWFW_SMTP_*：%w", err)}
		}
		return s, nil
	}
	if demoMode {
		return mail.NewDev(log.With("part", "mail")), nil
	}
	return nil, nil
}

func runKeys(ctx context.Context, env *environment) error {
	enc, idx, err := pii.GenerateKeys()
	if err != nil {
		return err
	}
	chain, err := chainhash.Generate()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "ZWFW_DATA_KEYS=%s\nZWFW_INDEX_KEY=%s\nZWFW_AUDIT_KEYS=%s\n", enc, idx, chain)
	fmt.Fprintln(env.stderr, "请把这三项保存到安全的位置（如 *_FILE 指向的文件），不要与数据库放在一起。ZWFW_INDEX_KEY 设定后不可更换；更换加密密钥或完整性密钥时把新密钥放在最前面并保留旧密钥。")
	return nil
}

// resealBatch is how many accounts or cases keys rotate seals again in
// one transaction: short transactions, so that serve keeps running.
const resealBatch = 200

// runKeysRotate seals every sealed value again under the active key, so
// that the old keys can then be removed (see pii's key rotation).
func runKeysRotate(ctx context.Context, env *environment) error {
	g, err := openIdentity(ctx, env)
	if err != nil {
		return err
	}
	defer g.Close()
	ids, cases, keys := g.Identity, g.Cases, g.Keys
	actor := cliActor("更换密钥")
	accounts, err := ids.ResealAccounts(ctx, resealBatch, actor)
	if err != nil {
		return fmt.Errorf("账户个人信息重新加密中断（已完成 %d 项，可重新运行）：%w", accounts, err)
	}
	answers, err := cases.ResealAnswers(ctx, resealBatch, actor)
	if err != nil {
		return fmt.Errorf("办件申请信息重新加密中断（已完成 %d 项，可重新运行）：%w", answers, err)
	}
	comments, err := g.Ratings.ResealComments(ctx, resealBatch, actor)
	if err != nil {
		return fmt.Errorf("评价内容重新加密中断（已完成 %d 项，可重新运行）：%w", comments, err)
	}
	fmt.Fprintf(env.stdout, "已改用密钥 %s 重新加密：账户个人信息 %d 项，办件申请信息 %d 项，评价内容 %d 项。\n", keys.ActiveID(), accounts, answers, comments)
	fmt.Fprintln(env.stdout, "所有实例都已使用新密钥后再运行一次，显示 0 项时即可从 ZWFW_DATA_KEYS 中删除旧密钥。")
	return nil
}

// openIdentity builds the graph of the commands that change accounts or
// sealed data: they need the data keys, and audit with the chain key.
func openIdentity(ctx context.Context, env *environment) (*Graph, error) {
	keys, err := keysFromConfig(env.cfg)
	if err != nil {
		return nil, err
	}
	if err := requireAuditKeys(env.cfg); err != nil {
		return nil, err
	}
	return Build(ctx, env.cfg, Options{Log: env.log, Keys: keys})
}

// readPassword reads the new password: one line of standard input, so that
// it appears neither in the shell history nor in the process list.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError{errors.New("请从标准输入提供密码，例如：printf '%s\\n' \"$PASSWORD\" | zwfw user create …")}
	}
	return line, nil
}

func parseRoles(s string) ([]policy.Role, error) {
	var roles []policy.Role
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if policy.Role(r).Name() == "" {
			return nil, usageError{fmt.Errorf("角色 %q 无效，可选：window、reviewer、head、supervisor、catalog、admin", r)}
		}
		roles = append(roles, policy.Role(r))
	}
	return roles, nil
}

func runUserCreate(ctx context.Context, env *environment) error {
	cfg := env.cfg
	roles, err := parseRoles(cfg.Roles)
	if err != nil {
		return err
	}
	if cfg.Username == "" || cfg.Name == "" || cfg.Department == "" || len(roles) == 0 {
		return usageError{errors.New("用法：zwfw user create --username 用户名 --name 姓名 --department 部门标识 --roles 角色,… （密码从标准输入读取）")}
	}
	pass, err := readPassword(env.stdin)
	if err != nil {
		return err
	}
	g, err := openIdentity(ctx, env)
	if err != nil {
		return err
	}
	defer g.Close()
	db, svc := g.DB, g.Identity
	dept, err := g.Regions.DepartmentBySlug(ctx, db.Read(), cfg.Department)
	if err != nil {
		return err
	}
	acc, otpURL, err := svc.CreateStaff(ctx, cliSubject("开设账户"), cliMeta, identity.NewStaff{Username: cfg.Username, Name: cfg.Name, DepartmentID: dept.ID,
		Roles: roles, Password: pass})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "已开设工作人员账户 %s（%s，%s）\n", acc.Username, acc.Name, dept.Name)
	fmt.Fprintf(env.stdout, "请把下面的地址加入身份验证器（仅显示这一次）：\n%s\n", otpURL)
	return nil
}

func runUserResetPassword(ctx context.Context, env *environment) error {
	if env.cfg.Username == "" {
		return usageError{errors.New("用法：zwfw user reset-password --username 用户名 （新密码从标准输入读取）")}
	}
	pass, err := readPassword(env.stdin)
	if err != nil {
		return err
	}
	g, err := openIdentity(ctx, env)
	if err != nil {
		return err
	}
	defer g.Close()
	svc := g.Identity
	if err := svc.ResetPassword(ctx, cliSubject("重置密码"), cliMeta, env.cfg.Username, pass); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "已重置 %s 的密码，并退出其所有登录。\n", env.cfg.Username)
	return nil
}

// runAuditVerify checks the audit log's chain and every case's event
// chain (and, with --checkpoint, the heads against the last checkpoint),
// and names whatever was altered or lost.
func runAuditVerify(ctx context.Context, env *environment) error {
	if err := requireAuditKeys(env.cfg); err != nil {
		return err
	}
	g, err := Build(ctx, env.cfg, Options{Log: env.log})
	if err != nil {
		return err
	}
	defer g.Close()
	return verifyRecords(ctx, g.DB, env.cfg.AuditCheckpoint, g.Clock.Now(), env.stdout)
}

// verifyRecords checks the audit log, every case's chain and the sharing
// log under db's chain keys and reports what it found to w: zwfw audit
// verify, and zwfw restore on the database it restores.
func verifyRecords(ctx context.Context, db *store.DB, checkpoint string, now time.Time, w io.Writer) error {
	r, err := casework.CheckIntegrity(ctx, db, checkpoint, now)
	if err != nil {
		return err
	}
	for _, b := range r.Log {
		fmt.Fprintf(w, "审计日志第 %d 条：%s\n", b.ID, b.Reason)
	}
	for _, b := range r.Broken {
		if b.Seq == 0 {
			fmt.Fprintf(w, "办件 %s：%s\n", b.Number, b.Reason)
		} else {
			fmt.Fprintf(w, "办件 %s 第 %d 个事件：%s\n", b.Number, b.Seq, b.Reason)
		}
	}
	for _, l := range r.Lost {
		fmt.Fprintln(w, l)
	}
	// The data-sharing access log (integration, issue 12) is chained with
	// the same keys.
	calls, sharing, err := integration.Verify(ctx, db.Read(), db.ChainKeys())
	if err != nil {
		return err
	}
	for _, b := range sharing {
		fmt.Fprintf(w, "共享调用日志第 %d 条：%s\n", b.ID, b.Reason)
	}
	fmt.Fprintf(w, "已核对审计日志 %d 条、办件 %d 件、共享调用日志 %d 条\n", r.Entries, r.Cases, calls)
	if n := r.Problems() + len(sharing); n > 0 {
		return fmt.Errorf("发现 %d 处记录被改动", n)
	}
	if r.Checkpoint != "" {
		fmt.Fprintf(w, "已更新检查点 %s\n", r.Checkpoint)
	}
	fmt.Fprintln(w, "全部记录完整，未发现改动。")
	return nil
}
