package bundle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Prefill is how the combined form of g starts for who: the answers the
// platform knows of them, and which are fixed (casework.Prefill).
func (s *Service) Prefill(ctx context.Context, who policy.Subject, g Guide) (map[string]string, map[string]bool, error) {
	it := g.Parts[0].Item
	it.Form = g.Form
	return s.cases.Prefill(ctx, who, it)
}

// Apply applies to bundle id for who, with the combined form's answers
// and one file per merged material (by its index in the guide's
// Materials): one bundle case and a case per item, in one transaction —
// all of them or, refused, nothing. A part whose item waits for another's
// result is made waiting (casework.Waiting). Form problems come back as
// the error's Fields, keyed by the combined form's keys.
func (s *Service) Apply(ctx context.Context, who policy.Subject, id int64, answers map[string]string, files map[int]casework.Attachment) (Application, error) {
	if who.Kind != policy.Person {
		return Application{}, apperr.New(apperr.Forbidden, "网上申请须使用个人或法人账户登录。")
	}
	if err := policy.Check(who, policy.Create, policy.Resource{Kind: policy.BundleCase, OwnerID: who.AccountID, EnterpriseID: who.ActingFor}); err != nil {
		return Application{}, err
	}
	g, err := s.Guide(ctx, id)
	if err != nil {
		return Application{}, err
	}
	for m := range files {
		if m < 0 || m >= len(g.Materials) {
			return Application{}, apperr.New(apperr.Invalid, fmt.Sprintf("没有第 %d 项材料。", m+1))
		}
	}
	var missing []string
	for i, m := range g.Materials {
		if _, ok := files[i]; !ok && m.Required() {
			missing = append(missing, m.Name)
		}
	}
	if len(missing) > 0 {
		return Application{}, apperr.New(apperr.Invalid, "还缺少必需材料："+strings.Join(missing, "、"))
	}
	parts := make([]casework.Part, len(g.Parts))
	for i, p := range g.Parts {
		part := casework.Part{ItemID: p.Item.ID, ItemVersion: p.Item.Version, Answers: map[string]string{}, WaitsFor: p.Requires, WaitsPosition: p.filled}
		for key, from := range g.fill[i] {
			if v, ok := answers[from]; ok {
				part.Answers[key] = v
			}
		}
		parts[i] = part
	}
	for m, f := range files {
		for _, use := range g.Materials[m].uses {
			f.Position = use[1]
			parts[use[0]].Files = append(parts[use[0]].Files, f)
		}
	}
	var app Application
	now := s.clock.Now()
	_, err = s.cases.ApplyParts(ctx, who, parts, func(ctx context.Context, tx *store.Tx, cases []casework.Case) error {
		var enterprise any
		if who.ActingFor != 0 {
			enterprise = who.ActingFor
		}
		if err := tx.QueryRow(ctx, `INSERT INTO bundle_cases (bundle_id, applicant_id, enterprise_id, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			g.ID, who.AccountID, enterprise, now).Scan(&app.ID); err != nil {
			return err
		}
		for i, c := range cases {
			if _, err := tx.Exec(ctx, `INSERT INTO bundle_parts (bundle_case_id, position, case_id) VALUES (?, ?, ?)`, app.ID, i, c.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Application{}, s.combined(g, err)
	}
	return s.Application(ctx, who, app.ID)
}

// combined turns the parts' form problems into the combined form's.
func (s *Service) combined(g Guide, err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || len(ae.Fields) == 0 {
		return err
	}
	fields := map[string]string{}
	for i, fill := range g.fill {
		for key, from := range fill {
			if msg, ok := ae.Fields[casework.PartField(i, key)]; ok {
				if _, seen := fields[from]; !seen {
					fields[from] = msg
				}
			}
		}
	}
	return &apperr.Error{Code: apperr.Invalid, Message: fmt.Sprintf("申请表有 %d 处需要修改。", len(fields)), Fields: fields}
}

// Outcome of an application: where the life event stands.
type Outcome string

const (
	Open      Outcome = "open"      // 办理中
	Completed Outcome = "completed" // 已全部办结
	Ended     Outcome = "ended"     // 已结束：some part ended without its result
)

// Name is the outcome's Chinese name.
func (o Outcome) Name() string {
	return map[Outcome]string{Open: "办理中", Completed: "已全部办结", Ended: "已结束（部分事项未办成）"}[o]
}

// Application is a person's application to a bundle, as they track it.
type Application struct {
	ID         int64
	BundleID   int64
	BundleName string
	CreatedAt  time.Time
	Parts      []PartState
	Outcome    Outcome
	DueOn      calendar.Date // the latest due date of its accepted parts; zero until one is accepted
	AllDue     bool          // every part open has a due date: DueOn is the bundle's
}

// PartState is one part as the applicant sees it.
type PartState struct {
	CaseID     int64
	Number     string
	ItemName   string
	Department string
	Status     casework.Status
	Decision   string
	DueOn      calendar.Date
	HasResult  bool   // a result to download (casework.ResultPosition)
	ResultName string // what it is: the item's 审批结果名称
}

// Finished reports whether the part has ended, one way or another.
func (p PartState) Finished() bool {
	switch p.Status {
	case casework.Completed, casework.Delivered, casework.Rejected, casework.Withdrawn, casework.Closed:
		return true
	}
	return false
}

// Succeeded reports whether the part ended with what was asked for.
func (p PartState) Succeeded() bool {
	return (p.Status == casework.Completed || p.Status == casework.Delivered) && p.Decision != casework.Denied
}

// outcome sets a's outcome and due date from its parts.
func (a *Application) outcome() {
	a.Outcome, a.AllDue = Completed, true
	for _, p := range a.Parts {
		if !p.Finished() {
			a.Outcome = Open
			if p.DueOn.IsZero() {
				a.AllDue = false
			}
		}
		if p.DueOn.After(a.DueOn) {
			a.DueOn = p.DueOn
		}
	}
	if a.Outcome == Open {
		return
	}
	for _, p := range a.Parts {
		if !p.Succeeded() {
			a.Outcome = Ended
		}
	}
}

// Application returns an application with its parts to its applicant.
func (s *Service) Application(ctx context.Context, who policy.Subject, id int64) (Application, error) {
	var a Application
	var applicant, enterprise int64
	err := s.db.Read().QueryRow(ctx, `SELECT bc.id, bc.bundle_id, b.name, bc.created_at, bc.applicant_id, COALESCE(bc.enterprise_id, 0)
		FROM bundle_cases bc JOIN bundles b ON b.id = bc.bundle_id WHERE bc.id = ?`, id).
		Scan(&a.ID, &a.BundleID, &a.BundleName, &a.CreatedAt, &applicant, &enterprise)
	if errors.Is(err, sql.ErrNoRows) {
		return a, apperr.New(apperr.NotFound, "没有找到。")
	}
	if err != nil {
		return a, err
	}
	if err := policy.Check(who, policy.View, policy.Resource{Kind: policy.BundleCase, OwnerID: applicant, EnterpriseID: enterprise}); err != nil {
		return Application{}, err
	}
	apps, err := s.parts(ctx, []Application{a})
	if err != nil {
		return Application{}, err
	}
	return apps[0], nil
}

// Mine lists who's applications to bundles, newest first (at most 50:
// a person has few life events).
func (s *Service) Mine(ctx context.Context, who policy.Subject) ([]Application, error) {
	if who.Kind != policy.Person {
		return nil, nil
	}
	cond, arg := `bc.applicant_id = ? AND bc.enterprise_id IS NULL`, who.AccountID
	if who.ActingFor != 0 {
		cond, arg = `bc.enterprise_id = ?`, who.ActingFor
	}
	rows, err := s.db.Read().Query(ctx, `SELECT bc.id, bc.bundle_id, b.name, bc.created_at FROM bundle_cases bc JOIN bundles b ON b.id = bc.bundle_id
		WHERE `+cond+` ORDER BY bc.created_at DESC, bc.id DESC LIMIT 50`, arg)
	if err != nil {
		return nil, err
	}
	var out []Application
	for rows.Next() {
		var a Application
		if err := rows.Scan(&a.ID, &a.BundleID, &a.BundleName, &a.CreatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return s.parts(ctx, out)
}

// parts reads the parts of apps, in one query, and sets their outcomes.
func (s *Service) parts(ctx context.Context, apps []Application) ([]Application, error) {
	if len(apps) == 0 {
		return apps, nil
	}
	index := map[int64]int{}
	ids := make([]any, len(apps))
	for i, a := range apps {
		index[a.ID], ids[i] = i, a.ID
	}
	rows, err := s.db.Read().Query(ctx, `SELECT p.bundle_case_id, c.id, c.number, i.name, d.name, c.status, c.decision, c.due_on, c.result_sha256,
		c.item_id, c.item_version
		FROM bundle_parts p JOIN cases c ON c.id = p.case_id JOIN items i ON i.id = c.item_id JOIN departments d ON d.id = c.department_id
		WHERE p.bundle_case_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY p.bundle_case_id, p.position`, ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var bc int64
		var p PartState
		var due, sum string
		var item int64
		var version int
		if err := rows.Scan(&bc, &p.CaseID, &p.Number, &p.ItemName, &p.Department, &p.Status, &p.Decision, &due, &sum, &item, &version); err != nil {
			return nil, err
		}
		if due != "" {
			if p.DueOn, err = calendar.ParseDate(due); err != nil {
				return nil, err
			}
		}
		p.HasResult = sum != "" && (p.Status == casework.Completed || p.Status == casework.Delivered)
		if p.HasResult {
			// Named by what it is, not by the clerk's scan (cached versions).
			it, err := s.catalog.Version(ctx, item, version)
			if err != nil {
				return nil, err
			}
			p.ResultName = it.Result.Name
		}
		apps[index[bc]].Parts = append(apps[index[bc]].Parts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range apps {
		apps[i].outcome()
	}
	return apps, nil
}

// Context is what staff handling one part see of its bundle: the life
// event's name and the other parts' items and states, nothing more.
type Context struct {
	BundleName string
	Others     []PartState // ItemName, Department and Status only
}

// PartOf returns the bundle context of case c to someone who may see c,
// or ok false when c is no bundle's part.
func (s *Service) PartOf(ctx context.Context, who policy.Subject, c casework.Case) (Context, bool, error) {
	if err := policy.Check(who, policy.View, c.Resource()); err != nil {
		return Context{}, false, err
	}
	var out Context
	var bc int64
	err := s.db.Read().QueryRow(ctx, `SELECT p.bundle_case_id, b.name FROM bundle_parts p JOIN bundle_cases x ON x.id = p.bundle_case_id
		JOIN bundles b ON b.id = x.bundle_id WHERE p.case_id = ?`, c.ID).Scan(&bc, &out.BundleName)
	if errors.Is(err, sql.ErrNoRows) {
		return out, false, nil
	}
	if err != nil {
		return out, false, err
	}
	apps, err := s.parts(ctx, []Application{{ID: bc}})
	if err != nil {
		return out, false, err
	}
	for _, p := range apps[0].Parts {
		if p.CaseID != c.ID {
			out.Others = append(out.Others, PartState{ItemName: p.ItemName, Department: p.Department, Status: p.Status})
		}
	}
	return out, true, nil
}
