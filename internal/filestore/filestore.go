// Package filestore keeps the files of zwfw: the materials applicants upload
// for their cases and the results departments attach. Every file is
// addressed by the SHA-256 of its content, so the same file uploaded twice is
// stored once, and a reference to a file (the hex digest) also proves its
// integrity.
//
// Two implementations share one contract:
//
//   - Local keeps files in a directory (single instance, demo, small sites).
//     An acknowledged Put has been fsynced, file and directories.
//   - S3 keeps them in an S3-compatible object store (AWS S3, MinIO, Aliyun
//     OSS, Tencent COS, …) so several instances can share them.
//
// Only PDF, JPEG and PNG are accepted. The type is detected from the bytes,
// never from a file name or a client-supplied header, so an executable
// renamed to .pdf is refused.
//
// Errors meant for users are *apperr.Error values with a Chinese message;
// errors.Is matches them against ErrTooLarge, ErrType and ErrNotFound, and
// their cause (for the logs) stays in the chain.
package filestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
)

// Content types that the store accepts.
const (
	TypePDF  = "application/pdf"
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
)

// Object describes a stored file.
type Object struct {
	SHA256      string // lowercase hex digest of the content; the file's address
	Size        int64  // bytes
	ContentType string // TypePDF, TypeJPEG or TypePNG, detected from the content
}

// Store is a content-addressed file store.
type Store interface {
	// Put streams r to storage while hashing it and returns the stored
	// object. It refuses content beyond maxBytes (ErrTooLarge) and content
	// that is not PDF, JPEG or PNG (ErrType). Content is written to a
	// temporary location and moved into place atomically: a crash never
	// leaves a partial file under its final name. When Put returns nil the
	// file is durable. Storing content that is already stored is a no-op
	// that returns the same Object.
	Put(ctx context.Context, r io.Reader, maxBytes int64) (Object, error)
	// Open returns the content addressed by sha256 (lowercase hex) and its
	// description; ErrNotFound when there is none. The caller closes it.
	Open(ctx context.Context, sha256 string) (io.ReadCloser, Object, error)
	// Exists reports whether content addressed by sha256 is stored.
	Exists(ctx context.Context, sha256 string) (bool, error)
	// Delete removes the content addressed by sha256; removing what is
	// not stored is no error. Files are shared by content, so only
	// internal/staging calls it, once nothing refers to the file.
	Delete(ctx context.Context, sha256 string) error
	// List calls fn with the address of every stored file and when it was
	// stored, in no particular order; an error from fn stops the listing.
	List(ctx context.Context, fn func(sha256 string, stored time.Time) error) error
}

// Sentinel errors, matched with errors.Is. They are also *apperr.Error values
// so apperr.CodeOf and apperr.MessageOf work on them directly; the errors Put
// and Open return carry a more precise message (ErrTooLarge states the limit)
// and the cause.
var (
	ErrTooLarge = apperr.New(apperr.TooLarge, "文件超过大小限制")
	ErrType     = apperr.New(apperr.Invalid, "只能上传 PDF、JPEG 或 PNG 文件")
	ErrNotFound = apperr.New(apperr.NotFound, "文件不存在")
	// ErrNoSpace: the disk under the store (or its temporary folder) is
	// full. Nothing was stored; the upload may be tried again once space
	// is freed.
	ErrNoSpace = apperr.New(apperr.Unavailable, "服务器存储空间不足，文件未保存，请稍后再试")
	// ErrUnavailable: the object store did not answer (down, restarting,
	// unreachable). Nothing was stored.
	ErrUnavailable = apperr.New(apperr.Unavailable, "文件存储暂时不可用，文件未保存，请稍后再试")
)

// writeError classifies a failure writing to local disk. A full disk (or
// an exhausted quota) is the one place ENOSPC becomes a message a person
// can read; any other failure stays internal.
func writeError(what string, err error) error {
	err = fmt.Errorf("filestore: %s: %w", what, err)
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return userError(ErrNoSpace, "", err)
	}
	return err
}

// userError builds the error returned to callers: an *apperr.Error with the
// sentinel's code and the given message whose chain holds both the sentinel
// (for errors.Is) and the cause (for the logs).
func userError(kind *apperr.Error, message string, cause error) error {
	if message == "" {
		message = kind.Message
	}
	return &apperr.Error{Code: kind.Code, Message: message, Cause: &chain{kind: kind, cause: cause}}
}

// chain links a sentinel and a cause without repeating the sentinel's text in
// Error().
type chain struct {
	kind  error
	cause error
}

func (c *chain) Error() string {
	if c.cause == nil {
		return "filestore"
	}
	return c.cause.Error()
}

func (c *chain) Unwrap() []error {
	if c.cause == nil {
		return []error{c.kind}
	}
	return []error{c.kind, c.cause}
}

func tooLarge(maxBytes int64, cause error) error {
	return userError(ErrTooLarge, "文件超过大小限制（最大 "+formatLimit(maxBytes)+"）", cause)
}

func notFound(sum string, cause error) error {
	if cause == nil {
		cause = fmt.Errorf("filestore: no object %q", sum)
	}
	return userError(ErrNotFound, "", cause)
}

