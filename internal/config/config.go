// Package config reads zwfw's settings from environment variables, with
// flags that mirror them, validates them once at start and hands a typed
// Config down. There are no globals: whatever needs a setting gets it
// passed. Secrets may come from a file named by the variable plus _FILE.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
)

// Config is every setting of a zwfw process.
type Config struct {
	Addr              string
	MetricsAddr       string
	DatabaseURL       string
	DataDir           string
	PublicURL         string
	LogFormat         string
	LogLevel          slog.Level
	JobWorkers        int
	RatingRectifyDays int // working days a unit has to rectify a 差评 (好差评)
	// The 12345 hotline system's address for the status of its 工单, and
	// the token sent with each update ("": none sent).
	HotlineStatusURL string
	HotlineToken     string
	// Complaints (有诉即应): the office day their limits in working hours
	// count, and how long after a reply a person may reopen one.
	OfficeDay           calendar.OfficeDay
	ComplaintReopenDays int
	DBMaxConns          int
	SQLiteSynchronous   string
	ShutdownTimeout     time.Duration
	TrustedOrigins      []string
	TrustedProxies      []netip.Prefix
	MaxBodyBytes        int64
	MaxPendingBytes     int64
	Migrate             bool
	Reset               bool
	DataKeys            string // pii encryption keys: id:base64,…
	IndexKey            string // pii blind-index key
	AuditKeys           string // keys of the audit and case hash chains: id:base64,…
	AuditCheckpoint     string // file of the signed checkpoint of the chains' heads
	LicenceKeys         string // e-licences' Ed25519 signing keys: id:base64 seed,…
	SMSURL              string
	SMSKey              string
	SMTPHost            string
	SMTPPort            int
	SMTPUsername        string
	SMTPPassword        string
	SMTPFrom            string
	SMTPTLS             string
	StaffTOTP           bool
	OIDCIssuer          string
	OIDCClientID        string
	OIDCClientSecret    string
	RealNameURL         string
	RealNameKey         string
	S3Endpoint          string
	S3Bucket            string
	S3Region            string
	S3AccessKey         string
	S3SecretKey         string
	S3SSL               bool
	DemoCases           int

	// Module usage and the self-evaluation (绩效自评): days without use
	// after which a module is idle, and a file of indicators that
	// replaces the built-in default ("": the default).
	UsageIdleDays  int
	EvaluationFile string

	// Webhooks (issue 12): hosts and networks that may be reached over
	// plain http and at private addresses, the timeout of one attempt and
	// the attempts before a delivery fails.
	WebhookAllow       []string
	WebhookTimeout     time.Duration
	WebhookMaxAttempts int
	// Only for `zwfw evidence export`: the year and the folder.
	EvidencePeriod int
	EvidenceOut    string

	// Only for `zwfw backup` and `zwfw restore` (issue 13): put the keys
	// in the backup; replace an existing SQLite database.
	BackupWithKeys bool
	RestoreForce   bool

	// Only for zwfw generate.
	GenerateCases int
	GenerateSeed  uint64
	// Only for `zwfw user` commands.
	Username   string
	Name       string
	Department string
	Roles      string
	// Only for `zwfw apikey create` (with Name).
	APIKeyClient string
	APIKeyScopes string
}

// Setting is one configuration value: its variable, its flag, its default
// and how it is parsed into a Config.
type Setting struct {
	Env     string
	Flag    string
	Default string
	Usage   string
	Secret  bool // may be given as Env+"_FILE"
	set     func(c *Config, v string) error
}

