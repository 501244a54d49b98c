package policy

import "slices"

// Integration (issue 12): what another system's client may do beyond
// cases (clientMayCase). Which departments' data it reaches is the
// sharing directory's (internal/integration) to narrow further.

// Webhook is an API client's event subscription: administrators keep
// every client's, a client its own (OwnerID is the client's id).
const Webhook = "webhook"

// clientMayShared: a client with the complaints scope reads complaints,
// one with ratings reads ratings (never in clear: no Reveal), and a client
// keeps its own webhook subscriptions; which events it may have is
// webhook's to check against its scopes.
func clientMayShared(s Subject, a Action, r Resource) bool {
	switch r.Kind {
	case Complaint:
		return a == View && slices.Contains(s.Scopes, ScopeComplaints)
	case Rating:
		return a == View && slices.Contains(s.Scopes, ScopeRatings)
	case Webhook:
		return s.ClientID != 0 && r.OwnerID == s.ClientID && (a == View || a == Create || a == Edit)
	}
	return false
}
