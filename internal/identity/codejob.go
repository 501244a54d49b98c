package identity

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/store"
)

// One-time codes go out through the job queue when the service has one
// (UseQueue): the code's row and the job that texts it commit in one
// transaction, and the request answers then, without waiting on the SMS
// gateway — a gateway that stalls or fails slows no request, and the queue
// retries it. Without a queue (commands, the demo's in-memory sender, which
// cannot stall and whose page must show the code at once) the code is sent
// in the request.

// ctxCodeText seals a queued message, which holds a live code.
const ctxCodeText = "otp.sms"

// CodeArgs is the durable job that texts a one-time code. The number and
// the text are sealed: the queue's table keeps finished jobs for a week.
type CodeArgs struct {
	Mobile    string    `json:"mobile"` // sealed
	Text      string    `json:"text"`   // sealed
	ExpiresAt time.Time `json:"expires_at"`
}

func (CodeArgs) Kind() string { return "otp_sms" }

// codeAttempts bounds the tries; with codeRetry's pace they span the code's
// five minutes.
const codeAttempts = 25

// CodeWorker sends CodeArgs jobs.
type CodeWorker struct {
	river.WorkerDefaults[CodeArgs]
	Service *Service
}

// Work texts the code, unless it has expired meanwhile: a late code is of
// no use to anyone.
func (w *CodeWorker) Work(ctx context.Context, job *river.Job[CodeArgs]) error {
	s := w.Service
	if !s.opt.Clock.Now().Before(job.Args.ExpiresAt) {
		return river.JobCancel(errors.New("one-time code expired before it could be sent"))
	}
	mobile, err := s.opt.Keys.Open(job.Args.Mobile, ctxMobile)
	if err != nil {
		return err
	}
	text, err := s.opt.Keys.Open(job.Args.Text, ctxCodeText)
	if err != nil {
		return err
	}
	return s.opt.SMS.Send(ctx, mobile, text)
}

// NextRetry tries again soon, since a person is waiting for the code: after
// 1, 2, 4 and then every 10 seconds. (River schedules by the wall clock.)
func (w *CodeWorker) NextRetry(job *river.Job[CodeArgs]) time.Time {
	return time.Now().Add(min(time.Second<<(job.Attempt-1), 10*time.Second))
}

// UseQueue makes the service send one-time codes through durable jobs in q
// (see CodeArgs); the server registers CodeWorker.
func (s *Service) UseQueue(q *jobs.Queue) { s.queue = q }

// queueCode enqueues the text of a code for the normalised number m in tx.
func (s *Service) queueCode(ctx context.Context, tx *store.Tx, m, text string, expires time.Time) error {
	mobile, err := s.opt.Keys.Seal(m, ctxMobile)
	if err != nil {
		return err
	}
	sealed, err := s.opt.Keys.Seal(text, ctxCodeText)
	if err != nil {
		return err
	}
	return s.queue.Enqueue(ctx, tx, CodeArgs{Mobile: mobile, Text: sealed, ExpiresAt: expires}, &river.InsertOpts{MaxAttempts: codeAttempts})
}
