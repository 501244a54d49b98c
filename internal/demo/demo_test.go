package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

func TestSeedBuildsTheDistrictOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewManual(time.Date(2026, 11, 25, 9, 0, 0, 0, clock.China))
		sum, err := demo.Seed(ctx, db, clk)
		if err != nil {
			t.Fatal(err)
		}
		if !sum.Created || sum.Regions < 40 || sum.Departments < 60 {
			t.Fatalf("summary %+v: district too small", sum)
		}
		again, err := demo.Seed(ctx, db, clk)
		if err != nil || again.Created {
			t.Fatalf("second seed: %+v, %v; want nothing created", again, err)
		}

		rs := region.NewStore(db)
		d, err := rs.District(ctx)
		if err != nil || d.Code != "410411000000" || d.Name != "湛河区" {
			t.Fatalf("district %+v, %v", d, err)
		}
		for _, l := range region.Levels {
			regs, err := rs.Regions(ctx, region.RegionFilter{Level: l})
			if err != nil || len(regs) == 0 {
				t.Fatalf("level %s: %d regions, %v", l.Name(), len(regs), err)
			}
			depts, err := rs.Departments(ctx, region.DepartmentFilter{Level: l})
			if err != nil || len(depts) == 0 {
				t.Fatalf("level %s: %d departments, %v", l.Name(), len(depts), err)
			}
		}
		// Every street has its convenience centre and every community its station.
		streets, _ := rs.Regions(ctx, region.RegionFilter{Level: region.Street})
		for _, s := range streets {
			depts, err := rs.Departments(ctx, region.DepartmentFilter{Region: s.Code, Kind: region.StreetCenter})
			if err != nil || len(depts) != 1 {
				t.Errorf("street %s: %d centres, %v", s.Name, len(depts), err)
			}
		}
	})
}
