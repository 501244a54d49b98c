package complaint

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

const columns = `c.id, c.number, c.category_id, k.name, c.title, c.description, c.address, c.lat, c.lng, c.case_number, c.channel, c.external_id,
	c.region_code, COALESCE(g.name, ''), c.status, COALESCE(c.department_id, 0), COALESCE(d.name, ''), COALESCE(c.account_id, 0), COALESCE(c.taken_by, 0),
	c.name_sealed, c.name_masked, c.mobile_sealed, c.mobile_masked, c.mobile_index,
	c.dispatch_due, c.dispatch_warn, c.feedback_due, c.feedback_warn, c.dispatch_warned, c.dispatch_late, c.feedback_warned, c.feedback_late,
	c.dispatched_at, c.signed_at, c.replied_at, c.closed_at, c.resolved, c.satisfied, c.bounces, c.reopens, c.urges, c.escalated,
	c.version, c.created_at, c.updated_at`

const from = ` FROM complaints c JOIN complaint_categories k ON k.id = c.category_id LEFT JOIN regions g ON g.code = c.region_code
	LEFT JOIN departments d ON d.id = c.department_id`

func scan(row interface{ Scan(...any) error }) (Complaint, error) {
	var c Complaint
	var lat, lng sql.NullFloat64
	var dispatched, signed, replied, closed sql.NullTime
	var resolved, satisfied sql.NullBool
	err := row.Scan(&c.ID, &c.Number, &c.CategoryID, &c.CategoryName, &c.Title, &c.Description, &c.Address, &lat, &lng, &c.CaseNumber,
		&c.Channel, &c.ExternalID, &c.RegionCode, &c.RegionName, &c.Status, &c.DepartmentID, &c.Department, &c.AccountID, &c.TakenBy,
		&c.nameSealed, &c.Name, &c.mobileSealed, &c.Mobile, &c.mobileIndex,
		&c.DispatchDue, &c.dispatchWarn, &c.FeedbackDue, &c.feedbackWarn, &c.dispatchWarned, &c.dispatchLate, &c.feedbackWarned, &c.feedbackLate,
		&dispatched, &signed, &replied, &closed, &resolved, &satisfied, &c.Bounces, &c.Reopens, &c.Urges, &c.Escalated,
		&c.Version, &c.CreatedAt, &c.UpdatedAt)
	if lat.Valid && lng.Valid {
		c.Lat, c.Lng = &lat.Float64, &lng.Float64
	}
	c.DispatchedAt, c.SignedAt, c.RepliedAt, c.ClosedAt = ptrTime(dispatched), ptrTime(signed), ptrTime(replied), ptrTime(closed)
	if resolved.Valid {
		c.Resolved = &resolved.Bool
	}
	if satisfied.Valid {
		c.Satisfied = &satisfied.Bool
	}
	return c, err
}

func ptrTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

var errNotFound = apperr.New(apperr.NotFound, "没有找到这件诉求。")

// load reads a complaint by a condition, with its helpers.
func load(ctx context.Context, q store.Querier, cond string, arg any) (Complaint, error) {
	c, err := scan(q.QueryRow(ctx, `SELECT `+columns+from+` WHERE `+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return c, errNotFound
	}
	if err != nil {
		return c, err
	}
	rows, err := q.Query(ctx, `SELECT department_id FROM complaint_helpers WHERE complaint_id = ? ORDER BY department_id`, c.ID)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return c, err
		}
		c.Helpers = append(c.Helpers, d)
	}
	return c, rows.Err()
}

// resource is the complaint as policy sees it.
func (c Complaint) resource() policy.Resource {
	return policy.Resource{Kind: policy.Complaint, OwnerID: c.AccountID, DepartmentID: c.DepartmentID, RegionCode: c.RegionCode, Helpers: c.Helpers}
}

// reveal shows the personal data to those who may see it, masked to others.
func (s *Service) reveal(who policy.Subject, c *Complaint) error {
	if policy.Check(who, policy.Reveal, c.resource()) != nil {
		return nil
	}
	var err error
	if c.nameSealed != "" {
		if c.Name, err = s.opt.Keys.Open(c.nameSealed, ctxName); err != nil {
			return err
		}
	}
	if c.mobileSealed != "" {
		if c.Mobile, err = s.opt.Keys.Open(c.mobileSealed, ctxMobile); err != nil {
			return err
		}
	}
	c.Revealed = true
	return nil
}

// Get reads a complaint with its files and log, as who may see it.
func (s *Service) Get(ctx context.Context, who policy.Subject, id int64) (Detail, error) {
	return s.detail(ctx, who, `c.id = ?`, id)
}

// ByNumber is Get by the complaint's number.
func (s *Service) ByNumber(ctx context.Context, who policy.Subject, number string) (Detail, error) {
	return s.detail(ctx, who, `c.number = ?`, strings.TrimSpace(number))
}

