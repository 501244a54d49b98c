package casework

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Actions of parts that wait for another part's result (一件事一次办):
// taken by the platform, never offered to anyone.
const (
	Wait    Action = "wait"    // the part is set to wait at its creation
	Release Action = "release" // its prerequisite completed: the result fills its material, it is submitted
	Close   Action = "close"   // its prerequisite ended without a result: it ends too
)

// Part is one item of an application of several made at once (a bundle,
// internal/bundle): its own case in its own department.
type Part struct {
	ItemID      int64
	ItemVersion int // the version the caller showed; a newer one is refused (0: any)
	Answers     map[string]string
	Files       []Attachment // the same file may be handed to several parts: it is stored once
	// WaitsFor is the index of an earlier part whose result this one needs
	// (-1: none). It waits (Waiting) until that part completes; the result
	// then fills its material at WaitsPosition (免提交) and it is submitted.
	WaitsFor      int
	WaitsPosition int
}

// PartField names field key of part i in the Fields of ApplyParts' error.
func PartField(i int, key string) string { return fmt.Sprintf("%d/%s", i, key) }

// ApplyParts applies for several items at once, in one transaction: a
// case per part, each numbered, recorded and counted exactly as Apply's
// (submitted at once, or waiting for its prerequisite), and then within,
// in the same transaction, with the cases made (the caller's own rows:
// the bundle's). Nothing is written unless every part is acceptable; a
// part's form problems come back as the error's Fields, keyed PartField.
func (s *Service) ApplyParts(ctx context.Context, who policy.Subject, parts []Part, within func(ctx context.Context, tx *store.Tx, cases []Case) error) ([]Case, error) {
	if len(parts) == 0 {
		return nil, apperr.New(apperr.Invalid, "没有要申请的事项。")
	}
	now := s.clock.Now()
	apps := make([]application, len(parts))
	problems := map[string]string{}
	var files []Attachment
	for i, p := range parts {
		if p.WaitsFor >= i || p.WaitsFor < -1 {
			return nil, fmt.Errorf("part %d waits for part %d: a prerequisite comes before its dependant", i, p.WaitsFor)
		}
		pos := -1
		if p.WaitsFor >= 0 {
			pos = p.WaitsPosition
		}
		app, err := s.prepare(ctx, who, p.ItemID, p.Answers, p.Files, pos, now)
		if err == nil && p.ItemVersion != 0 && app.c.ItemVersion != p.ItemVersion {
			err = apperr.New(apperr.Conflict, "事项「"+app.it.Name+"」的办事指南刚刚更新，请刷新页面，按最新要求重新提交。")
		}
		var ae *apperr.Error
		if errors.As(err, &ae) && len(ae.Fields) > 0 {
			for k, v := range ae.Fields {
				problems[PartField(i, k)] = v
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		apps[i] = app
		files = append(files, p.Files...)
	}
	if len(problems) > 0 {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: fmt.Sprintf("申请表有 %d 处需要修改。", len(problems)), Fields: problems}
	}
	cases := make([]Case, len(parts))
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.keep(ctx, tx, now, files); err != nil {
			return err
		}
		for i := range apps {
			if err := s.write(ctx, tx, who, &apps[i], now); err != nil {
				return err
			}
			cases[i] = apps[i].c
			if w := parts[i].WaitsFor; w >= 0 {
				if _, err := tx.Exec(ctx, `INSERT INTO case_waits (case_id, waits_for, position) VALUES (?, ?, ?)`,
					cases[i].ID, cases[w].ID, parts[i].WaitsPosition); err != nil {
					return err
				}
			}
		}
		if within == nil {
			return nil
		}
		return within(ctx, tx, cases)
	})
	if err != nil {
		return nil, err
	}
	return cases, nil
}

