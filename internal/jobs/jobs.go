// Package jobs is the durable background job queue: notifications, deadline
// checks and webhooks are jobs stored in the platform's own database and
// inserted in the same transaction as the change that causes them, so a job
// exists exactly when its change committed. It wraps River
// (github.com/riverqueue/river), which runs on both our databases; see
// docs/ARCHITECTURE.md for why.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/zwfw/zwfw/internal/jobs/jobview"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Options tune the queue.
type Options struct {
	// Workers is how many jobs run at once in this instance; 0 makes an
	// insert-only queue (the CLI uses one).
	Workers int
	// PollInterval is how often an idle instance looks for new jobs; jobs
	// are found by polling because database/sql connections cannot LISTEN.
	PollInterval time.Duration
	// Periodic jobs the domain packages schedule (deadline checks …).
	Periodic []*river.PeriodicJob
	// RetryPolicy overrides River's default backoff (attempts⁴ seconds).
	RetryPolicy river.ClientRetryPolicy
	Logger      *slog.Logger
}

// JobTimeout is how long a job may run unless its worker's Timeout says
// otherwise; then its context is cancelled.
const JobTimeout = time.Minute

// RescueAfter is how long a job may stay running before River's rescuer
// (on the elected leader, every 30 s) takes it for the job of a dead
// instance and schedules it again: the job timeout and a margin for a
// cancelled job to return. River's default is an hour, during which a
// unique periodic job left running by a killed instance — the staged-file
// drain — could not run at all. A worker with a longer Timeout is safe:
// the rescuer leaves a job alone until its own timeout has passed.
const RescueAfter = JobTimeout + 30*time.Second

// QueueOutbound is the queue of deliveries to other systems (webhooks):
// its own workers, so that a flood of events or a slow receiver never
// holds back the platform's own jobs (the staged files' drain, the
// deadline checks, SMS), which would otherwise wait behind every delivery
// enqueued before them.
const QueueOutbound = "outbound"

// Queue enqueues and runs jobs.
type Queue struct {
	db     *store.DB
	client *river.Client[*sql.Tx]
}

// New returns a queue over db. Workers holds the job kinds the domain
// packages registered (nil for none); the queue adds its own upkeep job.
// Options.Workers 0 gives an insert-only queue.
func New(db *store.DB, workers *river.Workers, opt Options) (*Queue, error) {
	if workers == nil {
		workers = river.NewWorkers()
	}
	river.AddWorker(workers, &maintenanceWorker{db: db})
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = slog.New(quietHandler{logger.Handler()})
	cfg := &river.Config{
		Logger:               logger,
		PollOnly:             true,
		RetryPolicy:          opt.RetryPolicy,
		JobTimeout:           JobTimeout,
		RescueStuckJobsAfter: RescueAfter,
		// Kept for administrators to inspect, then cleaned by River.
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
	}
	if opt.Workers > 0 {
		poll := opt.PollInterval
		if poll <= 0 {
			poll = time.Second
		}
		cfg.Workers = workers
		cfg.FetchPollInterval = poll
		cfg.FetchCooldown = min(poll, 100*time.Millisecond)
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opt.Workers},
			QueueOutbound: {MaxWorkers: max(1, opt.Workers/2)}}
		// River runs a periodic job on one instance, its elected leader.
		cfg.PeriodicJobs = opt.Periodic
		if db.Dialect == store.SQLite {
			cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(6*time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return MaintenanceArgs{}, nil }, nil))
		}
	}
	client, err := river.NewClient(driver(db), cfg)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{db: db, client: client}, nil
}

// driver picks River's driver for the dialect; both work over *sql.Tx, so
// the rest of the platform has one code path.
func driver(db *store.DB) riverdriver.Driver[*sql.Tx] {
	if db.Dialect == store.Postgres {
		return riverdatabasesql.New(db.WritePool())
	}
	return riversqlite.New(db.WritePool())
}

// Start begins working jobs until ctx ends or Stop is called.
func (q *Queue) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop waits for running jobs to finish (until ctx ends) and stops.
func (q *Queue) Stop(ctx context.Context) error { return q.client.Stop(ctx) }

// Enqueue inserts a job in tx: it runs only if tx commits.
func (q *Queue) Enqueue(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := q.client.InsertTx(ctx, tx.SQL(), args, opts); err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// Job is what administrators see of one job.
type Job = jobview.Job

// Status returns the counts by state and the newest limit troubled jobs,
// to those the policy lets see the queue (administrators).
func (q *Queue) Status(ctx context.Context, who policy.Subject, limit int) (jobview.Status, error) {
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.Jobs}); err != nil {
		return jobview.Status{}, err
	}
	counts, err := q.Counts(ctx)
	if err != nil {
		return jobview.Status{}, err
	}
	troubled, err := q.Troubled(ctx, limit)
	return jobview.Status{Counts: counts, Troubled: troubled}, err
}

// Counts returns how many jobs are in each state (available, scheduled,
// running, retryable, completed, discarded, cancelled).
func (q *Queue) Counts(ctx context.Context) (map[string]int, error) {
	rows, err := q.db.Read().Query(ctx, `SELECT state, COUNT(*) FROM river_job GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		counts[state] = n
	}
	return counts, rows.Err()
}

// Pending is the queue depth: jobs waiting to run or to be retried.
func Pending(counts map[string]int) int {
	return counts["available"] + counts["scheduled"] + counts["retryable"] + counts["pending"]
}

// Troubled lists the newest jobs that failed and wait to retry, ran out of
// attempts (discarded) or were cancelled as hopeless: what an administrator
// must look at.
func (q *Queue) Troubled(ctx context.Context, limit int) ([]Job, error) {
	res, err := q.client.JobList(ctx, river.NewJobListParams().
		States(rivertype.JobStateRetryable, rivertype.JobStateDiscarded, rivertype.JobStateCancelled).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).
		First(limit))
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	jobs := make([]Job, 0, len(res.Jobs))
	for _, r := range res.Jobs {
		j := Job{ID: r.ID, Kind: r.Kind, State: string(r.State), Attempt: r.Attempt,
			MaxAttempts: r.MaxAttempts, CreatedAt: r.CreatedAt, ScheduledAt: r.ScheduledAt}
		if n := len(r.Errors); n > 0 {
			j.LastError = r.Errors[n-1].Error
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// ErrCancel wraps an error that retrying cannot fix: the job is cancelled
// at once instead of retried, and stays listed for administrators.
func ErrCancel(err error) error { return river.JobCancel(err) }

// MaintenanceArgs is the database upkeep job (see store.DB.Optimize).
type MaintenanceArgs struct{}

func (MaintenanceArgs) Kind() string { return "db_maintenance" }

type maintenanceWorker struct {
	river.WorkerDefaults[MaintenanceArgs]
	db *store.DB
}

func (w *maintenanceWorker) Work(ctx context.Context, _ *river.Job[MaintenanceArgs]) error {
	return w.db.Optimize(ctx)
}

// quietHandler passes on River's warnings and errors and turns its info
// lines into debug ones: River reports its producers' job counts every few
// seconds at info, which buried the lines an operator looks for. Our own
// job outcomes are logged by our workers and kept in the job table.
type quietHandler struct{ slog.Handler }

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.Handler.Enabled(ctx, demote(l))
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return h.Handler.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(as)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}

func demote(l slog.Level) slog.Level {
	if l == slog.LevelInfo {
		return slog.LevelDebug
	}
	return l
}
