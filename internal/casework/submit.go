package casework

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/store"
)

// MaxMaterialBytes is the largest file an applicant may hand in for one
// material.
const MaxMaterialBytes = 10 << 20

// Attachment is a file handed in for one of the item's materials: already
// in the file store, or (Data set) small enough to be staged with the case.
type Attachment struct {
	Position int // index in the item version's materials
	Object   filestore.Object
	Filename string
	Data     []byte // the content, when it is to be staged (staging.MaxBytes at most)
}

// Apply creates and submits an application in one transaction: the form,
// the materials (already in the file store) and the submission, as a
// mobile app or another system sends them in one request. Nothing is
// written unless all of it is acceptable; once Apply returns, the case is
// durable and its applicant has been told.
func (s *Service) Apply(ctx context.Context, who policy.Subject, itemID int64, answers map[string]string, files []Attachment) (Case, error) {
	now := s.clock.Now()
	app, err := s.prepare(ctx, who, itemID, answers, files, -1, now)
	if err != nil {
		return Case{}, err
	}
	// Many submissions arrive at once; they share commits (and flushes to
	// disk), each still all-or-nothing on its own.
	err = s.db.TxBatched(ctx, func(tx *store.Tx) error {
		if err := s.keep(ctx, tx, now, files); err != nil {
			return err
		}
		return s.write(ctx, tx, who, &app, now)
	})
	if err != nil {
		return Case{}, err
	}
	return app.c, nil
}

// application is an online application checked and numbered, ready to be
// written: the case, its item version, its encoded form and materials.
type application struct {
	c    Case
	it   catalog.Item
	body string
	mats []Material
	wait int // the material a prerequisite's result fills, or -1
}

// prepare checks an application for item itemID before anything is
// written — the form (a message per field, as Fields), the materials and
// who may apply — and numbers it. waitPosition is the material a
// prerequisite's result will fill (parts.go; -1: none): it is not asked
// for, and the case waits (Waiting) instead of being submitted.
func (s *Service) prepare(ctx context.Context, who policy.Subject, itemID int64, answers map[string]string, files []Attachment, waitPosition int, now time.Time) (application, error) {
	if who.Kind != policy.Person {
		return application{}, apperr.New(apperr.Forbidden, "网上申请须使用个人或法人账户登录。")
	}
	it, err := s.catalog.PublishedRecent(ctx, itemID)
	if err != nil {
		return application{}, err
	}
	if err := applicable(it); err != nil {
		return application{}, err
	}
	k, err := s.knownOf(ctx, s.db.Read(), who.AccountID, who.ActingFor)
	if err != nil {
		return application{}, err
	}
	form, problems := CheckForm(it, k.apply(it, answers, true), now)
	if len(problems) > 0 {
		return application{}, &apperr.Error{Code: apperr.Invalid, Message: fmt.Sprintf("申请表有 %d 处需要修改。", len(problems)), Fields: problems}
	}
	if waitPosition >= len(it.Materials) {
		return application{}, fmt.Errorf("item %d has no material %d to wait for", it.ID, waitPosition)
	}
	mats, err := handedIn(it, files, waitPosition, now)
	if err != nil {
		return application{}, err
	}
	status := Submitted
	if waitPosition >= 0 {
		status = Waiting
	}
	app := application{it: it, mats: mats, wait: waitPosition, c: Case{ItemID: it.ID, ItemVersion: it.Version, ApplicantID: who.AccountID, EnterpriseID: who.ActingFor,
		DepartmentID: it.DepartmentID, RegionCode: it.RegionCode, Status: status, Channel: "online", Form: form, Version: 1}}
	if err := policy.Check(who, policy.Create, app.c.Resource()); err != nil {
		return application{}, err
	}
	if app.body, err = s.open(ctx, &app.c, it, now); err != nil {
		return application{}, err
	}
	return app, nil
}

// keep stages the small files of applications in tx and holds those in
// the file store, each once however many cases share it.
func (s *Service) keep(ctx context.Context, tx *store.Tx, now time.Time, files []Attachment) error {
	var staged []staging.File
	for _, f := range files {
		if f.Data != nil {
			staged = append(staged, staging.File{Object: f.Object, Data: f.Data})
		}
	}
	if err := staging.Stage(ctx, tx, now, staged...); err != nil {
		return err
	}
	return s.hold(ctx, tx, files)
}