// Settings lists every setting; README.md's table is checked against it.
var Settings = []Setting{
	{Env: "ZWFW_ADDR", Flag: "addr", Default: "127.0.0.1:8080", Usage: "监听地址（主机:端口）",
		set: func(c *Config, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("地址 %q 无效，应为 主机:端口，例如 127.0.0.1:8080", v)
			}
			c.Addr = v
			return nil
		}},
	{Env: "ZWFW_METRICS_ADDR", Flag: "metrics-addr", Usage: "serve 提供 /metrics 的监听地址（主机:端口），与对外地址分开；空则不提供",
		set: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("地址 %q 无效，应为 主机:端口，例如 127.0.0.1:9090", v)
			}
			c.MetricsAddr = v
			return nil
		}},
	{Env: "ZWFW_DATABASE_URL", Flag: "db", Usage: "数据库：SQLite 文件路径或 postgres:// 连接串", Secret: true,
		set: func(c *Config, v string) error { c.DatabaseURL = v; return nil }},
	{Env: "ZWFW_DATA_DIR", Flag: "data", Default: "./zwfw-data", Usage: "数据目录（演示数据库与上传文件）",
		set: func(c *Config, v string) error {
			if v == "" {
				return errors.New("数据目录不能为空")
			}
			c.DataDir = v
			return nil
		}},
	{Env: "ZWFW_PUBLIC_URL", Flag: "public-url", Usage: "对外访问地址，用于二维码和消息中的链接（默认 http://监听地址）",
		set: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("对外访问地址 %q 无效，应为 http(s)://主机[:端口]", v)
			}
			c.PublicURL = strings.TrimRight(v, "/")
			return nil
		}},
	{Env: "ZWFW_LOG_FORMAT", Flag: "log-format", Default: "text", Usage: "日志格式：text 或 json",
		set: func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return fmt.Errorf("日志格式应为 text 或 json，而不是 %q", v)
			}
			c.LogFormat = v
			return nil
		}},
	{Env: "ZWFW_LOG_LEVEL", Flag: "log-level", Default: "info", Usage: "日志级别：debug、info、warn 或 error",
		set: func(c *Config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("日志级别应为 debug、info、warn 或 error，而不是 %q", v)
			}
			return nil
		}},
	{Env: "ZWFW_JOB_WORKERS", Flag: "job-workers", Default: "10", Usage: "本实例同时执行的后台任务数（0 表示不执行）",
		set: func(c *Config, v string) error { return intIn(&c.JobWorkers, v, 0, 1000, "后台任务数") }},
	{Env: "ZWFW_RATING_RECTIFY_DAYS", Flag: "rating-rectify-days", Default: "5", Usage: "差评整改期限（工作日，按本地规定，常见为 5 或 15）",
		set: func(c *Config, v string) error { return intIn(&c.RatingRectifyDays, v, 1, 60, "差评整改期限") }},
	{Env: "ZWFW_HOTLINE_STATUS_URL", Flag: "hotline-status-url", Usage: "12345 热线系统接收工单办理状态的地址（为空则不推送）",
		set: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("12345 热线状态推送地址 %q 无效，应为 http(s)://主机/路径", v)
			}
			c.HotlineStatusURL = v
			return nil
		}},
	{Env: "ZWFW_HOTLINE_TOKEN", Flag: "hotline-token", Usage: "推送工单状态时携带的令牌（Authorization: Bearer）", Secret: true,
		set: func(c *Config, v string) error { c.HotlineToken = v; return nil }},
	{Env: "ZWFW_OFFICE_HOURS", Flag: "office-hours", Default: "09:00-12:00,13:30-17:30", Usage: "办公时间（北京时间，诉求按工作小时计的时限据此计算），如 09:00-12:00,13:30-17:30",
		set: func(c *Config, v string) error {
			o, err := calendar.ParseOfficeDay(v)
			if err != nil {
				return fmt.Errorf("办公时间 %q 无效，应为“时:分-时:分”，多段用逗号分隔，如 09:00-12:00,13:30-17:30", v)
			}
			c.OfficeDay = o
			return nil
		}},
	{Env: "ZWFW_COMPLAINT_REOPEN_DAYS", Flag: "complaint-reopen-days", Default: "7", Usage: "诉求答复后群众可要求重新办理的期限（自然日）",
		set: func(c *Config, v string) error { return intIn(&c.ComplaintReopenDays, v, 1, 90, "重新办理期限") }},
	{Env: "ZWFW_USAGE_IDLE_DAYS", Flag: "usage-idle-days", Default: "30", Usage: "模块连续多少天无人使用即标为闲置（模块使用统计与绩效自评）",
		set: func(c *Config, v string) error { return intIn(&c.UsageIdleDays, v, 1, 366, "闲置天数") }},
	{Env: "ZWFW_EVALUATION_FILE", Flag: "evaluation-file", Usage: "绩效自评指标体系文件（JSON，为空则用内置的默认指标体系）",
		set: func(c *Config, v string) error { c.EvaluationFile = v; return nil }},
	// Webhooks (issue 12).
	{Env: "ZWFW_WEBHOOK_ALLOW", Flag: "webhook-allow", Usage: "事件推送可用 http 且可指向内网地址的主机或网段，逗号分隔（如 10.20.0.0/16,oa.zhq.gov.cn；其余只许 https 公网地址）",
		set: func(c *Config, v string) error {
			c.WebhookAllow = nil
			for _, h := range strings.Split(v, ",") {
				if h = strings.TrimSpace(h); h == "" {
					continue
				}
				if strings.Contains(h, "/") {
					if _, err := netip.ParsePrefix(h); err != nil {
						return fmt.Errorf("事件推送允许的网段 %q 无效，应如 10.20.0.0/16", h)
					}
				} else if strings.ContainsAny(h, "@?#: ") {
					if _, err := netip.ParseAddr(h); err != nil {
						return fmt.Errorf("事件推送允许的主机 %q 无效，应为主机名、IP 地址或网段", h)
					}
				}
				c.WebhookAllow = append(c.WebhookAllow, h)
			}
			return nil
		}},
	{Env: "ZWFW_WEBHOOK_TIMEOUT", Flag: "webhook-timeout", Default: "10s", Usage: "事件推送每次请求的超时",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Second || d > 2*time.Minute {
				return fmt.Errorf("事件推送超时 %q 无效，应在 1s 到 2m 之间", v)
			}
			c.WebhookTimeout = d
			return nil
		}},
	{Env: "ZWFW_WEBHOOK_MAX_ATTEMPTS", Flag: "webhook-max-attempts", Default: "10", Usage: "事件推送最多尝试次数（间隔自 30 秒起逐次加倍，最长 1 小时），用尽即标为失败",
		set: func(c *Config, v string) error { return intIn(&c.WebhookMaxAttempts, v, 1, 25, "推送尝试次数") }},
	{Env: "ZWFW_DB_MAX_CONNS", Flag: "db-max-conns", Default: "0", Usage: "数据库连接池上限（0 为默认：PostgreSQL 20，SQLite 读连接 2×CPU）",
		set: func(c *Config, v string) error { return intIn(&c.DBMaxConns, v, 0, 1000, "连接池上限") }},
	{Env: "ZWFW_SQLITE_SYNCHRONOUS", Flag: "sqlite-synchronous", Default: "FULL", Usage: "SQLite 落盘方式：FULL（断电不丢已确认的写入）或 NORMAL",
		set: func(c *Config, v string) error {
			v = strings.ToUpper(v)
			if v != "FULL" && v != "NORMAL" {
				return fmt.Errorf("SQLite 落盘方式应为 FULL 或 NORMAL，而不是 %q", v)
			}
			c.SQLiteSynchronous = v
			return nil
		}},
	{Env: "ZWFW_SHUTDOWN_TIMEOUT", Flag: "shutdown-timeout", Default: "30s", Usage: "收到停止信号后等待进行中请求和任务的时长",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("停止等待时长 %q 无效，例如 30s", v)
			}
			c.ShutdownTimeout = d
			return nil
		}},
	{Env: "ZWFW_TRUSTED_ORIGINS", Flag: "trusted-origins", Usage: "允许跨源提交的来源，逗号分隔（例如负载均衡后的对外域名）",
		set: func(c *Config, v string) error {
			c.TrustedOrigins = nil
			for _, o := range strings.Split(v, ",") {
				if o = strings.TrimSpace(o); o == "" {
					continue
				}
				u, err := url.Parse(o)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
					return fmt.Errorf("来源 %q 无效，应为 https://主机[:端口]", o)
				}
				c.TrustedOrigins = append(c.TrustedOrigins, o)
			}
			return nil
		}},
	{Env: "ZWFW_TRUSTED_PROXIES", Flag: "trusted-proxies", Usage: "可信的负载均衡或代理地址（IP 或 CIDR，逗号分隔）：只从它们转来的请求才采信 X-Forwarded-For",
		set: func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				prefix, err := netip.ParsePrefix(p)
				if err != nil {
					a, aerr := netip.ParseAddr(p)
					if aerr != nil || a.Zone() != "" {
						return fmt.Errorf("代理地址 %q 无效，应为 IP 地址或 CIDR，例如 10.0.0.0/8", p)
					}
					prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
				}
				c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
			}
			return nil
		}},
	{Env: "ZWFW_MAX_BODY_BYTES", Flag: "max-body-bytes", Default: "1048576", Usage: "普通请求体大小上限（字节）",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1024 {
				return fmt.Errorf("请求体上限 %q 无效，应为不小于 1024 的整数", v)
			}
			c.MaxBodyBytes = n
			return nil
		}},
	{Env: "ZWFW_MAX_PENDING_UPLOAD_BYTES", Flag: "max-pending-upload-bytes", Default: "209715200", Usage: "每个申请人草稿中待提交材料的总大小上限（字节）",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 10<<20 {
				return fmt.Errorf("待提交材料上限 %q 无效，应为不小于 10485760（一份材料的上限）的整数", v)
			}
			c.MaxPendingBytes = n
			return nil
		}},
	{Env: "ZWFW_MIGRATE", Flag: "migrate", Default: "false", Usage: "启动时先执行待执行的数据库迁移",
		set: func(c *Config, v string) error { return boolean(&c.Migrate, v) }},
	{Env: "ZWFW_DATA_KEYS", Flag: "data-keys", Usage: "个人信息加密密钥，格式 id:base64密钥,…，第一个用于加密（zwfw keys 生成）", Secret: true,
		set: func(c *Config, v string) error { c.DataKeys = v; return nil }},
	{Env: "ZWFW_INDEX_KEY", Flag: "index-key", Usage: "个人信息检索密钥（base64，设定后不可更换）", Secret: true,
		set: func(c *Config, v string) error { c.IndexKey = v; return nil }},
	{Env: "ZWFW_AUDIT_KEYS", Flag: "audit-keys", Usage: "审计日志和办件记录的完整性密钥，格式 id:base64密钥,…，第一个用于签署（zwfw keys 生成）", Secret: true,
		set: func(c *Config, v string) error { c.AuditKeys = v; return nil }},
	// 电子证照 (e-licences, issue 12).
	{Env: "ZWFW_LICENCE_KEYS", Flag: "licence-keys", Usage: "电子证照签名密钥（Ed25519），格式 id:base64密钥,…，第一个用于签发，其余只用于核验旧证照（zwfw keys 生成）", Secret: true,
		set: func(c *Config, v string) error { c.LicenceKeys = v; return nil }},
	{Env: "ZWFW_AUDIT_CHECKPOINT", Flag: "checkpoint", Usage: "audit verify 比对并更新的检查点文件（各哈希链的末端，经密钥签署；应存放在数据库以外）",
		set: func(c *Config, v string) error { c.AuditCheckpoint = v; return nil }},
	{Env: "ZWFW_SMS_URL", Flag: "sms-url", Usage: "短信网关地址；不设则短信只写入日志（开发用）",
		set: func(c *Config, v string) error { c.SMSURL = v; return nil }},
	{Env: "ZWFW_SMS_KEY", Flag: "sms-key", Usage: "短信网关密钥", Secret: true,
		set: func(c *Config, v string) error { c.SMSKey = v; return nil }},
	{Env: "ZWFW_SMTP_HOST", Flag: "smtp-host", Usage: "发送通知邮件的 SMTP 服务器；不设则不发邮件（演示环境只写入日志）",
		set: func(c *Config, v string) error { c.SMTPHost = v; return nil }},
	{Env: "ZWFW_SMTP_PORT", Flag: "smtp-port", Default: "0", Usage: "SMTP 端口（0 表示按加密方式取 587、465 或 25）",
		set: func(c *Config, v string) error { return intIn(&c.SMTPPort, v, 0, 65535, "SMTP 端口") }},
	{Env: "ZWFW_SMTP_USERNAME", Flag: "smtp-username", Usage: "SMTP 登录用户名（不设则不登录）",
		set: func(c *Config, v string) error { c.SMTPUsername = v; return nil }},
	{Env: "ZWFW_SMTP_PASSWORD", Flag: "smtp-password", Usage: "SMTP 登录密码", Secret: true,
		set: func(c *Config, v string) error { c.SMTPPassword = v; return nil }},
	{Env: "ZWFW_SMTP_FROM", Flag: "smtp-from", Usage: "通知邮件的发件人，如 政务服务平台 <noreply@example.gov.cn>",
		set: func(c *Config, v string) error { c.SMTPFrom = v; return nil }},
	{Env: "ZWFW_SMTP_TLS", Flag: "smtp-tls", Default: "starttls", Usage: "SMTP 加密方式：starttls、tls 或 none（none 只允许本机服务器）",
		set: func(c *Config, v string) error {
			if v != "starttls" && v != "tls" && v != "none" {
				return fmt.Errorf("应为 starttls、tls 或 none")
			}
			c.SMTPTLS = v
			return nil
		}},
	{Env: "ZWFW_STAFF_TOTP", Flag: "staff-totp", Default: "true", Usage: "工作人员登录须输入动态验证码（仅演示环境可关闭）",
		set: func(c *Config, v string) error { return boolean(&c.StaffTOTP, v) }},
	{Env: "ZWFW_OIDC_ISSUER", Flag: "oidc-issuer", Usage: "省统一身份认证平台（OpenID Connect）地址；不设则不启用",
		set: func(c *Config, v string) error { c.OIDCIssuer = v; return nil }},
	{Env: "ZWFW_OIDC_CLIENT_ID", Flag: "oidc-client-id", Usage: "统一身份认证客户端标识",
		set: func(c *Config, v string) error { c.OIDCClientID = v; return nil }},
	{Env: "ZWFW_OIDC_CLIENT_SECRET", Flag: "oidc-client-secret", Usage: "统一身份认证客户端密钥", Secret: true,
		set: func(c *Config, v string) error { c.OIDCClientSecret = v; return nil }},
	{Env: "ZWFW_REALNAME_URL", Flag: "realname-url", Usage: "实名核验服务地址；不设则新账户为“未实名核验”",
		set: func(c *Config, v string) error { c.RealNameURL = v; return nil }},
	{Env: "ZWFW_REALNAME_KEY", Flag: "realname-key", Usage: "实名核验服务密钥", Secret: true,
		set: func(c *Config, v string) error { c.RealNameKey = v; return nil }},
	{Env: "ZWFW_S3_ENDPOINT", Flag: "s3-endpoint", Usage: "S3 兼容对象存储地址（多实例部署时存放上传文件）；不设则存放在数据目录的 files 下",
		set: func(c *Config, v string) error { c.S3Endpoint = v; return nil }},
	{Env: "ZWFW_S3_BUCKET", Flag: "s3-bucket", Usage: "对象存储桶（须已存在）",
		set: func(c *Config, v string) error { c.S3Bucket = v; return nil }},
	{Env: "ZWFW_S3_REGION", Flag: "s3-region", Usage: "对象存储区域",
		set: func(c *Config, v string) error { c.S3Region = v; return nil }},
	{Env: "ZWFW_S3_ACCESS_KEY", Flag: "s3-access-key", Usage: "对象存储访问密钥 ID",
		set: func(c *Config, v string) error { c.S3AccessKey = v; return nil }},
	{Env: "ZWFW_S3_SECRET_KEY", Flag: "s3-secret-key", Usage: "对象存储访问密钥", Secret: true,
		set: func(c *Config, v string) error { c.S3SecretKey = v; return nil }},
	{Env: "ZWFW_S3_SSL", Flag: "s3-ssl", Default: "true", Usage: "访问对象存储使用 HTTPS",
		set: func(c *Config, v string) error { return boolean(&c.S3SSL, v) }},
	{Env: "ZWFW_USER_USERNAME", Flag: "username", Usage: "（zwfw user）工作人员用户名",
		set: func(c *Config, v string) error { c.Username = v; return nil }},
	{Env: "ZWFW_USER_NAME", Flag: "name", Usage: "（zwfw user create）姓名；（zwfw apikey create）密钥名称；（zwfw apikey client）接入系统名称",
		set: func(c *Config, v string) error { c.Name = v; return nil }},
	{Env: "ZWFW_USER_DEPARTMENT", Flag: "department", Usage: "（zwfw user create）所属部门标识，如 xzfwzx",
		set: func(c *Config, v string) error { c.Department = v; return nil }},
	{Env: "ZWFW_USER_ROLES", Flag: "roles", Usage: "（zwfw user create）角色，逗号分隔：window、reviewer、head、supervisor、catalog、admin",
		set: func(c *Config, v string) error { c.Roles = v; return nil }},
	{Env: "ZWFW_APIKEY_CLIENT", Flag: "client", Usage: "（zwfw apikey create）使用密钥的单位或系统（默认同密钥名称；已登记的接入系统名称则密钥归该系统）；（zwfw apikey client）所属部门编号",
		set: func(c *Config, v string) error { c.APIKeyClient = v; return nil }},
	{Env: "ZWFW_APIKEY_SCOPE", Flag: "scope", Usage: "（zwfw apikey create）密钥的权限范围，逗号分隔：open311、catalog.read、cases.create、cases.status、results.attach、results.read、complaints、ratings",
		set: func(c *Config, v string) error { c.APIKeyScopes = v; return nil }},
	{Env: "ZWFW_DEMO_CASES", Flag: "demo-cases", Default: "2000", Usage: "（仅 demo）首次启动时在后台生成的演示办件数",
		set: func(c *Config, v string) error { return intIn(&c.DemoCases, v, 0, 100000, "演示办件数") }},
	{Env: "ZWFW_GENERATE_CASES", Flag: "cases", Default: "100000", Usage: "（仅 generate）要生成的办件数",
		set: func(c *Config, v string) error { return intIn(&c.GenerateCases, v, 1, 100000000, "生成的办件数") }},
	{Env: "ZWFW_GENERATE_SEED", Flag: "seed", Default: "1", Usage: "（仅 generate）随机数种子：同一种子生成同样的办件",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("随机数种子 %q 无效，应为非负整数", v)
			}
			c.GenerateSeed = n
			return nil
		}},
	{Env: "ZWFW_EVIDENCE_PERIOD", Flag: "period", Usage: "（仅 evidence export）评价年度，如 2026",
		set: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			return intIn(&c.EvidencePeriod, v, 2000, 2100, "评价年度")
		}},
	{Env: "ZWFW_EVIDENCE_OUT", Flag: "out", Usage: "（仅 evidence export）写入证据包的目录（不存在则创建）",
		set: func(c *Config, v string) error { c.EvidenceOut = v; return nil }},
	// Backup and restore (issue 13): internal/backup.
	{Env: "ZWFW_BACKUP_WITH_KEYS", Flag: "with-keys", Default: "false", Usage: "（仅 backup）把密钥也放进备份文件（备份文件一旦泄露，个人信息随之泄露；默认不放）",
		set: func(c *Config, v string) error { return boolean(&c.BackupWithKeys, v) }},
	{Env: "ZWFW_RESTORE_FORCE", Flag: "force", Default: "false", Usage: "（仅 restore）覆盖已有的 SQLite 数据库和密钥文件（原文件改名保留）；须先停止服务",
		set: func(c *Config, v string) error { return boolean(&c.RestoreForce, v) }},
	{Env: "ZWFW_RESET", Flag: "reset", Default: "false", Usage: "（仅 demo）删除已有演示数据，重新开始",
		set: func(c *Config, v string) error { return boolean(&c.Reset, v) }},
}

