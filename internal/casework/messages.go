package casework

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Message is one entry of an applicant's message centre.
type Message struct {
	ID        int64
	CaseID    int64
	Title     string
	Body      string
	CreatedAt time.Time
	Read      bool
}

// tellings are the steps the applicant is told of, with the message title.
var tellings = map[Action]string{
	Accept:     "您的申请已受理",
	Refuse:     "您的申请不予受理",
	AskCorrect: "请补正申请材料",
	Decide:     "您的申请已作出决定",
	Complete:   "您的办件已办结",
}

// SMSArgs is the durable job that texts an applicant about their case.
type SMSArgs struct {
	AccountID int64  `json:"account_id"`
	Text      string `json:"text"`
}

func (SMSArgs) Kind() string { return "case_sms" }

// SMSWorker sends SMSArgs jobs; Send texts an account's mobile number (and
// does nothing for an account without one).
type SMSWorker struct {
	river.WorkerDefaults[SMSArgs]
	Send func(ctx context.Context, accountID int64, text string) error
}

// Work sends one message. A failure is retried with backoff by the queue.
func (w *SMSWorker) Work(ctx context.Context, job *river.Job[SMSArgs]) error {
	return w.Send(ctx, job.Args.AccountID, job.Args.Text)
}

// UseQueue makes the service send SMS for the messages it writes, through
// durable jobs in q.
func (s *Service) UseQueue(q *jobs.Queue) { s.queue = q }

// tell writes the applicant's message for a step in the step's
// transaction, and enqueues its SMS there too: the SMS goes out exactly
// when the step committed, even if the process dies right after.
func (s *Service) tell(ctx context.Context, tx *store.Tx, c Case, a Action, reason string, now time.Time) error {
	title, ok := tellings[a]
	if !ok {
		return nil
	}
	var item string
	if err := tx.QueryRow(ctx, `SELECT name FROM items WHERE id = ?`, c.ItemID).Scan(&item); err != nil {
		return err
	}
	body := fmt.Sprintf("%s（办件编号 %s）：%s。", item, c.Number, c.Status.Name())
	if reason != "" {
		body += reason
	}
	if _, err := tx.Exec(ctx, `INSERT INTO messages (account_id, case_id, title, body, created_at) VALUES (?, ?, ?, ?, ?)`,
		c.ApplicantID, c.ID, title, body, now); err != nil {
		return err
	}
	if s.queue == nil {
		return nil
	}
	text := fmt.Sprintf("【政务服务】%s：%s，办件编号%s。详情请登录查看。", title, item, c.Number)
	return s.queue.Enqueue(ctx, tx, SMSArgs{AccountID: c.ApplicantID, Text: text}, nil)
}

// Messages lists a person's messages, newest first, and marks them read.
func (s *Service) Messages(ctx context.Context, who policy.Subject) ([]Message, error) {
	if who.Kind == policy.Anonymous {
		return nil, apperr.New(apperr.Unauthorized, "请先登录。")
	}
	rows, err := s.db.Read().Query(ctx, `SELECT id, COALESCE(case_id, 0), title, body, created_at, read_at IS NOT NULL
		FROM messages WHERE account_id = ? ORDER BY id DESC LIMIT 100`, who.AccountID)
	if err != nil {
		return nil, err
	}
	var out []Message
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.CaseID, &m.Title, &m.Body, &m.CreatedAt, &m.Read); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE messages SET read_at = ? WHERE account_id = ? AND read_at IS NULL`, s.clock.Now(), who.AccountID)
		return err
	})
	return out, err
}

// Unread counts a person's unread messages.
func (s *Service) Unread(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := s.db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM messages WHERE account_id = ? AND read_at IS NULL`, accountID).Scan(&n)
	return n, err
}
