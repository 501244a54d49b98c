package complaint_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// What Open311 reads: categories, public views with no personal data,
// lists by filter, updates since a time; and a photo kept by the sweeper.
func TestPublicReadsAndFiles(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		photo := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("jpeg"), 100)...)
		obj, err := f.files.Put(ctx, bytes.NewReader(photo), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		n := complaint.Filing{CategoryID: f.cats["general"].ID, Title: "垃圾堆放", Description: "楼下垃圾三天没人清运，联系电话13812345678。",
			RegionCode: nanhuan, Mobile: "13912345678", Files: []complaint.Attachment{{Object: obj, Name: "现场.jpg"}}}
		c, _, err := f.svc.Create(ctx, f.citizen, meta, n)
		if err != nil {
			t.Fatal(err)
		}
		start := f.clk.Now()
		f.clk.Advance(time.Hour)
		other := f.file(t, f.citizen, "complex", district)
		pub, err := f.svc.PublicView(ctx, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(pub.Description, "13812345678") || !strings.Contains(pub.Description, "***") {
			t.Errorf("public description: %s", pub.Description)
		}
		all, err := f.svc.PublicList(ctx, complaint.Filter{})
		if err != nil || len(all) != 2 {
			t.Fatalf("public list: %d %v", len(all), err)
		}
		byStatus, _ := f.svc.PublicList(ctx, complaint.Filter{Status: []complaint.Status{complaint.Pending}})
		if len(byStatus) != 1 || byStatus[0].Number != other.Number {
			t.Errorf("by status: %v", byStatus)
		}
		byCat, _ := f.svc.PublicList(ctx, complaint.Filter{CategoryID: f.cats["general"].ID})
		byTime, _ := f.svc.PublicList(ctx, complaint.Filter{Since: start.Add(time.Minute)})
		byID, _ := f.svc.PublicList(ctx, complaint.Filter{IDs: []int64{c.ID}})
		if len(byCat) != 1 || len(byTime) != 1 || len(byID) != 1 || byID[0].Number != c.Number {
			t.Errorf("filters: %d %d %d", len(byCat), len(byTime), len(byID))
		}
		f.clk.Advance(time.Hour)
		mark := f.clk.Now()
		f.clk.Advance(time.Minute)
		if _, err := f.svc.Sign(ctx, f.cgj, meta, c.ID, c.Version); err != nil {
			t.Fatal(err)
		}
		upd, err := f.svc.Updated(ctx, mark, 0)
		if err != nil || len(upd) != 1 || upd[0].Number != c.Number || upd[0].Status != complaint.Handling {
			t.Errorf("updated since: %+v %v", upd, err)
		}
		// The photo is the complaint's: listed, downloadable by who may see
		// it, and kept by the sweeper.
		d, _ := f.svc.Get(ctx, f.cgj, c.ID)
		if len(d.Files) != 1 || d.Files[0].ContentType != "image/jpeg" {
			t.Fatalf("files: %+v", d.Files)
		}
		if _, err := f.svc.File(ctx, f.other, c.ID, d.Files[0].ID); err == nil {
			t.Error("someone else downloads the photo")
		}
		if _, err := f.files.Sweep(ctx, f.clk.Now().Add(365*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ok, _ := f.files.Exists(ctx, obj.SHA256); !ok {
			t.Error("the sweeper deleted a complaint's photo")
		}
	})
}
