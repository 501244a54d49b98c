package policy_test

import (
	"strings"

	"github.com/zwfw/zwfw/internal/policy"
)

// 一件事一次办 joins the policy table (TestPolicyTable): an application is
// its applicant's alone (an enterprise's while acting for it), never
// staff's, administrators included; catalog managers build bundles.
func init() {
	resources["bundle-case-A"] = policy.Resource{Kind: policy.BundleCase, OwnerID: citizenA}
	resources["bundle-case-firm"] = policy.Resource{Kind: policy.BundleCase, OwnerID: citizenA, EnterpriseID: firm}
	resources["bundle"] = policy.Resource{Kind: policy.Bundle}
	allowed = append(allowed, strings.Fields(`
citizenA:view:bundle-case-A citizenA:create:bundle-case-A
citizenA-for-firm:view:bundle-case-firm citizenA-for-firm:create:bundle-case-firm
catalog:view:bundle catalog:edit:bundle catalog:publish:bundle
`)...)
	adminRefused = append(adminRefused, "admin:*:bundle-case-A", "admin:*:bundle-case-firm")
}
