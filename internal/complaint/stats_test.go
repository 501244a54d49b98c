package complaint_test

import (
	"context"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func TestStats(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		start := f.clk.Now()
		// 城管局: one signed in time, answered and confirmed resolved and
		// satisfied; one signed late; one bounced.
		a := f.file(t, f.citizen, "general", nanhuan)
		a, _ = f.svc.Sign(ctx, f.cgj, meta, a.ID, a.Version)
		f.svc.RecordContact(ctx, f.cgj, meta, a.ID, "电话联系")
		a, _ = f.svc.Reply(ctx, f.cgj, meta, a.ID, a.Version, "已处理完毕，请查看。")
		if _, err := f.svc.Confirm(ctx, f.citizen, meta, a.ID, a.Version, complaint.Confirmation{Resolved: true, Satisfied: true}); err != nil {
			t.Fatal(err)
		}
		b := f.file(t, f.citizen, "general", nanhuan)
		c := f.file(t, f.other, "general", nanhuan)
		if _, err := f.svc.Bounce(ctx, f.cgj, meta, c.ID, c.Version, "不属于本单位职责范围"); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(48 * time.Hour)
		if _, err := f.svc.Sign(ctx, f.cgj, meta, b.ID, b.Version); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Stats(ctx, f.cgj, start, f.clk.Now()); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("a unit reads the stats: %v", err)
		}
		st, err := f.svc.Stats(ctx, f.supervisor, start, f.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Units) != 1 {
			t.Fatalf("units: %+v", st.Units)
		}
		u := st.Units[0]
		if u.Received != 2 || u.OnTime != 1 || u.ResponseRate() != 50 || u.ResolveRate() != 100 || u.SatisfactionRate() != 100 || u.Bounces != 1 || u.Overdue != 1 {
			t.Errorf("城管局: %+v", u)
		}
		if st.Total.Received != 3 || len(st.Categories) != 1 || st.Categories[0].Received != 3 {
			t.Errorf("total %+v, categories %+v", st.Total, st.Categories)
		}
		// A street's supervisor counts only their street's: all three are in
		// 南环路街道, none in 马庄街道.
		other, _ := f.svc.Stats(ctx, f.otherSup, start, f.clk.Now())
		mazhuangSup := staff(t, db, f.depts["bmfw-410411001000"], "马庄督查", policy.Supervisor)
		none, err := f.svc.Stats(ctx, mazhuangSup, start, f.clk.Now())
		if other.Total.Received != 3 || err != nil || none.Total.Received != 0 || len(none.Units) != 0 {
			t.Errorf("南环路街道 %+v, 马庄街道 %+v (%v)", other.Total, none.Total, err)
		}
	})
}
