package policy

import "testing"

func TestStatsScope(t *testing.T) {
	tests := []struct {
		name   string
		who    Subject
		prefix string
		dept   int64
		ok     bool
	}{
		{"admin", Subject{Kind: Staff, DepartmentID: 1, Roles: []Role{Admin, Head}}, "", 0, true},
		{"district supervisor", Subject{Kind: Staff, DepartmentID: 1, RegionCode: "410411000000", Roles: []Role{Supervisor}}, "410411", 0, true},
		{"street supervisor", Subject{Kind: Staff, DepartmentID: 30, RegionCode: "410411001000", Roles: []Role{Supervisor, Head}}, "410411001", 0, true},
		{"head", Subject{Kind: Staff, DepartmentID: 5, RegionCode: "410411000000", Roles: []Role{Head}}, "", 5, true},
		{"window", Subject{Kind: Staff, DepartmentID: 6, Roles: []Role{Window}}, "", 6, true},
		{"staff without a role", Subject{Kind: Staff, DepartmentID: 6}, "-", 0, false},
		{"person", Subject{Kind: Person, AccountID: 7}, "-", 0, false},
		{"anonymous", Subject{Kind: Anonymous}, "-", 0, false},
		{"client", Subject{Kind: Client, Scopes: []string{ScopeOpen311}}, "-", 0, false},
	}
	for _, tt := range tests {
		prefix, dept, ok := StatsScope(tt.who)
		if prefix != tt.prefix || dept != tt.dept || ok != tt.ok {
			t.Errorf("%s: (%q, %d, %v), want (%q, %d, %v)", tt.name, prefix, dept, ok, tt.prefix, tt.dept, tt.ok)
		}
	}
}
