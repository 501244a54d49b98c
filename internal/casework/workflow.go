// Package casework is the handling of cases (办件): an application under
// one version of a catalog item, taken in, reviewed, decided and completed
// by a department within its legal time limit. Every transition is one
// transaction that changes the case and appends an event; the events of a
// case form a hash chain that `zwfw audit verify` checks.
package casework

import (
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
)

// Status is where a case stands; the staff work queues are statuses.
type Status string

const (
	Draft      Status = "draft"      // 草稿: the applicant is still filling it in
	Submitted  Status = "submitted"  // 待预审
	Prechecked Status = "prechecked" // 待受理
	Correction Status = "correction" // 待补正: waiting for the applicant's materials
	Reviewing  Status = "reviewing"  // 审查中: accepted, the time limit runs
	Reviewed   Status = "reviewed"   // 待决定: reviewed, the decision is the 决定 step's
	Paused     Status = "paused"     // 已暂停: special procedure, the limit stops
	Decided    Status = "decided"    // 待办结
	Completed  Status = "completed"  // 已办结
	Delivered  Status = "delivered"  // 已送达: the result reached the applicant
	Rejected   Status = "rejected"   // 不予受理
	Withdrawn  Status = "withdrawn"  // 已撤回
	// A part of a bundle (一件事一次办, parts.go) that needs another part's
	// result waits for it, unseen by staff, not yet submitted; it closes
	// when that part ends without a result.
	Waiting Status = "waiting" // 待前置办结
	Closed  Status = "closed"  // 已终止: its prerequisite ended without a result
)

// Submitted reports whether a case in status s was ever submitted: not a
// draft, nor a part that waits or closed while waiting. The statistics
// count only these.
func (s Status) Submitted() bool { return s != Draft && s != Waiting && s != Closed }

// Name is the status's Chinese name, as queues and timelines show it.
func (s Status) Name() string {
	return map[Status]string{Draft: "草稿", Submitted: "待预审", Prechecked: "待受理", Correction: "待补正", Reviewing: "审查中",
		Reviewed: "待决定", Paused: "已暂停", Decided: "待办结", Completed: "已办结", Delivered: "已送达", Rejected: "不予受理", Withdrawn: "已撤回",
		Waiting: "待前置办结", Closed: "已终止"}[s]
}

// Action is a step someone takes on a case.
type Action string

const (
	Submit     Action = "submit"   // the applicant submits
	Precheck   Action = "precheck" // 预审通过
	Accept     Action = "accept"   // 受理 (受理通知书)
	Refuse     Action = "refuse"   // 不予受理 (不予受理通知书)
	AskCorrect Action = "correct"  // 一次性告知补正 (补正告知书)
	Resubmit   Action = "resubmit" // the applicant hands in the corrections
	Review     Action = "review"   // 审查: the reviewer's opinion, for the decision
	Pause      Action = "pause"    // special procedure begins
	Resume     Action = "resume"   // special procedure ends
	Decide     Action = "decide"   // 准予 / 不予 (决定书)
	Complete   Action = "complete" // 办结, result attached
	Deliver    Action = "deliver"  // 送达 (送达回证)
	Transfer   Action = "transfer" // 移交 to another department
	Settle     Action = "settle"   // 即办件: accepted, decided and completed in one sitting
	Withdraw   Action = "withdraw" // the applicant withdraws
)

// Name is the action's Chinese name, for timelines.
func (a Action) Name() string {
	return map[Action]string{Submit: "提交申请", Precheck: "预审通过", Accept: "受理", Refuse: "不予受理", AskCorrect: "一次性告知补正",
		Resubmit: "补正材料", Review: "审查（提出审查意见）", Upload: "提交材料", EditForm: "修改申请信息", Visit: "申请人到场", Pause: "暂停（特别程序）", Resume: "恢复办理", Decide: "作出决定", Complete: "办结", Deliver: "送达", Transfer: "移交其他部门", Settle: "当场办结", Withdraw: "撤回申请", Reseal: "更换加密密钥",
		Wait: "等待前置事项办结", Release: "前置事项办结，自动提交", Close: "前置事项未办结，终止办理"}[a]
}

// By says who takes an action: the applicant, staff with one of fixed
// roles, or staff with the roles the item's workflow gives a step.
type By struct {
	Applicant bool
	Roles     []policy.Role
	Step      string // a catalog step name: its roles come from the item
}

// transition is one edge of the workflow.
type transition struct {
	from    []Status
	to      Status
	by      By
	reason  bool // a reason is required
	approve bool // it is the head's decision (policy.Approve)
}

// workflow says which step may follow which; the item's workflow
// (catalog.Item.HandlingSteps) says who takes each step, whether its
// optional steps (预审, 送达) exist, and how the time limit is shared.
var workflow = map[Action]transition{
	// At the counter (窗口收件) the window clerk submits for the applicant.
	Submit:     {from: []Status{Draft}, to: Submitted, by: By{Applicant: true, Roles: []policy.Role{policy.Window}}},
	Precheck:   {from: []Status{Submitted}, to: Prechecked, by: By{Step: catalog.StepPrecheck}},
	Accept:     {from: []Status{Submitted, Prechecked}, to: Reviewing, by: By{Step: catalog.StepAccept}},
	Refuse:     {from: []Status{Submitted, Prechecked}, to: Rejected, by: By{Step: catalog.StepAccept}, reason: true},
	AskCorrect: {from: []Status{Submitted, Prechecked}, to: Correction, by: By{Step: catalog.StepAccept}, reason: true},
	Resubmit:   {from: []Status{Correction}, to: Submitted, by: By{Applicant: true}},
	Pause:      {from: []Status{Reviewing}, to: Paused, by: By{Step: catalog.StepReview}, reason: true},
	Resume:     {from: []Status{Paused}, to: Reviewing, by: By{Step: catalog.StepReview}},
	// 审查 and 决定 are two steps, each by the roles the item gives it: the
	// reviewer's opinion goes to whoever decides (the head, by default).
	Review:   {from: []Status{Reviewing}, to: Reviewed, by: By{Step: catalog.StepReview}, reason: true},
	Decide:   {from: []Status{Reviewed}, to: Decided, by: By{Step: catalog.StepDecide}, reason: true},
	Complete: {from: []Status{Decided}, to: Completed, by: By{Step: catalog.StepComplete}},
	Deliver:  {from: []Status{Completed}, to: Delivered, by: By{Step: catalog.StepDeliver}},
	// A case sent to the wrong department is passed on, before or during
	// review; the receiving department's staff then act on it. Giving up
	// a case the department answers for is its head's decision, like an
	// extension: a reviewer asks the head, who transfers it.
	Transfer: {from: []Status{Submitted, Prechecked, Reviewing, Reviewed, Paused}, by: By{Roles: []policy.Role{policy.Head}}, reason: true, approve: true},
	// 即办件 are accepted, decided and completed at one sitting, by someone
	// the item lets decide: they review on the spot and take every step.
	Settle:   {from: []Status{Submitted, Prechecked}, to: Completed, by: By{Step: catalog.StepDecide}},
	Withdraw: {from: []Status{Draft, Submitted, Prechecked, Correction}, to: Withdrawn, by: By{Applicant: true}},
}
