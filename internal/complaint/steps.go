package complaint

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// byCode marks a step whose caller has no account but proved, with an SMS
// code to the complaint's own mobile number, that they filed it: the
// policy has no subject to ask about.
const byCode policy.Action = "by_code"

var errChanged = apperr.New(apperr.Conflict, "这件诉求刚被他人处理过，请刷新后查看最新状态再操作。")

// change is one step's work on a loaded complaint: it checks the state,
// changes c and says what to log; it may write more in tx.
type change func(tx *store.Tx, c *Complaint, now time.Time) (entry, error)

// entry is what a step logs.
type entry struct {
	action Action
	detail string
	public bool
	// bump: the step changes the complaint's state, so a page showing the
	// version before is out of date; log-only steps (progress, contact,
	// urge) leave the version alone.
	bump bool
}

// step runs one step on complaint id in one transaction: load, ask
// policy (a), check the version the caller saw (when expected > 0), change,
// write the row WHERE version is still the one read, log. A step is on
// the complaint's own log, not the audit log (meta is for the settings'
// changes), as a case's steps are on its events.
func (s *Service) step(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, expected int, a policy.Action, fn change) (Complaint, error) {
	var c Complaint
	actor, err := s.actor(ctx, who, "")
	if err != nil {
		return c, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = load(ctx, tx, `c.id = ?`, id); err != nil {
			return err
		}
		if a != byCode {
			if err := policy.Check(who, a, c.resource()); err != nil {
				return err
			}
		}
		if expected > 0 && c.Version != expected {
			return errChanged
		}
		now := s.clock.Now()
		read, was := c.Version, c.Status
		e, err := fn(tx, &c, now)
		if err != nil {
			return err
		}
		if e.bump {
			c.Version++
		}
		c.UpdatedAt = now
		if err := s.write(ctx, tx, c, read); err != nil {
			return err
		}
		if e.bump {
			if err := s.tellHotline(ctx, tx, c); err != nil {
				return err
			}
			if err := s.changed(ctx, tx, was, c); err != nil {
				return err
			}
		}
		return s.log(ctx, tx, c, who, actor, e.action, e.detail, e.public, now)
	})
	if err != nil {
		return Complaint{}, err
	}
	return c, nil
}

// write stores the complaint's changing columns if its version is still
// read.
func (s *Service) write(ctx context.Context, tx *store.Tx, c Complaint, read int) error {
	res, err := tx.Exec(ctx, `UPDATE complaints SET status = ?, department_id = ?, dispatch_due = ?, dispatch_warn = ?, feedback_due = ?, feedback_warn = ?,
		dispatch_warned = ?, dispatch_late = ?, feedback_warned = ?, feedback_late = ?, next_check_at = ?, dispatched_at = ?, signed_at = ?,
		replied_at = ?, closed_at = ?, resolved = ?, satisfied = ?, bounces = ?, reopens = ?, urges = ?, escalated = ?, version = ?, updated_at = ?
		WHERE id = ? AND version = ?`, c.Status, nullID(c.DepartmentID), c.DispatchDue, c.dispatchWarn, c.FeedbackDue, c.feedbackWarn,
		c.dispatchWarned, c.dispatchLate, c.feedbackWarned, c.feedbackLate, s.nextCheck(c), c.DispatchedAt, c.SignedAt,
		c.RepliedAt, c.ClosedAt, c.Resolved, c.Satisfied, c.Bounces, c.Reopens, c.Urges, c.Escalated, c.Version, c.UpdatedAt, c.ID, read)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errChanged
	}
	return nil
}

func text(s string, what string, min, max int) (string, error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n < min || n > max {
		if min > 0 && n == 0 {
			return "", apperr.New(apperr.Invalid, "请填写"+what+"。")
		}
		return "", apperr.New(apperr.Invalid, fmt.Sprintf("%s应为 %d 到 %d 个字。", what, min, max))
	}
	return s, nil
}

func wrongStatus(c Complaint, what string) error {
	return apperr.New(apperr.Conflict, fmt.Sprintf("这件诉求现在%s，不能%s。", c.Status.Name(), what))
}

