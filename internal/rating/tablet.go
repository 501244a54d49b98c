package rating

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// The counter tablet (一次一评). A window clerk pairs the tablet that faces
// the public at their window once, from their workbench: the tablet gets a
// link holding a random token (the database keeps its SHA-256), so nobody
// signs in on it and it opens nothing but its own rating page. It then
// shows the clerk's latest visit (recorded by the counter's intake, a
// visit or a fetched result) for VisitWindow, to be rated once by the
// visitor with large buttons. Pairing again, or disabling the clerk's
// account, ends the old link.

// VisitWindow is how long after a visit the tablet offers it for rating.
const VisitWindow = 30 * time.Minute

// Tablet is a paired tablet as its page shows it.
type Tablet struct {
	StaffName      string
	DepartmentName string
	Visit          Subject // the visit to rate; ID 0: none waiting
	VisitAt        time.Time
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// PairTablet makes the link of who's window tablet, ending any earlier
// one. Only a window clerk may: the tablet records ratings in their name.
func (s *Service) PairTablet(ctx context.Context, who policy.Subject, meta audit.Meta) (string, error) {
	if err := policy.Check(who, policy.Create, policy.Resource{Kind: policy.Rating, DepartmentID: who.DepartmentID, RegionCode: who.RegionCode}); err != nil {
		return "", err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.clock.Now()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE rating_tablets SET revoked_at = ? WHERE staff_id = ? AND revoked_at IS NULL`, now, who.AccountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO rating_tablets (token_hash, staff_id, created_at) VALUES (?, ?, ?)`, tokenHash(token), who.AccountID, now); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: "rating_tablet",
			Object: fmt.Sprintf("account:%d", who.AccountID), Detail: "配对窗口评价器（此前的配对失效）", IP: meta.IP, RegionCode: who.RegionCode})
	})
	return token, err
}

var errTablet = apperr.New(apperr.NotFound, "评价器链接无效或已失效，请窗口工作人员在工作台重新配对。")

// tabletClerk is the clerk a tablet's token stands for, as the policy
// sees them.
func (s *Service) tabletClerk(ctx context.Context, q store.Querier, token string) (policy.Subject, string, error) {
	var who policy.Subject
	var dept string
	err := q.QueryRow(ctx, `SELECT a.id, a.name, a.department_id, d.kind, d.region_code, d.name FROM rating_tablets t
		JOIN accounts a ON a.id = t.staff_id JOIN departments d ON d.id = a.department_id
		WHERE t.token_hash = ? AND t.revoked_at IS NULL AND a.disabled = ?`, tokenHash(token), false).
		Scan(&who.AccountID, &who.Name, &who.DepartmentID, &who.DepartmentKind, &who.RegionCode, &dept)
	if errors.Is(err, sql.ErrNoRows) {
		return who, "", errTablet
	}
	if err != nil {
		return who, "", err
	}
	who.Kind = policy.Staff
	rows, err := q.Query(ctx, `SELECT role FROM staff_roles WHERE account_id = ?`, who.AccountID)
	if err != nil {
		return who, "", err
	}
	defer rows.Close()
	for rows.Next() {
		var r policy.Role
		if err := rows.Scan(&r); err != nil {
			return who, "", err
		}
		who.Roles = append(who.Roles, r)
	}
	if err := rows.Err(); err != nil {
		return who, "", err
	}
	// A clerk who is no longer a window clerk has no tablet.
	if policy.Check(who, policy.Create, policy.Resource{Kind: policy.Rating, DepartmentID: who.DepartmentID, RegionCode: who.RegionCode}) != nil {
		return who, "", errTablet
	}
	return who, dept, nil
}

// TabletPage is what the tablet shows: its clerk and the visit waiting for
// a rating, if any (the latest of the clerk's, within VisitWindow, not yet
// rated).
func (s *Service) TabletPage(ctx context.Context, token string) (Tablet, error) {
	who, dept, err := s.tabletClerk(ctx, s.db.Read(), token)
	if err != nil {
		return Tablet{}, err
	}
	t := Tablet{StaffName: who.Name, DepartmentName: dept}
	var id int64
	err = s.db.Read().QueryRow(ctx, `SELECT v.id, v.at FROM case_visits v WHERE v.staff_id = ? AND v.at >= ?
		AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.subject_kind = 'visit' AND r.subject_id = v.id)
		ORDER BY v.at DESC, v.id DESC LIMIT 1`, who.AccountID, s.clock.Now().Add(-VisitWindow)).Scan(&id, &t.VisitAt)
	if errors.Is(err, sql.ErrNoRows) {
		return t, nil
	}
	if err != nil {
		return t, err
	}
	t.Visit, err = s.visitSubject(ctx, s.db.Read(), id)
	return t, err
}

// visitSubject is a visit to a window as a subject: rated on the on-site
// dimensions, for the person whose case it was.
func (s *Service) visitSubject(ctx context.Context, q store.Querier, id int64) (Subject, error) {
	subj := Subject{Kind: OfVisit, ID: id, Scene: Onsite}
	var version int
	err := q.QueryRow(ctx, `SELECT v.staff_id, c.id, c.number, c.item_id, c.item_version, c.department_id, c.region_code, c.applicant_id,
		COALESCE(c.enterprise_id, 0) FROM case_visits v JOIN cases c ON c.id = v.case_id WHERE v.id = ?`, id).
		Scan(&subj.StaffID, &subj.CaseID, &subj.Number, &subj.ItemID, &version, &subj.DepartmentID, &subj.RegionCode, &subj.PersonID, &subj.EnterpriseID)
	if errors.Is(err, sql.ErrNoRows) {
		return subj, apperr.New(apperr.NotFound, "没有找到这次窗口服务。")
	}
	if err != nil {
		return subj, err
	}
	it, err := s.catalog.Version(ctx, subj.ItemID, version)
	if err != nil {
		return subj, err
	}
	subj.Title = it.Name
	return subj, nil
}

// RateVisit records the rating given on the tablet of token for one of
// its clerk's visits within VisitWindow: once per visit, in the name of
// the visit's applicant (whom a 差评's call-back reaches).
func (s *Service) RateVisit(ctx context.Context, meta audit.Meta, token string, visitID int64, in Input) (Rating, error) {
	in.Channel = ByTablet
	var r Rating
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		who, _, err := s.tabletClerk(ctx, tx, token)
		if err != nil {
			return err
		}
		subj, err := s.visitSubject(ctx, tx, visitID)
		if err != nil {
			return err
		}
		var at time.Time
		if err := tx.QueryRow(ctx, `SELECT at FROM case_visits WHERE id = ?`, visitID).Scan(&at); err != nil {
			return err
		}
		if subj.StaffID != who.AccountID || at.Before(s.clock.Now().Add(-VisitWindow)) {
			return apperr.New(apperr.Conflict, "这次窗口服务已不能在本评价器上评价。")
		}
		if err := policy.Check(who, policy.Create, subj.Resource()); err != nil {
			return err
		}
		// The audit entry names the tablet, not the clerk, as who rated.
		who.Name = "窗口评价器（" + who.Name + "）"
		r, err = s.record(ctx, tx, who, meta, subj, in)
		return err
	})
	return r, err
}
