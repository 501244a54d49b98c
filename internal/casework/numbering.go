package casework

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/store"
)

// numberBlock is the case numbers this instance has reserved for the day.
// Numbers are reserved a block at a time, so that concurrent applications
// on several instances do not queue on one counter row; a block's unused
// numbers are skipped when the instance stops, and a number taken by an
// application that then fails is not reused. Numbers are unique and rise
// within an instance; completeness is proven by each case's event chain,
// not by numbers without gaps (docs/ARCHITECTURE.md).
type numberBlock struct {
	mu         sync.Mutex
	day        string
	next, last int
}

const numberBlockSize = 100

// nextNumber gives the next 办件编号: county code, Beijing date, serial of
// the day. It writes in a transaction of its own when it reserves a new
// block, so it must be called outside the caller's transaction.
func (s *Service) nextNumber(ctx context.Context, regionCode string, now time.Time) (string, error) {
	day := now.In(clock.China).Format("20060102")
	b := &s.numbers
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.day != day || b.next > b.last {
		var last int
		if err := s.db.Tx(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO case_numbers (day, last) VALUES (?, ?)
				ON CONFLICT (day) DO UPDATE SET last = case_numbers.last + ? RETURNING last`, day, numberBlockSize, numberBlockSize).Scan(&last)
		}); err != nil {
			return "", fmt.Errorf("case number: %w", err)
		}
		b.day, b.next, b.last = day, last-numberBlockSize+1, last
	}
	n := b.next
	b.next++
	return regionCode[:6] + day + fmt.Sprintf("%06d", n), nil
}
