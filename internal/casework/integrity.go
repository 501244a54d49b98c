package casework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/store"
)

// Report is what a full check of the record found.
type Report struct {
	Entries, Cases int
	Log            []audit.Broken
	Broken         []Broken
	Lost           []string // against the checkpoint
	Checkpoint     string   // written to this file, when all held
}

// Problems counts what was found altered or missing.
func (r Report) Problems() int { return len(r.Log) + len(r.Broken) + len(r.Lost) }

// CheckIntegrity verifies the audit log and every case's chain under the
// database's chain keys and, with a checkpoint file, compares the heads
// with the one there; when everything holds it writes a new checkpoint
// (atomically), so the file always holds the last state known good.
func CheckIntegrity(ctx context.Context, db *store.DB, checkpoint string, now time.Time) (Report, error) {
	var r Report
	keys := db.ChainKeys()
	cp := audit.Checkpoint{At: now}
	var err error
	// Heads first: what is appended while verifying is left to the next check.
	if cp.Log, err = audit.LogHead(ctx, db.Read()); err != nil {
		return r, err
	}
	if cp.Cases, err = Heads(ctx, db.Read()); err != nil {
		return r, err
	}
	if r.Entries, r.Log, err = audit.Verify(ctx, db.Read(), keys); err != nil {
		return r, err
	}
	if r.Cases, r.Broken, err = VerifyChains(ctx, db, keys); err != nil {
		return r, err
	}
	if checkpoint == "" {
		return r, nil
	}
	b, err := os.ReadFile(checkpoint)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return r, err
	default:
		was, err := audit.ParseCheckpoint(b, keys)
		if err != nil {
			r.Lost = append(r.Lost, err.Error())
		} else if r.Lost, err = was.Against(ctx, db.Read(), cp); err != nil {
			return r, err
		}
	}
	if r.Problems() > 0 || keys == nil {
		return r, nil
	}
	cp.Sign(keys)
	b, _ = json.Marshal(cp)
	tmp := checkpoint + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return r, fmt.Errorf("无法写入检查点：%w", err)
	}
	if err := os.Rename(tmp, checkpoint); err != nil {
		return r, fmt.Errorf("无法写入检查点：%w", err)
	}
	r.Checkpoint = checkpoint
	return r, nil
}

// CheckpointArgs is the periodic durable job that checks the record and
// writes the checkpoint.
type CheckpointArgs struct{}

func (CheckpointArgs) Kind() string { return "audit_checkpoint" }

// CheckpointWorker runs CheckpointArgs against the file Path.
type CheckpointWorker struct {
	river.WorkerDefaults[CheckpointArgs]
	DB    *store.DB
	Path  string
	Clock clock.Clock
}

// Work runs one check. What it finds fails the job, so that it shows
// among the failing jobs (zwfw jobs, /metrics) with what was altered.
func (w *CheckpointWorker) Work(ctx context.Context, _ *river.Job[CheckpointArgs]) error {
	r, err := CheckIntegrity(ctx, w.DB, w.Path, w.Clock.Now())
	if err != nil || r.Problems() == 0 {
		return err
	}
	var found []string
	for _, b := range r.Log {
		found = append(found, fmt.Sprintf("审计日志第 %d 条：%s", b.ID, b.Reason))
	}
	for _, b := range r.Broken {
		found = append(found, fmt.Sprintf("办件 %s：%s", b.Number, b.Reason))
	}
	found = append(found, r.Lost...)
	return fmt.Errorf("发现 %d 处记录被改动：%s", r.Problems(), strings.Join(found, "；"))
}

