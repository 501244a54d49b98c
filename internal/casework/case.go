package casework

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/policy"
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
	Visits       int    // times the applicant came in person (最多跑一次)
	AssistedBy   int64  // 帮办代办: the worker who applied for the applicant (assisted.go), or 0
	// How it finished (办结 or 不予受理), set by the finishing step for the
	// statistics: the day, the working days since acceptance, and the
	// item's promised and legal limits in working days (0: not accepted,
	// or the limit is not in working days).
	FinishedOn   calendar.Date
	HandlingDays int
	PromiseDays  int
	LegalDays    int
	Version      int // bumped by every change; a stale version is refused
	CreatedAt    time.Time
	UpdatedAt    time.Time

	sealed map[string]string // the personal answers, sealed, by field key
}

// Resource is the case as the policy sees it.
func (c Case) Resource() policy.Resource {
	return policy.Resource{Kind: policy.Case, OwnerID: c.ApplicantID, EnterpriseID: c.EnterpriseID,
		DepartmentID: c.DepartmentID, RegionCode: c.RegionCode, Draft: !c.Status.Submitted(), Counter: c.Channel == "window",
		// An assisted case is written with its consent in one transaction.
		AssistedBy: c.AssistedBy, Consented: c.AssistedBy != 0}
}

const caseColumns = `id, number, item_id, item_version, applicant_id, COALESCE(enterprise_id, 0), department_id, region_code, status,
	channel, form_data, corrections, accepted_on, due_on, paused_on, result_sha256, result_name, result_type, decision, delivery, transfers,
	visits, finished_on, handling_days, promise_days, legal_days, version, created_at, updated_at, COALESCE(assisted_by, 0)`

func load(ctx context.Context, q store.Querier, id int64) (Case, error) {
	var c Case
	var form, accepted, due, paused, finished string
	err := q.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = ?`, id).Scan(&c.ID, &c.Number, &c.ItemID, &c.ItemVersion,
		&c.ApplicantID, &c.EnterpriseID, &c.DepartmentID, &c.RegionCode, &c.Status, &c.Channel, &form, &c.Corrections, &accepted, &due, &paused,
		&c.ResultSHA256, &c.ResultName, &c.ResultType, &c.Decision, &c.Delivery, &c.Transfers,
		&c.Visits, &finished, &c.HandlingDays, &c.PromiseDays, &c.LegalDays, &c.Version, &c.CreatedAt, &c.UpdatedAt, &c.AssistedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "没有找到。")
	}
	if err != nil {
		return c, err
	}
	for _, d := range []struct {
		text string
		into *calendar.Date
	}{{accepted, &c.AcceptedOn}, {due, &c.DueOn}, {paused, &c.PausedOn}, {finished, &c.FinishedOn}} {
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
