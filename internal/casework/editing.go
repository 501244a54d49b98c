package casework

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// EditForm is the event of a change to a case's answers.
const EditForm Action = "form"

// mayEdit checks that who may change c's answers or materials and names
// the role they do it in for the record: the applicant on their own case,
// or — only on a case taken in at the counter by their department — the
// window clerk (policy.Edit; never on an application made online).
func mayEdit(who policy.Subject, c Case) (string, error) {
	if err := policy.Check(who, policy.Edit, c.Resource()); err != nil {
		return "", err
	}
	switch {
	case who.Kind == policy.Person:
		return "申请人", nil
	case who.Has(policy.Window):
		return policy.Window.Name(), nil
	}
	return policy.Admin.Name(), nil
}

// Editable reports whether who may type in c's answers now: a draft they
// may edit (the staff case page's form at the counter).
func Editable(who policy.Subject, c Case) bool {
	_, err := mayEdit(who, c)
	return err == nil && c.Status == Draft
}

// changedFields lists the keys whose answers differ, in no given order.
func changedFields(before, after map[string]string) []string {
	var keys []string
	for k, v := range after {
		if before[k] != v {
			keys = append(keys, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok && before[k] != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// formEdited records in tx which answers of c changed: their labels, in
// the form's order, and not their values, which may be personal data.
func (s *Service) formEdited(ctx context.Context, tx *store.Tx, c Case, who policy.Subject, role string, keys []string, now time.Time) error {
	it, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
	if err != nil {
		return err
	}
	var labels []string
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			if i := slices.Index(keys, f.Key); i >= 0 {
				labels = append(labels, f.Label)
				keys = slices.Delete(keys, i, i+1)
			}
		}
	}
	slices.Sort(keys)
	labels = append(labels, keys...) // answers to fields the form no longer has
	return appendEvent(ctx, tx, c.ID, Event{At: now, ActorID: who.AccountID, ActorRole: role, Action: EditForm,
		From: c.Status, To: c.Status, Reason: "修改：" + strings.Join(labels, "、")})
}
