package backup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/store"
)

// Target is where Restore puts a backup.
type Target struct {
	// DSN is the database: a SQLite file path (absent, or replaced with
	// Force), or the URL of an empty PostgreSQL database.
	DSN string
	// Files is the file store the backup's files go into.
	Files filestore.Store
	// KeysFile is where the archive's keys file goes, when it has one
	// ("": not written); an existing one is replaced only with Force.
	KeysFile string
	// Force replaces an existing SQLite database (and keys file); the old
	// ones are kept beside it, renamed.
	Force bool
	// Verify, when set, checks the restored database (the hash chains, as
	// zwfw audit verify does): on SQLite before it is put in place.
	Verify func(ctx context.Context, db *store.DB) error
	// Work is a folder for the unpacked archive: for SQLite it must be on
	// the same file system as DSN.
	Work      string
	Now       time.Time
	PGRestore string // "": found as PGDump is
}

// Restore checks the archive at path whole (manifest, sizes, checksums;
// on SQLite also the database's integrity check, row counts and t.Verify)
// and only then restores it: files first (they are content-addressed, so a
// file restored by an attempt that fails later changes nothing anybody
// sees), the database last, by a rename on SQLite and in one transaction
// on PostgreSQL, where the counts and t.Verify are checked after.
func Restore(ctx context.Context, path string, t Target) (Manifest, error) {
	pg := store.IsPostgresURL(t.DSN)
	sqlitePath := strings.TrimPrefix(t.DSN, "sqlite:")
	// Refuse early what would be refused at the end.
	if !pg {
		if err := checkAbsent(sqlitePath, t.Force); err != nil {
			return Manifest{}, err
		}
	}
	if pg {
		if err := plainLibpqURL(t.DSN); err != nil {
			return Manifest{}, err
		}
		if err := checkEmpty(ctx, t.DSN); err != nil {
			return Manifest{}, err
		}
	}

	work, err := os.MkdirTemp(t.Work, ".zwfw-restore-")
	if err != nil {
		return Manifest{}, fmt.Errorf("无法在 %s 建立临时目录：%w", t.Work, err)
	}
	defer os.RemoveAll(work)
	m, err := unpack(path, work)
	if err != nil {
		return m, err
	}
	want := store.SQLite
	if pg {
		want = store.Postgres
	}
	if m.Dialect != want {
		return m, fmt.Errorf("这是 %s 数据库的备份，不能恢复到 %s 数据库", m.Dialect, want)
	}
	ms, err := store.Migrations(m.Dialect)
	if err != nil {
		return m, err
	}
	if m.Schema > len(ms) {
		return m, fmt.Errorf("备份的数据库结构（版本 %d）比本程序（版本 %d）新：请使用更新版本的 zwfw 恢复", m.Schema, len(ms))
	}
	if m.Keys != nil && t.KeysFile != "" {
		if err := checkAbsent(t.KeysFile, t.Force); err != nil {
			return m, err
		}
	}
	staged := filepath.Join(work, filepath.FromSlash(m.Database.Name))
	if !pg {
		if err := checkSQLite(ctx, staged, m, t.Verify); err != nil {
			return m, err
		}
	} else if err := listDump(t.PGRestore, staged); err != nil {
		return m, err
	}

	for _, p := range m.Files {
		if err := putFile(ctx, t.Files, filepath.Join(work, filepath.FromSlash(p.Name)), p); err != nil {
			return m, err
		}
	}
	if m.Keys != nil && t.KeysFile != "" {
		if err := replace(filepath.Join(work, keysName), t.KeysFile, t.Now); err != nil {
			return m, fmt.Errorf("恢复密钥文件：%w", err)
		}
	}
	if !pg {
		return m, replace(staged, sqlitePath, t.Now)
	}
	return m, restorePostgres(ctx, staged, m, t)
}

