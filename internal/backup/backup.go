// Package backup makes and restores a backup of a zwfw site: the database
// as of one moment and every file of the file store, in one tar archive
// whose manifest (written last) lists each part with its size and SHA-256,
// the schema's migration level and the rows counted in the same snapshot.
// Restore reads the whole archive into a working folder and checks all of
// it before it changes anything; see docs/OPERATIONS.md.
//
// On SQLite the snapshot is VACUUM INTO, a read transaction that a running
// server's writers do not wait for. On PostgreSQL it is pg_dump (custom
// format) run on a snapshot that a transaction of ours exported, so that
// the counts in the manifest are those of the dump.
//
// The keys are not in a backup unless asked for: an archive that holds the
// personal data and the key that decrypts it leaks both at once.
package backup

import (
	"archive/tar"
	"bytes"
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
	"sort"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/store"
)

// Format is the version of the archive's layout; restore refuses others.
const Format = 1

// Names of the archive's members.
const (
	manifestName = "manifest.json"
	sqliteName   = "database/zwfw.db"
	pgdumpName   = "database/zwfw.pgdump"
	keysName     = "keys.json"
	filesPrefix  = "files/"
)

// Manifest describes a backup. It is the archive's last member.
type Manifest struct {
	Format   int           `json:"format"`
	Created  time.Time     `json:"created"`
	Version  string        `json:"zwfw_version"` // of the binary that made it
	Dialect  store.Dialect `json:"dialect"`
	Schema   int           `json:"schema_version"` // migrations applied
	Queue    int           `json:"queue_version"`  // the job queue's
	Counts   Counts        `json:"counts"`
	Database Part          `json:"database"`
	Files    []Part        `json:"files"`
	// Keys is the keys file when the backup was made with its keys.
	Keys *Part `json:"keys,omitempty"`
	// KeyIDs name (never hold) the keys the data was written under, so
	// that restore can say which keys the site needs.
	KeyIDs KeyIDs `json:"key_ids"`
}

// Part is one member of the archive.
type Part struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// KeyIDs are the identifiers of a site's keys (the part before the colon
// of each id:base64 key).
type KeyIDs struct {
	Data    []string `json:"data,omitempty"`
	Audit   []string `json:"audit,omitempty"`
	Licence []string `json:"licence,omitempty"`
}

