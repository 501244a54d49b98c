package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/store"
)

// Payload is the JSON body of every delivery. It carries the public facts
// of the record — what the public lookup or the boards would show, and
// the department's own identifiers — and no personal data: no applicant,
// complainant, answer, material or complaint text. No API scope grants
// more today; a scope that does would add its fields here, per
// subscription. Receivers look a record up by its number.
type Payload struct {
	ID        string          `json:"id"`   // the event's id, also in HeaderID
	Type      string          `json:"type"` // e.g. case.accepted
	Time      time.Time       `json:"time"` // when the change happened
	Case      *CaseFacts      `json:"case,omitempty"`
	Complaint *ComplaintFacts `json:"complaint,omitempty"`
	Rating    *RatingFacts    `json:"rating,omitempty"`
}

// CaseFacts are a case's public facts.
type CaseFacts struct {
	Number       string `json:"number"`    // 办件编号
	ItemCode     string `json:"item_code"` // 实施编码
	ItemName     string `json:"item_name"`
	Status       string `json:"status"` // casework.Status
	StatusName   string `json:"status_name"`
	DepartmentID int64  `json:"department_id"`
	Department   string `json:"department"`
	RegionCode   string `json:"region_code"`
	Channel      string `json:"channel"`            // online or window
	Decision     string `json:"decision,omitempty"` // approved or denied, once decided
	AcceptedOn   string `json:"accepted_on,omitempty"`
	DueOn        string `json:"due_on,omitempty"`
	Corrections  int    `json:"corrections"`
	Version      int    `json:"version"` // grows with every change: drop an older one
}

// ComplaintFacts are a complaint's public facts (its Open311 view without
// the title, description and address, which the person wrote).
type ComplaintFacts struct {
	Number     string `json:"number"`
	Category   string `json:"category"`
	Status     string `json:"status"` // complaint.Status
	StatusName string `json:"status_name"`
	Department string `json:"department,omitempty"`
	RegionCode string `json:"region_code"`
	Channel    string `json:"channel"`
	Version    int    `json:"version"`
}

// RatingFacts are a rating's facts for the unit rated: what was rated
// (by the case or complaint number the unit already knows), the level and
// the channel; never the rater or their comment.
type RatingFacts struct {
	Of           string `json:"of"`     // case, complaint or visit (a window visit for a case)
	Number       string `json:"number"` // the case's or complaint's number
	Title        string `json:"title"`  // the item's name or the complaint's category: never personal
	Level        int    `json:"level"`  // 5 非常满意 … 1 非常不满意
	LevelName    string `json:"level_name"`
	Bad          bool   `json:"bad"` // a 差评: the unit calls back and rectifies
	Channel      string `json:"channel"`
	DepartmentID int64  `json:"department_id"`
	Department   string `json:"department"`
	RegionCode   string `json:"region_code"`
}

// RatingCreated is rating's OnRated hook.
func (s *Service) RatingCreated(ctx context.Context, tx *store.Tx, r rating.Rating) error {
	return s.emit(ctx, tx, RatingCreated, func(p *Payload) error {
		f := RatingFacts{Of: r.Subject.Kind, Number: r.Subject.Number, Title: r.Subject.Title, Level: int(r.Level), LevelName: r.Level.Name(),
			Bad: r.Level.Bad(), Channel: r.Channel, DepartmentID: r.Subject.DepartmentID, RegionCode: r.Subject.RegionCode}
		if err := tx.QueryRow(ctx, `SELECT name FROM departments WHERE id = ?`, r.Subject.DepartmentID).Scan(&f.Department); err != nil {
			return fmt.Errorf("webhook: the department of a rating: %w", err)
		}
		p.Rating = &f
		return nil
	})
}

// caseEvent is the event a change of a case is, or "" for none: only a
// change of status, from the submission on, is news to other systems.
func caseEvent(before, after casework.Case) string {
	if before.Status == after.Status {
		return ""
	}
	switch after.Status {
	case casework.Submitted:
		return CaseSubmitted
	case casework.Reviewing:
		if before.AcceptedOn.IsZero() { // not a resumption after a pause
			return CaseAccepted
		}
	case casework.Correction:
		return CaseCorrectionRequested
	case casework.Decided:
		return CaseDecided
	case casework.Completed:
		return CaseCompleted
	case casework.Delivered:
		return CaseDelivered
	case casework.Rejected:
		return CaseRejected
	case casework.Withdrawn:
		return CaseWithdrawn
	}
	return ""
}

