package policy

import (
	"strings"
	"testing"
)

func TestComplaintRules(t *testing.T) {
	const street = "410411001000"
	citizen := Subject{AccountID: 7, Kind: Person}
	acting := Subject{AccountID: 7, Kind: Person, ActingFor: 3}
	unit := Subject{AccountID: 20, Kind: Staff, DepartmentID: 5, RegionCode: "410411000000", Roles: []Role{Reviewer}}
	helperUnit := Subject{AccountID: 21, Kind: Staff, DepartmentID: 6, RegionCode: "410411000000", Roles: []Role{Head}}
	otherUnit := Subject{AccountID: 22, Kind: Staff, DepartmentID: 9, RegionCode: "410411000000", Roles: []Role{Head}}
	window := Subject{AccountID: 23, Kind: Staff, DepartmentID: 1, RegionCode: "410411000000", Roles: []Role{Window}}
	dispatcher := Subject{AccountID: 24, Kind: Staff, DepartmentID: 2, RegionCode: "410411000000", Roles: []Role{Dispatcher}}
	streetSup := Subject{AccountID: 25, Kind: Staff, DepartmentID: 30, RegionCode: street, Roles: []Role{Supervisor}}
	otherSup := Subject{AccountID: 26, Kind: Staff, DepartmentID: 31, RegionCode: "410411002000", Roles: []Role{Supervisor}}
	admin := Subject{AccountID: 1, Kind: Staff, Roles: []Role{Admin}}

	c := Resource{Kind: Complaint, OwnerID: 7, DepartmentID: 5, RegionCode: "410411001002", Helpers: []int64{6}}
	tests := []struct {
		who  Subject
		a    Action
		want bool
	}{
		{citizen, View, true}, {citizen, Edit, true}, {citizen, Handle, false}, {acting, View, false},
		{unit, View, true}, {unit, Handle, true}, {unit, Assist, true}, {unit, Reveal, true}, {unit, Dispatch, false}, {unit, Follow, false},
		{helperUnit, View, true}, {helperUnit, Assist, true}, {helperUnit, Handle, false}, {helperUnit, Reveal, false},
		{otherUnit, View, false}, {otherUnit, Assist, false},
		{window, Create, true}, {window, View, false}, {Subject{Kind: Staff, DepartmentID: 5, Roles: []Role{Window}}, Handle, false},
		{dispatcher, View, true}, {dispatcher, Dispatch, true}, {dispatcher, Create, true}, {dispatcher, Handle, false}, {dispatcher, Reveal, true},
		{streetSup, View, true}, {streetSup, Follow, true}, {streetSup, Handle, false}, {streetSup, Reveal, false},
		{otherSup, View, false}, {otherSup, Follow, false},
		{admin, View, true}, {admin, Dispatch, true},
	}
	for _, tt := range tests {
		if got := Check(tt.who, tt.a, c) == nil; got != tt.want {
			t.Errorf("%v %s: %v, want %v", tt.who.Roles, tt.a, got, tt.want)
		}
	}
	// Someone who may not see it is told it does not exist.
	if err := Check(otherUnit, View, c); err == nil || !strings.Contains(err.Error(), "没有找到") {
		t.Errorf("other unit: %v", err)
	}
	// Settings: administrators edit, dispatchers and supervisors read.
	set := Resource{Kind: ComplaintSettings}
	if Check(admin, Edit, set) != nil || Check(dispatcher, Edit, set) == nil || Check(dispatcher, View, set) != nil || Check(unit, View, set) == nil {
		t.Error("settings rules")
	}
	stats := Resource{Kind: ComplaintStats}
	if Check(streetSup, View, stats) != nil || Check(unit, View, stats) == nil || Check(citizen, View, stats) == nil {
		t.Error("stats rules")
	}
	if Dispatcher.Name() != "派单员" {
		t.Error("dispatcher name")
	}
}

// ScopeOfComplaints agrees with Check(View) on every complaint of a small
// world of owners, units, helpers and regions.
func TestScopeOfComplaintsAgreesWithCheck(t *testing.T) {
	subjects := []Subject{
		{AccountID: 7, Kind: Person}, {AccountID: 7, Kind: Person, ActingFor: 3}, {Kind: Anonymous},
		{AccountID: 20, Kind: Staff, DepartmentID: 5, RegionCode: "410411000000", Roles: []Role{Reviewer}},
		{AccountID: 21, Kind: Staff, DepartmentID: 6, RegionCode: "410411001000", Roles: []Role{Window, Supervisor}},
		{AccountID: 22, Kind: Staff, DepartmentID: 9, RegionCode: "410411000000", Roles: []Role{CatalogManager}},
		{AccountID: 24, Kind: Staff, DepartmentID: 2, RegionCode: "410411000000", Roles: []Role{Dispatcher}},
		{AccountID: 25, Kind: Staff, DepartmentID: 30, RegionCode: "410411001000", Roles: []Role{Supervisor}},
		{AccountID: 1, Kind: Staff, Roles: []Role{Admin}},
	}
	var resources []Resource
	for _, owner := range []int64{0, 7, 8} {
		for _, dept := range []int64{0, 5, 6} {
			for _, helpers := range [][]int64{nil, {6}, {5, 9}} {
				for _, reg := range []string{"410411001002", "410411002001"} {
					resources = append(resources, Resource{Kind: Complaint, OwnerID: owner, DepartmentID: dept, Helpers: helpers, RegionCode: reg})
				}
			}
		}
	}
	for _, s := range subjects {
		sc := ScopeOfComplaints(s)
		for _, r := range resources {
			in := sc.All || sc.AccountID != 0 && r.OwnerID == sc.AccountID ||
				sc.Department != 0 && (r.DepartmentID == sc.Department || contains(r.Helpers, sc.Department)) ||
				sc.Region != "" && strings.HasPrefix(r.RegionCode, sc.Region)
			if want := Check(s, View, r) == nil; in != want {
				t.Errorf("%+v on %+v: scope %v, check %v", s, r, in, want)
			}
		}
	}
}

func contains(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
