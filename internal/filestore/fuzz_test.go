package filestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"unicode"

	"github.com/zwfw/zwfw/internal/apperr"
)

// Uploads are anyone's bytes. Inspect (a material held in memory) and
// spool (the streamed path every Put takes) must agree on every input: the
// same object, or the same refusal, in Chinese; what they accept begins
// like a PDF, JPEG or PNG, fits the limit and is addressed by its digest.
func FuzzInspect(f *testing.F) {
	f.Add([]byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"), uint16(4096))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, uint16(10))
	f.Add([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 0x0D}, uint16(11))
	f.Add([]byte("MZ\x90\x00 an executable renamed to .pdf"), uint16(4096))
	f.Add([]byte("%PDF"), uint16(1))
	f.Add([]byte{}, uint16(0))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		max := int64(limit) + 1 // spool takes positive limits only
		got, err := Inspect(data, max)
		tmp, streamed, serr := spool(context.Background(), bytes.NewReader(data), max, dir, "fuzz-*")
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
		if (err == nil) != (serr == nil) || got != streamed ||
			err != nil && (errors.Is(err, ErrType) != errors.Is(serr, ErrType) || apperr.MessageOf(err) != apperr.MessageOf(serr)) {
			t.Fatalf("Inspect and Put disagree:\n%+v %v\n%+v %v", got, err, streamed, serr)
		}
		if err != nil {
			if !errors.Is(err, ErrType) && !errors.Is(err, ErrTooLarge) || !hasHan(apperr.MessageOf(err)) {
				t.Fatalf("refused without a Chinese reason: %v", err)
			}
			return
		}
		sum := sha256.Sum256(data)
		if got.SHA256 != hex.EncodeToString(sum[:]) || got.Size != int64(len(data)) || got.Size > max ||
			got.ContentType != DetectType(data) || got.ContentType == "" {
			t.Fatalf("accepted %d bytes as %+v", len(data), got)
		}
	})
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
