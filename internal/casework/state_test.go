package casework_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// completedCase takes a case through its whole life: materials, a
// correction with a replaced material, acceptance, a pause, an approval
// and completion with a result.
func completedCase(t *testing.T, f fixture) casework.Case {
	t.Helper()
	ctx := context.Background()
	c := draftWithMaterial(t, f, f.citizen)
	var err error
	step := func(name string, do func() (casework.Case, error)) {
		t.Helper()
		if c, err = do(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	step("submit", func() (casework.Case, error) { return f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Submit, "") })
	step("correct", func() (casework.Case, error) {
		return f.svc.AskCorrection(ctx, f.window, c.ID, c.Version, "身份证明不清晰", []int{0})
	})
	clearer := filestore.Object{SHA256: strings.Repeat("ef", 32), Size: 2000, ContentType: filestore.TypePDF}
	step("replace", func() (casework.Case, error) {
		return f.svc.Attach(ctx, f.citizen, c.ID, c.Version, 0, clearer, "身份证（清晰）.pdf", 0)
	})
	step("resubmit", func() (casework.Case, error) {
		return f.svc.Act(ctx, f.citizen, c.ID, c.Version, casework.Resubmit, "")
	})
	step("accept", func() (casework.Case, error) { return f.svc.Act(ctx, f.window, c.ID, c.Version, casework.Accept, "") })
	step("pause", func() (casework.Case, error) {
		return f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Pause, "现场核查")
	})
	step("resume", func() (casework.Case, error) { return f.svc.Act(ctx, f.reviewer, c.ID, c.Version, casework.Resume, "") })
	step("decide", func() (casework.Case, error) {
		return f.svc.Decide(ctx, f.head, c.ID, reviewed(t, f, c).Version, true, "准予登记", "")
	})
	licence := filestore.Object{SHA256: strings.Repeat("cd", 32), Size: 99, ContentType: filestore.TypePDF}
	step("complete", func() (casework.Case, error) {
		return f.svc.Complete(ctx, f.window, c.ID, c.Version, licence, "营业执照.pdf")
	})
	return c
}

// Every event commits to the case's state after it, so each of these
// edits made behind the application's back names its case; an untouched
// lifecycle verifies clean.
func TestVerifyChainsFindsAlteredCaseState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		keys, err := chainhash.Parse("a1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))))
		if err != nil {
			t.Fatal(err)
		}
		db.SetChainKeys(keys)
		casework.SmallVerifyBatches(t, 3) // tampered cases in several batches, and at their edges
		tamperings := []struct {
			name string
			sql  string
			args func(c casework.Case) []any
		}{
			{"last event deleted", `DELETE FROM case_events WHERE case_id = ? AND seq = (SELECT MAX(seq) FROM case_events WHERE case_id = ?)`,
				func(c casework.Case) []any { return []any{c.ID, c.ID} }},
			{"all events deleted", `DELETE FROM case_events WHERE case_id = ?`, func(c casework.Case) []any { return []any{c.ID} }},
			{"decision", `UPDATE cases SET decision = 'denied' WHERE id = ?`, func(c casework.Case) []any { return []any{c.ID} }},
			{"status", `UPDATE cases SET status = 'reviewing' WHERE id = ?`, func(c casework.Case) []any { return []any{c.ID} }},
			{"result", `UPDATE cases SET result_sha256 = ? WHERE id = ?`,
				func(c casework.Case) []any { return []any{strings.Repeat("00", 32), c.ID} }},
			{"form", `UPDATE cases SET form_data = '{"name":"王五"}' WHERE id = ?`, func(c casework.Case) []any { return []any{c.ID} }},
			{"applicant", `UPDATE cases SET applicant_id = ? WHERE id = ?`, func(c casework.Case) []any { return []any{f.other.AccountID, c.ID} }},
			{"material", `UPDATE case_materials SET sha256 = ? WHERE case_id = ?`,
				func(c casework.Case) []any { return []any{strings.Repeat("11", 32), c.ID} }},
			{"决定书", `UPDATE case_documents SET body = body || '（改）' WHERE case_id = ? AND kind = 'decision'`,
				func(c casework.Case) []any { return []any{c.ID} }},
		}
		cases := make([]casework.Case, len(tamperings)+1)
		for i := range cases {
			cases[i] = completedCase(t, f)
		}
		n, broken, err := casework.VerifyChains(ctx, db, keys)
		if err != nil || n != len(cases) || len(broken) != 0 {
			t.Fatalf("untouched: %d cases, broken %+v, %v", n, broken, err)
		}
		storetest.DisableAppendOnly(t, db, "case_events")
		for i, tm := range tamperings {
			c := cases[i]
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				res, err := tx.Exec(ctx, tm.sql, tm.args(c)...)
				if err != nil {
					return err
				}
				if k, _ := res.RowsAffected(); k == 0 {
					t.Errorf("%s: nothing changed", tm.name)
				}
				return nil
			}); err != nil {
				t.Fatalf("%s: %v", tm.name, err)
			}
		}
		// The last event of one more case rewritten, its hash recomputed
		// the way an unkeyed chain would be.
		forged := completedCase(t, f)
		cases = append(cases[:len(cases)-1], forged, cases[len(cases)-1])
		tamperings = append(tamperings, struct {
			name string
			sql  string
			args func(c casework.Case) []any
		}{name: "event rewritten and rehashed"})
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			var seq int
			var at time.Time
			var actor int64
			var role, action, from, to, prev, state string
			if err := tx.QueryRow(ctx, `SELECT seq, at, actor_id, actor_role, action, from_status, to_status, prev_hash, state_hash
				FROM case_events WHERE case_id = ? ORDER BY seq DESC LIMIT 1`, forged.ID).Scan(&seq, &at, &actor, &role, &action, &from, &to, &prev, &state); err != nil {
				return err
			}
			var plain *chainhash.Keys
			hash := plain.Sum(prev, strconv.FormatInt(forged.ID, 10), strconv.Itoa(seq), at.UTC().Format(time.RFC3339Nano),
				strconv.FormatInt(actor, 10), role, action, from, to, "代为办结", state)
			_, err := tx.Exec(ctx, `UPDATE case_events SET reason = '代为办结', hash = ? WHERE case_id = ? AND seq = ?`, hash, forged.ID, seq)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		n, broken, err = casework.VerifyChains(ctx, db, keys)
		if err != nil || n != len(cases) {
			t.Fatalf("verify: %d cases, %v", n, err)
		}
		var named []string
		for _, b := range broken {
			named = append(named, b.Number)
		}
		for i, tm := range tamperings {
			if !slices.Contains(named, cases[i].Number) {
				t.Errorf("%s: case %s not named; broken %+v", tm.name, cases[i].Number, broken)
			}
		}
		if slices.Contains(named, cases[len(cases)-1].Number) || len(broken) != len(tamperings) {
			t.Errorf("broken %+v, want exactly the %d tampered cases", broken, len(tamperings))
		}
	})
}

