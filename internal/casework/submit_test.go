package casework_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// Apply takes the form, the materials and the submission in one step,
// all or nothing, and the record reads as the steps taken one by one.
func TestApplyInOneStep(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		count := func() (n int) {
			db.Read().QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM cases) + (SELECT COUNT(*) FROM case_events) + (SELECT COUNT(*) FROM case_materials)
				+ (SELECT COUNT(*) FROM messages)`).Scan(&n)
			return n
		}
		files := []casework.Attachment{{Position: 0, Object: pdf, Filename: "../身份证.pdf"}}
		for _, tc := range []struct {
			name    string
			answers map[string]string
			files   []casework.Attachment
			code    apperr.Code
			says    string
		}{
			{"empty form", map[string]string{}, files, apperr.Invalid, "1 处需要修改"},
			{"no material", map[string]string{"name": "张三"}, nil, apperr.Invalid, "还缺少必需材料：身份证明"},
			{"unknown material", map[string]string{"name": "张三"}, append(files, casework.Attachment{Position: 7, Object: pdf}), apperr.Invalid, "没有第 8 项材料"},
			{"twice the same", map[string]string{"name": "张三"}, append(files, files[0]), apperr.Invalid, "重复提交"},
		} {
			before := count()
			_, err := f.svc.Apply(ctx, f.citizen, f.itemID, tc.answers, tc.files)
			if apperr.CodeOf(err) != tc.code || !strings.Contains(apperr.MessageOf(err), tc.says) {
				t.Fatalf("%s: %v, want %s %q", tc.name, err, tc.code, tc.says)
			}
			if count() != before {
				t.Fatalf("%s: a refused application wrote something", tc.name)
			}
		}
		_, err := f.svc.Apply(ctx, f.citizen, f.itemID, map[string]string{}, files)
		if fields := apperr.FieldsOf(err); fields["name"] != "请填写姓名" {
			t.Fatalf("field messages: %v", fields)
		}
		if _, err := f.svc.Apply(ctx, f.window, f.itemID, map[string]string{"name": "张三"}, files); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("staff applying online: %v", err)
		}

		c, err := f.svc.Apply(ctx, f.citizen, f.itemID, map[string]string{"name": " 张三 ", "stray": "x"}, files)
		if err != nil {
			t.Fatal(err)
		}
		got, events, err := f.svc.Get(ctx, f.citizen, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != casework.Submitted || got.Number != c.Number || got.Form["name"] != "张三" || got.Form["stray"] != "" {
			t.Fatalf("case: %+v", got)
		}
		var actions []string
		for _, e := range events {
			actions = append(actions, string(e.Action))
		}
		if strings.Join(actions, " ") != "create upload submit" || !strings.Contains(events[1].Reason, "身份证明（身份证.pdf）") {
			t.Fatalf("record: %v, %q", actions, events[1].Reason)
		}
		mats, err := f.svc.MaterialsOf(ctx, f.citizen, c.ID)
		if err != nil || len(mats) != 1 || mats[0].SHA256 != pdf.SHA256 || mats[0].Filename != "身份证.pdf" {
			t.Fatalf("materials: %+v %v", mats, err)
		}
		if _, err := f.svc.MaterialsOf(ctx, f.other, c.ID); err == nil {
			t.Fatal("another person read the materials")
		}
		if _, broken, err := casework.VerifyChains(ctx, db, db.ChainKeys()); err != nil || len(broken) > 0 {
			t.Fatalf("chain: %v %v", broken, err)
		}
		// The staff take it from here like any submitted case.
		if _, err := f.svc.Act(ctx, f.window, c.ID, got.Version, casework.Accept, ""); err != nil {
			t.Fatal(err)
		}
		// Suspended meanwhile, the item takes no more applications, even
		// though the service read it a moment ago.
		if err := f.items.SetStatus(ctx, catalogAdmin, audit.Meta{}, f.itemID, catalog.Suspended, "系统升级"); err != nil {
			t.Fatal(err)
		}
		before := count()
		if _, err := f.svc.Apply(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"}, files); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("applying for a suspended item: %v", err)
		}
		if count() != before {
			t.Fatal("a refused application wrote something")
		}
	})
}

// BenchmarkApply is the service's cost of one whole submission, without
// HTTP or the file store: the floor under the server's figure in
// docs/PERFORMANCE.md.
func BenchmarkApply(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var db *store.DB
			if name == "sqlite" {
				db = storetest.SQLite(b)
			} else {
				db = storetest.Postgres(b)
			}
			f := newFixture(b, db)
			ctx := context.Background()
			files := []casework.Attachment{{Position: 0, Object: filestore.Object{SHA256: pdf.SHA256, Size: 1, ContentType: filestore.TypePDF}, Filename: "a.pdf"}}
			b.SetParallelism(16) // callers per CPU: submissions come from many people at once
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := f.svc.Apply(ctx, f.citizen, f.itemID, map[string]string{"name": "张三"}, files); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
