// Package apperr holds the error codes every part of zwfw speaks. It imports
// nothing from the project so that any package can use it; the web and API
// layers map a code to an HTTP status in one table.
package apperr

import (
	"errors"
	"fmt"
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
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the user-facing message for err. Internal errors never
// leak their cause: the user reads a generic sentence and the log the cause.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "系统内部错误，请稍后重试。"
}

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
