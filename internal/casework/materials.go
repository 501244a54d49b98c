package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// Upload is the event of a material handed in (or reused).
const Upload Action = "upload"

// Material is a file handed in for one of the item's materials.
type Material struct {
	Position    int // index in the item version's materials
	Name        string
	SHA256      string
	Size        int64
	ContentType string
	Filename    string
	ReusedFrom  int64 // the earlier case it was reused from (免提交), or 0
	CaseID      int64
	UploadedAt  time.Time
}

// Attach records a file for material position of a case, replacing an
// earlier one, while the case is a draft or waits for corrections. The
// applicant attaches to their own case; at the counter the window clerk
// scans the papers of a case their department took in, and never
// replaces a file the applicant handed in themselves (policy.Edit and
// mayEdit). reusedFrom names the earlier case of the same applicant whose
// file is reused instead of uploaded again.
func (s *Service) Attach(ctx context.Context, who policy.Subject, caseID int64, expected, position int, obj filestore.Object, filename string, reusedFrom int64) (Case, error) {
	var c Case
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = load(ctx, tx, caseID); err != nil {
			return err
		}
		role, err := mayEdit(who, c)
		if err != nil {
			return err
		}
		if c.Status != Draft && c.Status != Correction {
			return apperr.New(apperr.Conflict, "办件当前为「"+c.Status.Name()+"」，不能再更换材料。")
		}
		if err := current(c, expected); err != nil {
			return err
		}
		if who.Kind == policy.Staff {
			var byApplicant int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM case_materials m JOIN accounts a ON a.id = m.uploaded_by
				WHERE m.case_id = ? AND m.position = ? AND a.kind = 'person'`, c.ID, position).Scan(&byApplicant); err != nil {
				return err
			}
			if byApplicant > 0 {
				return apperr.New(apperr.Forbidden, "这份材料是申请人本人提交的，工作人员不能替换。")
			}
		}
		it, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
		if err != nil {
			return err
		}
		if position < 0 || position >= len(it.Materials) {
			return apperr.New(apperr.Invalid, "没有这项材料。")
		}
		name := it.Materials[position].Name
		if reusedFrom != 0 {
			var n int
			// A file the applicant handed in there, or the result issued to them.
			if err := tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM case_materials m JOIN cases c ON c.id = m.case_id
				WHERE m.case_id = ? AND m.sha256 = ? AND c.applicant_id = ?) + (SELECT COUNT(*) FROM cases
				WHERE id = ? AND result_sha256 = ? AND applicant_id = ? AND status IN ('completed', 'delivered'))`,
				reusedFrom, obj.SHA256, c.ApplicantID, reusedFrom, obj.SHA256, c.ApplicantID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				// Or what another part offers them (an e-licence).
				offers, err := s.offered(ctx, tx, c.ApplicantID, c.EnterpriseID, name, reusedFrom)
				if err != nil {
					return err
				}
				if !slices.ContainsFunc(offers, func(m Material) bool { return m.SHA256 == obj.SHA256 }) {
					return apperr.New(apperr.NotFound, "没有找到可以复用的材料。")
				}
			}
		}
		if c.Status == Draft && s.maxPending > 0 {
			// Files on drafts wait for a submission that may never come:
			// an applicant keeps at most maxPending bytes of them.
			var pending int64
			if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(m.size), 0) FROM case_materials m JOIN cases c ON c.id = m.case_id
				WHERE c.applicant_id = ? AND c.status = ? AND NOT (m.case_id = ? AND m.position = ?)`,
				c.ApplicantID, Draft, c.ID, position).Scan(&pending); err != nil {
				return err
			}
			if pending+obj.Size > s.maxPending {
				return apperr.New(apperr.TooLarge, fmt.Sprintf("草稿中待提交的材料已达 %d MB 的上限：请先提交或删除草稿中的材料，再上传。", s.maxPending>>20))
			}
		}
		if s.files != nil {
			if err := s.files.Hold(ctx, tx, obj.SHA256); err != nil {
				return err
			}
		}
		now := s.clock.Now()
		if _, err := tx.Exec(ctx, `DELETE FROM case_materials WHERE case_id = ? AND position = ?`, c.ID, position); err != nil {
			return err
		}
		var reused any
		if reusedFrom != 0 {
			reused = reusedFrom
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_materials (case_id, position, name, sha256, size, content_type, filename, reused_from, uploaded_by, uploaded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, position, name, obj.SHA256, obj.Size, obj.ContentType, cleanFilename(filename), reused, who.AccountID, now); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE cases SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, now, c.ID, expected)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errChanged
		}
		c.Version, c.UpdatedAt = expected+1, now
		how := "上传"
		if reusedFrom != 0 {
			how = "复用已有材料（免提交）"
		}
		return appendEvent(ctx, tx, c.ID, Event{At: now, ActorID: who.AccountID, ActorRole: role, Action: Upload,
			From: c.Status, To: c.Status, Reason: fmt.Sprintf("%s：%s（%s）", how, name, cleanFilename(filename))})
	})
	return c, err
}

// cleanFilename keeps a file's name short and free of paths.
func cleanFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if r := []rune(name); len(r) > 100 {
		name = string(r[len(r)-100:])
	}
	if name == "" {
		name = "材料"
	}
	return name
}

// Materials lists the files of a case by position.
func Materials(ctx context.Context, q store.Querier, caseID int64) ([]Material, error) {
	rows, err := q.Query(ctx, `SELECT position, name, sha256, size, content_type, filename, COALESCE(reused_from, 0), case_id, uploaded_at
		FROM case_materials WHERE case_id = ? ORDER BY position`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Material
	for rows.Next() {
		var m Material
		if err := rows.Scan(&m.Position, &m.Name, &m.SHA256, &m.Size, &m.ContentType, &m.Filename, &m.ReusedFrom, &m.CaseID, &m.UploadedAt); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ResultPosition stands, in Reusable and MaterialOf, for a case's result
// (a licence, an approval) rather than one of its materials.
const ResultPosition = -1

// OfferedPosition stands, in Reusable and MaterialOf, for what another
// part of the platform holds for the applicant from an earlier case (an
// e-licence, internal/licence), offered through OnOffers.
const OfferedPosition = -2

// OffersFunc lists, in q, what another part of the platform offers
// instead of an upload (免提交) to applicant (acting for enterprise, or
// 0): files in the file store, each with the case it came from
// (Material.CaseID) and Position OfferedPosition. name is the material's
// name ("": any); fromCase, when not 0, keeps only what came from that
// case.
type OffersFunc func(ctx context.Context, q store.Querier, applicant, enterprise int64, name string, fromCase int64) ([]Material, error)

// OnOffers sets the hook that adds other parts' files to 免提交; the
// application wires it to the e-licences, which casework does not import.
func (s *Service) OnOffers(fn OffersFunc) { s.offers = fn }

// offered lists the hook's offers, none without a hook.
func (s *Service) offered(ctx context.Context, q store.Querier, applicant, enterprise int64, name string, fromCase int64) ([]Material, error) {
	if s.offers == nil {
		return nil, nil
	}
	return s.offers(ctx, q, applicant, enterprise, name, fromCase)
}

// Reusable lists what 免提交 offers instead of an upload for a material:
// files the applicant handed in for a material of the same name in other
// cases, and results departments here issued to them (a licence whose
// item's result name is like the material's: 营业执照 for 营业执照副本 …),
// newest first.
func (s *Service) Reusable(ctx context.Context, who policy.Subject, caseID int64, name string) ([]Material, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT m.position, m.name, m.sha256, m.size, m.content_type, m.filename, COALESCE(m.reused_from, 0), m.case_id, m.uploaded_at
		FROM case_materials m JOIN cases c ON c.id = m.case_id
		WHERE c.applicant_id = ? AND m.name = ? AND m.case_id <> ? ORDER BY m.uploaded_at DESC LIMIT 5`, who.AccountID, name, caseID)
	if err != nil {
		return nil, err
	}
	var out []Material
	seen := map[string]bool{}
	for rows.Next() {
		var m Material
		if err := rows.Scan(&m.Position, &m.Name, &m.SHA256, &m.Size, &m.ContentType, &m.Filename, &m.ReusedFrom, &m.CaseID, &m.UploadedAt); err != nil {
			rows.Close()
			return nil, err
		}
		if !seen[m.SHA256] {
			seen[m.SHA256] = true
			out = append(out, m)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	results, err := s.db.Read().Query(ctx, `SELECT id, item_id, item_version, result_sha256, result_name, result_type, updated_at FROM cases
		WHERE applicant_id = ? AND status IN ('completed', 'delivered') AND result_sha256 <> '' AND id <> ? ORDER BY updated_at DESC LIMIT 20`,
		who.AccountID, caseID)
	if err != nil {
		return nil, err
	}
	var issued []Case
	for results.Next() {
		var c Case
		if err := results.Scan(&c.ID, &c.ItemID, &c.ItemVersion, &c.ResultSHA256, &c.ResultName, &c.ResultType, &c.UpdatedAt); err != nil {
			results.Close()
			return nil, err
		}
		issued = append(issued, c)
	}
	results.Close()
	if err := results.Err(); err != nil {
		return nil, err
	}
	for _, c := range issued {
		m, err := s.resultMaterial(ctx, c)
		if err != nil {
			return nil, err
		}
		// Matched by what the result is (the item's 审批结果名称), not by
		// what the clerk's scanner called the file.
		base := strings.TrimSuffix(m.Filename, filepath.Ext(m.Filename))
		if !seen[m.SHA256] && base != "" && (strings.Contains(name, base) || strings.Contains(base, name)) {
			seen[m.SHA256] = true
			m.Name = name
			out = append(out, m)
		}
	}
	// What other parts hold for them under this name (e-licences).
	offers, err := s.offered(ctx, s.db.Read(), who.AccountID, who.ActingFor, name, 0)
	if err != nil {
		return nil, err
	}
	for _, m := range offers {
		if !seen[m.SHA256] {
			seen[m.SHA256] = true
			out = append(out, m)
		}
	}
	return out, nil
}

// resultMaterial is a completed case's result as a material: named by
// its item's 审批结果名称 (营业执照.pdf, the file's own extension kept),
// or by the uploaded file's name when the item names no result.
func (s *Service) resultMaterial(ctx context.Context, c Case) (Material, error) {
	it, err := s.catalog.Version(ctx, c.ItemID, c.ItemVersion)
	if err != nil {
		return Material{}, err
	}
	filename := c.ResultName
	if n := strings.TrimSpace(it.Result.Name); n != "" {
		filename = n + filepath.Ext(c.ResultName)
	}
	return Material{Position: ResultPosition, Name: filename, SHA256: c.ResultSHA256, ContentType: c.ResultType,
		Filename: filename, CaseID: c.ID, UploadedAt: c.UpdatedAt}, nil
}

// MaterialOf returns one material of a case to someone allowed to see it.
func (s *Service) MaterialOf(ctx context.Context, who policy.Subject, caseID int64, position int) (Material, error) {
	c, err := load(ctx, s.db.Read(), caseID)
	if err != nil {
		return Material{}, err
	}
	if err := policy.Check(who, policy.View, c.Resource()); err != nil {
		return Material{}, err
	}
	if position == ResultPosition {
		if c.ResultSHA256 == "" || c.Status != Completed && c.Status != Delivered {
			return Material{}, apperr.New(apperr.NotFound, "该办件没有办理结果。")
		}
		return s.resultMaterial(ctx, c)
	}
	if position == OfferedPosition {
		offers, err := s.offered(ctx, s.db.Read(), c.ApplicantID, c.EnterpriseID, "", c.ID)
		if err != nil {
			return Material{}, err
		}
		if len(offers) == 0 {
			return Material{}, apperr.New(apperr.NotFound, "没有这份材料。")
		}
		return offers[0], nil
	}
	var m Material
	err = s.db.Read().QueryRow(ctx, `SELECT position, name, sha256, size, content_type, filename, COALESCE(reused_from, 0), case_id, uploaded_at
		FROM case_materials WHERE case_id = ? AND position = ?`, caseID, position).
		Scan(&m.Position, &m.Name, &m.SHA256, &m.Size, &m.ContentType, &m.Filename, &m.ReusedFrom, &m.CaseID, &m.UploadedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return m, apperr.New(apperr.NotFound, "没有这份材料。")
	}
	return m, err
}

// MaterialsOf lists the files handed in for a case, to someone allowed to
// see the case.
func (s *Service) MaterialsOf(ctx context.Context, who policy.Subject, caseID int64) ([]Material, error) {
	c, err := load(ctx, s.db.Read(), caseID)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(who, policy.View, c.Resource()); err != nil {
		return nil, err
	}
	return Materials(ctx, s.db.Read(), caseID)
}

// missingRequired names the 必需 materials of it that mats lack; 容缺 and
// 非必需 ones may follow later. A prerequisite's result will fill the
// material at position later (-1: none).
func missingRequired(it catalog.Item, mats []Material, later int) []string {
	have := map[int]bool{later: true}
	for _, m := range mats {
		have[m.Position] = true
	}
	var missing []string
	for i, m := range it.Materials {
		if m.Necessity == "必需" && !have[i] {
			missing = append(missing, m.Name)
		}
	}
	return missing
}
