package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
)

// Case is one application and where it stands.
type Case struct {
	ID           int64
	Number       string // 办件编号
	ItemID       int64
	ItemVersion  int
	ApplicantID  int64
	EnterpriseID int64
	DepartmentID int64
	RegionCode   string
	Status       Status
	Channel      string            // online, or window: taken in at the counter
	Form         map[string]string // as pages show them: personal answers masked (Answers has them in full)
	Corrections  int
	AcceptedOn   calendar.Date // zero until accepted
	DueOn        calendar.Date // the legal deadline once accepted
	PausedOn     calendar.Date // set while paused
	ResultSHA256 string        // the result file, once completed
	ResultName   string
	ResultType   string
	Decision     string // Approved or Denied, once decided
	Delivery     string // how the result reached the applicant, once delivered
	Transfers    int    // times passed to another department
	Version      int    // bumped by every change; a stale version is refused
	CreatedAt    time.Time
	UpdatedAt    time.Time

	sealed map[string]string // the personal answers, sealed, by field key
}

// Resource is the case as the policy sees it.
func (c Case) Resource() policy.Resource {
	return policy.Resource{Kind: policy.Case, OwnerID: c.ApplicantID, EnterpriseID: c.EnterpriseID,
		DepartmentID: c.DepartmentID, RegionCode: c.RegionCode, Draft: c.Status == Draft, Counter: c.Channel == "window"}
}

// Event is one entry of a case's record.
type Event struct {
	Seq       int
	At        time.Time
	ActorID   int64
	ActorRole string
	Action    Action
	From, To  Status
	Reason    string
	Hash      string
}

// Service handles cases.
type Service struct {
	db       *store.DB
	catalog  *catalog.Store
	clock    clock.Clock
	calendar *calendar.Calendar
	queue    *jobs.Queue // nil: messages are stored but no SMS is sent
	keys     *pii.Keys   // seal personal answers (UseKeys)
	numbers  numberBlock
	// files, when set, holds the stored files a case records (see
	// staging.Store.Hold); maxPending caps an applicant's draft files.
	files      *staging.Store
	maxPending int64
}

// UseFiles makes the service hold, in the transaction that records them,
// the files it records, so that no clean-up deletes them meanwhile, and
// caps the bytes of files an applicant keeps on drafts (0: no cap).
func (s *Service) UseFiles(files *staging.Store, maxPendingBytes int64) {
	s.files, s.maxPending = files, maxPendingBytes
}

// hold holds the files of an application that went to the file store
// (the staged ones are written in the same transaction).
func (s *Service) hold(ctx context.Context, tx *store.Tx, files []Attachment) error {
	if s.files == nil {
		return nil
	}
	var sums []string
	for _, f := range files {
		if f.Data == nil {
			sums = append(sums, f.Object.SHA256)
		}
	}
	return s.files.Hold(ctx, tx, sums...)
}

// New returns the service. Deadlines are counted on cal.
func New(db *store.DB, items *catalog.Store, clk clock.Clock, cal *calendar.Calendar) *Service {
	return &Service{db: db, catalog: items, clock: clk, calendar: cal}
}

// Create is the first event of every case.
const Create Action = "create"

// CreateDraft starts an application for a published item that can be
// applied for online, under the item's current version.
func (s *Service) CreateDraft(ctx context.Context, who policy.Subject, itemID int64, form map[string]string) (Case, error) {
	it, _, err := s.catalog.Published(ctx, itemID)
	if err != nil {
		return Case{}, err
	}
	if err := applicable(it); err != nil {
		return Case{}, err
	}
	c := Case{ItemID: it.ID, ItemVersion: it.Version, ApplicantID: who.AccountID, EnterpriseID: who.ActingFor,
		DepartmentID: it.DepartmentID, RegionCode: it.RegionCode, Status: Draft, Channel: "online", Form: form, Version: 1}
	if err := policy.Check(who, policy.Create, c.Resource()); err != nil {
		return Case{}, err
	}
	now := s.clock.Now()
	body, err := s.open(ctx, &c, it, now)
	if err != nil {
		return Case{}, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := insertCase(ctx, tx, &c, body); err != nil {
			return err
		}
		return appendEvent(ctx, tx, c.ID, Event{At: now, ActorID: who.AccountID, ActorRole: "申请人", Action: Create, To: Draft})
	})
	return c, err
}

// open numbers and timestamps a new case and encodes its form (of item
// it), sealing the personal answers: the work before its transaction (a
// new block of numbers is a transaction of its own).
func (s *Service) open(ctx context.Context, c *Case, it catalog.Item, now time.Time) (string, error) {
	var err error
	c.CreatedAt, c.UpdatedAt = now, now
	if c.Number, err = s.nextNumber(ctx, c.RegionCode, now); err != nil {
		return "", err
	}
	return s.encodeForm(it, c, c.Form)
}

// insertCase writes a new case in tx — only if its item is still published
// at the case's version: the item was read before the transaction, from a
// recent copy on the busiest path.
func insertCase(ctx context.Context, tx *store.Tx, c *Case, form string) error {
	var enterprise, submitted any
	if c.EnterpriseID != 0 {
		enterprise = c.EnterpriseID
	}
	if c.Status == Submitted {
		submitted = c.CreatedAt
	}
	err := tx.QueryRow(ctx, `INSERT INTO cases (number, item_id, item_version, applicant_id, enterprise_id, department_id,
		region_code, status, channel, form_data, version, created_at, updated_at, submitted_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ? WHERE EXISTS (SELECT 1 FROM items WHERE id = ? AND status = 'published' AND published_version = ?)
		RETURNING id`,
		c.Number, c.ItemID, c.ItemVersion, c.ApplicantID, enterprise, c.DepartmentID, c.RegionCode, c.Status, c.Channel, form,
		c.CreatedAt, c.UpdatedAt, submitted, c.ItemID, c.ItemVersion).Scan(&c.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.Conflict, "本事项的办事指南刚刚更新或已暂停办理，请刷新页面，按最新要求重新提交。")
	}
	if err != nil {
		return fmt.Errorf("insert case: %w", err)
	}
	return nil
}

// applicable says whether an item can be applied for online now.
func applicable(it catalog.Item) error {
	if it.Status != catalog.Published {
		return apperr.New(apperr.Conflict, "本事项暂停办理，暂不能申请。")
	}
	if !it.Depth.Online() {
		return apperr.New(apperr.Invalid, "本事项暂不支持网上申请，请到现场办理。")
	}
	return nil
}

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
	case Decide, Transfer, Deliver, Settle:
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
// with its notice, by whoever may accept it.
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
	settling   bool   // part of Settle: the acceptor's roles take every step
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
	by := t
	if st.settling {
		by.by = workflow[Accept].by
		if it.CaseKind != catalog.Immediate {
			return c, apperr.New(apperr.Conflict, "只有即办件可以当场办结。")
		}
	}
	role, err := mayAct(who, c, by, it)
	if err != nil {
		return c, err
	}
	if err := current(c, expected); err != nil {
		return c, err
	}
	if !slices.Contains(t.from, c.Status) {
		return c, apperr.New(apperr.Conflict, fmt.Sprintf("办件当前为「%s」，不能%s。", c.Status.Name(), a.Name()))
	}
	to := t.to
	if to == "" {
		to = c.Status
	}
	switch a {
	case AskCorrect:
		if c.Corrections > 0 {
			if err := secondCorrectionAllowed(ctx, tx, c.ID); err != nil {
				return c, err
			}
		}
	case Submit, Resubmit:
		mats, err := Materials(ctx, tx, c.ID)
		if err != nil {
			return c, err
		}
		if missing := missingRequired(it, mats); len(missing) > 0 {
			return c, apperr.New(apperr.Invalid, "还缺少必需材料："+strings.Join(missing, "、"))
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
	res, err := tx.Exec(ctx, `UPDATE cases SET status = ?, corrections = ?, accepted_on = ?, due_on = ?, paused_on = ?, decision = ?,
		result_sha256 = ?, result_name = ?, result_type = ?, department_id = ?, transfers = ?, delivery = ?,
		version = version + 1, updated_at = ?, submitted_at = CASE WHEN ? THEN ? ELSE submitted_at END WHERE id = ? AND version = ?`,
		c.Status, c.Corrections, dateText(c.AcceptedOn), dateText(c.DueOn), dateText(c.PausedOn), c.Decision,
		c.ResultSHA256, c.ResultName, c.ResultType, c.DepartmentID, c.Transfers, c.Delivery,
		now, a == Submit || a == Resubmit, now, c.ID, expected)
	if err != nil {
		return c, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return c, errChanged
	}
	c.Version = expected + 1
	if err := s.issue(ctx, tx, c, it, st, reason, now); err != nil {
		return c, err
	}
	if a == Deliver && st.delivery == DeliverWindow {
		// Coming for the result is a visit too (最多跑一次 counts it).
		if err := s.visit(ctx, tx, &c, who, "领取办理结果", now); err != nil {
			return c, err
		}
	}
	if err := s.tell(ctx, tx, c, a, reason, now); err != nil {
		return c, err
	}
	return c, appendEvent(ctx, tx, c.ID, Event{At: now, ActorID: who.AccountID, ActorRole: role, Action: a, From: from, To: to, Reason: reason})
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
			return r.Name(), nil
		}
	}
	if who.Has(policy.Admin) {
		return policy.Admin.Name(), nil
	}
	return "", apperr.New(apperr.Forbidden, "您的角色不能进行这一步。")
}

const caseColumns = `id, number, item_id, item_version, applicant_id, COALESCE(enterprise_id, 0), department_id, region_code, status,
	channel, form_data, corrections, accepted_on, due_on, paused_on, result_sha256, result_name, result_type, decision, delivery, transfers,
	version, created_at, updated_at`

func load(ctx context.Context, q store.Querier, id int64) (Case, error) {
	var c Case
	var form, accepted, due, paused string
	err := q.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = ?`, id).Scan(&c.ID, &c.Number, &c.ItemID, &c.ItemVersion,
		&c.ApplicantID, &c.EnterpriseID, &c.DepartmentID, &c.RegionCode, &c.Status, &c.Channel, &form, &c.Corrections, &accepted, &due, &paused,
		&c.ResultSHA256, &c.ResultName, &c.ResultType, &c.Decision, &c.Delivery, &c.Transfers, &c.Version, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "没有找到。")
	}
	if err != nil {
		return c, err
	}
	for _, d := range []struct {
		text string
		into *calendar.Date
	}{{accepted, &c.AcceptedOn}, {due, &c.DueOn}, {paused, &c.PausedOn}} {
		if d.text != "" {
			if *d.into, err = calendar.ParseDate(d.text); err != nil {
				return c, err
			}
		}
	}
	return c, decodeForm(form, &c)
}

func dateText(d calendar.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// moveDeadline keeps the deadline with the case: acceptance starts the
// count (the promised limit of the item version, from the day after), a
// pause stops it and the resumption pushes the due date by the days paused
// (see resumedDue, which reads the case's earlier pauses from its record
// in q).
func (s *Service) moveDeadline(ctx context.Context, q store.Querier, c *Case, a Action, it catalog.Item, today calendar.Date) error {
	switch a {
	case Accept:
		c.AcceptedOn = today
		c.DueOn = s.calendar.Due(today, it.PromiseLimit.Limit(), nil)
	case Pause:
		c.PausedOn = today
	case Resume:
		events, err := Events(ctx, q, c.ID)
		if err != nil {
			return err
		}
		c.DueOn = s.resumedDue(*c, it, events, today)
		c.PausedOn = calendar.Date{}
	}
	return nil
}

// Deadline says how a case stands against its due date today.
type Deadline struct {
	Due    calendar.Date
	Left   int // working days; negative when late
	Status calendar.Status
}

// DeadlineOf is the case's deadline as of now, or false before acceptance
// and after completion; it is the case's item version and events its
// record (Get). While the case is paused its clock is stopped: the due date
// is the one it would have if it resumed today, so a pause never makes a
// case 预警 or 超期 (one already late when paused stays late).
func (s *Service) DeadlineOf(c Case, it catalog.Item, events []Event) (Deadline, bool) {
	if c.DueOn.IsZero() || c.Status == Completed || c.Status == Rejected || c.Status == Withdrawn {
		return Deadline{}, false
	}
	today := calendar.DateOf(s.clock.Now())
	due := c.DueOn
	if c.Status == Paused && !c.PausedOn.IsZero() {
		due = s.resumedDue(c, it, events, today)
	}
	return Deadline{Due: due, Left: s.calendar.Left(today, due), Status: s.calendar.StatusOf(today, due)}, true
}

// StepDue says by when the step a case waits for should be done, from the
// share of the time limit the item's workflow gives the steps up to it:
// 决定 while the case is under review, 办结 once decided. Pauses push it
// as they push the deadline. False when no such step or limit applies.
func (s *Service) StepDue(c Case, it catalog.Item) (string, calendar.Date, bool) {
	var name string
	switch c.Status {
	case Reviewing:
		name = catalog.StepDecide
	case Decided:
		name = catalog.StepComplete
	default:
		return "", calendar.Date{}, false
	}
	share, ok := it.StepShares()[name]
	limit := it.PromiseLimit.Limit()
	if !ok || c.AcceptedOn.IsZero() || limit.Unit != calendar.WorkingDays {
		return "", calendar.Date{}, false
	}
	step := calendar.Workdays((limit.Value*share + 99) / 100)
	pushed := s.calendar.WorkdaysBetween(s.calendar.Due(c.AcceptedOn, limit, nil), c.DueOn)
	return name, s.calendar.AddWorkdays(s.calendar.Due(c.AcceptedOn, step, nil), pushed), true
}

// Get returns a case and its record to someone allowed to see it.
func (s *Service) Get(ctx context.Context, who policy.Subject, id int64) (Case, []Event, error) {
	c, err := load(ctx, s.db.Read(), id)
	if err != nil {
		return c, nil, err
	}
	if err := policy.Check(who, policy.View, c.Resource()); err != nil {
		return Case{}, nil, err
	}
	events, err := Events(ctx, s.db.Read(), id)
	return c, events, err
}

// Events lists a case's record in order.
func Events(ctx context.Context, q store.Querier, caseID int64) ([]Event, error) {
	rows, err := q.Query(ctx, `SELECT seq, at, COALESCE(actor_id, 0), actor_role, action, from_status, to_status, reason, hash
		FROM case_events WHERE case_id = ? ORDER BY seq`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.Seq, &e.At, &e.ActorID, &e.ActorRole, &e.Action, &e.From, &e.To, &e.Reason, &e.Hash); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

func (e Event) parts(caseID int64, prev, state string) []string {
	parts := []string{prev, strconv.FormatInt(caseID, 10), strconv.Itoa(e.Seq), e.At.UTC().Format(time.RFC3339Nano),
		strconv.FormatInt(e.ActorID, 10), e.ActorRole, string(e.Action), string(e.From), string(e.To), e.Reason}
	if state != "" { // events written before states were recorded hash as they did
		parts = append(parts, state)
	}
	return parts
}

// appendEvent adds e to the case's chain in tx. The case row was locked
// by the caller's update (or just inserted), so appends to one case are
// serialised on both databases.
func appendEvent(ctx context.Context, tx *store.Tx, caseID int64, e Event) error {
	c := chain{caseID: caseID, prev: genesis}
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM case_events WHERE case_id = ? ORDER BY seq DESC LIMIT 1`, caseID).Scan(&c.seq, &c.prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return c.append(ctx, tx, e)
}

