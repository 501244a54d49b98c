package generate

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/store"
)

// The reasons the steps give, as a clerk would write them.
var reasons = map[casework.Action]string{
	casework.Refuse:     "申请事项不属于本机关职权范围",
	casework.AskCorrect: "请补充提交清晰的身份证明材料",
	casework.Pause:      "需要现场核查",
	casework.Deliver:    "网上送达：申请人已在线下载",
}

const (
	approvedReason = "经审查，符合条件，准予办理"
	deniedReason   = "申请不符合本事项规定的受理条件"
	applicantRole  = "申请人"
)

// docKey is a sequence of notice numbers: department, kind, year.
type docKey struct {
	dept int64
	kind string
	year int
}

// rows are a batch's rows, table by table, as insert arguments.
type rows struct {
	cases, materials, documents, events [][]any
}

// build computes a batch of cases into r, with the case and notice
// numbers they take. The numbers are reserved in a transaction of their
// own, before the cases are written: a batch that then fails leaves a gap,
// as a failed application does.
func (g *generator) build(ctx context.Context, plans []plan, r *rows) error {
	days := map[string]int{}
	docs := map[docKey]int{}
	for _, p := range plans {
		days[chinaDay(g.created(p))]++
		for i, a := range paths[p.status] {
			if kind, ok := casework.NoticeKind(a, "online"); ok {
				docs[docKey{p.it.DepartmentID, kind, p.steps[i+1].In(clock.China).Year()}]++
			}
		}
	}
	var caseSeq map[string]int
	var docSeq map[docKey]int
	err := g.d.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if caseSeq, err = reserveCaseNumbers(ctx, tx, days); err != nil {
			return err
		}
		docSeq, err = reserveDocumentNumbers(ctx, tx, docs)
		return err
	})
	if err != nil {
		return err
	}
	for _, p := range plans {
		if err := g.buildCase(p, g.nextID, caseSeq, docSeq, r); err != nil {
			return err
		}
		g.nextID++
	}
	return nil
}

