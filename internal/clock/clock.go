// Package clock is the one source of time in zwfw. Everything that stamps,
// schedules or counts deadlines takes a Clock so that one step has one
// timestamp and tests can pin the date (working-day deadlines depend on it).
package clock

import (
	"sync"
	"time"
)

// Clock tells the current time.
type Clock interface {
	Now() time.Time
}

// China is the time zone every date in the platform is reckoned in:
// working days, due dates and notice dates are Beijing dates.
var China = time.FixedZone("CST", 8*60*60)

// System is the real clock.
type System struct{}

func (System) Now() time.Time { return time.Now() }

// Manual is a clock that moves only when told to. Safe for concurrent use.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a clock stopped at t.
func NewManual(t time.Time) *Manual { return &Manual{now: t} }

func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.now = t
	m.mu.Unlock()
}

// Advance moves the clock forward by d.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	m.mu.Unlock()
}
