package policy

import "slices"

// The hall (预约 and 取号叫号, internal/hall).

// Resource kinds of the hall.
const (
	// Booking is a person's appointment: OwnerID is theirs. They see,
	// make and cancel (Edit) their own, never another's.
	Booking = "booking"
	// HallQueue is the numbers of one window group: DepartmentID is the
	// hall's (a service centre), Helpers the departments of the items the
	// group serves. Window clerks of the hall, or of a department whose
	// items the group serves (a bureau's clerk at the district hall),
	// take numbers for people and call them (Handle); administrators keep
	// the groups (HallSettings) but do not call.
	HallQueue = "hall_queue"
	// HallSettings is the halls' window groups, slots and windows:
	// administrators', and any staff may read them (View).
	HallSettings = "hall_settings"
	// HallWaits is the waiting figures of a hall in RegionCode:
	// supervisors in their region, heads for their own department's hall,
	// administrators all.
	HallWaits = "hall_waits"
)

func hallPersonMay(s Subject, a Action, r Resource) bool {
	return r.Kind == Booking && r.OwnerID == s.AccountID && (a == View || a == Create || a == Edit)
}

func hallStaffMay(s Subject, a Action, r Resource, ownDept, inRegion bool) bool {
	switch r.Kind {
	case HallQueue:
		serves := ownDept || s.DepartmentID != 0 && slices.Contains(r.Helpers, s.DepartmentID)
		return (a == View || a == Handle) && s.Has(Window) && serves
	case HallSettings:
		return a == View
	case HallWaits:
		return a == View && (s.Has(Supervisor) && inRegion || s.Has(Head) && ownDept)
	}
	return false
}

// MayViewSomeHallWaits is Check(s, View, HallWaits) for some hall, for
// the route that lists them: supervisors, heads and administrators.
func MayViewSomeHallWaits(s Subject) bool { return s.hasAny(Admin, Supervisor, Head) }
