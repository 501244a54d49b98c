package generate

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
)

// The generator's own formatting of times writes what the driver would.
func TestFormatSQLiteTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	times := []time.Time{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 6, 1, 0, 0, 0, 100000, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 1, time.UTC),
		time.Date(2026, 6, 1, 8, 0, 0, 5000, clock.China), time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC), {}}
	for range 10000 {
		at := time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).UTC()
		times = append(times, at, at.Truncate(time.Microsecond), at.Truncate(time.Second))
	}
	for _, at := range times {
		if got, want := formatSQLiteTime(at), at.Format(sqliteTime); got != want {
			t.Fatalf("%v: %q, Format gives %q", at, got, want)
		}
	}
}