// chain is the end of a case's record, for appending several events in
// one statement without reading each back.
type chain struct {
	caseID int64
	seq    int
	prev   string
	state  string // the state the next append commits to; read in the transaction when empty
}

// newChain starts the record of a case created in this transaction.
func newChain(caseID int64) *chain { return &chain{caseID: caseID, prev: genesis} }

// Every event commits to the state of the case after the transaction's
// changes so far (stateDigest): appends come last in a step, after the
// row, its materials and its notices were written. Events appended in one
// statement share that state.
func (c *chain) append(ctx context.Context, tx *store.Tx, events ...Event) error {
	state := c.state
	if state == "" {
		var err error
		if state, err = stateDigest(ctx, tx, c.caseID); err != nil {
			return err
		}
	}
	var sql strings.Builder
	sql.WriteString(`INSERT INTO case_events (case_id, seq, at, actor_id, actor_role, action, from_status, to_status, reason, prev_hash, state_hash, hash) VALUES `)
	args := make([]any, 0, 12*len(events))
	for i, e := range events {
		e.Seq = c.seq + 1
		e.At = e.At.UTC().Truncate(time.Microsecond)
		e.Hash = tx.ChainKeys().Sum(e.parts(c.caseID, c.prev, state)...)
		var actor any
		if e.ActorID != 0 {
			actor = e.ActorID
		}
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, c.caseID, e.Seq, e.At, actor, e.ActorRole, e.Action, e.From, e.To, e.Reason, c.prev, state, e.Hash)
		c.seq, c.prev = e.Seq, e.Hash
	}
	_, err := tx.Exec(ctx, sql.String(), args...)
	return err
}

