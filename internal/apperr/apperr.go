// Package apperr holds the error codes every part of zwfw speaks. It imports
// nothing from the project so that any package can use it; the web and API
// layers map a code to an HTTP status in one table.
package apperr

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// Code classifies an error for callers: it decides the HTTP status and
// whether the message may be shown to the user.
type Code string

const (
	Invalid      Code = "invalid"      // the request is malformed or fails a rule
	NotFound     Code = "not_found"    // the thing does not exist (or must not be revealed)
	Conflict     Code = "conflict"     // the state changed under the caller, or a duplicate
	Forbidden    Code = "forbidden"    // the caller is known but may not do this
	Unauthorized Code = "unauthorized" // the caller must sign in first
	TooLarge     Code = "too_large"    // the request body is over the limit
	TooMany      Code = "too_many"     // rate-limited: try again later
	Unavailable  Code = "unavailable"  // a dependency is down; try again later
	Internal     Code = "internal"     // a bug or an unexpected failure; details only in logs
)

// Error is a domain error: a code, a message in Chinese safe to show a user,
// and an optional cause for the logs.
type Error struct {
	Code    Code
	Message string
	Cause   error
	// Fields holds a message per form field, when the error is about a
	// form: a page shows each beside its field, the API returns them.
	Fields map[string]string
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// New returns an error with a code and a user-facing message.
func New(code Code, message string) *Error { return &Error{Code: code, Message: message} }

// Wrap attaches a code and message to a cause.
func Wrap(code Code, message string, cause error) *Error {
	return &Error{Code: code, Message: message, Cause: cause}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
// A lost connection is Unavailable (see classify).
func CodeOf(err error) Code {
	if e := classify(err); e != nil {
		return e.Code
	}
	return Internal
}

// MessageOf returns the user-facing message for err. Internal errors never
// leak their cause: the user reads a generic sentence and the log the cause.
func MessageOf(err error) string {
	if e := classify(err); e != nil && e.Code != Internal {
		return e.Message
	}
	return "系统内部错误，请稍后重试。"
}

// connectionLost answers an error that says a connection was refused or
// broken — the database restarting or failing over, most often — which
// any step may meet and no step raises itself: a request that meets one
// may succeed if sent again in a moment, so it is Unavailable (503), not
// a bug (500). This is the one place that decides it, for every page and
// API (the reliability tests restart PostgreSQL under load).
var connectionLost = New(Unavailable, "系统暂时无法连接数据库，请稍后重试。")

// storageFull answers an error that says the database's disk is full:
// the transaction was rolled back, so nothing was saved, and the request
// may succeed once an operator frees space (503, not a bug's 500). The
// file store says the same of its own disk (filestore.ErrNoSpace).
var storageFull = New(Unavailable, "服务器存储空间不足，本次操作未保存，请稍后再试。")

// classify returns the first *Error in err's chain, or connectionLost or
// storageFull for an error that is Internal or uncoded and was caused by
// a lost connection or a full disk, or nil.
func classify(err error) *Error {
	var e *Error
	found := errors.As(err, &e)
	if !found || e.Code == Internal {
		switch {
		case lostConnection(err):
			return connectionLost
		case diskFull(err):
			return storageFull
		}
	}
	if found {
		return e
	}
	return nil
}

// lostConnection recognises the errors of a connection refused, reset or
// closed under a query, without importing a driver: network errors, the
// database/sql marker of a bad connection, and PostgreSQL's SQLSTATE
// class 08 (connection exception) and 57P01–57P03 (the server shutting
// down, crashed, or still starting), which pgx errors report through
// SQLState.
func lostConnection(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		s := pg.SQLState()
		return strings.HasPrefix(s, "08") || s == "57P01" || s == "57P02" || s == "57P03"
	}
	var op *net.OpError
	return errors.As(err, &op)
}

// diskFull recognises a full disk under the database, without importing a
// driver: ENOSPC or EDQUOT in the chain, PostgreSQL's SQLSTATE 53100
// (disk_full), and SQLite's SQLITE_FULL (primary result code 13, which
// modernc.org/sqlite's errors report through Code).
func diskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		return pg.SQLState() == "53100"
	}
	var lite interface{ Code() int }
	return errors.As(err, &lite) && lite.Code()&0xff == sqliteFull
}

// sqliteFull is SQLite's SQLITE_FULL: "database or disk is full".
const sqliteFull = 13

// FieldsOf returns the per-field messages of the first *Error in err's
// chain, if any.
func FieldsOf(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }
