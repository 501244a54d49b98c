package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

var errChanged = apperr.New(apperr.Conflict, "该办件刚被他人处理过，请刷新后查看最新状态再操作。")

// current checks that the caller acts on the case as it is: expected is
// the version their page showed. Versions start at 1, so anything less is
// a request without one (a missing or garbled form field), not a race.
func current(c Case, expected int) error {
	if expected < 1 {
		return apperr.New(apperr.Invalid, "请求缺少有效的版本号，请刷新页面后重试。")
	}
	if c.Version != expected {
		return errChanged
	}
	return nil
}

// Act takes a plain action on a case, as who, if the case is still at
// version expected. Of two people acting on the same version, one succeeds
// and the other is told the case changed; nothing is applied twice.
// Actions that carry more (a decision, a result, a department, a delivery)
// have methods of their own.
func (s *Service) Act(ctx context.Context, who policy.Subject, caseID int64, expected int, a Action, reason string) (Case, error) {
	switch a {
	case Decide, Transfer, Deliver, Settle, AskCorrect:
		return Case{}, apperr.New(apperr.Invalid, a.Name()+"须使用相应的办理表单。")
	}
	return s.do(ctx, who, caseID, expected, step{action: a, reason: reason})
}

// Decide records the decision — approval or denial — with its reasons and
// legal basis, and issues the 决定书.
func (s *Service) Decide(ctx context.Context, who policy.Subject, caseID int64, expected int, approve bool, reason, basis string) (Case, error) {
	d := Denied
	if approve {
		d = Approved
	}
	return s.do(ctx, who, caseID, expected, step{action: Decide, reason: reason, decision: d, basis: basis})
}

// Complete finishes a case. An approved case needs its result (a licence,
// an approval) attached in the same transaction; a denied one ends with
// its decision.
func (s *Service) Complete(ctx context.Context, who policy.Subject, caseID int64, expected int, result filestore.Object, filename string) (Case, error) {
	return s.do(ctx, who, caseID, expected, step{action: Complete, result: result, resultName: filename})
}

// AskCorrection sends the case back for corrections (一次性告知) with one
// 补正材料通知书 that says why and names every material to hand in again
// (positions in the item version's materials), at least one.
func (s *Service) AskCorrection(ctx context.Context, who policy.Subject, caseID int64, expected int, reason string, materials []int) (Case, error) {
	return s.do(ctx, who, caseID, expected, step{action: AskCorrect, reason: reason, named: materials})
}

// Transfer passes a case to another department that should handle it.
func (s *Service) Transfer(ctx context.Context, who policy.Subject, caseID int64, expected int, toDepartment int64, reason string) (Case, error) {
	return s.do(ctx, who, caseID, expected, step{action: Transfer, reason: reason, department: toDepartment})
}

// Delivery methods of a result.
const (
	DeliverOnline  = "online"  // 网上送达: the applicant downloads it
	DeliverExpress = "express" // 邮寄送达
	DeliverWindow  = "window"  // 窗口领取: the applicant comes for it
)

var deliveryNames = map[string]string{DeliverOnline: "网上送达", DeliverExpress: "邮寄送达", DeliverWindow: "窗口领取"}

// DeliveryName names a delivery method in Chinese.
func DeliveryName(m string) string { return deliveryNames[m] }

// Deliver records that the result reached the applicant, and how; it
// issues the 送达回证. detail is the express waybill number, or a note.
func (s *Service) Deliver(ctx context.Context, who policy.Subject, caseID int64, expected int, method, detail string) (Case, error) {
	if deliveryNames[method] == "" {
		return Case{}, apperr.New(apperr.Invalid, "请选择送达方式：网上送达、邮寄送达或窗口领取。")
	}
	detail = strings.TrimSpace(detail)
	if method == DeliverExpress && detail == "" {
		return Case{}, apperr.New(apperr.Invalid, "邮寄送达须填写快递单号。")
	}
	reason := deliveryNames[method]
	if detail != "" {
		reason += "：" + detail
	}
	return s.do(ctx, who, caseID, expected, step{action: Deliver, reason: reason, delivery: method})
}

