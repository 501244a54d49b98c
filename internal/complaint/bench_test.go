package complaint_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// The minute's limit check when nothing is due, and a unit's and a
// supervisor's first page, over 2,000 complaints (SQLite):
//
//	go test -run '^$' -bench . -benchtime 2s ./internal/complaint/
func BenchmarkComplaints(b *testing.B) {
	db := storetest.SQLite(b)
	f := newFixture(b, db)
	ctx := context.Background()
	regions := []string{kaiyuan, nanhuan, mazhuang}
	for i := range 2000 {
		n := complaint.Filing{CategoryID: f.cats["general"].ID, Title: fmt.Sprint("诉求", i), Description: "小区门口的路灯坏了一个多星期。",
			RegionCode: regions[i%3], Mobile: "13912345678"}
		if _, _, err := f.svc.Create(ctx, f.citizen, meta, n); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("CheckLimits/idle", func(b *testing.B) {
		for b.Loop() {
			if n, err := f.svc.CheckLimits(ctx); err != nil || n != 0 {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("List/unit", func(b *testing.B) {
		for b.Loop() {
			if l, err := f.svc.List(ctx, f.cgj, complaint.Filter{Status: []complaint.Status{complaint.Dispatched}}); err != nil || len(l) != 50 {
				b.Fatal(len(l), err)
			}
		}
	})
	b.Run("List/supervisor", func(b *testing.B) {
		for b.Loop() {
			if l, err := f.svc.List(ctx, f.otherSup, complaint.Filter{}); err != nil || len(l) != 50 {
				b.Fatal(len(l), err)
			}
		}
	})
	b.Run("Stats/month", func(b *testing.B) {
		for b.Loop() {
			if st, err := f.svc.Stats(ctx, f.supervisor, f.clk.Now().AddDate(0, -1, 0), f.clk.Now().Add(time.Hour)); err != nil || st.Total.Received != 2000 {
				b.Fatal(st.Total, err)
			}
		}
	})
}
