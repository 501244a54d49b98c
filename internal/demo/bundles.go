package demo

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// demoBundle is one of the demo's life events (一件事一次办), its items by
// name: fields maps (item, its field, the combined field); deps (item,
// prerequisite, the material the prerequisite's result fills).
type demoBundle struct {
	name, theme, summary string
	items                []string
	fields, deps         [][3]string
}

var demoBundles = []demoBundle{
	{name: "出生一件事", theme: "生育收养", summary: "新生儿出生后，出生医学证明、出生登记（落户）、医保参保和社会保障卡一次申请：填一张表、交一套材料，出生医学证明签发后自动用于落户。",
		items:  []string{"出生医学证明签发", "出生登记", "新生儿城乡居民医保参保登记", "新生儿社会保障卡申领"},
		fields: [][3]string{{"新生儿城乡居民医保参保登记", "insured_name", "baby_name"}, {"新生儿社会保障卡申领", "card_holder", "baby_name"}},
		deps:   [][3]string{{"出生登记", "出生医学证明签发", "出生医学证明"}}},
	{name: "开办餐饮店", theme: "准营准办", summary: "个体工商户开办餐饮店：营业执照、食品经营许可和涉税信息确认一次申请，营业执照核发后自动用于许可和税务。",
		items: []string{"个体工商户设立登记", "食品经营许可（个体工商户餐饮服务）", "个体工商户涉税信息确认"},
		deps: [][3]string{{"食品经营许可（个体工商户餐饮服务）", "个体工商户设立登记", "营业执照"},
			{"个体工商户涉税信息确认", "个体工商户设立登记", "营业执照"}}},
	{name: "退休一件事", theme: "社会保障", summary: "职工到龄退休：退休审批和养老金核定、退休人员医保待遇核定一次申请，退休审批表自动用于医保。",
		items: []string{"职工正常退休申请", "退休人员基本医疗保险待遇核定"},
		deps:  [][3]string{{"退休人员基本医疗保险待遇核定", "职工正常退休申请", "职工退休审批表"}}},
	{name: "身后一件事", theme: "死亡殡葬", summary: "亲人去世后，户口注销和丧葬补助金、抚恤金申领一次申请，户口注销证明自动用于待遇申领。",
		items: []string{"死亡人员户口注销", "丧葬补助金和抚恤金申领"},
		deps:  [][3]string{{"丧葬补助金和抚恤金申领", "死亡人员户口注销", "户口注销证明"}}},
}