// Dispatch gives a pending complaint (no rule matched, or it was sent
// back) to a unit; the dispatcher's.
func (s *Service) Dispatch(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, expected int, departmentID int64, note string) (Complaint, error) {
	dept, err := s.regions.Department(ctx, departmentID)
	if err != nil || departmentID == 0 {
		return Complaint{}, apperr.New(apperr.Invalid, "请选择承办单位。")
	}
	if note, err = text(note, "派单说明", 0, 500); err != nil {
		return Complaint{}, err
	}
	return s.step(ctx, who, meta, id, expected, policy.Dispatch, func(tx *store.Tx, c *Complaint, now time.Time) (entry, error) {
		if c.Status != Pending {
			return entry{}, wrongStatus(*c, "派单")
		}
		var bounced int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM complaint_bounces WHERE complaint_id = ? AND department_id = ?`, c.ID, dept.ID).Scan(&bounced); err != nil {
			return entry{}, err
		}
		if bounced > 0 && note == "" {
			return entry{}, apperr.New(apperr.Invalid, dept.Name+"已退回过这件诉求，再次派给它请在派单说明中写明理由。")
		}
		c.Status, c.DepartmentID, c.Department, c.DispatchedAt, c.SignedAt = Dispatched, dept.ID, dept.Name, &now, nil
		if err := s.tellUnit(ctx, tx, *c, "新诉求待签收", now); err != nil {
			return entry{}, err
		}
		detail := "派发至" + dept.Name
		if note != "" {
			detail += "：" + note
		}
		return entry{action: Dispatch, detail: detail, public: true, bump: true}, nil
	})
}

// Sign is the owning unit's signature (签收): from now it answers for it.
func (s *Service) Sign(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, expected int) (Complaint, error) {
	return s.step(ctx, who, meta, id, expected, policy.Handle, func(tx *store.Tx, c *Complaint, now time.Time) (entry, error) {
		if c.Status != Dispatched {
			return entry{}, wrongStatus(*c, "签收")
		}
		c.Status, c.SignedAt = Handling, &now
		if err := s.tellPerson(ctx, tx, *c, "您的诉求已签收", fmt.Sprintf("您的诉求 %s 已由%s签收办理。", c.Number, c.Department), now); err != nil {
			return entry{}, err
		}
		return entry{action: Sign, detail: c.Department + "已签收，正在办理", public: true, bump: true}, nil
	})
}

// Bounce sends a complaint the unit has not signed for back to the
// dispatcher (退回), with the reason; it counts against the unit. The
// first unit to sign owns it: a signed complaint is not sent back.
func (s *Service) Bounce(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, expected int, reason string) (Complaint, error) {
	reason, err := text(reason, "退回理由", 5, 500)
	if err != nil {
		return Complaint{}, err
	}
	return s.step(ctx, who, meta, id, expected, policy.Handle, func(tx *store.Tx, c *Complaint, now time.Time) (entry, error) {
		if c.Status != Dispatched {
			if c.Status == Handling {
				return entry{}, apperr.New(apperr.Conflict, "已签收的诉求由本单位负责办理到底（首接负责），不能退回；需要其他单位配合的，请邀请协办单位。")
			}
			return entry{}, wrongStatus(*c, "退回")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO complaint_bounces (complaint_id, department_id, reason, at) VALUES (?, ?, ?, ?)`, c.ID, c.DepartmentID, reason, now); err != nil {
			return entry{}, err
		}
		detail := c.Department + "退回：" + reason
		c.Status, c.DepartmentID, c.Department, c.DispatchedAt = Pending, 0, "", nil
		c.Bounces++
		if _, err := tx.Exec(ctx, `DELETE FROM complaint_helpers WHERE complaint_id = ?`, c.ID); err != nil {
			return entry{}, err
		}
		c.Helpers = nil
		if err := s.tellRole(ctx, tx, *c, "诉求被退回待重新派单", `r.role = 'dispatcher'`, nil, now); err != nil {
			return entry{}, err
		}
		// The person is not told: a bounce is between the unit and the
		// dispatcher, and the complaint stays received.
		return entry{action: Bounce, detail: detail, public: false, bump: true}, nil
	})
}

