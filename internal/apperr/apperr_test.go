package apperr_test

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/zwfw/zwfw/internal/apperr"
)

// sqlState is an error that reports a PostgreSQL SQLSTATE, as pgx's do.
type sqlState string

func (s sqlState) Error() string    { return "pg: " + string(s) }
func (s sqlState) SQLState() string { return string(s) }

// sqliteCode is an error that reports a SQLite result code, as
// modernc.org/sqlite's do.
type sqliteCode int

func (c sqliteCode) Error() string { return fmt.Sprintf("sqlite: %d", int(c)) }
func (c sqliteCode) Code() int     { return int(c) }

func TestLostConnectionIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for name, tc := range map[string]struct {
		err  error
		want apperr.Code
	}{
		"refused, wrapped":            {fmt.Errorf("open case: %w", refused), apperr.Unavailable},
		"bad connection":              {fmt.Errorf("query: %w", driver.ErrBadConn), apperr.Unavailable},
		"reset":                       {syscall.ECONNRESET, apperr.Unavailable},
		"server shutting down":        {sqlState("57P01"), apperr.Unavailable},
		"server starting":             {fmt.Errorf("connect: %w", sqlState("57P03")), apperr.Unavailable},
		"connection exception":        {sqlState("08006"), apperr.Unavailable},
		"internal around a lost conn": {apperr.Wrap(apperr.Internal, "保存失败", refused), apperr.Unavailable},
		// A step's own answer stands: the conflict is what the user must read.
		"conflict around a lost conn": {apperr.Wrap(apperr.Conflict, "内容已变化", refused), apperr.Conflict},
		"unique violation":            {sqlState("23505"), apperr.Internal},
		"postgres disk full":          {fmt.Errorf("insert: %w", sqlState("53100")), apperr.Unavailable},
		"sqlite full":                 {sqliteCode(13), apperr.Unavailable},
		"sqlite busy":                 {sqliteCode(5), apperr.Internal},
		"no space":                    {fmt.Errorf("write: %w", syscall.ENOSPC), apperr.Unavailable},
		"a bug":                       {errors.New("nil map"), apperr.Internal},
	} {
		if got := apperr.CodeOf(tc.err); got != tc.want {
			t.Errorf("%s: %s, want %s", name, got, tc.want)
		}
	}
	if msg := apperr.MessageOf(fmt.Errorf("x: %w", sqlState("57P01"))); msg != "系统暂时无法连接数据库，请稍后重试。" {
		t.Errorf("message %q", msg)
	}
	if msg := apperr.MessageOf(sqliteCode(13)); msg != "服务器存储空间不足，本次操作未保存，请稍后再试。" {
		t.Errorf("message of a full disk %q", msg)
	}
	if msg := apperr.MessageOf(sqlState("23505")); msg != "系统内部错误，请稍后重试。" {
		t.Errorf("message of an internal error %q", msg)
	}
}