// SeedBundles builds and publishes the demo's bundles, through the same
// service as the administrators' page, unless there are bundles already.
func SeedBundles(ctx context.Context, db *store.DB, svc *bundle.Service) (int, error) {
	var existing int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM bundles`).Scan(&existing); err != nil || existing > 0 {
		return 0, err
	}
	id := func(name string) (int64, error) {
		var id int64
		err := db.Read().QueryRow(ctx, `SELECT id FROM items WHERE name = ? AND status = 'published' ORDER BY id LIMIT 1`, name).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("demo bundle item %s: %w", name, err)
		}
		return id, nil
	}
	for _, d := range demoBundles {
		b := bundle.Bundle{Name: d.name, Theme: d.theme, Summary: d.summary}
		for _, name := range d.items {
			it, err := id(name)
			if err != nil {
				return 0, err
			}
			b.Items = append(b.Items, it)
		}
		for _, f := range d.fields {
			it, err := id(f[0])
			if err != nil {
				return 0, err
			}
			b.Fields = append(b.Fields, bundle.Field{ItemID: it, ItemKey: f[1], From: f[2]})
		}
		for _, dep := range d.deps {
			it, err := id(dep[0])
			if err != nil {
				return 0, err
			}
			req, err := id(dep[1])
			if err != nil {
				return 0, err
			}
			b.Dependencies = append(b.Dependencies, bundle.Dependency{ItemID: it, Requires: req, Material: dep[2]})
		}
		if err := svc.Save(ctx, builder, demoMeta, &b); err != nil {
			return 0, fmt.Errorf("demo bundle %s: %w", d.name, err)
		}
		if err := svc.SetPublished(ctx, builder, demoMeta, b.ID, true); err != nil {
			return 0, fmt.Errorf("demo bundle %s: %w", d.name, err)
		}
	}
	return len(demoBundles), nil
}

// SeedBundleCases makes applications to the demo's bundles in every state
// — just applied, a part waiting for its prerequisite, a part in
// correction, all completed, ended by a refused part — through the same
// services as real ones, on clk over the last days (as SeedCases does),
// unless there are some already.
func SeedBundleCases(ctx context.Context, db *store.DB, ids *identity.Service, svc *bundle.Service, cases *casework.Service,
	clk *clock.Manual, cal *calendar.Calendar, files filestore.Store) (int, error) {
	var existing int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM bundle_cases`).Scan(&existing); err != nil || existing > 0 {
		return 0, err
	}
	bundles, err := svc.Published(ctx)
	if err != nil {
		return 0, err
	}
	byName := map[string]int64{}
	for _, b := range bundles {
		byName[b.Name] = b.ID
	}
	pdf, err := files.Put(ctx, bytes.NewReader(demoPDF), 1<<20)
	if err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	now := clk.Now()
	office := officeHours{cal: cal}
	staff := func(c casework.Case) (policy.Subject, error) { return DepartmentStaff(ctx, db, ids, c.DepartmentID) }
	// step moves the clock on by an hour or so of office time.
	step := func() { clk.Set(office.after(clk.Now(), 40+rng.IntN(80))) }
	settle := func(c casework.Case) (casework.Case, error) {
		clerk, err := staff(c)
		if err != nil {
			return c, err
		}
		step()
		return cases.Settle(ctx, clerk, c.ID, c.Version, "材料齐全，符合条件，当场办结", pdf, "结果.pdf")
	}
	handle := func(c casework.Case, to casework.Status) (casework.Case, error) {
		clerk, err := staff(c)
		if err != nil {
			return c, err
		}
		for _, a := range []casework.Action{casework.Accept, casework.Review, casework.Decide, casework.Complete} {
			if c.Status == to {
				break
			}
			step()
			switch a {
			case casework.Decide:
				c, err = cases.Decide(ctx, clerk, c.ID, c.Version, true, "经审查，符合条件，准予办理", "")
			case casework.Complete:
				c, err = cases.Complete(ctx, clerk, c.ID, c.Version, pdf, "结果.pdf")
			case casework.Review:
				c, err = cases.Act(ctx, clerk, c.ID, c.Version, a, "经审查，材料齐全，符合条件，建议准予")
			default:
				c, err = cases.Act(ctx, clerk, c.ID, c.Version, a, "")
			}
			if err != nil {
				return c, err
			}
		}
		return c, nil
	}
	scenarios := []struct {
		bundle string
		days   int // applied this many days ago
		then   func(who policy.Subject, parts []casework.Case) error
	}{
		// Completed: every part, the dependant started on the certificate.
		{"出生一件事", 12, func(who policy.Subject, p []casework.Case) error {
			if _, err := settle(p[0]); err != nil {
				return err
			}
			hukou, _, err := cases.Get(ctx, who, p[1].ID)
			if err != nil {
				return err
			}
			if _, err := settle(hukou); err != nil {
				return err
			}
			for _, c := range p[2:] {
				if _, err := handle(c, casework.Completed); err != nil {
					return err
				}
			}
			return nil
		}},
		// Ended: the deregistration refused, the benefits closed with it.
		{"身后一件事", 8, func(who policy.Subject, p []casework.Case) error {
			clerk, err := staff(p[0])
			if err != nil {
				return err
			}
			step()
			_, err = cases.Act(ctx, clerk, p[0].ID, p[0].Version, casework.Refuse, "死亡医学证明信息与户籍信息不一致，请核实后重新申请")
			return err
		}},
		// A part in correction.
		{"退休一件事", 5, func(who policy.Subject, p []casework.Case) error {
			clerk, err := staff(p[0])
			if err != nil {
				return err
			}
			step()
			_, err = cases.AskCorrection(ctx, clerk, p[0].ID, p[0].Version, "职工退休申请表未签字，请签字后重新上传", []int{1})
			return err
		}},
		// A part waiting: the certificate not yet issued; the others under way.
		{"出生一件事", 3, func(who policy.Subject, p []casework.Case) error {
			for _, c := range p[2:] {
				if _, err := handle(c, casework.Reviewing); err != nil {
					return err
				}
			}
			return nil
		}},
		// Just applied.
		{"开办餐饮店", 0, func(policy.Subject, []casework.Case) error { return nil }},
	}
	made := 0
	for i, sc := range scenarios {
		id, ok := byName[sc.bundle]
		if !ok {
			continue
		}
		g, err := svc.Guide(ctx, id)
		if err != nil {
			return made, err
		}
		who, p, err := demoApplicant(ctx, ids, i)
		if err != nil {
			return made, err
		}
		start := now.Add(-time.Duration(sc.days) * 24 * time.Hour)
		if sc.days == 0 {
			start = now.Add(-2 * time.Hour)
		}
		clk.Set(office.after(start, 0))
		if clk.Now().After(now) {
			clk.Set(now.Add(-time.Hour))
		}
		answers := map[string]string{}
		for _, sec := range g.Form {
			for _, f := range sec.Fields {
				answers[f.Key] = demoAnswer(rng, f, p)
			}
		}
		files := map[int]casework.Attachment{}
		for m, mat := range g.Materials {
			files[m] = casework.Attachment{Object: pdf, Filename: mat.Name + ".pdf"}
		}
		app, err := svc.Apply(ctx, who, id, answers, files)
		if err != nil {
			return made, fmt.Errorf("demo %s: %w", sc.bundle, err)
		}
		made++
		parts := make([]casework.Case, len(app.Parts))
		for k, part := range app.Parts {
			if parts[k], _, err = cases.Get(ctx, who, part.CaseID); err != nil {
				return made, err
			}
		}
		if err := sc.then(who, parts); err != nil {
			return made, fmt.Errorf("demo %s: %w", sc.bundle, err)
		}
	}
	clk.Set(now)
	return made, nil
}

// demoApplicant is the demo's i-th applicant to a bundle: an account of
// its own, opened as at the counter, with well-formed numbers.
func demoApplicant(ctx context.Context, ids *identity.Service, i int) (policy.Subject, person, error) {
	names := []string{"王芳", "李建国", "赵秀英", "陈静", "刘洋"}
	first17 := fmt.Sprintf("41041119%02d0%d1%d%03d", 60+i*5, 1+i, i, 900+i)
	check, err := ident.IDCardCheckChar(first17)
	if err != nil {
		return policy.Subject{}, person{}, err
	}
	p := person{name: names[i%len(names)], idNumber: first17 + string(check), mobile: fmt.Sprintf("1370375%04d", 900+i)}
	id, err := ids.PersonAtCounter(ctx, 0, p.name, p.idNumber, p.mobile, identity.Meta{IP: "demo"})
	if err != nil {
		return policy.Subject{}, person{}, err
	}
	return policy.Subject{AccountID: id, Kind: policy.Person, Name: p.name}, p, nil
}
