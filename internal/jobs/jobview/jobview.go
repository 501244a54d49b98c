// Package jobview is what administrators see of the job queue, in types
// that do not link River: pages take a Viewer (a *jobs.Queue) and show the
// queue without importing jobs, which keeps River behind internal/jobs.
package jobview

import (
	"context"
	"time"

	"github.com/zwfw/zwfw/internal/policy"
)

// Job is what administrators see of one job.
type Job struct {
	ID          int64
	Kind        string
	State       string
	Attempt     int
	MaxAttempts int
	CreatedAt   time.Time
	ScheduledAt time.Time
	LastError   string
}

// Status is the queue at a glance: how many jobs are in each state
// (available, scheduled, running, retryable, completed, discarded,
// cancelled) and the newest of those that failed.
type Status struct {
	Counts   map[string]int
	Troubled []Job
}

// Viewer gives the queue's status to those the policy lets see it.
type Viewer interface {
	Status(ctx context.Context, who policy.Subject, limit int) (Status, error)
}
