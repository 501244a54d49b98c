package policy

// 好差评: who may do what to a rating and its follow-up. A person rates
// their own service (personMay: Create and View, as for a complaint);
// this file holds what staff may.
//
//   - View: the unit's window clerks, reviewers and heads (their own
//     department's ratings), supervisors (their region's).
//   - Create: a window clerk, for their own department — the counter
//     tablet of their window records the visitor's rating (一次一评).
//   - Handle: the unit's reviewers and heads call a 差评 back (回访) and
//     record its rectification.
//   - Reveal: the same, to see the rater's mobile number for the call
//     (audited by identity.Reveal).
//   - Approve: the head files an appeal against a mistaken or malicious
//     rating, for the unit.
//   - Follow: a supervisor of the region decides the appeal.
func staffMayRating(s Subject, a Action, ownDept, inRegion bool) bool {
	switch a {
	case View:
		return s.hasAny(Window, Reviewer, Head) && ownDept || s.Has(Supervisor) && inRegion
	case Create:
		return s.Has(Window) && ownDept
	case Handle, Reveal:
		return s.hasAny(Reviewer, Head) && ownDept
	case Approve:
		return s.Has(Head) && ownDept
	case Follow:
		return s.Has(Supervisor) && inRegion
	}
	return false
}

// RatingScope is Check(s, View, rating) in set form, for the lists and
// rates of ratings to filter in SQL: the prefix of the region codes s
// sees ("" every region, "-" none) and, when not 0, the one department
// they are limited to (a unit's staff see their own).
func RatingScope(s Subject) (regionPrefix string, department int64) {
	switch {
	case s.Kind != Staff:
		return "-", 0
	case s.Has(Admin):
		return "", 0
	case s.Has(Supervisor):
		return RegionPrefix(s.RegionCode), 0
	case s.hasAny(Window, Reviewer, Head):
		return "", s.DepartmentID
	}
	return "-", 0
}
