package demo

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// AssistantUsername is the demo's 帮办代办员, of the first community station.
const AssistantUsername = "community.assist"

// demoConsent is the signed 授权委托书 of the demo's assisted cases.
var demoConsent = []byte("%PDF-1.4\n% zwfw 演示授权委托书 demo consent form\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")

// demoElders are the residents the demo's worker applies for, with the
// items they need (the first of each that can be applied for online).
var demoElders = []struct {
	name, born, mobile string
	items              []string
}{
	{"李桂英", "19380512", "13903750801", []string{"高龄津贴申领", "高龄津贴申请受理"}},
	{"赵德福", "19450908", "13903750802", []string{"老年人优待证办理", "居家养老上门服务申请"}},
}

// seedAssisted makes the demo's assisted cases (帮办代办): the community
// worker applies for elderly residents, with their signed consent forms,
// through casework.ApplyAssisted as a real worker does. It makes none
// when the worker's account is not there (SeedStaff opens it).
func seedAssisted(ctx context.Context, db *store.DB, ids *identity.Service, svc *casework.Service, clk *clock.Manual,
	online []catalog.Item, office officeHours, rng *rand.Rand, files filestore.Store, pdf filestore.Object, n int) (int, error) {
	var who policy.Subject
	err := db.Read().QueryRow(ctx, `SELECT a.id, a.name, d.id, d.kind, d.region_code FROM accounts a JOIN departments d ON d.id = a.department_id
		WHERE a.username = ?`, AssistantUsername).Scan(&who.AccountID, &who.Name, &who.DepartmentID, &who.DepartmentKind, &who.RegionCode)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	who.Kind, who.Roles = policy.Staff, []policy.Role{policy.Assistant}
	consent, err := files.Put(ctx, bytes.NewReader(demoConsent), 1<<20)
	if err != nil {
		return 0, err
	}
	now := clk.Now()
	made := 0
	for _, e := range demoElders[:min(n, len(demoElders))] {
		i := slices.IndexFunc(online, func(it catalog.Item) bool { return slices.Contains(e.items, it.Name) })
		if i < 0 {
			continue
		}
		it := online[i]
		first17 := "410411" + e.born + fmt.Sprintf("%03d", 200+made)
		check, err := ident.IDCardCheckChar(first17)
		if err != nil {
			return made, err
		}
		p := person{name: e.name, idNumber: first17 + string(check), mobile: e.mobile}
		answers := map[string]string{}
		for _, sec := range it.Form {
			for _, f := range sec.Fields {
				answers[f.Key] = demoAnswer(rng, f, p)
			}
		}
		var attached []casework.Attachment
		for pos, m := range it.Materials {
			if m.Necessity == "必需" {
				attached = append(attached, casework.Attachment{Position: pos, Object: pdf, Filename: m.Name + ".pdf"})
			}
		}
		person := identity.AssistPerson{Name: p.name, IDNumber: p.idNumber, Mobile: p.mobile}
		account, err := ids.AssistedApplicant(ctx, who, person, "", demoMeta)
		if err != nil {
			return made, err
		}
		clk.Set(office.random(rng, now, 10))
		if _, err := svc.ApplyAssisted(ctx, who, casework.Assisted{ItemID: it.ID, Account: account, Answers: answers, Files: attached,
			Person:  casework.Known{Name: p.name, IDNumber: p.idNumber, Mobile: p.mobile},
			Consent: casework.Consent{Method: casework.ConsentForm, File: consent, Filename: "授权委托书（" + e.name + "）.pdf"}}); err != nil {
			return made, fmt.Errorf("demo assisted case (%s): %w", it.Name, err)
		}
		made++
	}
	return made, nil
}
