package casework

import (
	"context"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Known is what the platform knows of an applicant (identity.Known):
// their forms start with it, so that nobody re-types it.
type Known struct {
	Name, IDNumber, Mobile string
	OrgName, CreditCode    string
}

// KnownFunc reads what is known of an applicant account (and of the
// enterprise it acts for, if any), in q.
type KnownFunc func(ctx context.Context, q store.Querier, accountID, enterpriseID int64) (Known, error)

// UseKnown makes the service fill applicants' forms from their accounts.
func (s *Service) UseKnown(f KnownFunc) { s.known = f }

// The catalog's forms name the applicant's own fields alike (the demo's
// 135 personal items: applicant_name, id_number, mobile; the 84 for
// enterprises: org_name, credit_code); fields of other people (a
// student's 身份证号, a 法定代表人) have keys of their own and are left
// alone.
//
// Decision (issue 17.4): the name and 身份证号 are the account's, fixed
// on its forms, whether or not the account is real-name verified yet: a
// case is filed by its account, and an applicant cannot file one in
// another person's name. The mobile number is only a contact: filled in,
// and the applicant may give another. Acting for an enterprise, its name
// and credit code are the enterprise's, fixed too. The rule is kept by
// the service, for the web pages, the API and the counter alike.
const (
	keyName       = "applicant_name"
	keyIDNumber   = "id_number"
	keyMobile     = "mobile"
	keyOrgName    = "org_name"
	keyCreditCode = "credit_code"
)

// fixed lists the answers of form it that are the account's and cannot be
// changed: by field key, the value.
func (k Known) fixed(it catalog.Item) map[string]string {
	want := map[string]string{keyName: k.Name, keyIDNumber: k.IDNumber, keyOrgName: k.OrgName, keyCreditCode: k.CreditCode}
	types := map[string]string{keyName: "text", keyIDNumber: "idcard", keyOrgName: "text", keyCreditCode: "creditcode"}
	out := map[string]string{}
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			if v := want[f.Key]; v != "" && types[f.Key] == f.Type {
				out[f.Key] = v
			}
		}
	}
	return out
}

// apply returns answers with the fixed ones put back and, when start is
// set (a new application), the empty mobile number filled in.
func (k Known) apply(it catalog.Item, answers map[string]string, start bool) map[string]string {
	out := make(map[string]string, len(answers)+4)
	for key, v := range answers {
		out[key] = v
	}
	for key, v := range k.fixed(it) {
		out[key] = v
	}
	if start && out[keyMobile] == "" && k.Mobile != "" {
		for _, sec := range it.Form {
			for _, f := range sec.Fields {
				if f.Key == keyMobile && f.Type == "mobile" {
					out[keyMobile] = k.Mobile
				}
			}
		}
	}
	return out
}

// knownOf reads what is known of a case's applicant; nothing without UseKnown.
func (s *Service) knownOf(ctx context.Context, q store.Querier, applicantID, enterpriseID int64) (Known, error) {
	if s.known == nil {
		return Known{}, nil
	}
	return s.known(ctx, q, applicantID, enterpriseID)
}

// Prefill is how a new application of item it starts for who: the
// answers the platform knows, and which of them are fixed (by key).
func (s *Service) Prefill(ctx context.Context, who policy.Subject, it catalog.Item) (map[string]string, map[string]bool, error) {
	if who.Kind != policy.Person {
		return map[string]string{}, nil, nil
	}
	k, err := s.knownOf(ctx, s.db.Read(), who.AccountID, who.ActingFor)
	if err != nil {
		return nil, nil, err
	}
	return k.apply(it, nil, true), fixedKeys(k.fixed(it)), nil
}

// Fixed lists which answers of case c's form (under item it) are its
// applicant's and cannot be changed, by key.
func (s *Service) Fixed(ctx context.Context, c Case, it catalog.Item) (map[string]bool, error) {
	k, err := s.knownOf(ctx, s.db.Read(), c.ApplicantID, c.EnterpriseID)
	if err != nil {
		return nil, err
	}
	return fixedKeys(k.fixed(it)), nil
}

func fixedKeys(m map[string]string) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
