package policy_test

import (
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/policy"
)

// The hall joins the policy table (TestPolicyTable): a person's own
// bookings; the numbers of a group for the window clerks of its hall and
// of the departments whose items it serves, never an administrator alone;
// the groups for administrators to keep and any staff to read; waiting
// figures for supervisors in their region.
func init() {
	resources["booking-A"] = policy.Resource{Kind: policy.Booking, OwnerID: citizenA}
	resources["hallqueue@centreA"] = policy.Resource{Kind: policy.HallQueue, DepartmentID: centreA, RegionCode: streetA}
	resources["hallqueue@district-serving-bureau"] = policy.Resource{Kind: policy.HallQueue, DepartmentID: 1, RegionCode: district, Helpers: []int64{bureau}}
	resources["hall-settings"] = policy.Resource{Kind: policy.HallSettings}
	resources["hallwaits@centreA"] = policy.Resource{Kind: policy.HallWaits, DepartmentID: centreA, RegionCode: streetA}
	allowed = append(allowed, strings.Fields(`
citizenA:view:booking-A citizenA:create:booking-A citizenA:edit:booking-A
citizenA-for-firm:view:booking-A citizenA-for-firm:create:booking-A citizenA-for-firm:edit:booking-A
window:view:hallqueue@district-serving-bureau window:handle:hallqueue@district-serving-bureau
street-window:view:hallqueue@centreA street-window:handle:hallqueue@centreA
window:view:hall-settings reviewer:view:hall-settings head:view:hall-settings catalog:view:hall-settings supervisor:view:hall-settings
street-super:view:hall-settings street-window:view:hall-settings station-window:view:hall-settings
assistant:view:hall-settings bureau-assistant:view:hall-settings
supervisor:view:hallwaits@centreA street-super:view:hallwaits@centreA
`)...)
	adminRefused = append(adminRefused, "admin:*:hallqueue@centreA", "admin:*:hallqueue@district-serving-bureau")
}

// The set form agrees with the table: whoever may see some hall's waiting
// figures passes it, and nobody else.
func TestMayViewSomeHallWaits(t *testing.T) {
	for name, s := range subjects {
		some := false
		for _, r := range []policy.Resource{resources["hallwaits@centreA"], {Kind: policy.HallWaits, DepartmentID: bureau, RegionCode: district}} {
			some = some || policy.Check(s, policy.View, r) == nil
		}
		if got := policy.MayViewSomeHallWaits(s); got != some {
			t.Errorf("%s: %v, the table says %v", name, got, some)
		}
	}
}