// IDs returns the identifiers of a key list "id:base64,…".
func IDs(keys string) []string {
	var ids []string
	for k := range strings.SplitSeq(keys, ",") {
		if id, _, ok := strings.Cut(strings.TrimSpace(k), ":"); ok && id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// Counts are rows of the main tables, counted in the backup's snapshot.
type Counts map[string]int64

// countedTables are the tables whose rows a manifest counts: the records
// people would miss first, and the chained logs.
var countedTables = []string{"accounts", "cases", "case_events", "case_materials", "staged_files", "audit_log", "complaints", "sharing_log"}

func count(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (Counts, error) {
	c := Counts{}
	for _, t := range countedTables {
		var n int64
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("统计 %s 的行数：%w", t, err)
		}
		c[t] = n
	}
	return c, nil
}

// Source is what Create backs up.
type Source struct {
	DB  *store.DB
	DSN string // the database setting; pg_dump connects with it
	// Files is the file store (local or S3): every file in it goes into
	// the archive.
	Files filestore.Store
	// Keys, when not nil, is a keys file (as the demo's keys.json) put in
	// the archive: only when the operator asked for it.
	Keys    []byte
	KeyIDs  KeyIDs
	Version string
	Now     time.Time
	// PGDump is the pg_dump program ("": found on PATH or in
	// /usr/lib/postgresql/*/bin).
	PGDump string
}

// Create writes a backup of src to the file out, which must not exist.
// The archive is written under a temporary name beside out, flushed to
// disk and renamed: out is either whole or absent.
func Create(ctx context.Context, src Source, out string) (Manifest, error) {
	m := Manifest{Format: Format, Created: src.Now.UTC(), Version: src.Version, Dialect: src.DB.Dialect, KeyIDs: src.KeyIDs}
	if _, err := os.Stat(out); err == nil {
		return m, fmt.Errorf("备份文件 %s 已存在，不会覆盖；请换一个文件名", out)
	}
	dir := filepath.Dir(out)
	work, err := os.MkdirTemp(dir, ".zwfw-backup-")
	if err != nil {
		return m, fmt.Errorf("无法在 %s 建立临时目录：%w", dir, err)
	}
	defer os.RemoveAll(work)

	st, err := src.DB.Status(ctx)
	if err != nil {
		return m, err
	}
	if st.Ahead() || st.Behind() {
		return m, fmt.Errorf("无法备份：%w", st.Check())
	}
	m.Schema, m.Queue = st.Current, st.QueueCurrent

	// The database first: the files listed after it include every file
	// its snapshot refers to (files are removed only once nothing refers
	// to them; a new one stays in the stage, inside the database, until
	// the file store has it).
	var dbPath string
	switch src.DB.Dialect {
	case store.SQLite:
		dbPath = filepath.Join(work, "zwfw.db")
		m.Database.Name = sqliteName
		m.Counts, err = snapshotSQLite(ctx, src.DB, dbPath)
	case store.Postgres:
		dbPath = filepath.Join(work, "zwfw.pgdump")
		m.Database.Name = pgdumpName
		m.Counts, err = dumpPostgres(ctx, src, dbPath)
	default:
		err = fmt.Errorf("不支持的数据库 %s", src.DB.Dialect)
	}
	if err != nil {
		return m, err
	}

	f, err := os.CreateTemp(dir, ".zwfw-backup-*.part")
	if err != nil {
		return m, fmt.Errorf("无法写入 %s：%w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil { // it holds personal data
		return m, err
	}
	tw := tar.NewWriter(f)
	if m.Database, err = addFile(tw, m.Database.Name, dbPath, src.Now); err != nil {
		return m, err
	}
	if err := src.Files.List(ctx, func(sum string, _ time.Time) error {
		p, err := addStored(ctx, tw, src.Files, sum, src.Now)
		if errors.Is(err, filestore.ErrNotFound) {
			return nil // removed since listed: nothing refers to it
		}
		m.Files = append(m.Files, p)
		return err
	}); err != nil {
		return m, fmt.Errorf("备份文件存储：%w", err)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Name < m.Files[j].Name })
	if src.Keys != nil {
		p, err := addBytes(tw, keysName, src.Keys, src.Now)
		if err != nil {
			return m, err
		}
		m.Keys = &p
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if _, err := addBytes(tw, manifestName, b, src.Now); err != nil {
		return m, err
	}
	if err := tw.Close(); err != nil {
		return m, fmt.Errorf("写入备份文件：%w", err)
	}
	if err := f.Sync(); err != nil {
		return m, fmt.Errorf("写入备份文件：%w", err)
	}
	if err := f.Close(); err != nil {
		return m, fmt.Errorf("写入备份文件：%w", err)
	}
	// Link, not rename: it fails rather than replace a file that
	// appeared at out meanwhile.
	if err := os.Link(f.Name(), out); err != nil {
		return m, fmt.Errorf("无法保存备份文件 %s：%w", out, err)
	}
	os.Remove(f.Name())
	done = true
	return m, syncDir(dir)
}

// snapshotSQLite writes the database as of one moment to path with VACUUM
// INTO, which reads in one transaction (WAL: writers go on meanwhile), and
// counts the rows of the copy.
func snapshotSQLite(ctx context.Context, db *store.DB, path string) (Counts, error) {
	// The write pool: the readers are query_only. In this process
	// nothing else writes; other processes' writers do not wait for it.
	if _, err := db.WritePool().ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return nil, fmt.Errorf("SQLite 快照（VACUUM INTO）失败：%w", err)
	}
	snap, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	var check string
	if err := snap.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil || check != "ok" {
		return nil, fmt.Errorf("SQLite 快照未通过完整性检查：%s %v", check, err)
	}
	return count(ctx, snap)
}

// dumpPostgres runs pg_dump on a snapshot exported by a transaction that
// counts the rows meanwhile: dump and counts are the same moment.
func dumpPostgres(ctx context.Context, src Source, path string) (Counts, error) {
	if err := plainLibpqURL(src.DSN); err != nil {
		return nil, err
	}
	pgDump, err := program(src.PGDump, "pg_dump")
	if err != nil {
		return nil, fmt.Errorf("%w；也可以手工备份：pg_dump --format=custom --file=zwfw.pgdump '连接串'，并复制文件存储的全部文件（见 docs/OPERATIONS.md）", err)
	}
	tx, err := src.DB.WritePool().BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() // read only
	var snapshot string
	if err := tx.QueryRowContext(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
		return nil, fmt.Errorf("导出 PostgreSQL 快照：%w", err)
	}
	counts, err := count(ctx, tx)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, pgDump, "--format=custom", "--snapshot="+snapshot, "--file="+path, "--dbname="+src.DSN)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_dump 失败：%v：%s", err, strings.TrimSpace(string(out)))
	}
	return counts, nil
}