// What a chain alone cannot show — its last events deleted along with
// the state they made, all of its events, the whole case, the last audit
// entries — shows against a signed checkpoint of the heads.
func TestCheckpointShowsDeletions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		keys, err := chainhash.Parse("a1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))))
		if err != nil {
			t.Fatal(err)
		}
		db.SetChainKeys(keys)
		if err := audit.Record(ctx, db, audit.Entry{At: f.clk.Now(), Actor: "管理员", Action: "export"}); err != nil {
			t.Fatal(err)
		}
		var cases []casework.Case
		for range 4 {
			cases = append(cases, completedCase(t, f))
		}
		heads := func() audit.Checkpoint {
			t.Helper()
			var cp audit.Checkpoint
			var err error
			if cp.Log, err = audit.LogHead(ctx, db.Read()); err != nil {
				t.Fatal(err)
			}
			if cp.Cases, err = casework.Heads(ctx, db.Read()); err != nil {
				t.Fatal(err)
			}
			return cp
		}
		cp := heads()
		cp.Sign(keys)
		b, _ := json.Marshal(cp)
		was, err := audit.ParseCheckpoint(b, keys)
		if err != nil {
			t.Fatal(err)
		}
		if lost, err := was.Against(ctx, db.Read(), heads()); err != nil || len(lost) != 0 {
			t.Fatalf("untouched: %v %v", lost, err)
		}
		forged := bytes.Replace(b, []byte(`"count":12`), []byte(`"count":11`), 1)
		if _, err := audit.ParseCheckpoint(forged, keys); err == nil {
			t.Fatal("an edited checkpoint was accepted")
		}
		storetest.DisableAppendOnly(t, db, "case_events")
		storetest.DisableAppendOnly(t, db, "audit_log")
		truncated, emptied, removed := cases[0], cases[1], cases[2]
		stmts := []string{`DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)`,
			`DELETE FROM case_events WHERE case_id = ? AND seq > 3`,
			`DELETE FROM case_events WHERE case_id = ?`}
		args := [][]any{nil, {truncated.ID}, {emptied.ID}}
		for _, table := range []string{"case_events", "case_materials", "case_documents", "case_visits", "case_corrections", "messages"} {
			stmts = append(stmts, `DELETE FROM `+table+` WHERE case_id = ?`)
			args = append(args, []any{removed.ID})
		}
		stmts = append(stmts, `DELETE FROM cases WHERE id = ?`)
		args = append(args, []any{removed.ID})
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for i, s := range stmts {
				if _, err := tx.Exec(ctx, s, args[i]...); err != nil {
					return fmt.Errorf("%s: %w", s, err)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		lost, err := was.Against(ctx, db.Read(), heads())
		if err != nil || len(lost) != 4 {
			t.Fatalf("lost %q, %v; want the audit entry and three cases", lost, err)
		}
		all := strings.Join(lost, "\n")
		for _, want := range []string{"审计日志第", truncated.Number, emptied.Number, removed.Number} {
			if !strings.Contains(all, want) {
				t.Errorf("%q not named in %q", want, lost)
			}
		}
	})
}

// The periodic job checks the record and renews the checkpoint while all
// holds; once a case's last events are deleted it fails, naming the case,
// and leaves the checkpoint as it was.
func TestCheckpointWorker(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		keys, err := chainhash.Parse("a1:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))))
		if err != nil {
			t.Fatal(err)
		}
		db.SetChainKeys(keys)
		c := completedCase(t, f)
		path := filepath.Join(t.TempDir(), "checkpoint.json")
		w := &casework.CheckpointWorker{DB: db, Path: path, Clock: f.clk}
		if err := w.Work(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if err := w.Work(ctx, nil); err != nil {
			t.Fatalf("second check: %v", err)
		}
		written, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("no checkpoint: %v", err)
		}
		storetest.DisableAppendOnly(t, db, "case_events")
		// The last two events and the state they made, undone together.
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `DELETE FROM case_events WHERE case_id = ? AND seq > (SELECT MAX(seq) - 1 FROM case_events WHERE case_id = ?)`, c.ID, c.ID); err != nil {
				return err
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		err = w.Work(ctx, nil)
		if err == nil || !strings.Contains(err.Error(), c.Number) || !strings.Contains(err.Error(), "事件被删除") {
			t.Fatalf("check after deleted events: %v", err)
		}
		if now, _ := os.ReadFile(path); !bytes.Equal(now, written) {
			t.Fatal("the checkpoint was replaced after a failed check")
		}
	})
}
