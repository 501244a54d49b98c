// Package rating is 好差评: every service rated by the person served — a
// finished case (一事一评), a closed complaint, a visit to a window (一次一评)
// — on five levels and the dimensions of its scene, with a comment. Every
// 差评 opens a follow-up: a named call-back (回访), the unit's rectification
// within a number of working days, and an appeal a supervisor decides. The
// rates per department and per item, the call-back and on-time
// rectification rates, and the public list of rectifications are read
// here too.
//
// rating reads cases (a case's subject) but casework does not import it:
// the application wires casework's finishing hook to Invite, and the
// complaints part's closing hook the same way.
package rating

import (
	"context"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Kinds of subject.
const (
	OfCase      = "case"      // a finished case: 一事一评
	OfComplaint = "complaint" // a closed complaint
	OfVisit     = "visit"     // a visit to a window (a case_visits row): 一次一评
)

// Scenes: which dimensions a rating asks for.
const (
	Online = "online" // 网上办事
	Onsite = "onsite" // 现场办事
)

// Channels a rating came through.
const (
	ByWeb     = "web"     // the site: the case page or 我的办件
	ByMessage = "message" // the link in an invitation or reminder
	ByTablet  = "tablet"  // the tablet at the window
	ByApp     = "app"     // an app or mini-program, through the JSON API
)

// Subject is what is rated, as the part that owns it describes it: the
// complaints part builds one from a closed complaint without this package
// knowing complaints.
type Subject struct {
	Kind         string // OfCase, OfComplaint, OfVisit
	ID           int64  // the case's, complaint's or visit's id
	Number       string // what the person knows it by: the case or complaint number
	Title        string // the item's name or the complaint's subject; shown publicly with a rectification, so never personal data
	ItemID       int64  // the catalog item, for the rates per item; 0 for none
	DepartmentID int64  // the unit rated: it calls back and rectifies
	RegionCode   string
	PersonID     int64 // the account invited to rate: the applicant or complainant
	EnterpriseID int64 // the enterprise the case or complaint is of, if any
	StaffID      int64 // a visit: the window clerk who served
	CaseID       int64 // the case it concerns (a case, a visit), for the message centre
	Scene        string
}

// Level is one of the five levels, 5 (非常满意) to 1 (非常不满意).
type Level int

// Levels, best first, as forms list them.
var Levels = []Level{5, 4, 3, 2, 1}

// Name is the level's Chinese name.
func (l Level) Name() string {
	switch l {
	case 5:
		return "非常满意"
	case 4:
		return "满意"
	case 3:
		return "基本满意"
	case 2:
		return "不满意"
	case 1:
		return "非常不满意"
	}
	return ""
}

// Bad reports a 差评: 不满意 or 非常不满意.
func (l Level) Bad() bool { return l == 1 || l == 2 }

// Dimension is one thing a rating scores besides the overall level.
type Dimension struct {
	Key, Name string
}

// dimensions are what each scene asks, after the overall level.
var dimensions = map[string][]Dimension{
	Online: {{"efficiency", "办事效率"}, {"guide", "办事指南准确性"}, {"convenience", "办理便捷程度"}, {"usability", "平台易用性"}},
	Onsite: {{"efficiency", "办事效率"}, {"skill", "业务能力"}, {"attitude", "服务态度"}},
}

// Dimensions lists a scene's dimensions.
func Dimensions(scene string) []Dimension { return dimensions[scene] }

// Rating is one rating.
type Rating struct {
	ID           int64
	Subject      Subject
	RaterID      int64
	Channel      string
	Level        Level
	Scores       map[string]Level // by dimension key
	Comment      string           // opened for those who may see it; "" otherwise
	Excluded     bool             // an appeal was upheld: left out of every rate
	RatedAt      time.Time
	FollowUpID   int64 // a 差评's follow-up
	RaterMasked  string
	MobileMasked string
}

// Resource is the rating as the policy sees it.
func (s Subject) Resource() policy.Resource {
	return policy.Resource{Kind: policy.Rating, OwnerID: s.PersonID, EnterpriseID: s.EnterpriseID,
		DepartmentID: s.DepartmentID, RegionCode: s.RegionCode}
}

// DefaultRectifyDays is the working days a unit has to rectify a 差评
// unless configured otherwise (local rules say 5 or 15).
const DefaultRectifyDays = 5

// RemindAfter is how long an invitation waits for a rating before the one
// reminder.
const RemindAfter = 72 * time.Hour

// Service records ratings and their follow-ups.
type Service struct {
	db          *store.DB
	catalog     *catalog.Store
	clock       clock.Clock
	calendar    *calendar.Calendar
	keys        *pii.Keys
	queue       *jobs.Queue // nil: messages are stored, no SMS is sent
	rectifyDays int
	publicURL   string
	rated       func(ctx context.Context, tx *store.Tx, r Rating) error
}

// Options are what differs between sites.
type Options struct {
	Keys        *pii.Keys   // seal comments
	Queue       *jobs.Queue // send reminders by SMS
	RectifyDays int         // working days to rectify a 差评; 0: DefaultRectifyDays
	PublicURL   string      // the site's address, for the link in a reminder SMS ("": a path)
}

// New returns the service; deadlines count on cal.
func New(db *store.DB, items *catalog.Store, clk clock.Clock, cal *calendar.Calendar, o Options) *Service {
	if o.RectifyDays <= 0 {
		o.RectifyDays = DefaultRectifyDays
	}
	return &Service{db: db, catalog: items, clock: clk, calendar: cal, keys: o.Keys, queue: o.Queue, rectifyDays: o.RectifyDays, publicURL: o.PublicURL}
}

// UseQueue makes the service text its reminders through q (which is built
// after the services in a server).
func (s *Service) UseQueue(q *jobs.Queue) { s.queue = q }

// OnRated sets the hook told, in the rating's transaction, of every new
// rating (the webhooks, which this package does not import); an error
// rolls the rating back.
func (s *Service) OnRated(fn func(ctx context.Context, tx *store.Tx, r Rating) error) { s.rated = fn }

// RectifyDays is the configured limit, for the pages that state it.
func (s *Service) RectifyDays() int { return s.rectifyDays }
