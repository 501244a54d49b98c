// Package complaint handles complaints and requests (有诉即应 / 接诉即办):
// a person's complaint, a request taken in at a window or by phone, or a
// 工单 pushed in by the 12345 hotline. Each is dispatched — by a routing
// rule (category + region → department) or by a dispatcher (派单员) — to
// one unit that owns it (首接负责): it signs for it (签收), contacts the
// person, handles it, with helper units for joint handling, and replies
// (办结答复); the person confirms it resolved or not, and may reopen it.
// Sending one back (退回) goes to the dispatcher, never to the person, and
// counts against the unit. Limits (dispatch and feedback) come from the
// category, in hours, working hours or working days; a periodic check
// warns the unit before each and reports it to the supervisors after.
//
// Every step is a method that takes (ctx, who, meta, …), asks policy,
// and writes the complaint and its progress log (complaint_events) in one
// transaction, with the messages and jobs it causes.
package complaint

import (
	"time"

	"github.com/zwfw/zwfw/internal/filestore"
)

// Status of a complaint.
type Status string

const (
	Pending    Status = "pending"    // 待派单: no unit yet (no rule matched, or sent back)
	Dispatched Status = "dispatched" // 待签收: given to a unit, not yet signed for
	Handling   Status = "handling"   // 办理中: the unit signed for it
	Replied    Status = "replied"    // 已答复: the unit replied; the person may confirm
	Closed     Status = "closed"     // 已办结
)

// Statuses lists every status in the order of the lifecycle.
var Statuses = []Status{Pending, Dispatched, Handling, Replied, Closed}

var statusNames = map[Status]string{Pending: "待派单", Dispatched: "待签收", Handling: "办理中", Replied: "已答复", Closed: "已办结"}

// Name is the status in Chinese.
func (s Status) Name() string { return statusNames[s] }

// Valid reports whether s is a status.
func (s Status) Valid() bool { return statusNames[s] != "" }

// Channel is how a complaint came in.
type Channel string

const (
	Web          Channel = "web"           // a signed-in person online
	WebAnonymous Channel = "web_anonymous" // online without an account, mobile verified by SMS code
	Window       Channel = "window"        // at the 有诉即应 window
	Phone        Channel = "phone"         // a phone call taken down by staff
	Hotline      Channel = "hotline_12345" // a 工单 pushed in by the 12345 hotline system
)

var channelNames = map[Channel]string{Web: "网上", WebAnonymous: "网上（未登录）", Window: "窗口", Phone: "电话", Hotline: "12345热线"}

// Name is the channel in Chinese.
func (c Channel) Name() string { return channelNames[c] }

// Complaint is one complaint or request.
type Complaint struct {
	ID           int64
	Number       string // TS + Beijing date + serial: TS202612070001
	CategoryID   int64
	CategoryName string
	Title        string
	Description  string
	Address      string
	Lat, Lng     *float64 // the map point, if given
	CaseNumber   string   // the 办件编号 it is about, if any
	Channel      Channel
	ExternalID   string // the hotline's 工单 id
	RegionCode   string
	RegionName   string
	Status       Status
	DepartmentID int64 // the owning unit; 0 while pending
	Department   string
	Helpers      []int64 // helper units (joint handling)
	AccountID    int64   // the complainant's account; 0 when anonymous or by phone
	TakenBy      int64   // the staff member who took it in (window, phone)
	// Personal data: masked unless the reader may see it (Reveal).
	Name, Mobile   string
	Revealed       bool
	DispatchDue    time.Time
	FeedbackDue    time.Time
	DispatchedAt   *time.Time
	SignedAt       *time.Time
	RepliedAt      *time.Time
	ClosedAt       *time.Time
	Resolved       *bool // the person's confirmation; nil: not confirmed
	Satisfied      *bool
	Bounces        int
	Reopens        int
	Urges          int
	Escalated      bool
	Version        int
	CreatedAt      time.Time
	UpdatedAt      time.Time
	dispatchWarn   time.Time
	feedbackWarn   time.Time
	dispatchWarned bool
	dispatchLate   bool
	feedbackWarned bool
	feedbackLate   bool
	nameSealed     string
	mobileSealed   string
	mobileIndex    string
}