// checkAbsent refuses to replace an existing file unless forced.
func checkAbsent(path string, force bool) error {
	if _, err := os.Stat(path); err == nil && !force {
		return fmt.Errorf("%s 已存在：恢复不会覆盖现有数据；确需覆盖请先停止服务，再加 --force（原文件将改名保留）", path)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// checkEmpty refuses a PostgreSQL database that holds any table, view or
// sequence outside the system schemas.
func checkEmpty(ctx context.Context, dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
		WHERE s.nspname NOT IN ('pg_catalog', 'information_schema') AND s.nspname NOT LIKE 'pg\_%'
		AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')`).Scan(&n)
	if err != nil {
		return fmt.Errorf("无法连接目标数据库：%w", err)
	}
	if n > 0 {
		return fmt.Errorf("目标数据库不是空的（已有 %d 个表、视图或序列）：PostgreSQL 只恢复到新建的空数据库（CREATE DATABASE …），恢复后再把 ZWFW_DATABASE_URL 指向它", n)
	}
	return nil
}

// unpack reads the archive into work, checking every member against the
// manifest: it returns an error unless the archive is whole.
func unpack(path, work string) (Manifest, error) {
	var m Manifest
	f, err := os.Open(path)
	if err != nil {
		return m, fmt.Errorf("无法打开备份文件：%w", err)
	}
	defer f.Close()
	damaged := func(format string, a ...any) error {
		return fmt.Errorf("备份文件 %s 已损坏或不完整，未作任何更改：%s", path, fmt.Sprintf(format, a...))
	}
	got := map[string]Part{}
	tr := tar.NewReader(f)
	var manifest []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, damaged("%v", err)
		}
		if h.Typeflag != tar.TypeReg {
			return m, damaged("意外的条目 %q", h.Name)
		}
		if h.Name == manifestName {
			if manifest, err = io.ReadAll(io.LimitReader(tr, 64<<20)); err != nil {
				return m, damaged("%v", err)
			}
			continue
		}
		if !validName(h.Name) {
			return m, damaged("意外的条目 %q", h.Name)
		}
		if _, dup := got[h.Name]; dup {
			return m, damaged("条目 %q 重复", h.Name)
		}
		p, err := extract(tr, filepath.Join(work, filepath.FromSlash(h.Name)))
		if err != nil {
			return m, damaged("%s：%v", h.Name, err)
		}
		p.Name = h.Name
		got[h.Name] = p
	}
	if manifest == nil {
		return m, damaged("没有清单（manifest.json）")
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return m, damaged("清单无法读取：%v", err)
	}
	if m.Format != Format {
		return m, fmt.Errorf("备份格式版本 %d 不受本程序支持（支持 %d）", m.Format, Format)
	}
	want := map[string]Part{m.Database.Name: m.Database}
	if m.Database.Name != sqliteName && m.Database.Name != pgdumpName {
		return m, damaged("清单中的数据库条目 %q 无效", m.Database.Name)
	}
	for _, p := range m.Files {
		want[p.Name] = p
	}
	if m.Keys != nil {
		want[keysName] = *m.Keys
	}
	parts := len(m.Files) + 1
	if m.Keys != nil {
		parts++
	}
	if len(want) != parts {
		return m, damaged("清单中有重复的条目")
	}
	for name, p := range want {
		g, ok := got[name]
		switch {
		case !ok:
			return m, damaged("缺少 %s", name)
		case g != p:
			return m, damaged("%s 的校验值或大小与清单不符", name)
		case strings.HasPrefix(name, filesPrefix) && p.SHA256 != strings.TrimPrefix(name, filesPrefix):
			return m, damaged("%s 的内容与其文件名（校验值）不符", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			return m, damaged("清单中没有条目 %s", name)
		}
	}
	return m, nil
}

// validName admits only the members a backup has, so that no name can
// reach outside the working folder.
func validName(name string) bool {
	switch name {
	case sqliteName, pgdumpName, keysName:
		return true
	}
	sum, ok := strings.CutPrefix(name, filesPrefix)
	return ok && filestore.ValidSHA256(sum)
}

func extract(r io.Reader, path string) (Part, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Part{}, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return Part{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		return Part{}, err
	}
	if err := f.Sync(); err != nil {
		return Part{}, err
	}
	return Part{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, f.Close()
}

// checkSQLite opens the unpacked database as the server would and checks
// it: SQLite's integrity check, the row counts of the manifest, verify.
func checkSQLite(ctx context.Context, path string, m Manifest, verify func(context.Context, *store.DB) error) error {
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return fmt.Errorf("备份中的数据库无法打开：%w", err)
	}
	err = func() error {
		var check string
		if err := db.Read().QueryRow(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			return fmt.Errorf("备份中的数据库未通过完整性检查：%s %v", check, err)
		}
		return checkRestored(ctx, db, m, verify)
	}()
	if cerr := db.Close(); err == nil && cerr != nil {
		return cerr
	}
	if err != nil {
		return fmt.Errorf("%w；未作任何更改", err)
	}
	// The last connection closed has checkpointed the log into the file.
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return fmt.Errorf("备份中的数据库关闭后仍有未写入的日志（%d 字节）", fi.Size())
	}
	return nil
}

