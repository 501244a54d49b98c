package policy_test

import (
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/policy"
)

// Boards and surveys join the policy table (TestPolicyTable): a
// supervisor publishes within their subtree, administrators everywhere;
// a survey is an administrator's alone.
func init() {
	resources["board@communA"] = policy.Resource{Kind: policy.Board, RegionCode: communA}
	resources["board@communB"] = policy.Resource{Kind: policy.Board, RegionCode: communB}
	resources["survey"] = policy.Resource{Kind: policy.Survey}
	allowed = append(allowed, strings.Fields(`
supervisor:view:board@communA supervisor:publish:board@communA supervisor:view:board@communB supervisor:publish:board@communB
street-super:view:board@communA street-super:publish:board@communA
`)...)
}

func TestMayAnswer(t *testing.T) {
	for _, c := range []struct {
		who               string
		audience, oncePer string
		want              apperr.Code // "" allowed
	}{
		{"citizenA", policy.Citizens, policy.ByPerson, ""},
		{"citizenA-for-firm", policy.Citizens, policy.ByPerson, ""},
		{"citizenA", policy.Citizens, policy.ByDevice, ""},
		{"anonymous", policy.Citizens, policy.ByDevice, ""},
		{"anonymous", policy.Citizens, policy.ByPerson, apperr.Unauthorized},
		{"window", policy.Citizens, policy.ByPerson, apperr.Forbidden},
		{"admin", policy.Citizens, policy.ByDevice, apperr.Forbidden},
		{"window", policy.StaffOnly, policy.ByPerson, ""},
		{"admin", policy.StaffOnly, policy.ByDevice, ""},
		{"citizenA", policy.StaffOnly, policy.ByPerson, apperr.Forbidden},
		{"citizenA", policy.StaffOnly, policy.ByDevice, apperr.Forbidden},
		{"anonymous", policy.StaffOnly, policy.ByDevice, apperr.Unauthorized},
	} {
		err := policy.MayAnswer(subjects[c.who], c.audience, c.oncePer)
		if got := apperr.CodeOf(err); err == nil && c.want != "" || err != nil && got != c.want {
			t.Errorf("%s answering a %s survey per %s: %v, want %q", c.who, c.audience, c.oncePer, err, c.want)
		}
	}
}

func TestBoardRegionAgreesWithCheck(t *testing.T) {
	for name, s := range subjects {
		prefix := policy.BoardRegion(s)
		for _, region := range []string{district, streetA, communA, streetB, communB} {
			allowed := policy.Check(s, policy.Publish, policy.Resource{Kind: policy.Board, RegionCode: region}) == nil
			if inPrefix := strings.HasPrefix(region, prefix); inPrefix != allowed {
				t.Errorf("%s, entry in %s: prefix %q says %v, Check says %v", name, region, prefix, inPrefix, allowed)
			}
		}
	}
}
