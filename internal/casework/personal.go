package casework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/mail"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Personal answers. A form field of one of these types holds personal
// data: its answer is sealed in cases.form_data like an account's numbers
// (pii: AES-256-GCM under a key id), with its masked form beside it for
// pages. Credit codes are not here: an organisation's code is public.
//
// No blind index is kept for answers: nothing looks a case up by an
// answer. The public lookup checks the applicant account's mobile number
// and the counter finds the applicant by the account's identity number,
// both through the accounts' own indexes.
var personal = map[string]func(string) string{
	"idcard": ident.MaskIDCard,
	"mobile": ident.MaskMobile,
	"email":  mail.Mask,
}

// Personal reports whether answers to a field of this type are personal
// data: sealed at rest, masked when shown, revealed only on request.
func Personal(fieldType string) bool { return personal[fieldType] != nil }

// MaskAnswer is an answer to a field of the type as pages show it:
// personal data masked, anything else as it is. Masking a masked value
// changes nothing.
func MaskAnswer(fieldType, v string) string {
	if mask := personal[fieldType]; mask != nil && v != "" {
		return mask(v)
	}
	return v
}

// sealedAnswer is a personal answer as cases.form_data holds it, where
// every other answer is a plain JSON string. Rows written before answers
// were sealed hold plain strings throughout; they are read as they are
// (and masked by field type on pages) and sealed when next saved.
type sealedAnswer struct {
	Sealed string `json:"sealed"` // v1.<key id>.<nonce|ciphertext>
	Masked string `json:"masked"` // what pages show
}

// answerContext binds a sealed answer to its case and field (pii's
// additional data): a sealed value copied to another case or field does
// not open there. Case numbers never change.
func answerContext(number, key string) string { return "cases.form_data/" + number + "/" + key }

// UseKeys gives the service the keys personal answers are sealed with.
// Without them, a form with a personal answer cannot be saved.
func (s *Service) UseKeys(k *pii.Keys) { s.keys = k }

var errNoKeys = errors.New("casework: personal answers need the data keys (UseKeys)")

// encodeForm seals the personal answers of c (a form of item it) and
// returns form_data; c.Form becomes the answers as pages show them.
func (s *Service) encodeForm(it catalog.Item, c *Case, answers map[string]string) (string, error) {
	body, shown, sealed, err := sealForm(s.keys, it, c.Number, answers)
	if err != nil {
		return "", err
	}
	c.Form, c.sealed = shown, sealed
	return body, nil
}

// SealForm is form_data for the answers to item it's form of the case
// numbered number, its personal answers sealed under keys, as the
// workflow stores it: for writing cases in bulk (internal/generate).
func SealForm(keys *pii.Keys, it catalog.Item, number string, answers map[string]string) (string, error) {
	body, _, _, err := sealForm(keys, it, number, answers)
	return body, err
}

// sealForm returns form_data, the answers as pages show them and the
// sealed ones by field key.
func sealForm(keys *pii.Keys, it catalog.Item, number string, answers map[string]string) (string, map[string]string, map[string]string, error) {
	types := map[string]string{}
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			types[f.Key] = f.Type
		}
	}
	stored := make(map[string]any, len(answers))
	shown := make(map[string]string, len(answers))
	sealed := map[string]string{}
	for k, v := range answers {
		mask := personal[types[k]]
		if mask == nil || v == "" {
			stored[k], shown[k] = v, v
			continue
		}
		if keys == nil {
			return "", nil, nil, errNoKeys
		}
		sv, err := keys.Seal(v, answerContext(number, k))
		if err != nil {
			return "", nil, nil, err
		}
		stored[k] = sealedAnswer{Sealed: sv, Masked: mask(v)}
		shown[k], sealed[k] = mask(v), sv
	}
	body, err := json.Marshal(stored)
	if err != nil {
		return "", nil, nil, err
	}
	return string(body), shown, sealed, nil
}