// RecordContact records that the unit contacted the person (by phone, on
// site …) and what was said; a reply needs one first.
func (s *Service) RecordContact(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, note string) (Complaint, error) {
	note, err := text(note, "联系情况", 2, 500)
	if err != nil {
		return Complaint{}, err
	}
	return s.step(ctx, who, meta, id, 0, policy.Handle, func(tx *store.Tx, c *Complaint, now time.Time) (entry, error) {
		if c.Status != Handling {
			return entry{}, wrongStatus(*c, "记录联系情况")
		}
		return entry{action: Contact, detail: note}, nil
	})
}

// RecordProgress adds a progress note, public (the person sees it) or
// internal; the owning unit's, or a helper unit's (Assist).
func (s *Service) RecordProgress(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, note string, public bool) (Complaint, error) {
	note, err := text(note, "办理进展", 2, 1000)
	if err != nil {
		return Complaint{}, err
	}
	return s.step(ctx, who, meta, id, 0, policy.Assist, func(tx *store.Tx, c *Complaint, now time.Time) (entry, error) {
		if c.Status != Handling {
			return entry{}, wrongStatus(*c, "记录办理进展")
		}
		a := Progress
		if who.DepartmentID != c.DepartmentID {
			a = Assist
		}
		return entry{action: a, detail: note, public: public}, nil
	})
}

// InviteHelper adds a helper unit for joint handling: it sees the
// complaint and records its progress; the owner still answers for it.
func (s *Service) InviteHelper(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, departmentID int64) (Complaint, error) {
	dept, err := s.regions.Department(ctx, departmentID)
	if err != nil || departmentID == 0 {
		return Complaint{}, apperr.New(apperr.Invalid, "请选择协办单位。")
	}
	return s.step(ctx, who, meta, id, 0, policy.Handle, func(tx *store.Tx, c *Complaint, now time.Time) (entry, error) {
		if c.Status != Handling {
			return entry{}, wrongStatus(*c, "邀请协办单位")
		}
		if dept.ID == c.DepartmentID {
			return entry{}, apperr.New(apperr.Invalid, "协办单位不能是承办单位本身。")
		}
		for _, h := range c.Helpers {
			if h == dept.ID {
				return entry{}, apperr.New(apperr.Conflict, dept.Name+"已是协办单位。")
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO complaint_helpers (complaint_id, department_id) VALUES (?, ?)`, c.ID, dept.ID); err != nil {
			return entry{}, err
		}
		c.Helpers = append(c.Helpers, dept.ID)
		if err := s.tellRole(ctx, tx, *c, "请协办诉求", `r.role IN ('reviewer', 'head') AND a.department_id = ?`, dept.ID, now); err != nil {
			return entry{}, err
		}
		return entry{action: Invite, detail: "邀请" + dept.Name + "协办", public: true}, nil
	})
}

// Reply is the unit's answer (办结答复): what was done. The unit must have
// contacted the person first. The person then confirms, or reopens it.
func (s *Service) Reply(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, expected int, answer string) (Complaint, error) {
	answer, err := text(answer, "答复内容", 10, 2000)
	if err != nil {
		return Complaint{}, err
	}
	return s.step(ctx, who, meta, id, expected, policy.Handle, func(tx *store.Tx, c *Complaint, now time.Time) (entry, error) {
		if c.Status != Handling {
			return entry{}, wrongStatus(*c, "答复")
		}
		var contacts int
		// A contact in this round of handling: since the signature or the
		// latest reopening.
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM complaint_events WHERE complaint_id = ? AND action = ? AND id >
			(SELECT COALESCE(MAX(id), 0) FROM complaint_events WHERE complaint_id = ? AND action IN (?, ?))`,
			c.ID, Contact, c.ID, Sign, Reopen).Scan(&contacts); err != nil {
			return entry{}, err
		}
		if contacts == 0 {
			return entry{}, apperr.New(apperr.Invalid, "答复前请先联系诉求人，并记录联系情况。")
		}
		c.Status, c.RepliedAt = Replied, &now
		if err := s.tellPerson(ctx, tx, *c, "您的诉求已答复", fmt.Sprintf("您的诉求 %s 已答复：%s 请登录确认是否解决。", c.Number, answer), now); err != nil {
			return entry{}, err
		}
		return entry{action: Reply, detail: answer, public: true, bump: true}, nil
	})
}

// Confirmation is the person's answer to a reply.
type Confirmation struct {
	Resolved  bool
	Satisfied bool
	Comment   string
}

// Confirm is the person's answer to the reply: resolved (the complaint
// closes) or not (it goes back to the unit, counted as reopened), and
// whether they are satisfied.
func (s *Service) Confirm(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, expected int, f Confirmation) (Complaint, error) {
	return s.confirm(ctx, who, meta, id, expected, f, policy.Edit, "")
}

// ConfirmFor records the answer a person without an account gave on the
// telephone (回访: window, phone and hotline complaints): the dispatcher's.
func (s *Service) ConfirmFor(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, expected int, f Confirmation) (Complaint, error) {
	return s.confirm(ctx, who, meta, id, expected, f, policy.Dispatch, "电话回访：")
}

// ConfirmWithCode is Confirm for a person without an account (filed
// anonymously, at a window or by phone): the SMS code sent to the mobile
// number given with the complaint proves it is theirs.
func (s *Service) ConfirmWithCode(ctx context.Context, meta audit.Meta, number, mobile, code string, f Confirmation) (Complaint, error) {
	m, err := ident.ParseMobile(mobile)
	if err != nil {
		return Complaint{}, fieldErr("mobile", err.Error())
	}
	c, err := load(ctx, s.db.Read(), `c.number = ?`, strings.TrimSpace(number))
	if err != nil {
		return Complaint{}, err
	}
	switch {
	case c.AccountID != 0:
		return Complaint{}, apperr.New(apperr.Conflict, "这件诉求是登录后提交的，请登录后在“我的诉求”中确认。")
	case c.mobileIndex == "" || c.mobileIndex != s.opt.Keys.Index("mobile", m):
		return Complaint{}, fieldErr("mobile", "手机号与这件诉求登记的不符。")
	case c.Status != Replied:
		return Complaint{}, wrongStatus(c, "确认")
	case s.opt.VerifyCode == nil:
		return Complaint{}, apperr.New(apperr.Unavailable, "暂不支持短信验证确认，请等待回访。")
	}
	if strings.TrimSpace(code) == "" {
		return Complaint{}, fieldErr("code", "请填写短信验证码。")
	}
	if err := s.opt.VerifyCode(ctx, m, strings.TrimSpace(code)); err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			return Complaint{}, fieldErr("code", apperr.MessageOf(err))
		}
		return Complaint{}, err
	}
	return s.confirm(ctx, policy.Subject{Kind: policy.Anonymous}, meta, c.ID, c.Version, f, byCode, "短信验证后确认：")
}

