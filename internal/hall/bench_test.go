package hall_test

import (
	"context"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// BenchmarkScreen reads a hall's screen feed, which every screen of every
// hall asks for every 3 seconds, with 400 numbers taken today at the hall
// (100 called and served, one at a window, the rest waiting).
//
// BenchmarkCall is a clerk's cycle on a busy day: a number taken at the
// window, called and served, with the waiting figures kept in both steps.
//
//	go test -run XXX -bench . -benchtime 200x ./internal/hall/
func BenchmarkScreen(b *testing.B) {
	for _, c := range dbs {
		b.Run(c.name, func(b *testing.B) {
			f := setup(b, c.db(b))
			ctx := context.Background()
			f.clk.Set(at(18, 9, 0))
			for range 400 {
				if _, err := f.svc.TakeAtCounter(ctx, f.clerk, f.group.ID, ""); err != nil {
					b.Fatal(err)
				}
			}
			for i := range 101 {
				t, err := f.svc.CallNext(ctx, f.clerk, f.group.ID, "1号窗口")
				if err != nil {
					b.Fatal(err)
				}
				if i < 100 {
					if _, err := f.svc.Finish(ctx, f.clerk, t.ID, true); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			for b.Loop() {
				s, err := f.svc.Screen(ctx, f.center.Slug)
				if err != nil || len(s.Calls) != 1 || s.Queues[0].Waiting != 299 {
					b.Fatalf("%+v %v", s, err)
				}
			}
		})
	}
}

func BenchmarkCall(b *testing.B) {
	for _, c := range dbs {
		b.Run(c.name, func(b *testing.B) {
			f := setup(b, c.db(b))
			ctx := context.Background()
			f.clk.Set(at(18, 9, 0))
			b.ResetTimer()
			for b.Loop() {
				f.clk.Advance(time.Second)
				if _, err := f.svc.TakeAtCounter(ctx, f.clerk, f.group.ID, ""); err != nil {
					b.Fatal(err)
				}
				t, err := f.svc.CallNext(ctx, f.clerk, f.group.ID, "1号窗口")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.svc.Finish(ctx, f.clerk, t.ID, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var dbs = []struct {
	name string
	db   func(testing.TB) *store.DB
}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}}
