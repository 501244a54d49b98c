// Package identity keeps the accounts of citizens, enterprises' agents and
// staff: registration with a phone code, sign-in by code, password or (for
// staff) password plus TOTP, lockouts, sessions, and sign-in history.
// Personal identifiers are sealed with package pii and found through its
// keyed index; what it records about people's actions goes to the audit log.
package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/mail"
	"github.com/zwfw/zwfw/internal/password"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/throttle"
)

// RealNameVerifier confirms that a name and identity number belong
// together (实名核验), for example through the province's population
// database. Without one, accounts stay 未实名核验: the number's format is
// checked, not its owner.
type RealNameVerifier interface {
	Verify(ctx context.Context, name, idNumber string) (bool, error)
}

// Options configure the service. Zero durations take the defaults.
type Options struct {
	Keys     *pii.Keys
	SMS      sms.Sender
	Mail     mail.Sender // nil: no e-mail notifications
	Clock    clock.Clock
	Log      *slog.Logger
	Verifier RealNameVerifier
	// RequireTOTP makes staff sign in with a second factor. Only the demo
	// turns it off.
	RequireTOTP bool
	// PersonIdle and StaffIdle end a session after that long unused;
	// SessionMax ends any session after that long.
	PersonIdle, StaffIdle, SessionMax time.Duration
	Policy                            password.Policy
}

// Service is the identity service.
type Service struct {
	db       *store.DB
	opt      Options
	throttle *throttle.Throttle // sign-in limits (limits.go)
	queue    *jobs.Queue        // sends one-time codes when set (codejob.go)
}

// New returns the service.
func New(db *store.DB, opt Options) *Service {
	if opt.PersonIdle == 0 {
		opt.PersonIdle = 2 * time.Hour
	}
	if opt.StaffIdle == 0 {
		opt.StaffIdle = 30 * time.Minute
	}
	if opt.SessionMax == 0 {
		opt.SessionMax = 12 * time.Hour
	}
	if opt.Policy.MinLength == 0 {
		opt.Policy.MinLength = 10
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, opt: opt, throttle: throttle.New(db, opt.Clock)}
}

// Meta is where a request came from, for history and the audit log.
type Meta = audit.Meta

// Account is what the platform shows of an account: identifiers only in
// masked form.
type Account struct {
	ID             int64
	Kind           string // person, staff
	Name           string
	Username       string
	IDNumberMasked string
	MobileMasked   string
	EmailMasked    string // where notifications are e-mailed, or ""
	DepartmentID   int64
	Roles          []policy.Role
	RealName       bool // 已实名核验
	HasPassword    bool
	TOTPRequired   bool
	Disabled       bool
	CreatedAt      time.Time
}

// Contexts bind sealed values to their column (pii's additional data), so
// that a value copied to another column does not open there.
const (
	ctxIDNumber = "accounts.id_number"
	ctxMobile   = "accounts.mobile"
	ctxTOTP     = "accounts.totp"
)

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
