package casework

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/store"
)

// stateDigest is the SHA-256 of what a case is: the columns of its row
// that only a step changes, and the (id, SHA-256) of its materials and of
// its notices' bodies. Every event commits to the state after it, so an
// edit of the row, a swapped material or a rewritten 决定书 shows when
// Verify compares the current state with the last event's.
//
// Left out, because they change without a step: version and updated_at
// (bookkeeping of every write), warned_for and overdue_for (the deadline
// check's memory), created_at and submitted_at (told by the events). A
// draft's form answers are the applicant's working copy and are left out
// while the case is a draft; submission commits them.
func stateDigest(ctx context.Context, q store.Querier, caseID int64) (string, error) {
	var cols [20]string
	err := q.QueryRow(ctx, `SELECT number, item_id, item_version, applicant_id, COALESCE(enterprise_id, 0), department_id, region_code,
		status, channel, form_data, corrections, accepted_on, due_on, paused_on, result_sha256, result_name, result_type, decision,
		delivery, transfers FROM cases WHERE id = ?`, caseID).Scan(&cols[0], &cols[1], &cols[2], &cols[3], &cols[4], &cols[5],
		&cols[6], &cols[7], &cols[8], &cols[9], &cols[10], &cols[11], &cols[12], &cols[13], &cols[14], &cols[15], &cols[16], &cols[17], &cols[18], &cols[19])
	if err != nil {
		return "", fmt.Errorf("case state: %w", err)
	}
	if Status(cols[7]) == Draft {
		cols[9] = ""
	}
	h := sha256.New()
	for _, c := range cols {
		h.Write([]byte(c))
		h.Write([]byte{0})
	}
	rows, err := q.Query(ctx, `SELECT 'm', id, position, sha256 FROM case_materials WHERE case_id = ?
		UNION ALL SELECT 'd', id, 0, body FROM case_documents WHERE case_id = ? ORDER BY 1, 2`, caseID, caseID)
	if err != nil {
		return "", fmt.Errorf("case state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, value string
		var id int64
		var position int
		if err := rows.Scan(&kind, &id, &position, &value); err != nil {
			return "", err
		}
		if kind == "d" {
			sum := sha256.Sum256([]byte(value))
			value = hex.EncodeToString(sum[:])
		}
		for _, part := range []string{kind, strconv.FormatInt(id, 10), strconv.Itoa(position), value} {
			h.Write([]byte(part))
			h.Write([]byte{0})
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Heads are the ends of every case's chain, by 办件编号, for a checkpoint.
func Heads(ctx context.Context, q store.Querier) (map[string]audit.ChainHead, error) {
	rows, err := q.Query(ctx, `SELECT c.number, e.seq, e.hash FROM cases c JOIN case_events e ON e.case_id = c.id
		WHERE e.seq = (SELECT MAX(seq) FROM case_events WHERE case_id = c.id)`)
	if err != nil {
		return nil, fmt.Errorf("case heads: %w", err)
	}
	defer rows.Close()
	heads := map[string]audit.ChainHead{}
	for rows.Next() {
		var number string
		var h audit.ChainHead
		if err := rows.Scan(&number, &h.Count, &h.Hash); err != nil {
			return nil, err
		}
		heads[number] = h
	}
	return heads, rows.Err()
}
