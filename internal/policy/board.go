package policy

import "github.com/zwfw/zwfw/internal/apperr"

// Boards (表扬台, 曝光台) and surveys (问卷).

// Resource kinds of boards and surveys.
const (
	// Board is an entry of the praise or exposure board: RegionCode is the
	// region of the thing it shows. Anyone reads the boards; a supervisor
	// publishes and withdraws within their region's subtree (Publish),
	// and lists candidates there (View).
	Board = "board"
	// Survey is a questionnaire: administrators build, open and close it
	// (Edit), read its results (View) and export them (Export). Who may
	// answer one is MayAnswer's.
	Survey = "survey"
)

// boardMay: a supervisor publishes and withdraws entries about their
// region's subtree; administrators (as for everything) all.
func boardMay(s Subject, a Action, r Resource) bool {
	return (a == View || a == Publish) && s.Has(Supervisor) && within(s.RegionCode, r.RegionCode)
}

// Audiences of surveys.
const (
	Citizens  = "citizens"
	StaffOnly = "staff"
	ByDevice  = "device" // one answer per device: visitors need not sign in
	ByPerson  = "person" // one answer per signed-in person
)

// MayAnswer returns nil if s may answer a survey for audience (Citizens
// or StaffOnly) counted once per oncePer (ByPerson or ByDevice). A staff
// survey is for signed-in staff only; a citizens' survey for citizens,
// and, when counted per device, for visitors who have not signed in too.
// Staff do not answer citizens' surveys in their staff session: their
// answers would be read as the public's.
func MayAnswer(s Subject, audience, oncePer string) error {
	switch {
	case audience == StaffOnly && s.Kind == Staff,
		audience == Citizens && s.Kind == Person,
		audience == Citizens && oncePer == ByDevice && s.Kind == Anonymous:
		return nil
	case s.Kind == Anonymous:
		return apperr.New(apperr.Unauthorized, "请先登录后再填写问卷。")
	case audience == StaffOnly:
		return apperr.New(apperr.Forbidden, "本问卷面向工作人员，请使用工作人员账户登录后填写。")
	}
	return apperr.New(apperr.Forbidden, "本问卷面向群众和企业，请使用个人或法人账户填写。")
}

// BoardRegion is Check(s, Publish, board entry) in set form, for lists
// filtered in SQL: the prefix of the region codes of the entries s may
// publish and withdraw, "" for every region (an administrator), "-" for
// none.
func BoardRegion(s Subject) string { return FollowRegion(s) }
