// Package policy decides who may see and do what. Every page and API call
// asks it, through Check, before it reads or changes anything; nothing
// else in the platform decides access. It imports nothing but the error
// codes, so that its rules can be read and tested as one table.
package policy

import (
	"slices"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
)

// Role is a staff role. A person may hold several.
type Role string

const (
	Window         Role = "window"     // 窗口人员: counter intake
	Reviewer       Role = "reviewer"   // 审批人员: review and decision
	Head           Role = "head"       // 部门负责人
	Supervisor     Role = "supervisor" // 督查人员
	CatalogManager Role = "catalog"    // 事项管理员
	Admin          Role = "admin"      // 系统管理员
)

// Roles lists every role, in the order pages show them.
var Roles = []Role{Window, Reviewer, Head, Supervisor, CatalogManager, Admin, Dispatcher, Assistant}

// Name is the role's Chinese name.
func (r Role) Name() string {
	switch r {
	case Window:
		return "窗口人员"
	case Reviewer:
		return "审批人员"
	case Head:
		return "部门负责人"
	case Supervisor:
		return "督查人员"
	case CatalogManager:
		return "事项管理员"
	case Admin:
		return "系统管理员"
	case Dispatcher:
		return "派单员"
	case Assistant: // 帮办代办: assist.go
		return "帮办代办员"
	}
	return ""
}

// Kind of subject.
const (
	Anonymous = "anonymous"
	Person    = "person" // a citizen; may act for enterprises
	Staff     = "staff"
	// Client is another system, known by its API key (internal/apikey):
	// no account, only the key's scopes.
	Client = "client"
)

// Scopes of API keys: what a client may do. Open311 clients (GeoReport v2,
// internal/open311) file complaints.
const (
	ScopeOpen311 = "open311"
)

// Integration scopes (issue 12, internal/integration): the departments'
// systems and the city's platform. What data a scope reaches is narrowed
// further by the sharing directory.
const (
	ScopeCatalogRead   = "catalog.read"   // read the published catalog
	ScopeCasesCreate   = "cases.create"   // open cases on a person's behalf
	ScopeCasesStatus   = "cases.status"   // push a case's steps, as the client's department
	ScopeResultsAttach = "results.attach" // attach a case's result (with its completion)
	ScopeResultsRead   = "results.read"   // read cases and their results
	ScopeComplaints    = "complaints"     // read complaints
	ScopeRatings       = "ratings"        // read ratings
)

// Scopes lists every scope a key may carry.
var Scopes = []string{ScopeOpen311, ScopeCatalogRead, ScopeCasesCreate, ScopeCasesStatus, ScopeResultsAttach,
	ScopeResultsRead, ScopeComplaints, ScopeRatings}

// Subject is who is asking.
type Subject struct {
	AccountID int64
	Kind      string
	Name      string
	// Staff only: their department, its kind and region, and their roles.
	DepartmentID   int64
	DepartmentKind string // center, bureau, street_center, community_station
	RegionCode     string
	Roles          []Role
	// Person only: the enterprise they act for in this session (0: themselves).
	ActingFor int64
	// Client only: the API key's id and scopes. A client that is a
	// department's own system also has DepartmentID and RegionCode.
	KeyID  int64
	Scopes []string
	// Client only (integration, issue 12): the API client the key belongs
	// to (0: a key of no client), which owns its webhook subscriptions.
	ClientID int64
}

// Has reports whether the subject holds a role. A department's system
// with the cases.status scope stands in for the department's handling
// staff (window, reviewer, head): it reports the steps its people took.
func (s Subject) Has(r Role) bool {
	if s.Kind == Client {
		return s.DepartmentID != 0 && slices.Contains(s.Scopes, ScopeCasesStatus) &&
			(r == Window || r == Reviewer || r == Head)
	}
	return s.Kind == Staff && slices.Contains(s.Roles, r)
}

// Resource kinds.
const (
	Case       = "case"       // an application and its handling
	Complaint  = "complaint"  // 有诉即应
	Message    = "message"    // to an applicant
	Rating     = "rating"     // 好差评
	Item       = "item"       // a catalog item
	Catalog    = "catalog"    // the whole catalog at once: import, export, every department's items
	Department = "department" // its data and staff
	Account    = "account"    // a person's account and personal data
	AuditLog   = "audit_log"
	Jobs       = "jobs" // the background job queue
	Statistics = "statistics"
	Calendar   = "calendar" // the local working days and holidays that deadlines count with
	Queue      = "queue"    // a department's work queue: its cases of one status, listed
	APIKey     = "api_key"  // another system's key: administrators make, list and revoke them
)

