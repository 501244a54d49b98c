package complaint

import (
	"context"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
)

// Options is what the service is given besides its database.
type Options struct {
	Clock    clock.Clock
	Calendar *calendar.Calendar
	Regions  *region.Store
	Keys     *pii.Keys // seals the complainant's name and mobile number
	// OfficeDay is when units work, for limits in working hours and days
	// (calendar.DefaultOfficeDay when empty).
	OfficeDay calendar.OfficeDay
	// ReopenDays is how many calendar days after the reply or the close a
	// person may still reopen a complaint (7 when 0); a reply left
	// unconfirmed that long is closed by the limit check.
	ReopenDays int
	// Files holds the files a complaint records (nil: not held, for tests
	// that give made-up digests).
	Files *staging.Store
	// Queue sends the SMS of the messages the service writes (nil: stored
	// only).
	Queue *jobs.Queue
	// VerifyCode checks an SMS code sent to a mobile number for a
	// complaint filed without an account (identity's, wired by app).
	VerifyCode func(ctx context.Context, mobile, code string) error
	// Hotline is where the status of the 12345 hotline's 工单 is sent.
	Hotline HotlineSystem
	// OnClosed runs in the transaction that closes a complaint (the rating
	// invitation, 好差评); an error rolls the step back.
	OnClosed func(ctx context.Context, tx *store.Tx, c Complaint) error
	// OnChanged runs in the transaction of the filing (before is "") and
	// of every step that changes a complaint (the webhooks, which this
	// package does not import); an error rolls the step back.
	OnChanged func(ctx context.Context, tx *store.Tx, before Status, c Complaint) error
}

// Service handles complaints.
type Service struct {
	db       *store.DB
	opt      Options
	clock    clock.Clock
	calendar *calendar.Calendar
	regions  *region.Store
}

// New returns the service.
func New(db *store.DB, opt Options) *Service {
	if len(opt.OfficeDay.Periods) == 0 {
		opt.OfficeDay = calendar.DefaultOfficeDay
	}
	if opt.ReopenDays <= 0 {
		opt.ReopenDays = 7
	}
	if opt.Clock == nil {
		opt.Clock = clock.System{}
	}
	if opt.Calendar == nil {
		opt.Calendar = calendar.New(nil)
	}
	if opt.Regions == nil {
		opt.Regions = region.NewStore(db)
	}
	return &Service{db: db, opt: opt, clock: opt.Clock, calendar: opt.Calendar, regions: opt.Regions}
}

// Now is the service's clock's time (callers default periods by it).
func (s *Service) Now() time.Time { return s.clock.Now() }

// ReopenDays is how long after a reply or close a person may reopen.
func (s *Service) ReopenDays() int { return s.opt.ReopenDays }

// UseQueue makes the service send SMS through durable jobs in q (the queue
// is built after the services, with their workers).
func (s *Service) UseQueue(q *jobs.Queue) { s.opt.Queue = q }

// SetOnChanged sets the hook run when a complaint is filed or changes.
func (s *Service) SetOnChanged(fn func(ctx context.Context, tx *store.Tx, before Status, c Complaint) error) {
	s.opt.OnChanged = fn
}

// changed calls the OnChanged hook, if any.
func (s *Service) changed(ctx context.Context, tx *store.Tx, before Status, c Complaint) error {
	if s.opt.OnChanged == nil {
		return nil
	}
	return s.opt.OnChanged(ctx, tx, before, c)
}

// SetOnClosed sets the hook run when a complaint closes.
func (s *Service) SetOnClosed(fn func(ctx context.Context, tx *store.Tx, c Complaint) error) {
	s.opt.OnClosed = fn
}