// Settle handles an 即办件 at one sitting: accepted, decided (approved) and
// completed with its result, in one transaction, each step on the record
// with its notice, by whoever the item lets decide.
func (s *Service) Settle(ctx context.Context, who policy.Subject, caseID int64, expected int, reason string, result filestore.Object, filename string) (Case, error) {
	return s.do(ctx, who, caseID, expected,
		step{action: Accept, settling: true},
		step{action: Decide, reason: reason, decision: Approved, settling: true},
		step{action: Complete, result: result, resultName: filename, settling: true})
}

// Decisions.
const (
	Approved = "approved" // 准予
	Denied   = "denied"   // 不予
)

// step is one action with what it carries.
type step struct {
	action     Action
	reason     string
	decision   string // Decide
	basis      string // Decide: the legal basis, the item's by default
	result     filestore.Object
	resultName string
	department int64  // Transfer
	delivery   string // Deliver
	settling   bool   // part of Settle: the decider's roles take every step
	named      []int  // AskCorrect: the materials (positions) to hand in again
}

// do takes the steps, one after another, in one transaction.
func (s *Service) do(ctx context.Context, who policy.Subject, caseID int64, expected int, steps ...step) (Case, error) {
	var c Case
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		for _, st := range steps {
			if c, err = s.take(ctx, tx, who, caseID, expected, st); err != nil {
				return err
			}
			expected = c.Version
		}
		return nil
	})
	return c, err
}

// take applies one step in tx: checks who may take it from the case's
// state, moves the case and its deadline, and writes its notice, message
// and event.
func (s *Service) take(ctx context.Context, tx *store.Tx, who policy.Subject, caseID int64, expected int, st step) (Case, error) {
	a := st.action
	t, ok := workflow[a]
	if !ok {
		return Case{}, apperr.New(apperr.Invalid, "未知的办理操作")
	}
	reason := strings.TrimSpace(st.reason)
	if t.reason && reason == "" {
		return Case{}, apperr.New(apperr.Invalid, a.Name()+"须写明理由。")
	}
	c, err := load(ctx, tx, caseID)
	if err != nil {
		return c, err
	}
	it, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
	if err != nil {
		return c, err
	}
	role, err := s.check(ctx, tx, who, c, it, st, func() error { return current(c, expected) })
	if err != nil {
		return c, err
	}
	before := c
	to := t.to
	if to == "" {
		to = c.Status
	}
	switch a {
	case AskCorrect:
		if err := namedMaterials(it, st.named); err != nil {
			return c, err
		}
	case Submit, Resubmit:
		mats, err := Materials(ctx, tx, c.ID)
		if err != nil {
			return c, err
		}
		if missing := missingRequired(it, mats, -1); len(missing) > 0 {
			return c, apperr.New(apperr.Invalid, "还缺少必需材料："+strings.Join(missing, "、"))
		}
		if a == Resubmit {
			if err := corrected(ctx, tx, it, c.ID); err != nil {
				return c, err
			}
		}
	case Decide:
		if st.decision != Approved && st.decision != Denied {
			return c, apperr.New(apperr.Invalid, "请选择准予或不予。")
		}
	case Complete:
		if c.Decision != Denied && st.result.SHA256 == "" {
			return c, apperr.New(apperr.Invalid, "办结须上传办理结果（证照、批文等）。")
		}
	case Transfer:
		var name string
		if err := tx.QueryRow(ctx, `SELECT name FROM departments WHERE id = ?`, st.department).Scan(&name); errors.Is(err, sql.ErrNoRows) {
			return c, apperr.New(apperr.Invalid, "请选择要移交的部门。")
		} else if err != nil {
			return c, err
		}
		if st.department == c.DepartmentID {
			return c, apperr.New(apperr.Invalid, "不能移交给本部门。")
		}
		reason = "移交至" + name + "：" + reason
	}
	now := s.clock.Now()
	corrections := c.Corrections
	if a == AskCorrect {
		corrections++
	}
	if err := s.moveDeadline(ctx, tx, &c, a, it, calendar.DateOf(now)); err != nil {
		return c, err
	}
	from := c.Status
	c.Status, c.Corrections, c.UpdatedAt = to, corrections, now
	switch a {
	case Decide:
		c.Decision = st.decision
	case Complete:
		if st.result.SHA256 != "" {
			c.ResultSHA256, c.ResultName, c.ResultType = st.result.SHA256, cleanFilename(st.resultName), st.result.ContentType
			if err := s.hold(ctx, tx, []Attachment{{Object: st.result}}); err != nil {
				return c, err
			}
		}
	case Transfer:
		c.DepartmentID = st.department
		c.Transfers++
	case Deliver:
		c.Delivery = st.delivery
	}
	if a == Complete || a == Refuse {
		Finishing(&c, it, s.calendar, calendar.DateOf(now))
	}
	res, err := tx.Exec(ctx, `UPDATE cases SET status = ?, corrections = ?, accepted_on = ?, due_on = ?, paused_on = ?, decision = ?,
		result_sha256 = ?, result_name = ?, result_type = ?, department_id = ?, transfers = ?, delivery = ?,
		finished_on = ?, handling_days = ?, promise_days = ?, legal_days = ?,
		version = version + 1, updated_at = ?, submitted_at = CASE WHEN ? THEN ? ELSE submitted_at END WHERE id = ? AND version = ?`,
		c.Status, c.Corrections, dateText(c.AcceptedOn), dateText(c.DueOn), dateText(c.PausedOn), c.Decision,
		c.ResultSHA256, c.ResultName, c.ResultType, c.DepartmentID, c.Transfers, c.Delivery,
		dateText(c.FinishedOn), c.HandlingDays, c.PromiseDays, c.LegalDays,
		now, a == Submit || a == Resubmit, now, c.ID, expected)
	if err != nil {
		return c, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return c, errChanged
	}
	c.Version = expected + 1
	if a == AskCorrect {
		if err := s.recordCorrection(ctx, tx, c.ID, reason, st.named, now); err != nil {
			return c, err
		}
	}
	if err := s.issue(ctx, tx, c, it, st, reason, now); err != nil {
		return c, err
	}
	if a == Deliver && st.delivery == DeliverWindow {
		// Coming for the result is a visit too (最多跑一次 counts it).
		if err := s.visit(ctx, tx, &c, who, "领取办理结果", now); err != nil {
			return c, err
		}
	}
	// One message per sitting: an 即办件's applicant hears once, of the
	// settlement, when its last step has made the case what they will see.
	told, tellReason := a, reason
	if st.settling {
		told, tellReason = Settle, ""
	}
	if !st.settling || a == Complete {
		if err := s.tell(ctx, tx, c, told, tellReason, now); err != nil {
			return c, err
		}
	}
	if a == Complete || a == Refuse {
		for _, fn := range s.finished {
			if err := fn(ctx, tx, c); err != nil {
				return c, err
			}
		}
	}
	if a == Complete || a == Refuse || a == Withdraw {
		// Parts of a bundle that wait for this case start or end with it.
		if err := s.settleWaiting(ctx, tx, c, st.result, now); err != nil {
			return c, err
		}
	}
	if err := s.changedFrom(ctx, tx, before, c); err != nil {
		return c, err
	}
	return c, appendEvent(ctx, tx, c.ID, Event{At: now, ActorID: who.AccountID, ActorRole: role, Action: a, From: from, To: to, Reason: reason})
}

