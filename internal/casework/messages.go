package casework

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/mail"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Message is one entry of a person's message centre. The entry tells
// what happened then; CaseStatus is the case's status now, which the
// message centre shows beside it, so that an old entry never reads as the
// case's state (a citizen looks there for where their case stands).
type Message struct {
	ID         int64
	CaseID     int64
	Title      string
	Body       string
	CreatedAt  time.Time
	Read       bool
	CaseNumber string
	CaseStatus Status
}

// tellings are the steps the applicant is told of — the department's —
// with the message title. Of their own submission applicants learn on the
// spot: the confirmation gives the case number and what happens next.
var tellings = map[Action]string{
	Accept:     "您的申请已受理",
	Refuse:     "您的申请不予受理",
	AskCorrect: "请补正申请材料",
	Decide:     "您的申请已作出决定",
	Complete:   "您的办件已办结",
	Deliver:    "办理结果已送达",
	Transfer:   "您的办件已移交其他部门办理",
	Settle:     "您的申请已当场办结",
	Release:    "前置事项已办结，您的申请已自动提交",
	Close:      "前置事项未办结，您的申请已终止",
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

// MailArgs is the durable job that e-mails an applicant about their case.
type MailArgs struct {
	AccountID int64  `json:"account_id"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
}

func (MailArgs) Kind() string { return "case_mail" }

// MailWorker sends MailArgs jobs; Send e-mails an account (and does nothing
// for an account without an address).
type MailWorker struct {
	river.WorkerDefaults[MailArgs]
	Send func(ctx context.Context, accountID int64, subject, body string) error
}

// Work sends one message. A temporary failure is retried with backoff; a
// permanent one (the address refused, the message invalid) is cancelled
// rather than retried for days.
func (w *MailWorker) Work(ctx context.Context, job *river.Job[MailArgs]) error {
	err := w.Send(ctx, job.Args.AccountID, job.Args.Subject, job.Args.Body)
	if err != nil && mail.Permanent(err) {
		return river.JobCancel(err)
	}
	return err
}

// UseQueue makes the service send SMS for the messages it writes, through
// durable jobs in q.
func (s *Service) UseQueue(q *jobs.Queue) { s.queue = q }

// tell writes the applicant's message for a step in the step's
// transaction, and enqueues its SMS (and e-mail, for an applicant who gave
// an address) there too: they go out exactly when the step committed,
// even if the process dies right after.
func (s *Service) tell(ctx context.Context, tx *store.Tx, c Case, a Action, reason string, now time.Time) error {
	title, ok := tellings[a]
	if !ok {
		return nil
	}
	it, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
	if err != nil {
		return err
	}
	item := it.Name
	// The entry says what happened, not the status, which the message
	// centre shows as it is now; the e-mail, read at once, gives it.
	body := fmt.Sprintf("%s（办件编号 %s）：%s。", item, c.Number, title)
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
	if err := s.queue.Enqueue(ctx, tx, SMSArgs{AccountID: c.ApplicantID, Text: text}, nil); err != nil {
		return err
	}
	if ok, err := identity.HasEmail(ctx, tx, c.ApplicantID); err != nil || !ok {
		return err
	}
	return s.queue.Enqueue(ctx, tx, MailArgs{AccountID: c.ApplicantID, Subject: title + "（办件编号 " + c.Number + "）",
		Body: body + "办件当前状态：" + c.Status.Name() + "。\n\n请登录政务服务平台“我的办件”查看详情。本邮件由系统自动发送，请勿回复。"}, nil)
}

// Messages lists a person's messages, newest first, and marks them read.
func (s *Service) Messages(ctx context.Context, who policy.Subject) ([]Message, error) {
	if who.Kind == policy.Anonymous {
		return nil, apperr.New(apperr.Unauthorized, "请先登录。")
	}
	rows, err := s.db.Read().Query(ctx, `SELECT m.id, COALESCE(m.case_id, 0), m.title, m.body, m.created_at, m.read_at IS NOT NULL,
		COALESCE(c.number, ''), COALESCE(c.status, '')
		FROM messages m LEFT JOIN cases c ON c.id = m.case_id WHERE m.account_id = ? ORDER BY m.id DESC LIMIT 100`, who.AccountID)
	if err != nil {
		return nil, err
	}
	var out []Message
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.CaseID, &m.Title, &m.Body, &m.CreatedAt, &m.Read, &m.CaseNumber, &m.CaseStatus); err != nil {
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