// Resource is what is asked about. Fill what applies: the owner for
// personal things, the enterprise when a case or message belongs to one,
// the responsible department and its region for handled things.
type Resource struct {
	Kind         string
	OwnerID      int64 // the applicant's or complainant's account
	EnterpriseID int64 // the enterprise it belongs to, if any
	DepartmentID int64
	RegionCode   string
	// Cases and queues: not yet submitted (a draft); cases: taken in at
	// the counter (窗口收件) rather than applied for online.
	Draft   bool
	Counter bool
	// Complaints: the units that help the owner (joint handling).
	Helpers []int64
	// Cases applied for on the owner's behalf (帮办代办, assist.go): the
	// worker who applied, and whether the owner's consent is recorded.
	AssistedBy int64
	Consented  bool
}

// Action is what the subject wants to do.
type Action string

const (
	View    Action = "view"    // read it
	Create  Action = "create"  // make a new one (apply, file, take in at the counter)
	Handle  Action = "handle"  // act on a case or complaint: accept, review, decide …
	Approve Action = "approve" // a head's decision: extensions, transfers
	Edit    Action = "edit"    // change catalog items, departments, accounts; a case's answers and materials
	Publish Action = "publish" // make a catalog version public
	Reveal  Action = "reveal"  // show personal data unmasked (audited)
	Export  Action = "export"  // download in bulk (audited)
	Follow  Action = "follow"  // a supervisor's follow-up of a late case or bad rating
)

// Check returns nil if s may do a on r. A person asking about someone
// else's thing gets NotFound, so that its existence does not leak; so do
// staff asking about a case, complaint, message or rating they may not
// see (another department's, a draft). Staff who may see a thing but not
// do a to it get Forbidden.
func Check(s Subject, a Action, r Resource) error {
	if allowed(s, a, r) {
		return nil
	}
	if s.Kind == Anonymous {
		return apperr.New(apperr.Unauthorized, "请先登录。")
	}
	personal := r.Kind == Case || r.Kind == Complaint || r.Kind == Message || r.Kind == Rating || r.Kind == Booking || r.Kind == BundleCase ||
		r.Kind == Licence
	if s.Kind == Person && (personal || r.Kind == Account) ||
		s.Kind == Staff && personal && a != Create && !allowed(s, View, r) {
		return apperr.New(apperr.NotFound, "没有找到。")
	}
	return apperr.New(apperr.Forbidden, "您没有权限进行此操作。")
}

func allowed(s Subject, a Action, r Resource) bool {
	if r.Kind == Licence { // 电子证照: licence.go
		return licenceMay(s, a, r)
	}
	switch s.Kind {
	case Person:
		return personMay(s, a, r)
	case Client:
		return clientMay(s, a, r)
	case Staff:
		if staffBarred(s, a, r) {
			return false
		}
		// An administrator alone has no work queue, and calls no numbers.
		if s.Has(Admin) && r.Kind != Queue && r.Kind != HallQueue {
			return true
		}
		return staffMay(s, a, r)
	}
	return false
}

// staffBarred is what no staff member may do, administrators included.
// Until it is submitted an application is its applicant's alone — unless
// it was taken in at the counter, when the department that took it in
// (and it only) has it too; there is no queue of drafts. The answers and
// files of an application made online are the applicant's: staff never
// change them.
func staffBarred(s Subject, a Action, r Resource) bool {
	switch r.Kind {
	case Case:
		ownDept := r.DepartmentID != 0 && r.DepartmentID == s.DepartmentID
		return r.Draft && !(r.Counter && ownDept) || a == Edit && !r.Counter
	case Queue:
		return r.Draft
	case BundleCase: // 一件事一次办 (bundle.go): staff see a part only as their case
		return true
	}
	return false
}

// personMay: a citizen sees and acts on their own things; an enterprise's
// things only while acting for it.
func personMay(s Subject, a Action, r Resource) bool {
	mine := r.EnterpriseID == 0 && s.ActingFor == 0 && r.OwnerID == s.AccountID ||
		r.EnterpriseID != 0 && r.EnterpriseID == s.ActingFor
	switch r.Kind {
	case Case:
		return mine && (a == View || a == Create || a == Edit)
	case Complaint:
		return mine && complaintPersonMay(a)
	case Rating:
		return mine && (a == View || a == Create)
	case Message:
		return mine && a == View
	case Account:
		return r.OwnerID == s.AccountID && (a == View || a == Edit)
	case Booking: // the hall: hall.go
		return hallPersonMay(s, a, r)
	case BundleCase: // 一件事一次办 (bundle.go)
		return mine && bundleCasePersonMay(a)
	}
	return false
}

// clientMay: another system does only what its key's scopes name. An
// Open311 client files complaints for the people who use it; what it
// reads back is the public view, which needs no key.
func clientMay(s Subject, a Action, r Resource) bool {
	if r.Kind == Case { // integration (issue 12)
		return clientMayCase(s, a, r)
	}
	if clientMayShared(s, a, r) { // integration (issue 12): integration.go
		return true
	}
	return r.Kind == Complaint && a == Create && slices.Contains(s.Scopes, ScopeOpen311)
}

