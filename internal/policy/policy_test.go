package policy_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/policy"
)

const (
	district  = "410411000000"
	streetA   = "410411001000" // 马庄街道
	communA   = "410411001001" // a community of 马庄
	streetB   = "410411002000" // the neighbour street
	communB   = "410411002001"
	bureau    = 10 // 区市场监管局
	bureau2   = 11 // 区民政局
	centreA   = 20 // 马庄街道便民服务中心
	stationA  = 30 // a community station of 马庄
	stationB  = 31 // a station of the neighbour street
	citizenA  = 100
	citizenB  = 101
	firm      = 500
	staffBase = 900
)

func staff(name string, dept int64, kind, region string, roles ...policy.Role) policy.Subject {
	return policy.Subject{AccountID: staffBase, Kind: policy.Staff, Name: name, DepartmentID: dept, DepartmentKind: kind, RegionCode: region, Roles: roles}
}

var subjects = map[string]policy.Subject{
	"anonymous":         {Kind: policy.Anonymous},
	"citizenA":          {AccountID: citizenA, Kind: policy.Person},
	"citizenB":          {AccountID: citizenB, Kind: policy.Person},
	"citizenA-for-firm": {AccountID: citizenA, Kind: policy.Person, ActingFor: firm},
	"window":            staff("window", bureau, "bureau", district, policy.Window),
	"reviewer":          staff("reviewer", bureau, "bureau", district, policy.Reviewer),
	"head":              staff("head", bureau, "bureau", district, policy.Head),
	"catalog":           staff("catalog", bureau, "bureau", district, policy.CatalogManager),
	"supervisor":        staff("supervisor", 1, "center", district, policy.Supervisor),
	"street-super":      staff("street-super", centreA, "street_center", streetA, policy.Supervisor),
	"street-window":     staff("street-window", centreA, "street_center", streetA, policy.Window),
	"station-window":    staff("station-window", stationA, "community_station", communA, policy.Window),
	"admin":             staff("admin", 1, "center", district, policy.Admin),
	// 帮办代办: a community station's worker with the role, and the role
	// given by mistake to a bureau's staff member (who gets nothing of it).
	"assistant":        staff("assistant", stationA, "community_station", communA, policy.Assistant),
	"bureau-assistant": staff("bureau-assistant", bureau, "bureau", district, policy.Assistant),
	// Other systems by their API keys: an Open311 client, and a key
	// without that scope.
	"client-open311": {Kind: policy.Client, Name: "12345 热线", KeyID: 1, Scopes: []string{policy.ScopeOpen311}},
	"client-none":    {Kind: policy.Client, Name: "无权限的系统", KeyID: 2},
}

var resources = map[string]policy.Resource{
	"case-A@bureau":    {Kind: policy.Case, OwnerID: citizenA, DepartmentID: bureau, RegionCode: district},
	"case-firm@bureau": {Kind: policy.Case, OwnerID: citizenA, EnterpriseID: firm, DepartmentID: bureau, RegionCode: district},
	"case-B@stationA":  {Kind: policy.Case, OwnerID: citizenB, DepartmentID: stationA, RegionCode: communA},
	"case-B@stationB":  {Kind: policy.Case, OwnerID: citizenB, DepartmentID: stationB, RegionCode: communB},
	"case-B@bureau2":   {Kind: policy.Case, OwnerID: citizenB, DepartmentID: bureau2, RegionCode: district},
	// Not yet submitted: online, and taken in at the bureau's counter; and
	// a submitted case taken in at the counter.
	"draft-A@bureau":         {Kind: policy.Case, OwnerID: citizenA, DepartmentID: bureau, RegionCode: district, Draft: true},
	"counter-draft-A@bureau": {Kind: policy.Case, OwnerID: citizenA, DepartmentID: bureau, RegionCode: district, Draft: true, Counter: true},
	"counter-case-A@bureau":  {Kind: policy.Case, OwnerID: citizenA, DepartmentID: bureau, RegionCode: district, Counter: true},
	// 帮办代办: cases the assistant (staffBase) applied for, with and
	// without the person's consent recorded, and another worker's.
	"assisted-B@stationB":           {Kind: policy.Case, OwnerID: citizenB, DepartmentID: stationB, RegionCode: communB, AssistedBy: staffBase, Consented: true},
	"assisted-unconsented@stationB": {Kind: policy.Case, OwnerID: citizenB, DepartmentID: stationB, RegionCode: communB, AssistedBy: staffBase},
	"assisted-other@stationB":       {Kind: policy.Case, OwnerID: citizenB, DepartmentID: stationB, RegionCode: communB, AssistedBy: staffBase + 1, Consented: true},
	"queue@bureau":                  {Kind: policy.Queue, DepartmentID: bureau, RegionCode: district},
	"queue-draft@bureau":            {Kind: policy.Queue, DepartmentID: bureau, RegionCode: district, Draft: true},
	"queue@stationA":                {Kind: policy.Queue, DepartmentID: stationA, RegionCode: communA},
	"complaint-A@bureau":            {Kind: policy.Complaint, OwnerID: citizenA, DepartmentID: bureau, RegionCode: district},
	"complaint-B@streetB":           {Kind: policy.Complaint, OwnerID: citizenB, DepartmentID: 40, RegionCode: streetB},
	"rating-A@bureau":               {Kind: policy.Rating, OwnerID: citizenA, DepartmentID: bureau, RegionCode: district},
	"message-A@bureau":              {Kind: policy.Message, OwnerID: citizenA, DepartmentID: bureau, RegionCode: district},
	"item@bureau":                   {Kind: policy.Item, DepartmentID: bureau, RegionCode: district},
	"item@bureau2":                  {Kind: policy.Item, DepartmentID: bureau2, RegionCode: district},
	"dept-bureau":                   {Kind: policy.Department, DepartmentID: bureau, RegionCode: district},
	"dept-stationB":                 {Kind: policy.Department, DepartmentID: stationB, RegionCode: communB},
	"account-A":                     {Kind: policy.Account, OwnerID: citizenA},
	"audit":                         {Kind: policy.AuditLog},
	"jobs":                          {Kind: policy.Jobs},
	"stats":                         {Kind: policy.Statistics},
	"calendar":                      {Kind: policy.Calendar},
	"api-keys":                      {Kind: policy.APIKey},
}