// insert writes a batch's rows in one transaction: on PostgreSQL with
// COPY, elsewhere in multi-row INSERTs.
func (g *generator) insert(ctx context.Context, r rows) error {
	tables := []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"cases", caseCols, r.cases},
		{"case_materials", materialCols, r.materials},
		{"case_documents", documentCols, r.documents},
		{"case_events", eventCols, r.events},
	}
	if g.d.DB.Dialect == store.Postgres {
		conn, err := g.d.DB.WritePool().Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			pc := dc.(*stdlib.Conn).Conn()
			tx, err := pc.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx)
			for _, t := range tables {
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
					return fmt.Errorf("%s: %w", t.table, err)
				}
			}
			// Ids were given: the identity continues after them.
			if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))`); err != nil {
				return err
			}
			return tx.Commit(ctx)
		})
	}
	return g.d.DB.Tx(ctx, func(tx *store.Tx) error {
		for _, t := range tables {
			if err := insert(ctx, tx, t.table, t.cols, t.rows); err != nil {
				return fmt.Errorf("%s: %w", t.table, err)
			}
		}
		return nil
	})
}

// created is when the case was created: a draft's own time; an
// application submitted as one request (casework.Apply) is created and
// submitted at once.
func (g *generator) created(p plan) time.Time {
	if len(p.steps) > 0 {
		return p.steps[0]
	}
	return p.created
}

func chinaDay(t time.Time) string { return t.In(clock.China).Format("20060102") }

func reserveCaseNumbers(ctx context.Context, tx *store.Tx, days map[string]int) (map[string]int, error) {
	var sql strings.Builder
	sql.WriteString(`INSERT INTO case_numbers (day, last) VALUES `)
	var args []any
	for day, n := range days {
		if len(args) > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?)")
		args = append(args, day, n)
	}
	sql.WriteString(` ON CONFLICT (day) DO UPDATE SET last = case_numbers.last + excluded.last RETURNING day, last`)
	rs, err := tx.Query(ctx, sql.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("case numbers: %w", err)
	}
	defer rs.Close()
	next := map[string]int{}
	for rs.Next() {
		var day string
		var last int
		if err := rs.Scan(&day, &last); err != nil {
			return nil, err
		}
		next[day] = last - days[day] + 1
	}
	return next, rs.Err()
}

func reserveDocumentNumbers(ctx context.Context, tx *store.Tx, docs map[docKey]int) (map[docKey]int, error) {
	next := map[docKey]int{}
	if len(docs) == 0 {
		return next, nil
	}
	var sql strings.Builder
	sql.WriteString(`INSERT INTO document_numbers (department_id, kind, year, last) VALUES `)
	var args []any
	for k, n := range docs {
		if len(args) > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?)")
		args = append(args, k.dept, k.kind, k.year, n)
	}
	sql.WriteString(` ON CONFLICT (department_id, kind, year) DO UPDATE SET last = document_numbers.last + excluded.last
		RETURNING department_id, kind, year, last`)
	rs, err := tx.Query(ctx, sql.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("document numbers: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var k docKey
		var last int
		if err := rs.Scan(&k.dept, &k.kind, &k.year, &last); err != nil {
			return nil, err
		}
		next[k] = last - docs[k] + 1
	}
	return next, rs.Err()
}

var (
	caseCols = []string{"id", "number", "item_id", "item_version", "applicant_id", "department_id", "region_code", "status", "channel",
		"form_data", "corrections", "accepted_on", "due_on", "paused_on", "result_sha256", "result_name", "result_type", "decision",
		"delivery", "transfers", "version", "created_at", "updated_at", "submitted_at"}
	materialCols = []string{"case_id", "position", "name", "sha256", "size", "content_type", "filename", "uploaded_by", "uploaded_at"}
	documentCols = []string{"case_id", "kind", "number", "title", "body", "department_id", "issued_at"}
	eventCols    = []string{"case_id", "seq", "at", "actor_id", "actor_role", "action", "from_status", "to_status", "reason",
		"prev_hash", "state_hash", "hash"}
)

// buildCase computes case id of plan p — its row, materials, notices and
// chained events — as the workflow would have written them, and adds
// them to r. caseSeq and docSeq are the next free numbers; buildCase takes
// its own.
func (g *generator) buildCase(p plan, id int64, caseSeq map[string]int, docSeq map[docKey]int, r *rows) error {
	it := p.it
	created := g.created(p)
	day := chinaDay(created)
	c := casework.Case{ID: id, Number: fmt.Sprintf("%s%s%06d", it.RegionCode[:6], day, caseSeq[day]), ItemID: it.ID, ItemVersion: it.Version,
		ApplicantID: p.who.id, DepartmentID: it.DepartmentID, RegionCode: it.RegionCode, Status: casework.Draft, Channel: "online",
		Version: 1, CreatedAt: created, UpdatedAt: created}
	caseSeq[day]++
	form, err := casework.SealForm(g.d.Keys, it.Item, c.Number, p.answers)
	if err != nil {
		return err
	}
	var mats []casework.Material
	var docs []casework.Document
	var events []casework.Event
	var states []string
	event := func(at time.Time, actor int64, role string, a casework.Action, from casework.Status, reason string) {
		events = append(events, casework.Event{Seq: len(events) + 1, At: at, ActorID: actor, ActorRole: role, Action: a, From: from, To: c.Status, Reason: reason})
	}
	var submitted any
	if p.status == casework.Draft {
		event(created, p.who.id, applicantRole, casework.Create, "", "")
		states = append(states, casework.StateDigest(c, form, nil, nil))
	} else {
		// Submitted in one request, as casework.Apply records it: created,
		// materials handed in, submitted, all committing to the state after.
		submitted = created
		event(created, p.who.id, applicantRole, casework.Create, "", "")
		var handedIn []string
		for i, pos := range it.mats {
			m := it.Materials[pos]
			f := g.pool[(int(id)+i)%len(g.pool)]
			mats = append(mats, casework.Material{Position: pos, Name: m.Name, SHA256: f.SHA256, Size: f.Size,
				ContentType: f.ContentType, Filename: m.Name + ".pdf", UploadedAt: created})
			handedIn = append(handedIn, fmt.Sprintf("%s（%s）", m.Name, m.Name+".pdf"))
		}
		if len(handedIn) > 0 {
			event(created, p.who.id, applicantRole, casework.Upload, casework.Draft, "上传："+strings.Join(handedIn, "、"))
		}
		c.Status = casework.Submitted
		event(created, p.who.id, applicantRole, casework.Submit, casework.Draft, "")
		state := casework.StateDigest(c, form, mats, nil)
		for range events {
			states = append(states, state)
		}
	}
	decision := ""
	for i, a := range paths[p.status] {
		at := p.steps[i+1]
		today := calendar.DateOf(at)
		from := c.Status
		reason := reasons[a]
		actor, role := it.staff.AccountID, it.roles[stepOf[a]]
		var due calendar.Date
		switch a {
		case casework.Precheck:
			c.Status = casework.Prechecked
		case casework.Accept:
			c.Status, c.AcceptedOn = casework.Reviewing, today
			c.DueOn = g.d.Calendar.Due(today, it.PromiseLimit.Limit(), nil)
		case casework.Refuse:
			c.Status = casework.Rejected
		case casework.AskCorrect:
			c.Status = casework.Correction
			c.Corrections++
			due = g.d.Calendar.AddWorkdays(today, casework.CorrectionDays)
		case casework.Pause:
			c.Status, c.PausedOn = casework.Paused, today
		case casework.Decide:
			c.Status, c.Decision, reason = casework.Decided, casework.Approved, approvedReason
			if !p.approve {
				c.Decision, reason = casework.Denied, deniedReason
			}
		case casework.Complete:
			c.Status = casework.Completed
			if c.Decision == casework.Approved {
				c.ResultSHA256, c.ResultName, c.ResultType = g.result.SHA256, it.Result.Name+".pdf", g.result.ContentType
			}
		case casework.Deliver:
			c.Status, c.Delivery = casework.Delivered, casework.DeliverOnline
		case casework.Withdraw:
			c.Status, actor, role = casework.Withdrawn, p.who.id, applicantRole
		}
		c.Version++
		c.UpdatedAt = at
		if kind, ok := casework.NoticeKind(a, c.Channel); ok {
			k := docKey{it.DepartmentID, kind, at.In(clock.China).Year()}
			n := casework.Notice{Action: a, Case: c, Item: it.Item, To: casework.Party{Name: p.who.name}, Department: it.dept,
				Government: it.govt, Reason: reason, Day: today, Due: due, Decided: decision}
			d, _ := n.Document(docSeq[k], at)
			docSeq[k]++
			if a == casework.Decide {
				decision = casework.DecisionPaper(d.Title, d.Number)
			}
			docs = append(docs, d)
		}
		event(at, actor, role, a, from, reason)
		states = append(states, casework.StateDigest(c, form, mats, docs))
	}
	prev := casework.Genesis
	for i := range events {
		e := &events[i]
		e.Hash = casework.ChainHash(g.keys, id, *e, prev, states[i])
		var actor any
		if e.ActorID != 0 {
			actor = e.ActorID
		}
		r.events = append(r.events, []any{id, e.Seq, e.At, actor, e.ActorRole, string(e.Action), string(e.From), string(e.To), e.Reason,
			prev, states[i], e.Hash})
		prev = e.Hash
	}
	r.cases = append(r.cases, []any{id, c.Number, c.ItemID, c.ItemVersion, c.ApplicantID, c.DepartmentID, c.RegionCode, string(c.Status),
		c.Channel, form, c.Corrections, dateText(c.AcceptedOn), dateText(c.DueOn), dateText(c.PausedOn), c.ResultSHA256, c.ResultName,
		c.ResultType, c.Decision, c.Delivery, c.Transfers, c.Version, c.CreatedAt, c.UpdatedAt, submitted})
	for _, m := range mats {
		r.materials = append(r.materials, []any{id, m.Position, m.Name, m.SHA256, m.Size, m.ContentType, m.Filename, p.who.id, m.UploadedAt})
	}
	for _, d := range docs {
		r.documents = append(r.documents, []any{id, d.Kind, d.Number, d.Title, d.Body, d.DepartmentID, d.IssuedAt})
	}
	return nil
}

func dateText(d calendar.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// perStatement is how many rows one INSERT carries, within both
// databases' limit on parameters (PostgreSQL 65,535; SQLite 32,766). The
// statement is prepared once a batch and run for each full set of rows:
// parsing a statement of thousands of rows again each time cost more than
// inserting them.
const perStatement = 200

// insert writes rows into table in multi-row INSERTs (SQLite has no COPY).
func insert(ctx context.Context, tx *store.Tx, table string, cols []string, rows [][]any) error {
	statement := func(n int) string {
		tuple := "(" + strings.Repeat("?, ", len(cols)-1) + "?)"
		return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.Repeat(tuple+", ", n-1) + tuple
	}
	var full *sql.Stmt
	args := make([]any, 0, perStatement*len(cols))
	for len(rows) > 0 {
		n := min(perStatement, len(rows))
		args = args[:0]
		for _, row := range rows[:n] {
			args = append(args, row...)
		}
		var err error
		switch {
		case n < perStatement:
			_, err = tx.Exec(ctx, statement(n), args...)
		case full == nil:
			if full, err = tx.SQL().PrepareContext(ctx, tx.Dialect().Rebind(statement(n))); err != nil {
				return err
			}
			defer full.Close()
			fallthrough
		default:
			_, err = full.ExecContext(ctx, args...)
		}
		if err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