// CaseChanged is casework's OnChanged hook: in the transaction of a
// change of a case, it records the event the change is, if any
// subscription wants it.
func (s *Service) CaseChanged(ctx context.Context, tx *store.Tx, before, after casework.Case) error {
	typ := caseEvent(before, after)
	if typ == "" {
		return nil
	}
	return s.emit(ctx, tx, typ, func(p *Payload) error {
		f := CaseFacts{Number: after.Number, Status: string(after.Status), StatusName: after.Status.Name(), DepartmentID: after.DepartmentID,
			RegionCode: after.RegionCode, Channel: after.Channel, Decision: after.Decision, Corrections: after.Corrections, Version: after.Version}
		if !after.AcceptedOn.IsZero() {
			f.AcceptedOn, f.DueOn = after.AcceptedOn.String(), after.DueOn.String()
		}
		if err := tx.QueryRow(ctx, `SELECT i.impl_code, i.name, d.name FROM items i, departments d WHERE i.id = ? AND d.id = ?`,
			after.ItemID, after.DepartmentID).Scan(&f.ItemCode, &f.ItemName, &f.Department); err != nil {
			return fmt.Errorf("webhook: the item and department of %s: %w", after.Number, err)
		}
		p.Case = &f
		return nil
	})
}

// complaintEvent is the event a step of a complaint is ("" before: its
// filing), or "" for none.
func complaintEvent(before complaint.Status, after complaint.Complaint) string {
	if before == "" {
		return ComplaintCreated
	}
	if before == after.Status {
		return ""
	}
	switch after.Status {
	case complaint.Dispatched:
		return ComplaintDispatched
	case complaint.Replied:
		return ComplaintReplied
	case complaint.Closed:
		return ComplaintClosed
	}
	return ""
}

// ComplaintChanged is complaint's OnChanged hook, as CaseChanged is
// casework's. A complaint routed at filing is one complaint.created event
// whose status is already dispatched.
func (s *Service) ComplaintChanged(ctx context.Context, tx *store.Tx, before complaint.Status, after complaint.Complaint) error {
	typ := complaintEvent(before, after)
	if typ == "" {
		return nil
	}
	return s.emit(ctx, tx, typ, func(p *Payload) error {
		p.Complaint = &ComplaintFacts{Number: after.Number, Category: after.CategoryName, Status: string(after.Status),
			StatusName: after.Status.Name(), Department: after.Department, RegionCode: after.RegionCode, Channel: string(after.Channel),
			Version: after.Version}
		return nil
	})
}

// emit records an event of type typ in tx, with a delivery and its job for
// each active subscription of a client in use that wants it and whose
// keys in use still have a scope for it (EventScopes). With no such
// subscription it costs one query and records nothing.
func (s *Service) emit(ctx context.Context, tx *store.Tx, typ string, fill func(*Payload) error) error {
	if s.queue == nil {
		return nil
	}
	// One row per subscription and key in use of its client.
	rows, err := tx.Query(ctx, `SELECT s.id, s.events, COALESCE(k.scopes, '') FROM webhook_subscriptions s
		JOIN api_clients c ON c.id = s.client_id
		LEFT JOIN api_keys k ON k.client_id = s.client_id AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?)
		WHERE s.active = ? AND c.revoked_at IS NULL ORDER BY s.id`, s.clock.Now(), true)
	if err != nil {
		return fmt.Errorf("webhook: subscriptions: %w", err)
	}
	var subs []int64
	for rows.Next() {
		var id int64
		var events, scopes string
		if err := rows.Scan(&id, &events, &scopes); err != nil {
			rows.Close()
			return err
		}
		if !slices.Contains(subs, id) && slices.Contains(strings.Fields(events), typ) && mayHave(strings.Fields(scopes), typ) {
			subs = append(subs, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(subs) == 0 {
		return nil
	}
	now := s.clock.Now()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	p := Payload{ID: "evt_" + hex.EncodeToString(b), Type: typ, Time: now.UTC().Truncate(time.Second)}
	if err := fill(&p); err != nil {
		return err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	var eventID int64
	if err := tx.QueryRow(ctx, `INSERT INTO webhook_events (public_id, type, body, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		p.ID, typ, string(body), now).Scan(&eventID); err != nil {
		return fmt.Errorf("webhook: event: %w", err)
	}
	for _, sub := range subs {
		if _, err := s.deliver(ctx, tx, sub, eventID, "", now); err != nil {
			return err
		}
	}
	return nil
}

// deliver records a delivery of an event to a subscription and enqueues
// its job, in tx.
func (s *Service) deliver(ctx context.Context, tx *store.Tx, sub, event int64, by string, now time.Time) (int64, error) {
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO webhook_deliveries (subscription_id, event_id, state, redelivered_by, next_at, created_at)
		VALUES (?, ?, 'pending', ?, ?, ?) RETURNING id`, sub, event, by, now, now).Scan(&id); err != nil {
		return 0, fmt.Errorf("webhook: delivery: %w", err)
	}
	return id, s.queue.Enqueue(ctx, tx, DeliverArgs{DeliveryID: id}, &river.InsertOpts{MaxAttempts: s.opt.MaxAttempts, Queue: jobs.QueueOutbound})
}
