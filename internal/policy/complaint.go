package policy

import "slices"

// Complaints and requests (有诉即应 / 接诉即办). A person files and follows
// their own, and confirms or reopens them (Edit); the dispatcher (派单员)
// sees them all and sends them to units; the owning unit's staff handle
// them, its helper units (joint handling) see them and record progress
// (Assist); supervisors follow up those in their region; administrators
// keep the categories and routing rules (ComplaintSettings).

// Dispatcher is the 派单员: dispatches complaints that no routing rule
// matched and those a unit sent back.
const Dispatcher Role = "dispatcher"

// Resource kinds of complaints beyond Complaint itself.
const (
	ComplaintSettings = "complaint_settings" // categories and routing rules
	ComplaintStats    = "complaint_stats"    // 响应率, 解决率, 满意率 of every unit
)

// Actions on complaints beyond the common ones.
const (
	Dispatch Action = "dispatch" // 派单: give a complaint to a unit
	Assist   Action = "assist"   // a helper unit's progress on a joint complaint
)

// complaintPersonMay: a person sees (their own data in clear too), files,
// and confirms or reopens their own complaints.
func complaintPersonMay(a Action) bool { return a == View || a == Create || a == Edit || a == Reveal }

func complaintStaffMay(s Subject, a Action, r Resource, ownDept, inRegion bool) bool {
	// Window staff of a unit see its complaints; its reviewers and head
	// handle them.
	unit := s.hasAny(Window, Reviewer, Head)
	handler := s.hasAny(Reviewer, Head)
	switch r.Kind {
	case ComplaintSettings:
		return a == View && s.hasAny(Dispatcher, Supervisor)
	case ComplaintStats:
		return a == View && s.hasAny(Dispatcher, Supervisor)
	}
	helper := s.DepartmentID != 0 && slices.Contains(r.Helpers, s.DepartmentID)
	switch a {
	case View:
		return s.Has(Dispatcher) || unit && (ownDept || helper) || s.Has(Supervisor) && inRegion
	case Create:
		// At the 有诉即应 window, or from a phone call.
		return s.hasAny(Window, Dispatcher)
	case Dispatch:
		return s.Has(Dispatcher)
	case Handle:
		return handler && ownDept
	case Assist:
		return handler && (ownDept || helper)
	case Follow:
		return s.Has(Supervisor) && inRegion
	case Reveal:
		// Those who call the person back: the owning unit and the dispatcher.
		return handler && ownDept || s.Has(Dispatcher)
	}
	return false
}

// ComplaintScope is Check(s, View, complaint) in set form, for lists to
// filter in SQL: a complaint is in scope when All, or it is AccountID's,
// or Department owns or helps with it, or its region starts with Region.
type ComplaintScope struct {
	All        bool
	AccountID  int64  // 0: none
	Department int64  // 0: none
	Region     string // a region prefix; "": none
}

// None reports whether the scope holds no complaint at all.
func (c ComplaintScope) None() bool {
	return !c.All && c.AccountID == 0 && c.Department == 0 && c.Region == ""
}

// ScopeOfComplaints is the complaints s may see.
func ScopeOfComplaints(s Subject) ComplaintScope {
	var c ComplaintScope
	switch s.Kind {
	case Person:
		if s.ActingFor == 0 {
			c.AccountID = s.AccountID
		}
	case Staff:
		if s.hasAny(Admin, Dispatcher) {
			return ComplaintScope{All: true}
		}
		if s.hasAny(Window, Reviewer, Head) && s.DepartmentID != 0 {
			c.Department = s.DepartmentID
		}
		if s.Has(Supervisor) {
			if p := RegionPrefix(s.RegionCode); p != "-" {
				c.Region = p
			}
		}
	}
	return c
}
