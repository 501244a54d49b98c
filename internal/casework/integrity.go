package casework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/store"
)

// Report is what a full check of the record found.
type Report struct {
	Entries, Cases int
	Log            []audit.Broken
	Broken         []Broken
	Lost           []string // against the checkpoint
	Checkpoint     string   // written to this file, when all held
}

// Problems counts what was found altered or missing.
func (r Report) Problems() int { return len(r.Log) + len(r.Broken) + len(r.Lost) }

// CheckIntegrity verifies the audit log and every case's chain under the
// database's chain keys and, with a checkpoint file, compares the heads
// with the one there; when everything holds it writes a new checkpoint
// (atomically), so the file always holds the last state known good.
func CheckIntegrity(ctx context.Context, db *store.DB, checkpoint string, now time.Time) (Report, error) {
	var r Report
	keys := db.ChainKeys()
	cp := audit.Checkpoint{At: now}
	var err error
	// Heads first: what is appended while verifying is left to the next check.
	if cp.Log, err = audit.LogHead(ctx, db.Read()); err != nil {
		return r, err
	}
	if cp.Cases, err = Heads(ctx, db.Read()); err != nil {
		return r, err
	}
	if r.Entries, r.Log, err = audit.Verify(ctx, db.Read(), keys); err != nil {
		return r, err
	}
	if r.Cases, r.Broken, err = VerifyChains(ctx, db.Read(), keys); err != nil {
		return r, err
	}
	if checkpoint == "" {
		return r, nil
	}
	b, err := os.ReadFile(checkpoint)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return r, err
	default:
		was, err := audit.ParseCheckpoint(b, keys)
		if err != nil {
			r.Lost = append(r.Lost, err.Error())
		} else if r.Lost, err = was.Against(ctx, db.Read(), cp); err != nil {
			return r, err
		}
	}
	if r.Problems() > 0 || keys == nil {
		return r, nil
	}
	cp.Sign(keys)
	b, _ = json.Marshal(cp)
	tmp := checkpoint + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return r, fmt.Errorf("无法写入检查点：%w", err)
	}
	if err := os.Rename(tmp, checkpoint); err != nil {
		return r, fmt.Errorf("无法写入检查点：%w", err)
	}
	r.Checkpoint = checkpoint
	return r, nil
}

// CheckpointArgs is the periodic durable job that checks the record and
// writes the checkpoint.
type CheckpointArgs struct{}

func (CheckpointArgs) Kind() string { return "audit_checkpoint" }

// CheckpointWorker runs CheckpointArgs against the file Path.
type CheckpointWorker struct {
	river.WorkerDefaults[CheckpointArgs]
	DB    *store.DB
	Path  string
	Clock clock.Clock
}

// Work runs one check. What it finds fails the job, so that it shows
// among the failing jobs (zwfw jobs, /metrics) with what was altered.
func (w *CheckpointWorker) Work(ctx context.Context, _ *river.Job[CheckpointArgs]) error {
	r, err := CheckIntegrity(ctx, w.DB, w.Path, w.Clock.Now())
	if err != nil || r.Problems() == 0 {
		return err
	}
	var found []string
	for _, b := range r.Log {
		found = append(found, fmt.Sprintf("审计日志第 %d 条：%s", b.ID, b.Reason))
	}
	for _, b := range r.Broken {
		found = append(found, fmt.Sprintf("办件 %s：%s", b.Number, b.Reason))
	}
	found = append(found, r.Lost...)
	return fmt.Errorf("发现 %d 处记录被改动：%s", r.Problems(), strings.Join(found, "；"))
}

// PeriodicCheckpoint schedules the check every interval, on the leader.
func PeriodicCheckpoint(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return CheckpointArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
