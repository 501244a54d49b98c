package demo

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// demoPDF is the scanned material every demo case hands in (one file: the
// store keeps it once).
var demoPDF = []byte("%PDF-1.4\n% zwfw 演示材料 demo material\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")

// SeedCases makes n cases in the demo district through the same service
// methods as real ones, spread over the last weeks so that the queues hold
// every state, some cases due soon and some late. svc is the case service
// on clk, which SeedCases moves through those weeks from clk's now. It
// does nothing if the district already has cases.
func SeedCases(ctx context.Context, db *store.DB, ids *identity.Service, svc *casework.Service, clk *clock.Manual, files filestore.Store, n int) (int, error) {
	var existing int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&existing); err != nil || existing > 0 || n <= 0 {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(2026, 410411))
	now := clk.Now()
	regions := region.NewStore(db)
	items := catalog.NewStore(db, regions, clk)
	pdf, err := files.Put(ctx, bytes.NewReader(demoPDF), 1<<20)
	if err != nil {
		return 0, err
	}
	// The items that can be applied for online, and a clerk and reviewer per department.
	published, err := items.AllPublished(ctx)
	if err != nil {
		return 0, err
	}
	var online []catalog.Item
	for _, it := range published {
		if it.Depth.Online() && it.Status == catalog.Published {
			online = append(online, it)
		}
	}
	if len(online) == 0 {
		return 0, nil
	}
	staff := map[int64]policy.Subject{}
	staffFor := func(deptID int64) (policy.Subject, error) {
		if s, ok := staff[deptID]; ok {
			return s, nil
		}
		s, err := DepartmentStaff(ctx, db, ids, deptID)
		staff[deptID] = s
		return s, err
	}
	// Demo citizens: made-up people with well-formed numbers.
	var people []policy.Subject
	surnames := []rune("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗")
	given := []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平"}
	for i := range 40 {
		first17 := fmt.Sprintf("410411%04d%02d%02d%03d", 1950+rng.IntN(55), 1+rng.IntN(12), 1+rng.IntN(28), 100+i)
		check, err := ident.IDCardCheckChar(first17)
		if err != nil {
			return 0, err
		}
		name := string(surnames[rng.IntN(len(surnames))]) + given[rng.IntN(len(given))]
		id, err := ids.PersonAtCounter(ctx, 0, name, first17+string(check), fmt.Sprintf("1390375%04d", i), identity.Meta{IP: "demo"})
		if err != nil {
			return 0, err
		}
		people = append(people, policy.Subject{AccountID: id, Kind: policy.Person, Name: name})
	}
	made := 0
	for i := range n {
		it := online[rng.IntN(len(online))]
		who := people[rng.IntN(len(people))]
		clerk, err := staffFor(it.DepartmentID)
		if err != nil {
			return made, err
		}
		// Created 0–40 days ago, during office hours.
		clk.Set(now.Add(-time.Duration(rng.IntN(40*24)) * time.Hour))
		step := func() { clk.Advance(time.Duration(1+rng.IntN(30)) * time.Hour) }
		answers := map[string]string{}
		for _, sec := range it.Form {
			for _, f := range sec.Fields {
				answers[f.Key] = demoAnswer(f, who.Name)
			}
		}
		c, err := svc.CreateDraft(ctx, who, it.ID, answers)
		if err != nil {
			return made, fmt.Errorf("demo case %d (%s): %w", i, it.Name, err)
		}
		made++
		if rng.IntN(20) == 0 {
			continue // some stay drafts
		}
		for pos, m := range it.Materials {
			if m.Necessity == "必需" {
				if c, err = svc.Attach(ctx, who, c.ID, c.Version, pos, pdf, m.Name+".pdf", 0); err != nil {
					return made, err
				}
			}
		}
		step()
		if c, err = svc.Act(ctx, who, c.ID, c.Version, casework.Submit, ""); err != nil {
			return made, err
		}
		// Then as far along the workflow as chance says.
		plan := rng.IntN(10)
		act := func(a casework.Action, reason string) bool {
			step()
			if clk.Now().After(now) {
				return false // the future has not happened yet
			}
			var err2 error
			switch a {
			case casework.Decide:
				// One decision in ten is a denial, which states its own reason.
				approve := rng.IntN(10) > 0
				if !approve {
					reason = "申请不符合本事项规定的受理条件"
				}
				c, err2 = svc.Decide(ctx, clerk, c.ID, c.Version, approve, reason, "")
			case casework.Deliver:
				c, err2 = svc.Deliver(ctx, clerk, c.ID, c.Version, casework.DeliverOnline, "申请人已在线下载")
			case casework.AskCorrect:
				c, err2 = svc.AskCorrection(ctx, clerk, c.ID, c.Version, reason, []int{0})
			default:
				c, err2 = svc.Act(ctx, clerk, c.ID, c.Version, a, reason)
			}
			return err2 == nil
		}
		switch {
		case plan == 0:
			if rng.IntN(2) == 0 {
				act(casework.Precheck, "") // the other half waits for 预审
			}
			continue
		case plan == 1:
			if act(casework.AskCorrect, "所提交材料的扫描件不清晰，请重新提交清晰的扫描件") && rng.IntN(4) == 0 {
				step()
				if !clk.Now().After(now) {
					c, _ = svc.Act(ctx, who, c.ID, c.Version, casework.Withdraw, "") // some give up
				}
			}
			continue
		case plan == 2:
			act(casework.Refuse, "申请事项不属于本机关职权范围")
			continue
		}
		if !act(casework.Accept, "") || plan == 3 {
			continue
		}
		if plan == 4 {
			act(casework.Pause, "需要现场核查")
			continue
		}
		// 审查 by the reviewer, 决定 by the head (the demo clerk holds both).
		if plan == 5 || !act(casework.Review, "经审查，材料齐全，符合条件，建议准予") || plan == 6 || !act(casework.Decide, "经审查，符合条件，准予办理") || plan == 7 {
			continue
		}
		step()
		if clk.Now().After(now) {
			continue
		}
		result := pdf
		if c.Decision == casework.Denied {
			result = filestore.Object{} // a denial ends with its decision
		}
		if c, err = svc.Complete(ctx, clerk, c.ID, c.Version, result, it.Result.Name+".pdf"); err != nil {
			return made, err
		}
		if plan == 9 {
			act(casework.Deliver, "")
		}
	}
	return made, nil
}

