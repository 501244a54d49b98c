package casework

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/store"
)

// caseState is what a case is, for its events to commit to: the columns
// of its row that only a step changes, its materials' (position, SHA-256)
// and its notices' (number, SHA-256 of the body).
//
// Left out, because they change without a step: version and updated_at
// (bookkeeping of every write), warned_for and overdue_for (the deadline
// check's memory), created_at and submitted_at (told by the events). A
// draft's form answers are the applicant's working copy and are left out
// while the case is a draft; submission commits them.
type caseState struct {
	cols  [20]string
	files [][2]string // "m"+position or "d"+number, then the hash
}

// digest is the SHA-256 of the state; every event stores and signs it, so
// an edit of the row, a swapped material or a rewritten 决定书 shows when
// Verify compares the current state with the last event's.
func (st caseState) digest() string {
	d, _ := stateSum(&st.cols, st.files, nil)
	return d
}

// stateSum is the digest of a state's columns and files (sorted here, in
// place), hashed in one call from buf (grown as needed and returned for
// reuse): the columns, then each file's name and hash, each followed by a
// NUL byte.
func stateSum(cols *[20]string, files [][2]string, buf []byte) (string, []byte) {
	draft := Status(cols[7]) == Draft
	slices.SortFunc(files, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	n := len(cols) + 2*len(files)
	for _, c := range cols {
		n += len(c)
	}
	for _, f := range files {
		n += len(f[0]) + len(f[1])
	}
	buf = slices.Grow(buf[:0], n)
	for i, c := range cols {
		if i != 9 || !draft {
			buf = append(buf, c...)
		}
		buf = append(buf, 0)
	}
	for _, f := range files {
		buf = append(buf, f[0]...)
		buf = append(buf, 0)
		buf = append(buf, f[1]...)
		buf = append(buf, 0)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:]), buf
}

// stateOf is the state of case c with form_data form, its materials and
// notices, from values in hand (Apply's just written, a generator's).
func stateOf(c Case, form string, mats []Material, docs []Document) caseState {
	st := caseState{cols: stateCols(c, form)}
	for _, m := range mats {
		st.files = append(st.files, materialFile(m))
	}
	for _, d := range docs {
		st.addFile("d", 0, d.Number, d.Body)
	}
	return st
}

// stateCols are the columns of caseState.cols of case c with form_data
// form.
func stateCols(c Case, form string) [20]string {
	return [20]string{c.Number, strconv.FormatInt(c.ItemID, 10), strconv.Itoa(c.ItemVersion), strconv.FormatInt(c.ApplicantID, 10),
		strconv.FormatInt(c.EnterpriseID, 10), strconv.FormatInt(c.DepartmentID, 10), c.RegionCode, string(c.Status), c.Channel, form,
		strconv.Itoa(c.Corrections), dateText(c.AcceptedOn), dateText(c.DueOn), dateText(c.PausedOn), c.ResultSHA256, c.ResultName,
		c.ResultType, c.Decision, c.Delivery, strconv.Itoa(c.Transfers)}
}

func materialFile(m Material) [2]string { return [2]string{"m" + strconv.Itoa(m.Position), m.SHA256} }

// StateHasher gives the digests of one case's successive states, as
// StateDigest would, for writing cases in bulk: a notice's body is hashed
// once, when the notice is added, not again for every later event, and
// one buffer serves every digest. The zero value is a case without
// materials or notices; Reset starts the next case.
type StateHasher struct {
	st  caseState
	buf []byte
}

// Reset forgets the materials and notices added.
func (h *StateHasher) Reset() { h.st.files = h.st.files[:0] }

// AddMaterial adds a material the case holds from now on.
func (h *StateHasher) AddMaterial(m Material) { h.st.files = append(h.st.files, materialFile(m)) }

// AddDocument adds a notice issued on the case.
func (h *StateHasher) AddDocument(d Document) { h.st.addFile("d", 0, d.Number, d.Body) }

// Digest is StateDigest(c, form, the materials and notices added).
func (h *StateHasher) Digest(c Case, form string) string {
	h.st.cols = stateCols(c, form)
	d, buf := stateSum(&h.st.cols, h.st.files, h.buf)
	h.buf = buf
	return d
}

// StateDigest is the state an event of case c commits to, c's row holding
// form_data form, with its materials and notices: for writing cases in
// bulk (internal/generate), whose last event must commit to what the
// rows hold for the chain to verify.
func StateDigest(c Case, form string, mats []Material, docs []Document) string {
	return stateOf(c, form, mats, docs).digest()
}

// stateColumns are the columns of caseState.cols, in order.
const stateColumns = `number, item_id, item_version, applicant_id, COALESCE(enterprise_id, 0), department_id, region_code,
	status, channel, form_data, corrections, accepted_on, due_on, paused_on, result_sha256, result_name, result_type, decision,
	delivery, transfers`

// stateFiles selects (case_id, kind, position, number, value) of the
// materials and notices of the cases that where (on case_id) selects;
// scan them with addFile.
func stateFiles(where string) string {
	return `SELECT case_id, 'm', position, '', sha256 FROM case_materials WHERE ` + where + `
		UNION ALL SELECT case_id, 'd', 0, number, body FROM case_documents WHERE ` + where
}

// scanCols are the destinations of stateColumns.
func (st *caseState) scanCols() []any {
	dest := make([]any, len(st.cols))
	for i := range st.cols {
		dest[i] = &st.cols[i]
	}
	return dest
}

// addFile adds a row of stateFiles: a material's hash, or a notice's body
// (hashed here: SQLite has no SHA-256).
func (st *caseState) addFile(kind string, position int, number, value string) {
	if kind == "d" {
		sum := sha256.Sum256([]byte(value))
		st.files = append(st.files, [2]string{"d" + number, hex.EncodeToString(sum[:])})
	} else {
		st.files = append(st.files, materialFile(Material{Position: position, SHA256: value}))
	}
}

// stateDigest reads the case's state in q and returns its digest.
func stateDigest(ctx context.Context, q store.Querier, caseID int64) (string, error) {
	var st caseState
	if err := q.QueryRow(ctx, `SELECT `+stateColumns+` FROM cases WHERE id = ?`, caseID).Scan(st.scanCols()...); err != nil {
		return "", fmt.Errorf("case state: %w", err)
	}
	rows, err := q.Query(ctx, stateFiles(`case_id = ?`), caseID, caseID)
	if err != nil {
		return "", fmt.Errorf("case state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind, number, value string
		var position int
		if err := rows.Scan(&id, &kind, &position, &number, &value); err != nil {
			return "", err
		}
		st.addFile(kind, position, number, value)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return st.digest(), nil
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
