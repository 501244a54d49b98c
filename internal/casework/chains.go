package casework

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/store"
)

// Event is one entry of a case's record.
type Event struct {
	Seq       int
	At        time.Time
	ActorID   int64
	ActorRole string
	Action    Action
	From, To  Status
	Reason    string
	Hash      string
}

// Events lists a case's record in order.
func Events(ctx context.Context, q store.Querier, caseID int64) ([]Event, error) {
	rows, err := q.Query(ctx, `SELECT seq, at, COALESCE(actor_id, 0), actor_role, action, from_status, to_status, reason, hash
		FROM case_events WHERE case_id = ? ORDER BY seq`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.Seq, &e.At, &e.ActorID, &e.ActorRole, &e.Action, &e.From, &e.To, &e.Reason, &e.Hash); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Genesis is what a case's first event is chained after (prev_hash).
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// ChainHash is case_events.hash of event e of case caseID chained after
// prev and committing to state (StateDigest), under keys: for writing
// cases in bulk (internal/generate). e.At must be as stored: UTC, to the
// microsecond.
func ChainHash(keys *chainhash.Keys, caseID int64, e Event, prev, state string) string {
	return keys.Sum(e.parts(caseID, prev, state)...)
}

func (e Event) parts(caseID int64, prev, state string) []string {
	parts := []string{prev, strconv.FormatInt(caseID, 10), strconv.Itoa(e.Seq), e.At.UTC().Format(time.RFC3339Nano),
		strconv.FormatInt(e.ActorID, 10), e.ActorRole, string(e.Action), string(e.From), string(e.To), e.Reason}
	if state != "" { // events written before states were recorded hash as they did
		parts = append(parts, state)
	}
	return parts
}

// appendEvent adds e to the case's chain in tx. The case row was locked
// by the caller's update (or just inserted), so appends to one case are
// serialised on both databases.
func appendEvent(ctx context.Context, tx *store.Tx, caseID int64, e Event) error {
	c := chain{caseID: caseID, prev: Genesis}
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM case_events WHERE case_id = ? ORDER BY seq DESC LIMIT 1`, caseID).Scan(&c.seq, &c.prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return c.append(ctx, tx, e)
}

// chain is the end of a case's record, for appending several events in
// one statement without reading each back.
type chain struct {
	caseID int64
	seq    int
	prev   string
	state  string // the state the next append commits to; read in the transaction when empty
}

// newChain starts the record of a case created in this transaction.
func newChain(caseID int64) *chain { return &chain{caseID: caseID, prev: Genesis} }

// Every event commits to the state of the case after the transaction's
// changes so far (stateDigest): appends come last in a step, after the
// row, its materials and its notices were written. Events appended in one
// statement share that state.
func (c *chain) append(ctx context.Context, tx *store.Tx, events ...Event) error {
	state := c.state
	if state == "" {
		var err error
		if state, err = stateDigest(ctx, tx, c.caseID); err != nil {
			return err
		}
	}
	var sql strings.Builder
	sql.WriteString(`INSERT INTO case_events (case_id, seq, at, actor_id, actor_role, action, from_status, to_status, reason, prev_hash, state_hash, hash) VALUES `)
	args := make([]any, 0, 12*len(events))
	for i, e := range events {
		e.Seq = c.seq + 1
		e.At = e.At.UTC().Truncate(time.Microsecond)
		e.Hash = ChainHash(tx.ChainKeys(), c.caseID, e, c.prev, state)
		var actor any
		if e.ActorID != 0 {
			actor = e.ActorID
		}
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, c.caseID, e.Seq, e.At, actor, e.ActorRole, e.Action, e.From, e.To, e.Reason, c.prev, state, e.Hash)
		c.seq, c.prev = e.Seq, e.Hash
	}
	_, err := tx.Exec(ctx, sql.String(), args...)
	return err
}
