package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/zwfw/zwfw/internal/store"
)

var postgresTemplate struct {
	once sync.Once
	name string
	err  error
}

// migratedPostgres returns the name of a database on base's server that
// holds the schema's migrations and nothing else, for the tests to copy
// (Postgres). It is named after what it holds — the migrations' text and
// the job queue's version — so that every test binary of a run, and the
// runs after it, share it, and a changed migration gets a template of its
// own; an advisory lock keeps two binaries from making it at once. The
// template stays on the server (zwfw_tpl_*; drop them when no tests run).
func migratedPostgres(base string) (string, error) {
	postgresTemplate.once.Do(func() {
		postgresTemplate.name, postgresTemplate.err = makeTemplate(base)
	})
	return postgresTemplate.name, postgresTemplate.err
}

func makeTemplate(base string) (string, error) {
	ms, err := store.Migrations(store.Postgres)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range ms {
		h.Write([]byte(m.Name + "\x00" + m.SQL + "\x00"))
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/riverqueue/river" {
				h.Write([]byte(d.Version))
			}
		}
	}
	sum := h.Sum(nil)
	name := "zwfw_tpl_" + hex.EncodeToString(sum[:6])

	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	lock := int64(binary.BigEndian.Uint64(sum[:8]))
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lock); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, lock)
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil || exists {
		return name, err
	}
	// Made under another name and renamed when whole, so that a binary
	// killed while migrating leaves no half-made template behind this name.
	making := RandomName("zwfw_making_")
	if err := CreateDatabase(base, making, ""); err != nil {
		return "", err
	}
	db, err := store.Open(ctx, DatabaseURL(base, making), store.Options{})
	if err != nil {
		DropDatabase(base, making)
		return "", err
	}
	_, err = db.Migrate(ctx)
	if err = errors.Join(err, db.Close()); err != nil {
		DropDatabase(base, making)
		return "", err
	}
	// The pool's server processes may still be ending: PostgreSQL renames
	// a database no one is connected to.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err = conn.ExecContext(ctx, `ALTER DATABASE `+making+` RENAME TO `+name)
		if err == nil {
			return name, nil
		}
		if !strings.Contains(err.Error(), "being accessed by other users") || time.Now().After(deadline) {
			DropDatabase(base, making)
			return "", err
		}
	}
}