// Finishing records on c, finishing (办结 or 不予受理) on day, how it
// finished for the statistics: the day, the working days since it was
// accepted, and item it's promised and legal limits when they are in
// working days. A case never accepted has only its day. internal/generate
// calls it too, so that generated cases count as worked ones do.
func Finishing(c *Case, it catalog.Item, cal *calendar.Calendar, day calendar.Date) {
	c.FinishedOn = day
	c.HandlingDays, c.PromiseDays, c.LegalDays = 0, 0, 0
	if c.AcceptedOn.IsZero() {
		return
	}
	c.HandlingDays = cal.WorkdaysBetween(c.AcceptedOn, day)
	if l := it.PromiseLimit.Limit(); l.Unit == calendar.WorkingDays {
		c.PromiseDays = l.Value
	}
	if l := it.LegalLimit.Limit(); l.Unit == calendar.WorkingDays {
		c.LegalDays = l.Value
	}
}

// check says whether who may take st on c (of item version it) now, and
// the role they act in: the rules of who and from which state, which both
// a step and the offer of it on a page (Available) follow. inState runs
// between the who and the state checks (take checks the version there);
// what a step carries (its reason, decision, files) is take's to check.
func (s *Service) check(ctx context.Context, q store.Querier, who policy.Subject, c Case, it catalog.Item, st step, inState func() error) (string, error) {
	a := st.action
	t := workflow[a]
	by, from := t, t.from
	if st.settling || a == Settle {
		// Whoever may decide an 即办件 takes each of its steps at one sitting,
		// reviewing it on the spot.
		by.by = workflow[Settle].by
		if it.CaseKind != catalog.Immediate {
			return "", apperr.New(apperr.Conflict, "只有即办件可以当场办结。")
		}
		if a == Decide {
			from = []Status{Reviewing}
		}
	}
	role, err := mayAct(who, c, by, it)
	if err != nil {
		return "", err
	}
	if inState != nil {
		if err := inState(); err != nil {
			return "", err
		}
	}
	if !slices.Contains(from, c.Status) {
		return "", apperr.New(apperr.Conflict, fmt.Sprintf("办件当前为「%s」，不能%s。", c.Status.Name(), a.Name()))
	}
	if a == AskCorrect && c.Corrections > 0 {
		if err := secondCorrectionAllowed(ctx, q, c.ID); err != nil {
			return "", err
		}
	}
	return role, nil
}

