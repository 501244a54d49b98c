package demo

import (
	"context"
	"hash/fnv"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/usage"
)

// usageDays is how far back the demo's module usage goes.
const usageDays = 60

// SeedUsage counts the use of the district's modules over the past
// usageDays days (today is counted by the server as people use it), as
// the instances would have: through a usage counter on a clock set to
// each day, flushed once. Every module is used a little each working day
// except Open311, which the demo leaves for a visitor to try with its
// key, so that the usage page and the self-evaluation show an idle
// module. Counts are fixed by the day and module, so a demo made again
// has the same figures. It returns the uses counted.
func SeedUsage(ctx context.Context, db *store.DB, now time.Time) (int64, error) {
	clk := clock.NewManual(now)
	c := usage.NewCounter(db, clk)
	var total int64
	today := now.In(clock.China)
	for d := usageDays; d >= 1; d-- {
		day := today.AddDate(0, 0, -d)
		clk.Set(day)
		weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
		for _, m := range usage.Modules {
			if m.Module == usage.Open311 {
				continue
			}
			n := demoUses(usage.Day(day), m.Module, weekend)
			for range n {
				c.Add(m.Module)
			}
			total += int64(n)
		}
	}
	return total, c.Flush(ctx)
}

// demoUses is a day's uses of a module: busier for the portal and the
// guides, fewer at weekends, varied by a hash of the day.
func demoUses(day string, m usage.Module, weekend bool) int {
	h := fnv.New32a()
	h.Write([]byte(day + string(m)))
	base := map[usage.Module]int{usage.Portal: 400, usage.Guides: 300, usage.Search: 150, usage.Apply: 40, usage.Intake: 25, usage.Assist: 6, usage.Bundles: 12, usage.Hall: 90, usage.Licences: 18,
		usage.Lookup: 30, usage.Complaints: 8, usage.Ratings: 20, usage.Boards: 10, usage.Surveys: 5, usage.API: 60,
		usage.Mobile: 250, usage.Elder: 15}[m]
	n := base/2 + int(h.Sum32()%uint32(base+1))
	if weekend {
		n /= 4
	}
	return n
}