// write writes a prepared application in tx — the case, its materials and
// its record, as if its steps were taken one by one — and sets its id.
// Its files were kept (keep) in tx.
func (s *Service) write(ctx context.Context, tx *store.Tx, who policy.Subject, app *application, now time.Time) error {
	c := &app.c
	if err := insertCase(ctx, tx, c, app.body); err != nil {
		return err
	}
	if err := s.changedFrom(ctx, tx, Case{}, *c); err != nil {
		return err
	}
	// The materials are the applicant's, whoever handed them in.
	if err := insertMaterials(ctx, tx, c.ID, app.mats, c.ApplicantID); err != nil {
		return err
	}
	for i := range app.mats {
		app.mats[i].CaseID = c.ID
	}
	// The record reads as if the steps were taken one by one: created,
	// materials handed in, submitted (or set to wait). Another system that
	// applied for the person (ApplyFor) is named as the one who did.
	actor, role := who.AccountID, "申请人"
	if who.Kind == policy.Client {
		actor, role = 0, who.Name
	}
	events := []Event{{At: now, ActorID: actor, ActorRole: role, Action: Create, To: Draft}}
	if len(app.mats) > 0 {
		events = append(events, Event{At: now, ActorID: actor, ActorRole: role, Action: Upload, From: Draft, To: Draft,
			Reason: uploadedText(app.mats)})
	}
	if c.Status == Waiting {
		events = append(events, Event{At: now, ActorID: actor, ActorRole: role, Action: Wait, From: Draft, To: Waiting,
			Reason: "所需材料「" + app.it.Materials[app.wait].Name + "」待前置事项办结后自动提供（免提交）"})
	} else {
		events = append(events, Event{At: now, ActorID: actor, ActorRole: role, Action: Submit, From: Draft, To: Submitted})
	}
	// The state is known from what was just written: no read back.
	ch := newChain(c.ID)
	ch.state = stateOf(*c, app.body, app.mats, nil).digest()
	if err := ch.append(ctx, tx, events...); err != nil {
		return err
	}
	return s.tell(ctx, tx, *c, Submit, "", now)
}

// handedIn checks the files handed in with an application of item it —
// each for one of its materials, once — and that every required material
// is there but the one a prerequisite's result will fill (later; -1:
// none), which is not to be handed in; it returns them as the case's
// materials, in the item's order.
func handedIn(it catalog.Item, files []Attachment, later int, now time.Time) ([]Material, error) {
	mats := make([]Material, 0, len(files))
	seen := map[int]bool{}
	for _, f := range files {
		if f.Position < 0 || f.Position >= len(it.Materials) {
			return nil, apperr.New(apperr.Invalid, fmt.Sprintf("没有第 %d 项材料。", f.Position+1))
		}
		if seen[f.Position] {
			return nil, apperr.New(apperr.Invalid, "材料「"+it.Materials[f.Position].Name+"」重复提交了。")
		}
		if f.Position == later {
			return nil, apperr.New(apperr.Invalid, "材料「"+it.Materials[f.Position].Name+"」由前置事项的办理结果提供（免提交），无需上传。")
		}
		seen[f.Position] = true
		if f.Data != nil && (len(f.Data) > staging.MaxBytes || int64(len(f.Data)) != f.Object.Size) {
			return nil, fmt.Errorf("attachment %d: staged content does not match its description", f.Position)
		}
		mats = append(mats, Material{Position: f.Position, Name: it.Materials[f.Position].Name, SHA256: f.Object.SHA256,
			Size: f.Object.Size, ContentType: f.Object.ContentType, Filename: cleanFilename(f.Filename), UploadedAt: now})
	}
	if missing := missingRequired(it, mats, later); len(missing) > 0 {
		return nil, apperr.New(apperr.Invalid, "还缺少必需材料："+strings.Join(missing, "、"))
	}
	sort.Slice(mats, func(i, j int) bool { return mats[i].Position < mats[j].Position })
	return mats, nil
}

// insertMaterials writes a new case's materials, handed in by account by.
func insertMaterials(ctx context.Context, tx *store.Tx, caseID int64, mats []Material, by int64) error {
	if len(mats) == 0 {
		return nil
	}
	var sql strings.Builder
	sql.WriteString(`INSERT INTO case_materials (case_id, position, name, sha256, size, content_type, filename, uploaded_by, uploaded_at) VALUES `)
	var args []any
	for i, m := range mats {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, caseID, m.Position, m.Name, m.SHA256, m.Size, m.ContentType, m.Filename, by, m.UploadedAt)
	}
	_, err := tx.Exec(ctx, sql.String(), args...)
	return err
}

// uploadedText is the Upload event's reason for materials handed in together.
func uploadedText(mats []Material) string {
	names := make([]string, len(mats))
	for i, m := range mats {
		names[i] = fmt.Sprintf("%s（%s）", m.Name, m.Filename)
	}
	return "上传：" + strings.Join(names, "、")
}