// PeriodicCheckpoint schedules the check every interval, on the leader.
func PeriodicCheckpoint(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return CheckpointArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// Broken names a case whose record does not hold.
type Broken struct {
	CaseID int64
	Number string
	Seq    int
	Reason string
}

// verifyBatch is how many cases (consecutive ids) one snapshot checks:
// enough that a batch costs a few queries for hundreds of cases, few
// enough that no snapshot is held long on a live site. (A variable, so
// that tests can make batches small.)
var verifyBatch = 500

// VerifyChains checks every case's event chain and names each case whose
// record was altered, removed or reordered behind the application's back,
// that has no record at all, or whose current state (row, materials,
// notices) is not the state its last event committed to. Hashes are
// checked under keys; as in the audit log, an unkeyed event after a keyed
// one was recomputed without the key.
//
// Cases are checked in batches of consecutive ids, each batch's rows,
// materials, notices and events read in three queries from one snapshot
// (store.DB.Snapshot): a step commits the case's new state and its event
// together, so a step committed while verifying is either wholly seen or
// not at all, never taken for tampering. Cases created meanwhile are
// checked if their batch is still to come.
func VerifyChains(ctx context.Context, db *store.DB, keys *chainhash.Keys) (cases int, broken []Broken, err error) {
	var after int64
	for {
		var n int
		err := db.Snapshot(ctx, func(q store.Querier) error {
			var err error
			n, after, broken, err = verifyCases(ctx, q, keys, after, broken)
			return err
		})
		if err != nil {
			return cases, broken, fmt.Errorf("verify case chains: %w", err)
		}
		cases += n
		if n < verifyBatch {
			return cases, broken, nil
		}
	}
}

// chainRow is a stored event with the hashes it was chained with.
type chainRow struct {
	Event
	prev, state string
}

// verifyCases checks the next batch of cases after the id after, in q,
// appends what does not hold to broken, and returns how many cases it
// checked and the last one's id.
func verifyCases(ctx context.Context, q store.Querier, keys *chainhash.Keys, after int64, broken []Broken) (int, int64, []Broken, error) {
	rows, err := q.Query(ctx, `SELECT id, `+stateColumns+` FROM cases WHERE id > ? ORDER BY id LIMIT `+strconv.Itoa(verifyBatch), after)
	if err != nil {
		return 0, after, broken, err
	}
	var ids []int64
	var states []caseState
	for rows.Next() {
		var id int64
		var st caseState
		if err := rows.Scan(append([]any{&id}, st.scanCols()...)...); err != nil {
			rows.Close()
			return 0, after, broken, err
		}
		ids, states = append(ids, id), append(states, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return 0, after, broken, err
	}
	lo, hi := ids[0], ids[len(ids)-1]
	at := func(id int64) int { i, _ := slices.BinarySearch(ids, id); return i }

	// Ids in the range but not among the cases are of cases deleted; their
	// leftover rows are skipped (the checkpoint names the case).
	rows, err = q.Query(ctx, stateFiles(`case_id BETWEEN ? AND ?`), lo, hi, lo, hi)
	if err != nil {
		return 0, after, broken, err
	}
	for rows.Next() {
		var id int64
		var kind, number, value string
		var position int
		if err := rows.Scan(&id, &kind, &position, &number, &value); err != nil {
			rows.Close()
			return 0, after, broken, err
		}
		if i := at(id); i < len(ids) && ids[i] == id {
			states[i].addFile(kind, position, number, value)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, after, broken, err
	}

	events := make([][]chainRow, len(ids))
	rows, err = q.Query(ctx, `SELECT case_id, seq, at, COALESCE(actor_id, 0), actor_role, action, from_status, to_status, reason,
		prev_hash, state_hash, hash FROM case_events WHERE case_id BETWEEN ? AND ? ORDER BY case_id, seq`, lo, hi)
	if err != nil {
		return 0, after, broken, err
	}
	for rows.Next() {
		var id int64
		var e chainRow
		if err := rows.Scan(&id, &e.Seq, &e.At, &e.ActorID, &e.ActorRole, &e.Action, &e.From, &e.To, &e.Reason,
			&e.prev, &e.state, &e.Hash); err != nil {
			rows.Close()
			return 0, after, broken, err
		}
		if i := at(id); i < len(ids) && ids[i] == id {
			events[i] = append(events[i], e)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, after, broken, err
	}

	for i, id := range ids {
		if b, bad := checkChain(keys, id, states[i], events[i]); bad {
			broken = append(broken, b)
		}
	}
	return len(ids), hi, broken, nil
}

// checkChain checks one case's events, in order, and its current state
// against the last event's.
func checkChain(keys *chainhash.Keys, id int64, st caseState, events []chainRow) (Broken, bool) {
	number := st.cols[0]
	if len(events) == 0 {
		return Broken{CaseID: id, Number: number, Reason: "没有任何事件记录（记录被删除）"}, true
	}
	prev, sawKeyed := Genesis, false
	for i, e := range events {
		why := ""
		ok, keyed := keys.Check(e.Hash, e.parts(id, prev, e.state)...)
		switch {
		case e.Seq != i+1 || e.prev != prev:
			why = "记录不连续（有事件被删除或插入）"
		case !ok:
			why = "事件内容与其哈希不符（被修改）"
		case sawKeyed && !keyed:
			why = "事件未经完整性密钥签署（被改写并重算哈希）"
		}
		if why != "" {
			return Broken{CaseID: id, Number: number, Seq: e.Seq, Reason: why}, true
		}
		sawKeyed = sawKeyed || keyed
		prev = e.Hash
	}
	last := events[len(events)-1]
	// An empty state: recorded before events held the state.
	if last.state != "" && last.state != st.digest() {
		return Broken{CaseID: id, Number: number, Seq: last.Seq,
			Reason: "办件、材料或文书与最后一条事件记录的状态不符（被修改，或最后的事件被删除）"}, true
	}
	return Broken{}, false
}