// checkRestored compares a restored database with its manifest.
func checkRestored(ctx context.Context, db *store.DB, m Manifest, verify func(context.Context, *store.DB) error) error {
	var c Counts
	err := db.Snapshot(ctx, func(q store.Querier) error {
		c = Counts{}
		for _, t := range countedTables {
			var n int64
			if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
				return fmt.Errorf("统计 %s 的行数：%w", t, err)
			}
			c[t] = n
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range countedTables {
		if c[t] != m.Counts[t] {
			return fmt.Errorf("恢复出的 %s 有 %d 行，清单记录 %d 行", t, c[t], m.Counts[t])
		}
	}
	if verify != nil {
		return verify(ctx, db)
	}
	return nil
}

// putFile stores one unpacked file; a file the store already has is left
// as it is (the same address is the same content).
func putFile(ctx context.Context, files filestore.Store, path string, p Part) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	obj, err := files.Put(ctx, f, max(p.Size, 1))
	if err != nil {
		return fmt.Errorf("恢复文件 %s：%w", p.SHA256, err)
	}
	if obj.SHA256 != p.SHA256 {
		return fmt.Errorf("恢复文件 %s：存入后的校验值为 %s", p.SHA256, obj.SHA256)
	}
	return nil
}

// replace moves from to path; an existing file at path (and a SQLite
// database's log beside it) is kept, renamed with the time.
func replace(from, path string, now time.Time) error {
	if _, err := os.Stat(path); err == nil {
		aside := path + ".before-restore-" + now.UTC().Format("20060102T150405Z")
		for _, suffix := range []string{"-wal", "-shm", ""} {
			if _, err := os.Stat(path + suffix); err == nil {
				if err := os.Rename(path+suffix, aside+suffix); err != nil {
					return err
				}
			}
		}
	}
	if err := os.Rename(from, path); err != nil {
		return fmt.Errorf("无法把恢复的数据移到 %s：%w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// listDump checks that pg_restore reads the dump's table of contents.
func listDump(given, dump string) error {
	pgRestore, err := program(given, "pg_restore")
	if err != nil {
		return err
	}
	if out, err := exec.Command(pgRestore, "--list", dump).CombinedOutput(); err != nil {
		return fmt.Errorf("备份中的数据库转储无法读取：%v：%s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// restorePostgres loads the dump into the empty database in one
// transaction (a failure leaves it empty), then checks it.
func restorePostgres(ctx context.Context, dump string, m Manifest, t Target) error {
	pgRestore, err := program(t.PGRestore, "pg_restore")
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, pgRestore, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
		"--dbname="+t.DSN, dump)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_restore 失败，目标数据库未作更改：%v：%s", err, strings.TrimSpace(string(out)))
	}
	db, err := store.Open(ctx, t.DSN, store.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkRestored(ctx, db, m, t.Verify); err != nil {
		return fmt.Errorf("已恢复到目标数据库，但核对未通过：%w", err)
	}
	return nil
}
