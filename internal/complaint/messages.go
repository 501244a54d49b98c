package complaint

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/store"
)

// Messages go to the message centre (messages, with no case) in the
// step's transaction; the person's also by SMS, a durable job enqueued in
// the same transaction, to the mobile number given with the complaint (a
// complaint filed without an account has no message centre).

// SMSArgs is the durable job that texts a complainant.
type SMSArgs struct {
	ComplaintID int64  `json:"complaint_id"`
	Text        string `json:"text"`
}

func (SMSArgs) Kind() string { return "complaint_sms" }

// SMSWorker sends SMSArgs jobs to the complaint's mobile number.
type SMSWorker struct {
	river.WorkerDefaults[SMSArgs]
	Service *Service
	Send    func(ctx context.Context, mobile, text string) error
}

// Work sends one message; a failure is retried by the queue.
func (w *SMSWorker) Work(ctx context.Context, job *river.Job[SMSArgs]) error {
	c, err := load(ctx, w.Service.db.Read(), `c.id = ?`, job.Args.ComplaintID)
	if err != nil || c.mobileSealed == "" {
		return err
	}
	mobile, err := w.Service.opt.Keys.Open(c.mobileSealed, ctxMobile)
	if err != nil {
		return err
	}
	return w.Send(ctx, mobile, job.Args.Text)
}

// tellPerson writes the complainant's message (when they have an account)
// and texts them.
func (s *Service) tellPerson(ctx context.Context, tx *store.Tx, c Complaint, title, body string, now time.Time) error {
	if c.AccountID != 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO messages (account_id, title, body, created_at) VALUES (?, ?, ?, ?)`, c.AccountID, title, body, now); err != nil {
			return err
		}
	}
	if s.opt.Queue == nil || c.mobileSealed == "" {
		return nil
	}
	return s.opt.Queue.Enqueue(ctx, tx, SMSArgs{ComplaintID: c.ID, Text: fmt.Sprintf("【政务服务】%s，诉求编号%s。", title, c.Number)}, nil)
}

// tellUnit writes a message to the owning unit's reviewers and heads.
func (s *Service) tellUnit(ctx context.Context, tx *store.Tx, c Complaint, title string, now time.Time) error {
	if c.DepartmentID == 0 {
		return nil
	}
	return s.tellRole(ctx, tx, c, title, `r.role IN ('reviewer', 'head') AND a.department_id = ?`, c.DepartmentID, now)
}

// tellRole writes a message to the active staff matching cond on their
// role (r), account (a) and department (d).
func (s *Service) tellRole(ctx context.Context, tx *store.Tx, c Complaint, title, cond string, arg any, now time.Time) error {
	args := []any{false}
	if arg != nil {
		args = append(args, arg)
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT a.id FROM accounts a JOIN staff_roles r ON r.account_id = a.id
		JOIN departments d ON d.id = a.department_id WHERE a.disabled = ? AND `+cond, args...)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	body := fmt.Sprintf("诉求 %s（%s · %s）：%s。", c.Number, c.CategoryName, c.Title, title)
	for _, id := range ids {
		if _, err := tx.Exec(ctx, `INSERT INTO messages (account_id, title, body, created_at) VALUES (?, ?, ?, ?)`, id, title, body, now); err != nil {
			return err
		}
	}
	return nil
}