// settleWaiting is called, in the step's transaction, when case c has
// ended (completed, refused or withdrawn) by step st: each case waiting
// for it is released — the result (result, as the step stored it) fills
// its material, reused from c (免提交), and it is submitted — when c
// completed with a result, and closed otherwise, which ends in turn the
// cases waiting for that one. The platform takes these steps (no actor):
// they follow from c's step, whoever took it.
func (s *Service) settleWaiting(ctx context.Context, tx *store.Tx, c Case, result filestore.Object, now time.Time) error {
	rows, err := tx.Query(ctx, `SELECT w.case_id, w.position FROM case_waits w JOIN cases c ON c.id = w.case_id
		WHERE w.waits_for = ? AND c.status = ?`, c.ID, Waiting)
	if err != nil {
		return err
	}
	type waiting struct {
		id       int64
		position int
	}
	var ws []waiting
	for rows.Next() {
		var w waiting
		if err := rows.Scan(&w.id, &w.position); err != nil {
			rows.Close()
			return err
		}
		ws = append(ws, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ws) == 0 {
		return nil
	}
	prereq, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
	if err != nil {
		return err
	}
	completed := (c.Status == Completed || c.Status == Delivered) && c.Decision != Denied && c.ResultSHA256 != ""
	for _, w := range ws {
		d, err := load(ctx, tx, w.id)
		if err != nil {
			return err
		}
		before := d
		if completed {
			err = s.release(ctx, tx, &d, c, result, w.position, now)
		} else {
			err = s.close(ctx, tx, &d, prereq.Name, c.Status, c.Decision, now)
		}
		if err != nil {
			return err
		}
		if err := s.changedFrom(ctx, tx, before, d); err != nil {
			return err
		}
	}
	return nil
}

// release fills material position of the waiting case d with the result
// of its prerequisite c and submits d.
func (s *Service) release(ctx context.Context, tx *store.Tx, d *Case, c Case, result filestore.Object, position int, now time.Time) error {
	it, err := s.catalog.Version(ctx, d.ItemID, d.ItemVersion)
	if err != nil {
		return err
	}
	if position < 0 || position >= len(it.Materials) {
		return fmt.Errorf("case %d waits to fill material %d, which its item lacks", d.ID, position)
	}
	m, err := s.resultMaterial(ctx, c)
	if err != nil {
		return err
	}
	name := it.Materials[position].Name
	if _, err := tx.Exec(ctx, `DELETE FROM case_materials WHERE case_id = ? AND position = ?`, d.ID, position); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO case_materials (case_id, position, name, sha256, size, content_type, filename, reused_from, uploaded_by, uploaded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, position, name, c.ResultSHA256, result.Size, c.ResultType, m.Filename, c.ID, d.ApplicantID, now); err != nil {
		return err
	}
	if err := s.moveWaiting(ctx, tx, d, Submitted, now); err != nil {
		return err
	}
	if err := appendEvent(ctx, tx, d.ID, Event{At: now, ActorRole: "系统", Action: Upload, From: Waiting, To: Waiting,
		Reason: fmt.Sprintf("复用已有材料（免提交）：%s（%s，办件 %s 的办理结果）", name, m.Filename, c.Number)}); err != nil {
		return err
	}
	if err := appendEvent(ctx, tx, d.ID, Event{At: now, ActorRole: "系统", Action: Release, From: Waiting, To: Submitted,
		Reason: "前置事项（办件 " + c.Number + "）已办结，本申请自动提交"}); err != nil {
		return err
	}
	return s.tell(ctx, tx, *d, Release, "", now)
}

// close ends the waiting case d, whose prerequisite (an item named item)
// ended in status st with decision without a result, and the cases
// waiting for d.
func (s *Service) close(ctx context.Context, tx *store.Tx, d *Case, item string, st Status, decision string, now time.Time) error {
	why := st.Name()
	if decision == Denied {
		why = "决定不予许可"
	}
	reason := fmt.Sprintf("前置事项「%s」%s，本事项无法办理，已终止", item, why)
	if err := s.moveWaiting(ctx, tx, d, Closed, now); err != nil {
		return err
	}
	if err := appendEvent(ctx, tx, d.ID, Event{At: now, ActorRole: "系统", Action: Close, From: Waiting, To: Closed, Reason: reason}); err != nil {
		return err
	}
	if err := s.tell(ctx, tx, *d, Close, reason, now); err != nil {
		return err
	}
	return s.settleWaiting(ctx, tx, *d, filestore.Object{}, now)
}

// moveWaiting moves the waiting case d to status to.
func (s *Service) moveWaiting(ctx context.Context, tx *store.Tx, d *Case, to Status, now time.Time) error {
	res, err := tx.Exec(ctx, `UPDATE cases SET status = ?, version = version + 1, updated_at = ?,
		submitted_at = CASE WHEN ? THEN ? ELSE submitted_at END WHERE id = ? AND version = ? AND status = ?`,
		to, now, to == Submitted, now, d.ID, d.Version, Waiting)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errChanged
	}
	d.Status, d.Version, d.UpdatedAt = to, d.Version+1, now
	return nil
}
