package casework_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// storedPDF puts a PDF of n bytes, distinct by tag, into files.
func storedPDF(t *testing.T, files filestore.Store, n int, tag string) filestore.Object {
	t.Helper()
	data := []byte(fmt.Sprintf("%%PDF-1.7 %s ", tag))
	data = append(data, bytes.Repeat([]byte{'x'}, n-len(data))...)
	obj, err := files.Put(context.Background(), bytes.NewReader(data), int64(n))
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// An applicant keeps at most the configured bytes of files on drafts; a
// replaced file does not count twice, and others have their own allowance.
func TestPendingUploadsAreCapped(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		local, err := filestore.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		files := staging.New(db, local)
		f.svc.UseFiles(files, 2000)
		first, err := f.svc.CreateDraft(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"})
		if err != nil {
			t.Fatal(err)
		}
		if first, err = f.svc.Attach(ctx, f.citizen, first.ID, first.Version, 0, storedPDF(t, files, 1200, "a"), "a.pdf", 0); err != nil {
			t.Fatal(err)
		}
		second, err := f.svc.CreateDraft(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Attach(ctx, f.citizen, second.ID, second.Version, 0, storedPDF(t, files, 1200, "b"), "b.pdf", 0)
		if !apperr.Is(err, apperr.TooLarge) || !strings.Contains(apperr.MessageOf(err), "上限") {
			t.Fatalf("a file over the allowance: %v", err)
		}
		if _, err := f.svc.Attach(ctx, f.citizen, first.ID, first.Version, 0, storedPDF(t, files, 1900, "c"), "c.pdf", 0); err != nil {
			t.Fatalf("replacing a draft's file within the allowance: %v", err)
		}
		other, err := f.svc.CreateDraft(ctx, f.other, f.itemID, map[string]string{"name": "李四"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Attach(ctx, f.other, other.ID, other.Version, 0, storedPDF(t, files, 1200, "d"), "d.pdf", 0); err != nil {
			t.Fatalf("another applicant: %v", err)
		}
	})
}

// Files are shared by content: a file that nothing referred to and was
// deleted between its upload and its recording is refused (upload again),
// and a file a case refers to is never deleted.
func TestDiscardAndRecordShareAFile(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		local, err := filestore.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		files := staging.New(db, local)
		f.svc.UseFiles(files, 0)
		c, err := f.svc.CreateDraft(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"})
		if err != nil {
			t.Fatal(err)
		}
		gone := storedPDF(t, files, 1000, "gone")
		if n, err := files.Discard(ctx, gone.SHA256); err != nil || n != 1 {
			t.Fatalf("discard an unreferenced file: %d %v", n, err)
		}
		if _, err := f.svc.Attach(ctx, f.citizen, c.ID, c.Version, 0, gone, "a.pdf", 0); !apperr.Is(err, apperr.Conflict) || !strings.Contains(apperr.MessageOf(err), "重新上传") {
			t.Fatalf("recording a deleted file: %v", err)
		}
		kept := storedPDF(t, files, 1000, "kept")
		if _, err := f.svc.Attach(ctx, f.citizen, c.ID, c.Version, 0, kept, "a.pdf", 0); err != nil {
			t.Fatal(err)
		}
		if n, err := files.Discard(ctx, kept.SHA256); err != nil || n != 0 {
			t.Fatalf("discard a referenced file: %d %v", n, err)
		}
		if ok, _ := local.Exists(ctx, kept.SHA256); !ok {
			t.Fatal("a referenced file was deleted")
		}
	})
}