// mayAct checks that who may take a transition on c, whose item version
// is it, and names the role they act in for the record.
func mayAct(who policy.Subject, c Case, t transition, it catalog.Item) (string, error) {
	if who.Kind == policy.Person {
		if !t.by.Applicant {
			// A staff step: the policy answers as for anything of another's.
			if err := policy.Check(who, policy.Handle, c.Resource()); err != nil {
				return "", err
			}
			return "", apperr.New(apperr.Forbidden, "这一步须由工作人员办理。")
		}
		if err := policy.Check(who, policy.Create, c.Resource()); err != nil {
			return "", err
		}
		return "申请人", nil
	}
	roles := t.by.Roles
	if t.by.Step != "" {
		st, ok := it.Step(t.by.Step)
		if !ok {
			return "", apperr.New(apperr.Conflict, "本事项的办理流程没有“"+t.by.Step+"”环节。")
		}
		roles = st.Roles
	}
	if len(roles) == 0 {
		return "", apperr.New(apperr.Forbidden, "这一步须由申请人本人操作。")
	}
	if err := policy.Check(who, policy.Handle, c.Resource()); err != nil {
		return "", err
	}
	if t.approve {
		if err := policy.Check(who, policy.Approve, c.Resource()); err != nil {
			return "", apperr.New(apperr.Forbidden, "这一步须经部门负责人批准，由部门负责人办理。")
		}
	}
	for _, r := range roles {
		if who.Has(r) {
			if who.Kind == policy.Client { // a department's system: its record names the system
				return who.Name, nil
			}
			return r.Name(), nil
		}
	}
	if who.Has(policy.Admin) {
		return policy.Admin.Name(), nil
	}
	return "", apperr.New(apperr.Forbidden, "您的角色不能进行这一步。")
}

// Available lists the actions who may take on c now, in workflow order:
// those check allows, so that a page offers only what can succeed. it is
// the case's item version, whose workflow says who takes each step.
func (s *Service) Available(ctx context.Context, who policy.Subject, c Case, it catalog.Item) []Action {
	var out []Action
	for _, a := range []Action{Submit, Precheck, Accept, Settle, AskCorrect, Refuse, Resubmit, Review, Pause, Resume, Decide, Complete, Deliver, Transfer, Withdraw} {
		if _, err := s.check(ctx, s.db.Read(), who, c, it, step{action: a}, nil); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// NeedsReason reports whether an action must be explained.
func NeedsReason(a Action) bool { return workflow[a].reason }

// secondCorrectionAllowed enforces 一次性告知: everything missing or wrong
// is told in the first correction notice. A further request is allowed
// only when the applicant has handed in or replaced materials since the
// last one — those new files may themselves be wrong — and each such
// request is counted on the case for supervisors to see.
func secondCorrectionAllowed(ctx context.Context, q store.Querier, caseID int64) error {
	var last time.Time
	if err := q.QueryRow(ctx, `SELECT at FROM case_events WHERE case_id = ? AND action = ? ORDER BY seq DESC LIMIT 1`,
		caseID, AskCorrect).Scan(&last); err != nil {
		return err
	}
	var changed int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM case_materials WHERE case_id = ? AND uploaded_at > ?`, caseID, last).Scan(&changed); err != nil {
		return err
	}
	if changed == 0 {
		return apperr.New(apperr.Conflict, "一次性告知：需补正的内容应在第一次补正通知中全部列明；只有申请人此后新提交或更换的材料才能再次要求补正。")
	}
	return nil
}