// Available lists the actions who may take on c now, in workflow order.
// it is the case's item version, whose workflow says who takes each step.
func Available(who policy.Subject, c Case, it catalog.Item) []Action {
	var out []Action
	for _, a := range []Action{Submit, Precheck, Accept, Settle, AskCorrect, Refuse, Resubmit, Pause, Resume, Decide, Complete, Deliver, Transfer, Withdraw} {
		t := workflow[a]
		if !slices.Contains(t.from, c.Status) || a == Settle && it.CaseKind != catalog.Immediate {
			continue
		}
		if a == Settle {
			t.by = workflow[Accept].by
		}
		if _, err := mayAct(who, c, t, it); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// NeedsReason reports whether an action must be explained.
func NeedsReason(a Action) bool { return workflow[a].reason }

// Queues are the staff work queues, in the order of the work.
var Queues = []Status{Submitted, Prechecked, Correction, Reviewing, Paused, Decided, Completed, Delivered}

// QueueEntry is a case in a work queue.
type QueueEntry struct {
	Summary
	DueOn    calendar.Date
	Deadline calendar.Status // 正常, 预警 or 超期, for accepted cases
	Channel  string          // online or window
}

// QueueFilter narrows a work queue.
type QueueFilter struct {
	Query   string // part of the case number or of the item's name
	Due     string // "soon": one working day or less left; "late": past due; "": any
	Channel string // "online", "window", or "" for both
}

// Queue lists the cases of who's department in one status that match f,
// the most urgent first (earliest due date, then longest waiting). The
// due dates of paused cases are those DeadlineOf gives (as if the clock
// resumed today); they move while the clock is stopped, so the paused
// queue is filtered and sorted here rather than in SQL: it is short
// (the hearings, inspections and expert reviews under way).
func (s *Service) Queue(ctx context.Context, who policy.Subject, st Status, f QueueFilter, limit int) ([]QueueEntry, error) {
	if err := mayQueue(who, st == Draft); err != nil {
		return nil, err
	}
	q := `SELECT c.id, c.number, i.name, c.status, c.version, c.updated_at, c.due_on, c.channel, c.item_id, c.item_version, c.accepted_on, c.paused_on
		FROM cases c JOIN items i ON i.id = c.item_id WHERE c.department_id = ? AND c.status = ?`
	args := []any{who.DepartmentID, st}
	if t := strings.TrimSpace(f.Query); t != "" {
		q += ` AND (c.number LIKE ? ESCAPE '\' OR i.name LIKE ? ESCAPE '\')`
		args = append(args, store.Contains(t), store.Contains(t))
	}
	today := calendar.DateOf(s.clock.Now())
	paused := st == Paused
	switch f.Due {
	case "late":
		if !paused {
			q += ` AND c.due_on <> '' AND c.due_on < ?`
			args = append(args, today.String())
		}
	case "soon":
		if !paused {
			q += ` AND c.due_on >= ? AND c.due_on <= ?`
			args = append(args, today.String(), s.calendar.AddWorkdays(today, 1).String())
		}
	case "":
	default:
		return nil, apperr.New(apperr.Invalid, "时限筛选应为预警或超期。")
	}
	switch f.Channel {
	case "online", "window":
		q += ` AND c.channel = ?`
		args = append(args, f.Channel)
	case "":
	default:
		return nil, apperr.New(apperr.Invalid, "渠道筛选应为网上或窗口。")
	}
	q += ` ORDER BY CASE WHEN c.due_on = '' THEN 1 ELSE 0 END, c.due_on, c.updated_at`
	if !paused {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueueEntry
	var cases []Case // for the paused queue: what DeadlineOf needs
	for rows.Next() {
		var e QueueEntry
		var c Case
		var due, accepted, pausedOn string
		if err := rows.Scan(&e.ID, &e.Number, &e.ItemName, &e.Status, &e.Version, &e.UpdatedAt, &due, &e.Channel,
			&c.ItemID, &c.ItemVersion, &accepted, &pausedOn); err != nil {
			return nil, err
		}
		if due != "" {
			if e.DueOn, err = calendar.ParseDate(due); err != nil {
				return nil, err
			}
			e.Deadline = s.calendar.StatusOf(today, e.DueOn)
		}
		if paused {
			c.ID, c.Status, c.DueOn = e.ID, e.Status, e.DueOn
			for _, d := range []struct {
				text string
				into *calendar.Date
			}{{accepted, &c.AcceptedOn}, {pausedOn, &c.PausedOn}} {
				if d.text != "" {
					if *d.into, err = calendar.ParseDate(d.text); err != nil {
						return nil, err
					}
				}
			}
			cases = append(cases, c)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if paused {
		return s.pausedDeadlines(ctx, out, cases, f.Due, limit)
	}
	return out, nil
}

// mayQueue says whether who may list their department's cases: a queue
// is a read of every case in it, and a queue of drafts there is not.
func mayQueue(who policy.Subject, drafts bool) error {
	if who.Kind != policy.Staff {
		return apperr.New(apperr.Forbidden, "工作队列只对工作人员开放。")
	}
	return policy.Check(who, policy.View, policy.Resource{Kind: policy.Queue, DepartmentID: who.DepartmentID, RegionCode: who.RegionCode, Draft: drafts})
}

// HasQueues reports whether who works from their department's queues.
func HasQueues(who policy.Subject) bool { return mayQueue(who, false) == nil }

// QueueCounts counts who's department's cases in each queue.
func (s *Service) QueueCounts(ctx context.Context, who policy.Subject) (map[Status]int, error) {
	if err := mayQueue(who, false); err != nil {
		return nil, err
	}
	rows, err := s.db.Read().Query(ctx, `SELECT status, COUNT(*) FROM cases WHERE department_id = ? AND status <> 'draft' GROUP BY status`, who.DepartmentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[Status]int{}
	for rows.Next() {
		var st Status
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// secondCorrectionAllowed enforces 一次性告知: everything missing or wrong
// is told in the first correction notice. A further request is allowed
// only when the applicant has handed in or replaced materials since the
// last one — those new files may themselves be wrong — and each such
// request is counted on the case for supervisors to see.
func secondCorrectionAllowed(ctx context.Context, tx *store.Tx, caseID int64) error {
	var last time.Time
	if err := tx.QueryRow(ctx, `SELECT at FROM case_events WHERE case_id = ? AND action = ? ORDER BY seq DESC LIMIT 1`,
		caseID, AskCorrect).Scan(&last); err != nil {
		return err
	}
	var changed int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM case_materials WHERE case_id = ? AND uploaded_at > ?`, caseID, last).Scan(&changed); err != nil {
		return err
	}
	if changed == 0 {
		return apperr.New(apperr.Conflict, "一次性告知：需补正的内容应在第一次补正通知中全部列明；只有申请人此后新提交或更换的材料才能再次要求补正。")
	}
	return nil
}

// Public is what anyone may learn of a case from its number and the
// applicant's mobile number: the item and where it stands, nothing else.
type Public struct {
	Number    string
	ItemName  string
	Status    Status
	UpdatedAt time.Time
}

// ByNumber finds a case by its number for the public lookup, with the
// applicant to check the mobile number against.
func (s *Service) ByNumber(ctx context.Context, number string) (Public, int64, error) {
	var p Public
	var applicant int64
	err := s.db.Read().QueryRow(ctx, `SELECT c.number, i.name, c.status, c.updated_at, c.applicant_id FROM cases c
		JOIN items i ON i.id = c.item_id WHERE c.number = ? AND c.status <> 'draft'`, strings.TrimSpace(number)).
		Scan(&p.Number, &p.ItemName, &p.Status, &p.UpdatedAt, &applicant)
	if errors.Is(err, sql.ErrNoRows) {
		return p, 0, apperr.New(apperr.NotFound, "没有找到该办件，请核对办件编号和手机号码。")
	}
	return p, applicant, err
}
