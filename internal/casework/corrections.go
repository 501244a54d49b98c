package casework

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// CorrectionRequest is the latest 补正材料通知书 of a case as its pages show
// it: why, by when, and the materials it names.
type CorrectionRequest struct {
	AskedAt   time.Time
	Due       calendar.Date
	Reason    string
	Materials []int // positions in the case's item version
	// The SHA-256 of each named material when it was asked for ("" if
	// none was attached): a file counts as corrected when it differs.
	was map[int]string
}

// Names reports whether the request names the material at position.
func (r CorrectionRequest) Names(position int) bool { return slices.Contains(r.Materials, position) }

// Corrected reports whether the named material at position, now the file
// with that SHA-256, has been handed in anew since the request.
func (r CorrectionRequest) Corrected(position int, sha256 string) bool {
	return r.Names(position) && sha256 != "" && sha256 != r.was[position]
}

// named is a named material as case_corrections keeps it.
type named struct {
	Position int    `json:"position"`
	SHA256   string `json:"sha256"`
}

// namedMaterials checks the materials a correction notice names: at least
// one, each a material of the item version, none twice. Answers to the
// form are fixed at submission, so what is corrected is materials; a
// wrong answer is explained in the reason and corrected by a new paper.
func namedMaterials(it catalog.Item, named []int) error {
	if len(named) == 0 {
		return apperr.New(apperr.Invalid, "请勾选需要补正的材料（一次性告知：需补正的材料须全部列明）。")
	}
	for i, p := range named {
		if p < 0 || p >= len(it.Materials) || slices.Contains(named[:i], p) {
			return apperr.New(apperr.Invalid, "勾选的补正材料不在本事项的材料清单中，请刷新页面后重试。")
		}
	}
	return nil
}

// recordCorrection keeps what the notice of the correction asked at now
// names, for the applicant's page and for corrected.
func (s *Service) recordCorrection(ctx context.Context, tx *store.Tx, caseID int64, reason string, positions []int, now time.Time) error {
	mats, err := Materials(ctx, tx, caseID)
	if err != nil {
		return err
	}
	var list []named
	for _, p := range positions {
		n := named{Position: p}
		for _, m := range mats {
			if m.Position == p {
				n.SHA256 = m.SHA256
			}
		}
		list = append(list, n)
	}
	slices.SortFunc(list, func(a, b named) int { return a.Position - b.Position })
	text, err := json.Marshal(list)
	if err != nil {
		return err
	}
	due := s.calendar.AddWorkdays(calendar.DateOf(now), CorrectionDays)
	_, err = tx.Exec(ctx, `INSERT INTO case_corrections (case_id, asked_at, due_on, reason, materials) VALUES (?, ?, ?, ?, ?)`,
		caseID, now, due.String(), reason, string(text))
	return err
}

// lastCorrection reads the latest correction request of a case, or false
// if none was recorded.
func lastCorrection(ctx context.Context, q store.Querier, caseID int64) (CorrectionRequest, bool, error) {
	var r CorrectionRequest
	var due, list string
	err := q.QueryRow(ctx, `SELECT asked_at, due_on, reason, materials FROM case_corrections WHERE case_id = ? ORDER BY id DESC LIMIT 1`,
		caseID).Scan(&r.AskedAt, &due, &r.Reason, &list)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("correction request: %w", err)
	}
	if r.Due, err = calendar.ParseDate(due); err != nil {
		return r, false, err
	}
	var ns []named
	if err := json.Unmarshal([]byte(list), &ns); err != nil {
		return r, false, fmt.Errorf("correction request: %w", err)
	}
	r.was = map[int]string{}
	for _, n := range ns {
		r.Materials = append(r.Materials, n.Position)
		r.was[n.Position] = n.SHA256
	}
	return r, true, nil
}

// Correction is the request a case waiting for corrections answers, for
// who may see the case; false when it waits for none.
func (s *Service) Correction(ctx context.Context, who policy.Subject, c Case) (CorrectionRequest, bool, error) {
	if err := policy.Check(who, policy.View, c.Resource()); err != nil {
		return CorrectionRequest{}, false, err
	}
	if c.Status != Correction {
		return CorrectionRequest{}, false, nil
	}
	return lastCorrection(ctx, s.db.Read(), c.ID)
}

// corrected refuses a resubmission that answers nothing of the request:
// at least one material it names must be a different file than when it
// was asked for. Handing in the same file again changes nothing.
func corrected(ctx context.Context, q store.Querier, it catalog.Item, caseID int64) error {
	r, ok, err := lastCorrection(ctx, q, caseID)
	if err != nil || !ok {
		return err
	}
	mats, err := Materials(ctx, q, caseID)
	if err != nil {
		return err
	}
	for _, m := range mats {
		if r.Corrected(m.Position, m.SHA256) {
			return nil
		}
	}
	var names []string
	for _, p := range r.Materials {
		if p < len(it.Materials) {
			names = append(names, "「"+it.Materials[p].Name+"」")
		}
	}
	return apperr.New(apperr.Invalid, "补正通知要求的材料还没有重新提交："+strings.Join(names, "、")+"。请先上传补正后的材料，再提交补正。")
}