// decodeForm reads form_data into c: plain answers as they are, sealed
// ones masked in c.Form and kept sealed for those who may open them.
func decodeForm(data string, c *Case) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &raw); err != nil {
		return fmt.Errorf("case %d: form_data: %w", c.ID, err)
	}
	c.Form, c.sealed = make(map[string]string, len(raw)), map[string]string{}
	for k, v := range raw {
		var plain string
		if err := json.Unmarshal(v, &plain); err == nil {
			c.Form[k] = plain
			continue
		}
		var a sealedAnswer
		if err := json.Unmarshal(v, &a); err != nil || !pii.IsSealed(a.Sealed) {
			return fmt.Errorf("case %d: form_data: answer %q is neither text nor a sealed value", c.ID, k)
		}
		c.Form[k], c.sealed[k] = a.Masked, a.Sealed
	}
	return nil
}

// unseal returns c's answers with the personal ones opened.
func (s *Service) unseal(c Case) (map[string]string, error) {
	out := maps.Clone(c.Form)
	if out == nil {
		out = map[string]string{}
	}
	for k, sv := range c.sealed {
		if s.keys == nil {
			return nil, errNoKeys
		}
		v, err := s.keys.Open(sv, answerContext(c.Number, k))
		if err != nil {
			return nil, fmt.Errorf("case %d: answer %q: %w", c.ID, k, err)
		}
		out[k] = v
	}
	return out, nil
}

// Answers gives c's answers in full to those who fill them in: the
// applicant, whose own data it is, and the window clerk typing a draft in
// at the counter. Everyone else reads c.Form, masked; staff who need a
// number in full ask for it with RevealAnswer.
func (s *Service) Answers(who policy.Subject, c Case) (map[string]string, error) {
	if _, err := mayEdit(who, c); err != nil {
		return nil, err
	}
	if who.Kind != policy.Person && c.Status != Draft {
		return nil, apperr.New(apperr.Forbidden, "申请提交后，个人信息只显示部分号码；如需完整号码，请用“显示完整号码”并写明事由。")
	}
	return s.unseal(c)
}

// MaxRevealReason bounds the reason given for a reveal.
const MaxRevealReason = 200

// RevealAnswer shows one personal answer of a case in full to staff who
// may reveal personal data on it (policy.Reveal: the handling
// department's reviewers and heads), for a stated reason. The reveal —
// who, which case and field, why, never the value — goes to the audit log
// before the value is returned, with where the request came from (meta).
func (s *Service) RevealAnswer(ctx context.Context, who policy.Subject, meta audit.Meta, caseID int64, key, reason string) (string, error) {
	c, err := load(ctx, s.db.Read(), caseID)
	if err != nil {
		return "", err
	}
	if err := policy.Check(who, policy.Reveal, c.Resource()); err != nil {
		return "", err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", apperr.New(apperr.Invalid, "显示完整号码须写明事由。")
	}
	if utf8.RuneCountInString(reason) > MaxRevealReason {
		return "", apperr.New(apperr.Invalid, fmt.Sprintf("事由不能超过%d个字。", MaxRevealReason))
	}
	it, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
	if err != nil {
		return "", err
	}
	var field catalog.FormField
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			if f.Key == key && Personal(f.Type) {
				field = f
			}
		}
	}
	if field.Key == "" {
		return "", apperr.New(apperr.NotFound, "申请表没有这一项个人信息。")
	}
	full, err := s.unseal(c)
	if err != nil {
		return "", err
	}
	value := full[key]
	if value == "" {
		return "", apperr.New(apperr.NotFound, "申请人没有填写这一项。")
	}
	actor := who.Name
	if actor == "" {
		actor = fmt.Sprintf("账户%d", who.AccountID)
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorID: who.AccountID, Actor: actor, Action: "reveal",
			Object: fmt.Sprintf("case:%d", c.ID), IP: meta.IP,
			Detail: fmt.Sprintf("查看办件 %s 申请表“%s”（%s）的完整内容，事由：%s", c.Number, field.Label, key, reason)})
	})
	if err != nil {
		return "", err
	}
	return value, nil
}
