package policy_test

import "github.com/zwfw/zwfw/internal/policy"

// Module usage and the self-evaluation join the policy table
// (TestPolicyTable): both are administrators' alone, for every action —
// no supervisor, head or other role reads, enters or exports them.
func init() {
	resources["usage"] = policy.Resource{Kind: policy.Usage}
	resources["evaluation"] = policy.Resource{Kind: policy.Evaluation}
}