func (s *Service) confirm(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, expected int, f Confirmation, a policy.Action, prefix string) (Complaint, error) {
	comment, err := text(f.Comment, "意见", 0, 500)
	if err != nil {
		return Complaint{}, err
	}
	if !f.Resolved && comment == "" {
		return Complaint{}, apperr.New(apperr.Invalid, "请说明还有什么问题没有解决。")
	}
	return s.step(ctx, who, meta, id, expected, a, func(tx *store.Tx, c *Complaint, now time.Time) (entry, error) {
		if c.Status != Replied {
			return entry{}, wrongStatus(*c, "确认")
		}
		if (a == policy.Dispatch || a == byCode) && c.AccountID != 0 {
			return entry{}, apperr.New(apperr.Conflict, "这件诉求由诉求人本人在网上确认。")
		}
		c.Satisfied = &f.Satisfied
		detail := prefix + map[bool]string{true: "已解决", false: "未解决"}[f.Resolved] + "，" + map[bool]string{true: "满意", false: "不满意"}[f.Satisfied]
		if comment != "" {
			detail += "：" + comment
		}
		if !f.Resolved {
			if err := s.reopen(ctx, tx, c, now); err != nil {
				return entry{}, err
			}
			return entry{action: Reopen, detail: detail, public: true, bump: true}, s.tellUnit(ctx, tx, *c, "诉求人认为未解决，请继续办理", now)
		}
		c.Resolved = &f.Resolved
		return entry{action: Confirm, detail: detail, public: true, bump: true}, s.close(ctx, tx, c, now)
	})
}

