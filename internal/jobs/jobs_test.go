package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

type echoArgs struct {
	Text     string `json:"text"`
	FailOnce bool   `json:"fail_once"`
	Fatal    bool   `json:"fatal"`
}

func (echoArgs) Kind() string { return "test_echo" }

type echoWorker struct {
	river.WorkerDefaults[echoArgs]
	done chan string
	runs atomic.Int32
}

func (w *echoWorker) Work(ctx context.Context, job *river.Job[echoArgs]) error {
	w.runs.Add(1)
	if job.Args.Fatal {
		return jobs.ErrCancel(errors.New("cannot be done"))
	}
	if job.Args.FailOnce && job.Attempt == 1 {
		return errors.New("transient failure")
	}
	w.done <- job.Args.Text
	return nil
}

// quickRetry retries after 50 ms so that the test need not wait for River's
// default backoff.
type quickRetry struct{}

func (quickRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(50 * time.Millisecond)
}

func startQueue(t *testing.T, db *store.DB) (*jobs.Queue, *echoWorker) {
	t.Helper()
	w := &echoWorker{done: make(chan string, 10)}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	q, err := jobs.New(db, workers, jobs.Options{Workers: 2, PollInterval: 50 * time.Millisecond, RetryPolicy: quickRetry{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		if err := q.Stop(stopCtx); err != nil {
			t.Errorf("stop queue: %v", err)
		}
		cancel()
	})
	return q, w
}

func waitFor(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("job ran with %q, want %q", got, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("job %q did not run", want)
	}
}

func TestJobRunsOnlyWhenItsTransactionCommits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, w := startQueue(t, db)

		rolledBack := errors.New("rolled back")
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := q.Enqueue(ctx, tx, echoArgs{Text: "never"}, nil); err != nil {
				return err
			}
			return rolledBack
		})
		if !errors.Is(err, rolledBack) {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return q.Enqueue(ctx, tx, echoArgs{Text: "committed"}, nil)
		}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, w.done, "committed")
		counts, err := q.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range counts {
			total += n
		}
		if total != 1 {
			t.Fatalf("jobs in database: %v, want exactly the committed one", counts)
		}
	})
}

func TestFailedJobIsRetriedAndHopelessOneCancelled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, w := startQueue(t, db)
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := q.Enqueue(ctx, tx, echoArgs{Text: "second try", FailOnce: true}, nil); err != nil {
				return err
			}
			return q.Enqueue(ctx, tx, echoArgs{Text: "hopeless", Fatal: true}, nil)
		}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, w.done, "second try")
		deadline := time.Now().Add(20 * time.Second)
		for {
			troubled, err := q.Troubled(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(troubled) == 1 && troubled[0].State == "cancelled" {
				if troubled[0].LastError == "" || troubled[0].Kind != "test_echo" {
					t.Fatalf("troubled job without its error: %+v", troubled[0])
				}
				break
			}
			if time.Now().After(deadline) {
				counts, _ := q.Counts(ctx)
				t.Fatalf("hopeless job not cancelled; troubled %+v, counts %v", troubled, counts)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := w.runs.Load(); got != 3 {
			t.Fatalf("worker ran %d times, want 3 (fail, retry, fatal)", got)
		}
	})
}

func TestMaintenanceJobRuns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, _ := startQueue(t, db)
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			return q.Enqueue(ctx, tx, jobs.MaintenanceArgs{}, nil)
		}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			counts, err := q.Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if counts["completed"] == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("maintenance job did not complete: %v", counts)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