var actions = []policy.Action{policy.View, policy.Create, policy.Handle, policy.Approve, policy.Edit, policy.Publish,
	policy.Reveal, policy.Export, policy.Follow}

// allowed is the whole policy as a table: every (subject, action, resource)
// not listed here must be refused. Admin may do everything but what
// adminRefused lists.
var allowed = strings.Fields(`
citizenA:view:case-A@bureau citizenA:create:case-A@bureau citizenA:edit:case-A@bureau
citizenA:view:draft-A@bureau citizenA:create:draft-A@bureau citizenA:edit:draft-A@bureau
citizenA:view:counter-draft-A@bureau citizenA:create:counter-draft-A@bureau citizenA:edit:counter-draft-A@bureau
citizenA:view:counter-case-A@bureau citizenA:create:counter-case-A@bureau citizenA:edit:counter-case-A@bureau
citizenA:view:complaint-A@bureau citizenA:create:complaint-A@bureau citizenA:edit:complaint-A@bureau citizenA:reveal:complaint-A@bureau
citizenA:view:rating-A@bureau citizenA:create:rating-A@bureau
citizenA:view:message-A@bureau
citizenA:view:account-A citizenA:edit:account-A
citizenA-for-firm:view:case-firm@bureau citizenA-for-firm:create:case-firm@bureau citizenA-for-firm:edit:case-firm@bureau
citizenA-for-firm:view:account-A citizenA-for-firm:edit:account-A
citizenB:view:case-B@stationA citizenB:create:case-B@stationA citizenB:edit:case-B@stationA
citizenB:view:case-B@stationB citizenB:create:case-B@stationB citizenB:edit:case-B@stationB
citizenB:view:case-B@bureau2 citizenB:create:case-B@bureau2 citizenB:edit:case-B@bureau2
citizenB:view:complaint-B@streetB citizenB:create:complaint-B@streetB citizenB:edit:complaint-B@streetB citizenB:reveal:complaint-B@streetB

window:view:case-A@bureau window:create:case-A@bureau window:handle:case-A@bureau
window:view:case-firm@bureau window:create:case-firm@bureau window:handle:case-firm@bureau
window:view:counter-draft-A@bureau window:create:counter-draft-A@bureau window:handle:counter-draft-A@bureau window:edit:counter-draft-A@bureau
window:view:counter-case-A@bureau window:create:counter-case-A@bureau window:handle:counter-case-A@bureau window:edit:counter-case-A@bureau
window:view:queue@bureau
window:view:complaint-A@bureau window:create:complaint-A@bureau window:create:complaint-B@streetB window:view:rating-A@bureau window:create:rating-A@bureau window:view:message-A@bureau
window:view:item@bureau window:view:item@bureau2 window:view:dept-bureau

reviewer:view:case-A@bureau reviewer:handle:case-A@bureau reviewer:reveal:case-A@bureau reviewer:export:case-A@bureau
reviewer:view:case-firm@bureau reviewer:handle:case-firm@bureau reviewer:reveal:case-firm@bureau reviewer:export:case-firm@bureau
reviewer:view:counter-draft-A@bureau reviewer:handle:counter-draft-A@bureau reviewer:reveal:counter-draft-A@bureau reviewer:export:counter-draft-A@bureau
reviewer:view:counter-case-A@bureau reviewer:handle:counter-case-A@bureau reviewer:reveal:counter-case-A@bureau reviewer:export:counter-case-A@bureau
reviewer:view:queue@bureau
reviewer:view:complaint-A@bureau reviewer:handle:complaint-A@bureau reviewer:reveal:complaint-A@bureau reviewer:view:rating-A@bureau reviewer:handle:rating-A@bureau reviewer:reveal:rating-A@bureau
reviewer:view:message-A@bureau reviewer:view:item@bureau reviewer:view:item@bureau2 reviewer:view:dept-bureau

head:view:case-A@bureau head:handle:case-A@bureau head:approve:case-A@bureau head:reveal:case-A@bureau head:export:case-A@bureau
head:view:case-firm@bureau head:handle:case-firm@bureau head:approve:case-firm@bureau head:reveal:case-firm@bureau head:export:case-firm@bureau
head:view:counter-draft-A@bureau head:handle:counter-draft-A@bureau head:approve:counter-draft-A@bureau head:reveal:counter-draft-A@bureau head:export:counter-draft-A@bureau
head:view:counter-case-A@bureau head:handle:counter-case-A@bureau head:approve:counter-case-A@bureau head:reveal:counter-case-A@bureau head:export:counter-case-A@bureau
head:view:queue@bureau
head:view:complaint-A@bureau head:handle:complaint-A@bureau head:reveal:complaint-A@bureau head:view:rating-A@bureau head:handle:rating-A@bureau head:reveal:rating-A@bureau head:approve:rating-A@bureau
head:view:message-A@bureau head:view:item@bureau head:publish:item@bureau head:view:item@bureau2 head:view:dept-bureau head:view:stats

catalog:view:item@bureau catalog:edit:item@bureau catalog:publish:item@bureau catalog:view:item@bureau2 catalog:view:dept-bureau

supervisor:view:case-A@bureau supervisor:follow:case-A@bureau supervisor:view:case-firm@bureau supervisor:follow:case-firm@bureau
supervisor:view:case-B@stationA supervisor:follow:case-B@stationA supervisor:view:case-B@stationB supervisor:follow:case-B@stationB
supervisor:view:case-B@bureau2 supervisor:follow:case-B@bureau2 supervisor:view:counter-case-A@bureau supervisor:follow:counter-case-A@bureau
supervisor:view:complaint-A@bureau supervisor:follow:complaint-A@bureau supervisor:view:complaint-B@streetB supervisor:follow:complaint-B@streetB
supervisor:view:rating-A@bureau supervisor:follow:rating-A@bureau
supervisor:view:item@bureau supervisor:view:item@bureau2 supervisor:view:dept-bureau supervisor:view:dept-stationB
supervisor:view:audit supervisor:view:stats

street-super:view:case-B@stationA street-super:follow:case-B@stationA street-super:view:item@bureau street-super:view:item@bureau2
street-super:view:audit street-super:view:stats

street-window:view:case-B@stationA street-window:create:complaint-A@bureau street-window:create:complaint-B@streetB street-window:view:item@bureau street-window:view:item@bureau2

station-window:view:case-B@stationA station-window:create:case-B@stationA station-window:create:complaint-A@bureau station-window:create:complaint-B@streetB station-window:handle:case-B@stationA
station-window:view:item@bureau station-window:view:item@bureau2 station-window:view:queue@stationA

client-open311:create:complaint-A@bureau client-open311:create:complaint-B@streetB

citizenB:view:assisted-B@stationB citizenB:create:assisted-B@stationB citizenB:edit:assisted-B@stationB
citizenB:view:assisted-unconsented@stationB citizenB:create:assisted-unconsented@stationB citizenB:edit:assisted-unconsented@stationB
citizenB:view:assisted-other@stationB citizenB:create:assisted-other@stationB citizenB:edit:assisted-other@stationB
supervisor:view:assisted-B@stationB supervisor:follow:assisted-B@stationB supervisor:view:assisted-unconsented@stationB supervisor:follow:assisted-unconsented@stationB
supervisor:view:assisted-other@stationB supervisor:follow:assisted-other@stationB
assistant:view:assisted-B@stationB assistant:create:assisted-B@stationB assistant:view:assisted-unconsented@stationB
assistant:view:item@bureau assistant:view:item@bureau2
bureau-assistant:view:item@bureau bureau-assistant:view:item@bureau2 bureau-assistant:view:dept-bureau
`)

