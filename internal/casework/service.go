package casework

import (
	"context"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
)

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
	known      KnownFunc // fills applicants' forms (UseKnown); nil: nothing is filled
	finished   []FinishedFunc
	changed    ChangedFunc
	offers     OffersFunc // 免提交 from other parts (e-licences); nil: none
}

// FinishedFunc is told, in the finishing step's transaction, of a case the
// department has just finished (办结, or 不予受理): the application wires it
// to the rating invitation (好差评) and the e-licences (电子证照), which
// casework does not import. An error rolls the step back.
type FinishedFunc func(ctx context.Context, tx *store.Tx, c Case) error

// OnFinished adds a hook called, in the order added, when the department
// finishes a case.
func (s *Service) OnFinished(fn FinishedFunc) { s.finished = append(s.finished, fn) }

// ChangedFunc is told, in the transaction of every change of a case — its
// creation (before is the zero Case), each step, each visit — of the case
// as it was and as it now is: the application wires it to the statistics
// (internal/stats), which casework does not import. An error rolls the
// change back.
type ChangedFunc func(ctx context.Context, tx *store.Tx, before, after Case) error

// OnChanged sets the hook called on every change of a case.
func (s *Service) OnChanged(fn ChangedFunc) { s.changed = fn }

// changedFrom calls the OnChanged hook, if any.
func (s *Service) changedFrom(ctx context.Context, tx *store.Tx, before, after Case) error {
	if s.changed == nil {
		return nil
	}
	return s.changed(ctx, tx, before, after)
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
