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
	if who.Kind != policy.Person {
		return Case{}, apperr.New(apperr.Forbidden, "网上申请须使用个人或法人账户登录。")
	}
	it, err := s.catalog.PublishedRecent(ctx, itemID)
	if err != nil {
		return Case{}, err
	}
	if err := applicable(it); err != nil {
		return Case{}, err
	}
	k, err := s.knownOf(ctx, s.db.Read(), who.AccountID, who.ActingFor)
	if err != nil {
		return Case{}, err
	}
	now := s.clock.Now()
	form, problems := CheckForm(it, k.apply(it, answers, true), now)
	if len(problems) > 0 {
		return Case{}, &apperr.Error{Code: apperr.Invalid, Message: fmt.Sprintf("申请表有 %d 处需要修改。", len(problems)), Fields: problems}
	}
	mats, err := handedIn(it, files, now)
	if err != nil {
		return Case{}, err
	}
	c := Case{ItemID: it.ID, ItemVersion: it.Version, ApplicantID: who.AccountID, EnterpriseID: who.ActingFor,
		DepartmentID: it.DepartmentID, RegionCode: it.RegionCode, Status: Submitted, Channel: "online", Form: form, Version: 1}
	if err := policy.Check(who, policy.Create, c.Resource()); err != nil {
		return Case{}, err
	}
	body, err := s.open(ctx, &c, it, now)
	if err != nil {
		return Case{}, err
	}
	// Many submissions arrive at once; they share commits (and flushes to
	// disk), each still all-or-nothing on its own.
	err = s.db.TxBatched(ctx, func(tx *store.Tx) error {
		if err := insertCase(ctx, tx, &c, body); err != nil {
			return err
		}
		if err := s.changedFrom(ctx, tx, Case{}, c); err != nil {
			return err
		}
		var staged []staging.File
		for _, f := range files {
			if f.Data != nil {
				staged = append(staged, staging.File{Object: f.Object, Data: f.Data})
			}
		}
		if err := staging.Stage(ctx, tx, now, staged...); err != nil {
			return err
		}
		if err := s.hold(ctx, tx, files); err != nil {
			return err
		}
		if err := insertMaterials(ctx, tx, c.ID, mats, who.AccountID); err != nil {
			return err
		}
		// The record reads as if the steps were taken one by one: created,
		// materials handed in, submitted.
		events := []Event{{At: now, ActorID: who.AccountID, ActorRole: "申请人", Action: Create, To: Draft}}
		if len(mats) > 0 {
			events = append(events, Event{At: now, ActorID: who.AccountID, ActorRole: "申请人", Action: Upload, From: Draft, To: Draft,
				Reason: uploadedText(mats)})
		}
		events = append(events, Event{At: now, ActorID: who.AccountID, ActorRole: "申请人", Action: Submit, From: Draft, To: Submitted})
		// The state is known from what was just written: no read back.
		ch := newChain(c.ID)
		ch.state = stateOf(c, body, mats, nil).digest()
		if err := ch.append(ctx, tx, events...); err != nil {
			return err
		}
		return s.tell(ctx, tx, c, Submit, "", now)
	})
	if err != nil {
		return Case{}, err
	}
	return c, nil
}

// handedIn checks the files handed in with an application of item it —
// each for one of its materials, once — and that every required material
// is there; it returns them as the case's materials, in the item's order.
func handedIn(it catalog.Item, files []Attachment, now time.Time) ([]Material, error) {
	mats := make([]Material, 0, len(files))
	seen := map[int]bool{}
	for _, f := range files {
		if f.Position < 0 || f.Position >= len(it.Materials) {
			return nil, apperr.New(apperr.Invalid, fmt.Sprintf("没有第 %d 项材料。", f.Position+1))
		}
		if seen[f.Position] {
			return nil, apperr.New(apperr.Invalid, "材料「"+it.Materials[f.Position].Name+"」重复提交了。")
		}
		seen[f.Position] = true
		if f.Data != nil && (len(f.Data) > staging.MaxBytes || int64(len(f.Data)) != f.Object.Size) {
			return nil, fmt.Errorf("attachment %d: staged content does not match its description", f.Position)
		}
		mats = append(mats, Material{Position: f.Position, Name: it.Materials[f.Position].Name, SHA256: f.Object.SHA256,
			Size: f.Object.Size, ContentType: f.Object.ContentType, Filename: cleanFilename(f.Filename), UploadedAt: now})
	}
	if missing := missingRequired(it, mats); len(missing) > 0 {
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