// adminRefused is what administrators may not do either (* is every
// action): see a draft that is not their department's counter intake,
// change an online application's answers or files, or work from queues
// without a role that handles cases.
var adminRefused = strings.Fields(`
admin:*:draft-A@bureau admin:*:counter-draft-A@bureau admin:*:queue@bureau admin:*:queue-draft@bureau admin:*:queue@stationA
admin:edit:case-A@bureau admin:edit:case-firm@bureau admin:edit:case-B@stationA admin:edit:case-B@stationB admin:edit:case-B@bureau2
admin:edit:assisted-B@stationB admin:edit:assisted-unconsented@stationB admin:edit:assisted-other@stationB
`)

func TestPolicyTable(t *testing.T) {
	want, barred := map[string]bool{}, map[string]bool{}
	for _, a := range allowed {
		want[a] = true
	}
	for _, a := range adminRefused {
		barred[a] = true
	}
	var names []string
	for n := range subjects {
		names = append(names, n)
	}
	sort.Strings(names)
	seen := map[string]bool{}
	for _, sn := range names {
		s := subjects[sn]
		for rn, r := range resources {
			for _, a := range actions {
				key := fmt.Sprintf("%s:%s:%s", sn, a, rn)
				expect := want[key] || sn == "admin" && !barred[key] && !barred[fmt.Sprintf("%s:*:%s", sn, rn)]
				mayView := want[fmt.Sprintf("%s:%s:%s", sn, policy.View, rn)] ||
					sn == "admin" && !barred[fmt.Sprintf("%s:%s:%s", sn, policy.View, rn)] && !barred[fmt.Sprintf("%s:*:%s", sn, rn)]
				seen[key] = true
				err := policy.Check(s, a, r)
				if (err == nil) != expect {
					t.Errorf("%s: allowed=%v, want %v", key, err == nil, expect)
				}
				if err != nil {
					code := apperr.CodeOf(err)
					if code != apperr.Forbidden && code != apperr.NotFound && code != apperr.Unauthorized {
						t.Errorf("%s: refusal code %s", key, code)
					}
					if sn == "anonymous" && code != apperr.Unauthorized {
						t.Errorf("%s: anonymous refused with %s, want unauthorized", key, code)
					}
					if strings.HasPrefix(sn, "citizen") && r.Kind == policy.Case && code != apperr.NotFound {
						t.Errorf("%s: someone else's case must look absent, got %s", key, code)
					}
					// Staff are told a case is absent unless they may see it
					// (taking one in is not asking about one that exists).
					if s.Kind == policy.Staff && r.Kind == policy.Case && a != policy.Create {
						if wantCode := map[bool]apperr.Code{false: apperr.NotFound, true: apperr.Forbidden}[mayView]; code != wantCode {
							t.Errorf("%s: refused with %s, want %s", key, code, wantCode)
						}
					}
				}
			}
		}
	}
	for _, a := range allowed {
		if !seen[a] {
			t.Errorf("table entry %s names an unknown subject, action or resource", a)
		}
	}
	for _, a := range adminRefused {
		if !seen[a] && !seen[strings.Replace(a, ":*:", ":view:", 1)] {
			t.Errorf("adminRefused entry %s names an unknown action or resource", a)
		}
	}
}

