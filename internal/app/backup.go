package app

// Backup and restore (issue 13): the logic is internal/backup; this wires
// the settings, the keys and the verification of the chains.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"

	"github.com/zwfw/zwfw/internal/backup"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/config"
	"github.com/zwfw/zwfw/internal/store"
)

var backupFlags = []string{"db", "data", "log-format", "log-level", "data-keys", "index-key", "audit-keys", "licence-keys",
	"s3-endpoint", "s3-bucket", "s3-region", "s3-access-key", "s3-secret-key", "s3-ssl"}

// siteKeys is the keys file of a site, in the demo's keys.json format: the
// configured keys, or else the demo's keys.json in the data folder (nil
// when there is neither).
type siteKeys struct {
	DataKeys    string `json:"data_keys"`
	IndexKey    string `json:"index_key"`
	AuditKeys   string `json:"audit_keys,omitempty"`
	LicenceKeys string `json:"licence_keys,omitempty"`
}

func readSiteKeys(cfg config.Config) (*siteKeys, error) {
	if cfg.DataKeys != "" || cfg.IndexKey != "" {
		return &siteKeys{cfg.DataKeys, cfg.IndexKey, cfg.AuditKeys, cfg.LicenceKeys}, nil
	}
	path := filepath.Join(cfg.DataDir, "keys.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var k siteKeys
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("密钥文件 %s 已损坏：%w", path, err)
	}
	if k.AuditKeys == "" {
		k.AuditKeys = cfg.AuditKeys
	}
	return &k, nil
}

// siteDB is the database setting, or the demo's file in the data folder.
func siteDB(cfg config.Config) string {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL
	}
	return filepath.Join(cfg.DataDir, "zwfw.db")
}

func runBackup(ctx context.Context, env *environment) error {
	cfg := env.cfg
	dsn := siteDB(cfg)
	if !store.IsPostgresURL(dsn) {
		// Opening a file that is not there would create an empty one.
		if _, err := os.Stat(dsn); err != nil {
			return fmt.Errorf("找不到数据库 %s：%w", dsn, err)
		}
	}
	keys, err := readSiteKeys(cfg)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	files, err := fileStore(ctx, cfg)
	if err != nil {
		return err
	}
	src := backup.Source{DB: db, DSN: dsn, Files: files, Version: version(), Now: clock.System{}.Now()}
	if keys != nil {
		src.KeyIDs = backup.KeyIDs{Data: backup.IDs(keys.DataKeys), Audit: backup.IDs(keys.AuditKeys), Licence: backup.IDs(keys.LicenceKeys)}
	}
	if cfg.BackupWithKeys {
		if keys == nil {
			return usageError{errors.New("--with-keys：未配置密钥（ZWFW_DATA_KEYS 等），数据目录中也没有 keys.json")}
		}
		src.Keys, _ = json.Marshal(keys)
	}
	m, err := backup.Create(ctx, src, env.args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "已备份到 %s：%s 数据库（结构版本 %d），办件 %d 件、事件 %d 条、审计日志 %d 条，文件 %d 个\n",
		env.args[0], m.Dialect, m.Schema, m.Counts["cases"], m.Counts["case_events"], m.Counts["audit_log"], len(m.Files))
	if cfg.BackupWithKeys {
		fmt.Fprintln(env.stderr, "警告：备份文件中含密钥，谁拿到它就能读出全部个人信息；请加密保存，并与日常备份分开存放。")
	} else {
		fmt.Fprintln(env.stdout, "备份中不含密钥：恢复后须使用同一组密钥（ZWFW_DATA_KEYS、ZWFW_INDEX_KEY、ZWFW_AUDIT_KEYS、ZWFW_LICENCE_KEYS），请与备份分开妥善保管。")
	}
	return nil
}

func runRestore(ctx context.Context, env *environment) error {
	cfg := env.cfg
	dsn := siteDB(cfg)
	work := cfg.DataDir
	if !store.IsPostgresURL(dsn) {
		// The unpacked database is renamed into place: same file system.
		work = filepath.Dir(dsn)
	}
	if err := os.MkdirAll(work, 0o700); err != nil {
		return fmt.Errorf("无法创建目录 %s：%w", work, err)
	}
	keys, err := readSiteKeys(cfg)
	if err != nil {
		return err
	}
	files, err := fileStore(ctx, cfg)
	if err != nil {
		return err
	}
	now := clock.System{}.Now()
	t := backup.Target{DSN: dsn, Files: files, KeysFile: filepath.Join(cfg.DataDir, "keys.json"), Force: cfg.RestoreForce, Work: work, Now: now}
	audit := cfg.AuditKeys
	if audit == "" && keys != nil {
		audit = keys.AuditKeys
	}
	if audit != "" {
		chain, err := chainhash.Parse(audit)
		if err != nil {
			return usageError{fmt.Errorf("配置错误 ZWFW_AUDIT_KEYS：%w", err)}
		}
		// The same check as zwfw audit verify, without the checkpoint:
		// a backup is older than the last one.
		t.Verify = func(ctx context.Context, db *store.DB) error {
			db.SetChainKeys(chain)
			fmt.Fprintln(env.stdout, "核对备份中的审计日志和办件哈希链：")
			return verifyRecords(ctx, db, "", now, env.stdout)
		}
	} else {
		fmt.Fprintln(env.stdout, "未设置审计完整性密钥（ZWFW_AUDIT_KEYS）：恢复前不核对哈希链；恢复后请运行 zwfw audit verify。")
	}
	m, err := backup.Restore(ctx, env.args[0], t)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "已恢复 %s（%s 备份）到 %s：办件 %d 件、事件 %d 条、审计日志 %d 条，文件 %d 个\n",
		env.args[0], m.Created.In(clock.China).Format("2006-01-02 15:04:05"), redact(dsn), m.Counts["cases"], m.Counts["case_events"], m.Counts["audit_log"], len(m.Files))
	switch {
	case m.Keys != nil:
		fmt.Fprintf(env.stdout, "备份中的密钥已写入 %s（生产环境请改为配置 ZWFW_DATA_KEYS 等，并删除该文件）\n", t.KeysFile)
	case keys == nil:
		fmt.Fprintf(env.stdout, "备份中不含密钥：请配置备份时所用的密钥（个人信息密钥 %v，审计密钥 %v）\n", m.KeyIDs.Data, m.KeyIDs.Audit)
	default:
		for _, id := range m.KeyIDs.Data {
			if !slices.Contains(backup.IDs(keys.DataKeys), id) {
				fmt.Fprintf(env.stderr, "警告：当前的个人信息密钥中没有备份时所用的 %s，用它加密的个人信息将无法读取\n", id)
			}
		}
	}
	return nil
}

// redact hides the password of a database URL.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && store.IsPostgresURL(dsn) {
		return u.Redacted()
	}
	return dsn
}