// clientMayCase: a department's system acts on its department's submitted
// cases (cases.status); a system with results.read reads cases; one with
// cases.create opens them for people. Which departments' data a client
// reaches is the sharing directory's (internal/integration) to narrow.
func clientMayCase(s Subject, a Action, r Resource) bool {
	has := func(scope string) bool { return slices.Contains(s.Scopes, scope) }
	ownDept := s.DepartmentID != 0 && r.DepartmentID == s.DepartmentID
	switch a {
	case View:
		return !r.Draft && (has(ScopeResultsRead) || ownDept && has(ScopeCasesStatus))
	case Handle, Approve:
		return !r.Draft && ownDept && has(ScopeCasesStatus)
	case Create:
		return has(ScopeCasesCreate)
	}
	return false
}

func staffMay(s Subject, a Action, r Resource) bool {
	ownDept := r.DepartmentID != 0 && r.DepartmentID == s.DepartmentID
	inRegion := within(s.RegionCode, r.RegionCode)
	// A street's convenience centre oversees its communities' stations:
	// it sees what they handle, but does not act for them.
	streetOversees := s.DepartmentKind == "street_center" && inRegion
	switch r.Kind {
	case Case:
		if assistantMay(s, a, r) { // 帮办代办: assist.go
			return true
		}
		switch a {
		case View:
			return s.hasAny(Window, Reviewer, Head) && (ownDept || streetOversees) || s.Has(Supervisor) && inRegion
		case Create:
			return s.Has(Window) && ownDept
		case Handle:
			return s.hasAny(Window, Reviewer, Head) && ownDept
		case Edit:
			// The clerk types the form and scans the papers of a case
			// taken in at the counter (staffBarred: never an online one).
			return s.Has(Window) && ownDept
		case Approve:
			return s.Has(Head) && ownDept
		case Follow:
			return s.Has(Supervisor) && inRegion
		case Reveal, Export:
			return s.hasAny(Reviewer, Head) && ownDept
		}
	case Complaint, ComplaintSettings, ComplaintStats:
		return complaintStaffMay(s, a, r, ownDept, inRegion)
	case Rating: // 好差评: rating.go
		return staffMayRating(s, a, ownDept, inRegion)
	case Queue:
		// Those who handle cases work from their department's queues;
		// an administrator or a catalog manager alone has none.
		return a == View && s.hasAny(Window, Reviewer, Head) && ownDept
	case Message:
		return a == View && s.hasAny(Window, Reviewer, Head) && ownDept
	case Item:
		switch a {
		case View:
			return true
		case Edit:
			return s.Has(CatalogManager) && ownDept
		case Publish:
			// Publishing is a review of another's submission (catalog
			// enforces the two people): a catalog manager or the head.
			return s.hasAny(CatalogManager, Head) && ownDept
		}
	case Department:
		return a == View && (ownDept || s.Has(Supervisor) && inRegion)
	case AuditLog:
		return a == View && s.Has(Supervisor)
	case Statistics:
		return a == View && (s.hasAny(Supervisor, Head))
	case Account:
		return a == View && r.OwnerID == s.AccountID || a == Edit && r.OwnerID == s.AccountID
	// Boards: rules in board.go.
	case Board:
		return boardMay(s, a, r)
	// The hall (预约, 取号叫号): rules in hall.go.
	case HallQueue, HallSettings, HallWaits:
		return hallStaffMay(s, a, r, ownDept, inRegion)
	// 一件事一次办: rules in bundle.go.
	case Bundle:
		return bundleStaffMay(s, a)
	}
	return false
}

func (s Subject) hasAny(roles ...Role) bool {
	for _, r := range roles {
		if s.Has(r) {
			return true
		}
	}
	return false
}

// within reports whether code lies in the subtree of the region root: a
// district (…000000) holds its streets and communities, a street (…000)
// its communities, a community only itself.
func within(root, code string) bool {
	if len(root) != 12 || len(code) != 12 {
		return false
	}
	switch {
	case strings.HasSuffix(root, "000000"):
		return code[:6] == root[:6]
	case strings.HasSuffix(root, "000"):
		return code[:9] == root[:9]
	}
	return code == root
}

// RegionPrefix is what every region code in root's subtree starts with,
// for filtering in SQL; a malformed root gives a prefix nothing matches.
func RegionPrefix(root string) string {
	if len(root) != 12 {
		return "-"
	}
	switch {
	case strings.HasSuffix(root, "000000"):
		return root[:6]
	case strings.HasSuffix(root, "000"):
		return root[:9]
	}
	return root
}

// FollowRegion is Check(s, Follow, case) in set form, for the
// supervisors' lists to filter in SQL before they page: the prefix of the
// region codes of the cases s may follow up, "" for every region (an
// administrator), "-" (which no code starts with) for none.
func FollowRegion(s Subject) string {
	switch {
	case s.Kind != Staff:
		return "-"
	case s.Has(Admin):
		return ""
	case s.Has(Supervisor):
		return RegionPrefix(s.RegionCode)
	}
	return "-"
}