func intIn(dst *int, v string, lo, hi int, what string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return fmt.Errorf("%s %q 无效，应为 %d 到 %d 的整数", what, v, lo, hi)
	}
	*dst = n
	return nil
}

func boolean(dst *bool, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%q 不是布尔值（true/false）", v)
	}
	*dst = b
	return nil
}

// Load registers the named settings as flags on fs, parses args and
// returns the Config; positional arguments are left in fs.Args() for the
// command to check. Each value comes from, in order of precedence, its
// flag, its variable, its _FILE variable, then its default; settings not
// named keep their defaults. The error is one line that says what is wrong.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string, names ...string) (Config, error) {
	var c Config
	values := map[string]string{}
	for _, s := range Settings {
		v, err := fromEnv(s, getenv)
		if err != nil {
			return c, err
		}
		if !slices.Contains(names, s.Flag) {
			v = s.Default
		}
		values[s.Env] = v
		if slices.Contains(names, s.Flag) {
			env := s.Env
			if s.Default == "false" {
				fs.BoolFunc(s.Flag, s.Usage+"（"+s.Env+"）", func(v string) error { values[env] = v; return nil })
			} else {
				fs.Func(s.Flag, s.Usage+"（"+s.Env+"）", func(v string) error { values[env] = v; return nil })
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for _, s := range Settings {
		if err := s.set(&c, values[s.Env]); err != nil {
			src := s.Env
			if slices.Contains(names, s.Flag) {
				src += " / --" + s.Flag
			}
			return c, fmt.Errorf("配置错误 %s：%v", src, err)
		}
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	return c, nil
}

func fromEnv(s Setting, getenv func(string) string) (string, error) {
	if v := getenv(s.Env); v != "" {
		return v, nil
	}
	if s.Secret {
		if path := getenv(s.Env + "_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", fmt.Errorf("配置错误 %s_FILE：无法读取 %s：%v", s.Env, path, errors.Unwrap(err))
			}
			return strings.TrimRight(string(b), "\r\n"), nil
		}
	}
	return s.Default, nil
}