func (s *Service) detail(ctx context.Context, who policy.Subject, cond string, arg any) (Detail, error) {
	c, err := load(ctx, s.db.Read(), cond, arg)
	if err != nil {
		return Detail{}, err
	}
	if err := policy.Check(who, policy.View, c.resource()); err != nil {
		return Detail{}, err
	}
	if err := s.reveal(who, &c); err != nil {
		return Detail{}, err
	}
	d := Detail{Complaint: c}
	if d.Files, err = files(ctx, s.db.Read(), c.ID); err != nil {
		return d, err
	}
	// The person sees the public entries; staff who may see it, all.
	if d.Events, err = events(ctx, s.db.Read(), c.ID, who.Kind != policy.Staff); err != nil {
		return d, err
	}
	for _, h := range c.Helpers {
		if dep, err := s.regions.Department(ctx, h); err == nil {
			d.HelperNames = append(d.HelperNames, dep.Name)
		}
	}
	return d, nil
}

func files(ctx context.Context, q store.Querier, id int64) ([]File, error) {
	rows, err := q.Query(ctx, `SELECT id, sha256, name, content_type, size, created_at FROM complaint_files WHERE complaint_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []File
	for rows.Next() {
		var f File
		if err := rows.Scan(&f.ID, &f.SHA256, &f.Name, &f.ContentType, &f.Size, &f.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

func events(ctx context.Context, q store.Querier, id int64, publicOnly bool) ([]Event, error) {
	cond := ``
	if publicOnly {
		cond = ` AND public = ?`
	}
	args := []any{id}
	if publicOnly {
		args = append(args, true)
	}
	rows, err := q.Query(ctx, `SELECT id, at, COALESCE(actor_id, 0), actor, COALESCE(department_id, 0), action, status, detail, public
		FROM complaint_events WHERE complaint_id = ?`+cond+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.Actor, &e.DepartmentID, &e.Action, &e.Status, &e.Detail, &e.Public); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// File opens nothing: it says which file of a complaint who may download
// (by its id), for the page to stream from the file store.
func (s *Service) File(ctx context.Context, who policy.Subject, complaintID, fileID int64) (File, error) {
	c, err := load(ctx, s.db.Read(), `c.id = ?`, complaintID)
	if err != nil {
		return File{}, err
	}
	if err := policy.Check(who, policy.View, c.resource()); err != nil {
		return File{}, err
	}
	fs, err := files(ctx, s.db.Read(), c.ID)
	if err != nil {
		return File{}, err
	}
	for _, f := range fs {
		if f.ID == fileID {
			return f, nil
		}
	}
	return File{}, apperr.New(apperr.NotFound, "没有这个附件。")
}

// Filter narrows a list of complaints.
type Filter struct {
	Status     []Status
	CategoryID int64
	Department int64 // owned by
	Since      time.Time
	Until      time.Time // created before
	IDs        []int64
	Numbers    []string
	Overdue    bool // past a limit now
	Limit      int  // at most 100; 50 when 0
	After      int64
}

// List gives the complaints who may see that match f, newest first, paged
// by id (After: the last id of the page before).
func (s *Service) List(ctx context.Context, who policy.Subject, f Filter) ([]Complaint, error) {
	sc := policy.ScopeOfComplaints(who)
	if sc.None() {
		if who.Kind == policy.Anonymous {
			return nil, apperr.New(apperr.Unauthorized, "请先登录。")
		}
		return nil, nil
	}
	var conds []string
	var args []any
	if !sc.All {
		var or []string
		if sc.AccountID != 0 {
			or, args = append(or, `c.account_id = ?`), append(args, sc.AccountID)
		}
		if sc.Department != 0 {
			or = append(or, `c.department_id = ?`, `c.id IN (SELECT complaint_id FROM complaint_helpers WHERE department_id = ?)`)
			args = append(args, sc.Department, sc.Department)
		}
		if sc.Region != "" {
			or, args = append(or, `c.region_code LIKE ?`), append(args, sc.Region+"%")
		}
		conds = append(conds, `(`+strings.Join(or, ` OR `)+`)`)
	}
	if len(f.Status) > 0 {
		conds = append(conds, `c.status IN (`+marks(len(f.Status))+`)`)
		for _, st := range f.Status {
			args = append(args, st)
		}
	}
	if f.CategoryID != 0 {
		conds, args = append(conds, `c.category_id = ?`), append(args, f.CategoryID)
	}
	if f.Department != 0 {
		conds, args = append(conds, `c.department_id = ?`), append(args, f.Department)
	}
	if !f.Since.IsZero() {
		conds, args = append(conds, `c.created_at >= ?`), append(args, f.Since)
	}
	if !f.Until.IsZero() {
		conds, args = append(conds, `c.created_at < ?`), append(args, f.Until)
	}
	if len(f.IDs) > 0 {
		conds = append(conds, `c.id IN (`+marks(len(f.IDs))+`)`)
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if len(f.Numbers) > 0 {
		conds = append(conds, `c.number IN (`+marks(len(f.Numbers))+`)`)
		for _, n := range f.Numbers {
			args = append(args, n)
		}
	}
	if f.Overdue {
		now := s.clock.Now()
		conds = append(conds, `(c.status IN ('pending', 'dispatched') AND c.dispatch_due < ? OR c.status IN ('pending', 'dispatched', 'handling') AND c.feedback_due < ?)`)
		args = append(args, now, now)
	}
	if f.After > 0 {
		conds, args = append(conds, `c.id < ?`), append(args, f.After)
	}
	limit := f.Limit
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	// The page's ids first, on complaints alone along an index in id
	// order; then their rows with the names joined: joined from the start,
	// the planner sorts every match before it limits.
	inner := `SELECT c.id FROM complaints c`
	if len(conds) > 0 {
		inner += ` WHERE ` + strings.Join(conds, ` AND `)
	}
	q := `SELECT ` + columns + from + ` WHERE c.id IN (` + inner + ` ORDER BY c.id DESC LIMIT ?) ORDER BY c.id DESC`
	args = append(args, limit)
	rows, err := s.db.Read().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Complaint
	for rows.Next() {
		c, err := scan(rows)
		if err != nil {
			return nil, err
		}
		if who.Kind == policy.Person {
			if err := s.reveal(who, &c); err != nil {
				return nil, err
			}
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// PublicView is a complaint by its number without personal data: anyone
// may read it (the number is the receipt a person keeps). Free text is
// shown with mobile and identity numbers hidden.
func (s *Service) PublicView(ctx context.Context, number string) (Public, error) {
	c, err := load(ctx, s.db.Read(), `c.number = ?`, strings.TrimSpace(number))
	if err != nil {
		return Public{}, err
	}
	return s.public(ctx, s.db.Read(), c)
}

func (s *Service) public(ctx context.Context, q store.Querier, c Complaint) (Public, error) {
	var code string
	if err := q.QueryRow(ctx, `SELECT code FROM complaint_categories WHERE id = ?`, c.CategoryID).Scan(&code); err != nil {
		return Public{}, err
	}
	evs, err := events(ctx, q, c.ID, true)
	if err != nil {
		return Public{}, err
	}
	return publicOf(c, code, evs), nil
}

// publicOf is c's public view, given its category's code and its public
// log entries.
func publicOf(c Complaint, code string, evs []Event) Public {
	p := Public{Number: c.Number, Category: c.CategoryName, CategoryCode: code, Title: Redact(c.Title), Description: Redact(c.Description),
		Address: Redact(c.Address), Lat: c.Lat, Lng: c.Lng, Status: c.Status, StatusName: c.Status.Name(), Department: c.Department,
		Channel: c.Channel, ExternalID: c.ExternalID, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, DispatchDue: c.DispatchDue, FeedbackDue: c.FeedbackDue,
		Progress: []PublicEvent{}}
	for _, e := range evs {
		p.Progress = append(p.Progress, PublicEvent{At: e.At, Action: e.Action.Name(), Detail: Redact(e.Detail)})
		if e.Detail != "" {
			p.Notice = Redact(e.Detail)
		}
	}
	return p
}

var (
	mobileInText = regexp.MustCompile(`1[3-9]\d{9}`)
	idInText     = regexp.MustCompile(`\d{17}[\dXx]`)
)

// Redact hides mobile and identity numbers in free text.
func Redact(s string) string {
	s = idInText.ReplaceAllString(s, "******************")
	return mobileInText.ReplaceAllString(s, "***********")
}

// Updated lists the public views of the complaints changed since t (and
// before until, when set), oldest change first, at most limit (100 when 0
// or more): what an Open311 client polls.
func (s *Service) Updated(ctx context.Context, since time.Time, limit int) ([]Public, error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	rows, err := s.db.Read().Query(ctx, `SELECT `+columns+from+` WHERE c.updated_at > ? ORDER BY c.updated_at, c.id LIMIT ?`, since, limit)
	if err != nil {
		return nil, err
	}
	var list []Complaint
	for rows.Next() {
		c, err := scan(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Public, 0, len(list))
	for _, c := range list {
		p, err := s.public(ctx, s.db.Read(), c)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// PublicList is List for API clients without a person: the public views of
// the complaints matching f (ids, numbers, status, category, period).
func (s *Service) PublicList(ctx context.Context, f Filter) ([]Public, error) {
	list, err := s.List(ctx, systemSubject, f)
	if err != nil {
		return nil, err
	}
	out := make([]Public, 0, len(list))
	for _, c := range list {
		p, err := s.public(ctx, s.db.Read(), c)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// systemSubject reads every complaint for the public views (which hold no
// personal data) and acts for the limit check.
var systemSubject = policy.Subject{Kind: policy.Staff, Name: "系统", Roles: []policy.Role{policy.Dispatcher}}