// plainLibpqURL refuses a URL that pg_dump would read differently from the
// server: search_path is a setting of the Go driver, not of libpq, and
// pg_dump backs up a whole database.
func plainLibpqURL(dsn string) error {
	if strings.Contains(dsn, "search_path=") {
		return errors.New("连接串含 search_path：备份与恢复针对整个数据库，请去掉该参数")
	}
	return nil
}

// program finds a PostgreSQL client program: the one given, else on PATH,
// else in the newest /usr/lib/postgresql/*/bin (Debian's layout).
func program(given, name string) (string, error) {
	if given != "" {
		return given, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(dirs) > 0 {
		sort.Strings(dirs)
		return dirs[len(dirs)-1], nil
	}
	return "", fmt.Errorf("找不到 %s（PostgreSQL 客户端程序）：请安装 postgresql-client，版本不低于数据库服务器", name)
}

func header(name string, size int64, now time.Time) *tar.Header {
	return &tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: now, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
}

func addFile(tw *tar.Writer, name, path string, now time.Time) (Part, error) {
	f, err := os.Open(path)
	if err != nil {
		return Part{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Part{}, err
	}
	return addReader(tw, name, fi.Size(), f, now)
}

func addBytes(tw *tar.Writer, name string, b []byte, now time.Time) (Part, error) {
	return addReader(tw, name, int64(len(b)), bytes.NewReader(b), now)
}

func addReader(tw *tar.Writer, name string, size int64, r io.Reader, now time.Time) (Part, error) {
	if err := tw.WriteHeader(header(name, size, now)); err != nil {
		return Part{}, fmt.Errorf("写入备份文件：%w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), r)
	if err != nil {
		return Part{}, fmt.Errorf("写入备份文件（%s）：%w", name, err)
	}
	if n != size {
		return Part{}, fmt.Errorf("写入备份文件（%s）：读到 %d 字节，应为 %d", name, n, size)
	}
	return Part{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// addStored copies one stored file, checking that its content still has
// its address: a file damaged on disk is reported, not backed up.
func addStored(ctx context.Context, tw *tar.Writer, files filestore.Store, sum string, now time.Time) (Part, error) {
	rc, obj, err := files.Open(ctx, sum)
	if err != nil {
		return Part{}, err
	}
	defer rc.Close()
	p, err := addReader(tw, filesPrefix+sum, obj.Size, rc, now)
	if err != nil {
		return p, err
	}
	if p.SHA256 != sum {
		return p, fmt.Errorf("文件 %s 的内容与其校验值不符（文件存储中的文件已损坏）", sum)
	}
	return p, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
