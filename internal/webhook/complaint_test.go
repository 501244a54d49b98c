package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
	"github.com/zwfw/zwfw/internal/webhook"
)

// A complaint's filing (routed at once), reply and close reach a
// subscriber through complaint's OnChanged hook; signing for it (办理中)
// is not an event; the body has no complainant and no text they wrote.
func TestComplaintEventsAreDelivered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, webhook.Options{})
		startQueue(t, f)
		r := newReceiver(t, f.clk)
		subscribe(t, f, r, webhook.ComplaintCreated, webhook.ComplaintDispatched, webhook.ComplaintReplied, webhook.ComplaintClosed)
		regions := region.NewStore(db)
		cgj, err := regions.DepartmentBySlug(ctx, db.Read(), "cgj")
		if err != nil {
			t.Fatal(err)
		}
		svc := complaint.New(db, complaint.Options{Clock: f.clk, Calendar: calendar.New(nil), Regions: regions, Keys: f.keys})
		svc.SetOnChanged(f.hooks.ComplaintChanged)
		if err := svc.SeedDefaults(ctx, admin, audit.Meta{}); err != nil {
			t.Fatal(err)
		}
		general, err := svc.CategoryByCode(ctx, "general")
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.SaveRoute(ctx, admin, audit.Meta{}, general.ID, "410411000000", cgj.ID); err != nil {
			t.Fatal(err)
		}
		var unit policy.Subject
		{
			var id int64
			now := time.Now()
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				if err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, department_id, created_at, updated_at)
					VALUES ('staff', '城管审批', 'cgj.reviewer', ?, ?, ?) RETURNING id`, cgj.ID, now, now).Scan(&id); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO staff_roles (account_id, role) VALUES (?, 'reviewer')`, id)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			unit = policy.Subject{AccountID: id, Name: "城管审批", Kind: policy.Staff, DepartmentID: cgj.ID, DepartmentKind: string(cgj.Kind),
				RegionCode: cgj.RegionCode, Roles: []policy.Role{policy.Reviewer}}
		}
		c, _, err := svc.Create(ctx, f.citizen, audit.Meta{}, complaint.Filing{CategoryID: general.ID, Title: "路灯不亮",
			Description: "小区门口的路灯坏了一个多星期，晚上很黑。", Address: "建设路 18 号", RegionCode: "410411000000", Mobile: "13912345678"})
		if err != nil {
			t.Fatal(err)
		}
		if c, err = svc.Sign(ctx, unit, audit.Meta{}, c.ID, c.Version); err != nil {
			t.Fatal(err)
		}
		if c, err = svc.RecordContact(ctx, unit, audit.Meta{}, c.ID, "电话联系诉求人，约定今晚修复。"); err != nil {
			t.Fatal(err)
		}
		if c, err = svc.Reply(ctx, unit, audit.Meta{}, c.ID, c.Version, "已更换路灯灯泡，恢复照明。"); err != nil {
			t.Fatal(err)
		}
		if _, err = svc.Confirm(ctx, f.citizen, audit.Meta{}, c.ID, c.Version, complaint.Confirmation{Resolved: true, Satisfied: true}); err != nil {
			t.Fatal(err)
		}
		want := []string{webhook.ComplaintCreated, webhook.ComplaintReplied, webhook.ComplaintClosed}
		waitFor(t, "three complaint events", func() bool { return len(r.types()) >= len(want) })
		time.Sleep(100 * time.Millisecond)
		if got := r.types(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		r.mu.Lock()
		first, last, body := r.got[0].Complaint, r.got[2].Complaint, string(r.bodies[0])+string(r.bodies[2])
		r.mu.Unlock()
		if first == nil || first.Number != c.Number || first.Status != "dispatched" || first.Department != cgj.Name || first.Category == "" ||
			last == nil || last.Status != "closed" || last.Version <= first.Version {
			t.Fatalf("payloads %+v %+v", first, last)
		}
		// The mobile whole or masked (not "139" alone: an event's random id
		// may hold those digits).
		for _, personal := range []string{"路灯不亮", "建设路", "13912345678", "139****", "张三", "已更换路灯"} {
			if strings.Contains(body, personal) {
				t.Errorf("the body carries %q: %s", personal, body)
			}
		}
	})
}
