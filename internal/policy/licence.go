package policy

// 电子证照 (e-licences, issue 12, internal/licence). A licence belongs to
// its holder (the person, or the enterprise they act for) and to the
// department that issued it. Templates are part of the item: whoever may
// edit the item (its department's catalog managers) keeps its template.
const Licence = "licence"

// licenceMay: holders see their own; the issuing department's case
// handlers see its licences and its reviewers and head revoke them
// (吊销/注销); supervisors see those of their region.
func licenceMay(s Subject, a Action, r Resource) bool {
	switch s.Kind {
	case Person:
		mine := r.EnterpriseID == 0 && s.ActingFor == 0 && r.OwnerID == s.AccountID ||
			r.EnterpriseID != 0 && r.EnterpriseID == s.ActingFor
		return mine && a == View
	case Staff:
		if s.Has(Admin) {
			return true
		}
		ownDept := r.DepartmentID != 0 && r.DepartmentID == s.DepartmentID
		switch a {
		case View:
			return s.hasAny(Window, Reviewer, Head) && ownDept || s.Has(Supervisor) && within(s.RegionCode, r.RegionCode)
		case Handle:
			return s.hasAny(Reviewer, Head) && ownDept
		}
	}
	return false
}