// demoAnswer fills a form field plausibly.
func demoAnswer(f catalog.FormField, name string) string {
	switch f.Type {
	case "idcard":
		return "11010519491231002X"
	case "mobile":
		return "13800000000"
	case "creditcode":
		return "91350100M000100Y43"
	case "date":
		return "2026-01-15"
	case "number":
		return "1"
	case "email":
		return "demo@example.com"
	case "select", "radio", "checkbox":
		if len(f.Options) > 0 {
			return f.Options[0]
		}
	}
	if strings.Contains(f.Label, "姓名") {
		return name
	}
	return "演示内容"
}

// DepartmentStaff is the demo's clerk of a department, who takes every
// step of its cases (窗口、审批、负责人): the account demo.<slug>, opened
// unless it exists.
func DepartmentStaff(ctx context.Context, db *store.DB, ids *identity.Service, deptID int64) (policy.Subject, error) {
	d, err := region.NewStore(db).Department(ctx, deptID)
	if err != nil {
		return policy.Subject{}, err
	}
	roles := []policy.Role{policy.Window, policy.Reviewer, policy.Head}
	var id int64
	err = db.Read().QueryRow(ctx, `SELECT id FROM accounts WHERE username = ?`, "demo."+d.Slug).Scan(&id)
	if err != nil {
		acc, _, cerr := ids.CreateStaff(ctx, builder, demoMeta, identity.NewStaff{Username: "demo." + d.Slug, Name: d.ShortName + "演示办理员",
			DepartmentID: d.ID, Roles: roles, Password: StaffPassword})
		if cerr != nil {
			return policy.Subject{}, cerr
		}
		id = acc.ID
	}
	return policy.Subject{AccountID: id, Kind: policy.Staff, Name: d.ShortName + "演示办理员", DepartmentID: d.ID,
		DepartmentKind: string(d.Kind), RegionCode: d.RegionCode, Roles: roles}, nil
}