// Overdue reports whether the complaint is past a limit at now: not signed
// for by its dispatch limit, or not replied to by its feedback limit.
func (c Complaint) Overdue(now time.Time) bool {
	return c.DispatchOverdue(now) || c.FeedbackOverdue(now)
}

// DispatchOverdue: not signed for by the dispatch limit (or signed late).
func (c Complaint) DispatchOverdue(now time.Time) bool {
	if c.SignedAt != nil {
		return c.SignedAt.After(c.DispatchDue)
	}
	return c.Status != Closed && now.After(c.DispatchDue)
}

// FeedbackOverdue: not replied to by the feedback limit (or replied late).
func (c Complaint) FeedbackOverdue(now time.Time) bool {
	if c.RepliedAt != nil {
		return c.RepliedAt.After(c.FeedbackDue)
	}
	return c.Status != Closed && now.After(c.FeedbackDue)
}

// Event is one entry of a complaint's progress log.
type Event struct {
	ID           int64
	At           time.Time
	ActorID      int64
	Actor        string // 张*（诉求人）, 王芳（区市场监管局）, 系统
	DepartmentID int64
	Action       Action
	Status       Status // after the step
	Detail       string
	Public       bool // shown to the person and in the public view
}

// Action is a step in the progress log.
type Action string

const (
	Create   Action = "create"
	Routed   Action = "route"    // dispatched by a routing rule
	Dispatch Action = "dispatch" // by a dispatcher
	Sign     Action = "sign"     // 签收
	Contact  Action = "contact"  // the unit contacted the person
	Progress Action = "progress"
	Invite   Action = "invite" // a helper unit joins
	Assist   Action = "assist" // a helper unit's progress
	Reply    Action = "reply"  // 办结答复
	Bounce   Action = "bounce" // 退回
	Confirm  Action = "confirm"
	Reopen   Action = "reopen"
	Urge     Action = "urge"     // 督办
	Escalate Action = "escalate" // 提级督办
	Warn     Action = "warn"     // the limit check: a limit is near
	Late     Action = "late"     // the limit check: a limit passed
	AutoEnd  Action = "autoclose"
)

var actionNames = map[Action]string{Create: "提交诉求", Routed: "按规则派单", Dispatch: "派单", Sign: "签收", Contact: "联系诉求人",
	Progress: "办理进展", Invite: "邀请协办单位", Assist: "协办进展", Reply: "办结答复", Bounce: "退回", Confirm: "诉求人确认",
	Reopen: "重新办理", Urge: "督办", Escalate: "提级督办", Warn: "时限预警", Late: "超时", AutoEnd: "自动办结"}

// Name is the step in Chinese.
func (a Action) Name() string { return actionNames[a] }

// File is a photo or document attached to a complaint.
type File struct {
	ID          int64
	SHA256      string
	Name        string
	ContentType string
	Size        int64
	CreatedAt   time.Time
}

// Attachment is a file handed in with a complaint: already in the file
// store (filestore.Store.Put, with its size and type checks).
type Attachment struct {
	Object filestore.Object
	Name   string
}

// MaxFiles is how many files one complaint may carry.
const MaxFiles = 6

// Detail is a complaint with its files and progress log, as its reader may
// see them (internal entries only for staff who may see the complaint).
type Detail struct {
	Complaint
	Files       []File
	Events      []Event
	HelperNames []string // helper units' names
}

// Public is a complaint without personal data: what anyone with its number
// sees, and what Open311 clients get.
type Public struct {
	Number       string    `json:"number"`
	Category     string    `json:"category"`
	CategoryCode string    `json:"category_code"`
	Title        string    `json:"title"`
	Description  string    `json:"description"`
	Address      string    `json:"address"`
	Lat          *float64  `json:"lat,omitempty"`
	Lng          *float64  `json:"lng,omitempty"`
	Status       Status    `json:"status"`
	StatusName   string    `json:"status_name"`
	Department   string    `json:"department,omitempty"`
	Channel      Channel   `json:"channel"`
	ExternalID   string    `json:"external_id,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	DispatchDue  time.Time `json:"dispatch_due"`
	FeedbackDue  time.Time `json:"feedback_due"`
	// The last public entry of the log (the reply, once there is one).
	Notice   string        `json:"notice,omitempty"`
	Progress []PublicEvent `json:"progress"`
}

// PublicEvent is a public entry of the log without who made it.
type PublicEvent struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	Detail string    `json:"detail,omitempty"`
}