func TestRoleNames(t *testing.T) {
	for _, r := range policy.Roles {
		if r.Name() == "" {
			t.Errorf("role %s has no Chinese name", r)
		}
	}
}

// FollowRegion is Check(Follow) on a case in set form: a case is in the
// prefix exactly when the subject may follow it up.
func TestFollowRegionAgreesWithCheck(t *testing.T) {
	for name, s := range subjects {
		prefix := policy.FollowRegion(s)
		for _, region := range []string{district, streetA, communA, streetB, communB} {
			for _, dept := range []int64{bureau, centreA, stationB} {
				allowed := policy.Check(s, policy.Follow, policy.Resource{Kind: policy.Case, RegionCode: region, DepartmentID: dept}) == nil
				if inPrefix := strings.HasPrefix(region, prefix); inPrefix != allowed {
					t.Errorf("%s, case in %s of department %d: prefix %q says %v, Check says %v", name, region, dept, prefix, inPrefix, allowed)
				}
			}
		}
	}
}

// RatingScope is Check(View) on a rating in set form: a rating is in the
// scope exactly when the subject may see it (好差评's lists and rates).
func TestRatingScopeAgreesWithCheck(t *testing.T) {
	for name, s := range subjects {
		prefix, only := policy.RatingScope(s)
		for _, region := range []string{district, streetA, communA, streetB, communB} {
			for _, dept := range []int64{bureau, centreA, stationB} {
				allowed := policy.Check(s, policy.View, policy.Resource{Kind: policy.Rating, RegionCode: region, DepartmentID: dept, OwnerID: -1}) == nil
				if inScope := strings.HasPrefix(region, prefix) && (only == 0 || only == dept); inScope != allowed {
					t.Errorf("%s, rating in %s of department %d: scope (%q, %d) says %v, Check says %v", name, region, dept, prefix, only, inScope, allowed)
				}
			}
		}
	}
}