// formatLimit writes a byte limit the way a user reads it: "10 MB", "1.5 MB";
// limits under one megabyte in KB or bytes so that they never read "0 MB".
// (MB here is 2^20 bytes, as upload limits are configured.)
func formatLimit(n int64) string {
	const kb, mb = 1 << 10, 1 << 20
	unit, div := "MB", int64(mb)
	switch {
	case n < kb:
		return strconv.FormatInt(n, 10) + " 字节"
	case n < mb:
		unit, div = "KB", kb
	}
	if n%div == 0 {
		return strconv.FormatInt(n/div, 10) + " " + unit
	}
	// Round down to two decimals: the stated limit must not exceed the real one.
	hundredths := n * 100 / div
	s := strconv.FormatFloat(float64(hundredths)/100, 'f', -1, 64)
	return s + " " + unit
}

// magic is how each accepted type begins.
var magic = []struct {
	prefix []byte
	ctype  string
}{
	{[]byte("%PDF-"), TypePDF},
	{[]byte{0xFF, 0xD8, 0xFF}, TypeJPEG},
	{[]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, TypePNG},
}

// sniffLen is how many leading bytes detection needs.
const sniffLen = 8

// DetectType returns the content type of a file beginning with head, or ""
// when it is none of PDF, JPEG and PNG. head needs at most 8 bytes.
func DetectType(head []byte) string {
	for _, m := range magic {
		if bytes.HasPrefix(head, m.prefix) {
			return m.ctype
		}
	}
	return ""
}

// ValidSHA256 reports whether s is a lowercase hex SHA-256 digest, the only
// form of address the stores accept (it keeps paths and keys safe).
func ValidSHA256(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Inspect describes content held in memory as Put would store it: its
// type detected from the bytes (ErrType for anything but PDF, JPEG and
// PNG), its size (ErrTooLarge beyond maxBytes) and its SHA-256.
// The type is checked first, as spool does, so that the same file gets the
// same refusal whichever way it came.
func Inspect(data []byte, maxBytes int64) (Object, error) {
	head := data[:min(len(data), sniffLen)]
	ctype := DetectType(head)
	if ctype == "" {
		return Object{}, userError(ErrType, "", fmt.Errorf("filestore: refused content (%d leading bytes %x)", len(head), head))
	}
	if int64(len(data)) > maxBytes {
		return Object{}, tooLarge(maxBytes, fmt.Errorf("filestore: content of %d bytes", len(data)))
	}
	sum := sha256.Sum256(data)
	return Object{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), ContentType: ctype}, nil
}

// spool copies r into a new temporary file in dir while hashing it, after
// checking its type from the first bytes and while enforcing maxBytes. On
// success the returned file holds the content (not yet flushed to disk) and
// is positioned at its start; the caller closes and removes it. On failure
// nothing is left in dir.
func spool(ctx context.Context, r io.Reader, maxBytes int64, dir, pattern string) (*os.File, Object, error) {
	if maxBytes <= 0 {
		return nil, Object{}, fmt.Errorf("filestore: maxBytes must be positive, got %d", maxBytes)
	}
	if err := ctx.Err(); err != nil {
		return nil, Object{}, err
	}
	cr := &ctxReader{ctx: ctx, r: r}

	head := make([]byte, sniffLen)
	n, err := io.ReadFull(cr, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, Object{}, readError(maxBytes, err)
	}
	head = head[:n]
	ctype := DetectType(head)
	if ctype == "" {
		return nil, Object{}, userError(ErrType, "", fmt.Errorf("filestore: refused content (%d leading bytes %x, sniffed as %s)",
			len(head), head, http.DetectContentType(head)))
	}
	if int64(n) > maxBytes {
		return nil, Object{}, tooLarge(maxBytes, fmt.Errorf("filestore: upload over %d bytes", maxBytes))
	}

	tmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, Object{}, writeError("create temp file", err)
	}
	fail := func(err error) (*os.File, Object, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, Object{}, err
	}

	h := sha256.New()
	w := &writeErr{w: io.MultiWriter(tmp, h)}
	if _, err := w.Write(head); err != nil {
		return fail(writeError("write temp file", err))
	}
	// Read one byte past the limit to tell "exactly maxBytes" from "more".
	rest := io.LimitReader(cr, maxBytes-int64(n)+1)
	buf := make([]byte, 128<<10)
	copied, err := io.CopyBuffer(w, rest, buf)
	if err != nil {
		if w.err != nil {
			return fail(writeError("write temp file", err))
		}
		return fail(readError(maxBytes, err))
	}
	size := int64(n) + copied
	if size > maxBytes {
		return fail(tooLarge(maxBytes, fmt.Errorf("filestore: upload over %d bytes", maxBytes)))
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fail(fmt.Errorf("filestore: rewind temp file: %w", err))
	}
	return tmp, Object{SHA256: hexSum(h), Size: size, ContentType: ctype}, nil
}

// readError classifies a failure reading the upload. An http.MaxBytesReader
// set by the HTTP layer hitting its limit is the user's file being too large.
func readError(maxBytes int64, err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(maxBytes, err)
	}
	return fmt.Errorf("filestore: read upload: %w", err)
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// ctxReader stops a copy once ctx is done (a client that went away, a
// shutdown).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// writeErr remembers a write failure so that a failed copy can be blamed on
// the right side (the disk, not the upload).
type writeErr struct {
	w   io.Writer
	err error
}

func (w *writeErr) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}
