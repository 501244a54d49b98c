package policy

// 帮办代办 (assisted applications): a worker of a street's convenience
// centre or a community's station applies online for a person who cannot
// (the elderly, those without a smartphone), with the person's consent
// recorded first. The case is the person's: they see it and act on it as
// on any of their own (personMay). The worker:
//
//   - Create: applies for a person only with the consent recorded
//     (Resource.Consented), and only as themselves (AssistedBy);
//   - View: sees the cases they applied for, to follow them up;
//   - nothing else: no department step (Handle, Approve), no change to
//     the answers once submitted (Edit), no personal data in full
//     (Reveal). A worker who is also a window clerk of the handling
//     department keeps what that role gives, as anyone else.

// Assistant is the 帮办代办员.
const Assistant Role = "assistant"

// AssistantDepartment reports whether staff of a department of this kind
// may be 帮办代办员: the street and community levels, where people are
// met at home or at the station.
func AssistantDepartment(kind string) bool {
	return kind == "street_center" || kind == "community_station"
}

func assistantMay(s Subject, a Action, r Resource) bool {
	if !s.Has(Assistant) || !AssistantDepartment(s.DepartmentKind) || s.AccountID == 0 || r.AssistedBy != s.AccountID {
		return false
	}
	switch a {
	case Create:
		return r.Consented
	case View:
		return true
	}
	return false
}