// Reopen takes a closed complaint back to its unit, within ReopenDays of
// its close; the person's.
func (s *Service) Reopen(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, expected int, reason string) (Complaint, error) {
	reason, err := text(reason, "重新办理的理由", 5, 500)
	if err != nil {
		return Complaint{}, err
	}
	return s.step(ctx, who, meta, id, expected, policy.Edit, func(tx *store.Tx, c *Complaint, now time.Time) (entry, error) {
		if c.Status != Closed || c.ClosedAt == nil {
			return entry{}, wrongStatus(*c, "重新办理")
		}
		if now.After(c.ClosedAt.AddDate(0, 0, s.opt.ReopenDays)) {
			return entry{}, apperr.New(apperr.Conflict, fmt.Sprintf("办结超过 %d 天的诉求不能重新办理，请提交新的诉求。", s.opt.ReopenDays))
		}
		if err := s.reopen(ctx, tx, c, now); err != nil {
			return entry{}, err
		}
		return entry{action: Reopen, detail: reason, public: true, bump: true}, s.tellUnit(ctx, tx, *c, "诉求人申请重新办理", now)
	})
}

// CanReopen reports whether the person may still reopen c at now.
func (s *Service) CanReopen(c Complaint) bool {
	return c.Status == Closed && c.ClosedAt != nil && !s.clock.Now().After(c.ClosedAt.AddDate(0, 0, s.opt.ReopenDays))
}

// reopen puts c back in its unit's hands with a new feedback limit from
// now.
func (s *Service) reopen(ctx context.Context, tx *store.Tx, c *Complaint, now time.Time) error {
	cat, err := categoryIn(ctx, tx, c.CategoryID)
	if err != nil {
		return err
	}
	c.Status, c.Reopens, c.RepliedAt, c.ClosedAt, c.Resolved = Handling, c.Reopens+1, nil, nil, nil
	c.FeedbackDue, c.feedbackWarn = s.due(now, cat.Feedback)
	c.feedbackWarned, c.feedbackLate = false, false
	return nil
}

// close ends c and runs the OnClosed hook in the same transaction.
func (s *Service) close(ctx context.Context, tx *store.Tx, c *Complaint, now time.Time) error {
	c.Status, c.ClosedAt = Closed, &now
	if s.opt.OnClosed != nil {
		return s.opt.OnClosed(ctx, tx, *c)
	}
	return nil
}

// Urge is a supervisor's 督办: the owning unit is told to hurry.
func (s *Service) Urge(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, note string) (Complaint, error) {
	note, err := text(note, "督办意见", 2, 500)
	if err != nil {
		return Complaint{}, err
	}
	return s.step(ctx, who, meta, id, 0, policy.Follow, func(tx *store.Tx, c *Complaint, now time.Time) (entry, error) {
		if c.Status == Closed || c.Status == Replied {
			return entry{}, wrongStatus(*c, "督办")
		}
		c.Urges++
		if c.DepartmentID == 0 {
			return entry{action: Urge, detail: note}, s.tellRole(ctx, tx, *c, "诉求督办：请尽快派单", `r.role = 'dispatcher'`, nil, now)
		}
		return entry{action: Urge, detail: note}, s.tellUnit(ctx, tx, *c, "诉求督办："+note, now)
	})
}

// Escalate is a supervisor's 提级督办: the unit's head and the district's
// supervisors are told, and the complaint is marked escalated.
func (s *Service) Escalate(ctx context.Context, who policy.Subject, meta audit.Meta, id int64, note string) (Complaint, error) {
	note, err := text(note, "提级督办意见", 2, 500)
	if err != nil {
		return Complaint{}, err
	}
	return s.step(ctx, who, meta, id, 0, policy.Follow, func(tx *store.Tx, c *Complaint, now time.Time) (entry, error) {
		if c.Status == Closed {
			return entry{}, wrongStatus(*c, "提级督办")
		}
		if c.Escalated {
			return entry{}, apperr.New(apperr.Conflict, "这件诉求已提级督办。")
		}
		c.Escalated = true
		if err := s.tellRole(ctx, tx, *c, "诉求提级督办", `r.role = 'supervisor' AND substr(d.region_code, 1, 6) = ?`, c.RegionCode[:6], now); err != nil {
			return entry{}, err
		}
		if c.DepartmentID != 0 {
			if err := s.tellRole(ctx, tx, *c, "诉求提级督办："+note, `r.role = 'head' AND a.department_id = ?`, c.DepartmentID, now); err != nil {
				return entry{}, err
			}
		}
		return entry{action: Escalate, detail: note, bump: true}, nil
	})
}
