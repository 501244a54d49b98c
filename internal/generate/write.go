package generate

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

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

// rows are a batch's rows, table by table, each the columns of its rows
// one after the other (the table's cols per row).
type rows struct {
	cases, materials, documents, events []any
}

// createdAt is when the case was created: a draft's own time; an
// application submitted as one request (casework.Apply) is created and
// submitted at once.
func (p *plan) createdAt() time.Time {
	if len(p.steps) > 0 {
		return p.steps[0]
	}
	return p.created
}

func chinaDay(t time.Time) string { return t.In(clock.China).Format("20060102") }

// counters reads the case and notice number counters, which the plans
// then continue.
func (g *generator) counters(ctx context.Context) error {
	g.caseLast, g.docLast = map[string]int{}, map[docKey]int{}
	rs, err := g.d.DB.Read().Query(ctx, `SELECT day, last FROM case_numbers`)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var day string
		var last int
		if err := rs.Scan(&day, &last); err != nil {
			return err
		}
		g.caseLast[day] = last
	}
	if err := rs.Err(); err != nil {
		return err
	}
	rs.Close()
	if rs, err = g.d.DB.Read().Query(ctx, `SELECT department_id, kind, year, last FROM document_numbers`); err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var k docKey
		var last int
		if err := rs.Scan(&k.dept, &k.kind, &k.year, &last); err != nil {
			return err
		}
		g.docLast[k] = last
	}
	return rs.Err()
}

// build computes the rows of a batch's cases.
func (g *generator) build(b *batch) error {
	// Room for the rows of an average case and some (two materials, two
	// notices, six events), so that they are not copied as they grow.
	n := len(b.plans)
	b.rows = rows{cases: make([]any, 0, n*len(caseCols)), materials: make([]any, 0, 2*n*len(materialCols)),
		documents: make([]any, 0, 2*n*len(documentCols)), events: make([]any, 0, 6*n*len(eventCols))}
	var states casework.StateHasher
	for i := range b.plans {
		states.Reset()
		if err := g.buildCase(&b.plans[i], &b.rows, &states); err != nil {
			return err
		}
	}
	return nil
}

// table is where a batch's rows of one kind go.
type table struct {
	name string
	cols []string
	rows func(*rows) []any
}

var tables = []table{
	{"cases", caseCols, func(r *rows) []any { return r.cases }},
	{"case_materials", materialCols, func(r *rows) []any { return r.materials }},
	{"case_documents", documentCols, func(r *rows) []any { return r.documents }},
	{"case_events", eventCols, func(r *rows) []any { return r.events }},
}

// counterUpdates are the statements that move the number counters on to
// a batch's last numbers. Writers on PostgreSQL commit their batches in
// any order, so a counter only ever goes up; and they lock the counters'
// rows in one order (sorted), so that two of them never wait for each
// other.
func counterUpdates(d store.Dialect, b *batch) (stmts []string, args [][]any) {
	greatest, insert := "GREATEST", "INSERT INTO"
	if d == store.SQLite {
		greatest, insert = "max", "INSERT OR ROLLBACK INTO" // as insertStatement
	}
	if len(b.caseLast) > 0 {
		var q strings.Builder
		var a []any
		q.WriteString(insert + ` case_numbers (day, last) VALUES `)
		for _, day := range slices.Sorted(maps.Keys(b.caseLast)) {
			if len(a) > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?)")
			a = append(a, day, b.caseLast[day])
		}
		q.WriteString(` ON CONFLICT (day) DO UPDATE SET last = ` + greatest + `(case_numbers.last, excluded.last)`)
		stmts, args = append(stmts, d.Rebind(q.String())), append(args, a)
	}
	if len(b.docLast) > 0 {
		var q strings.Builder
		var a []any
		q.WriteString(insert + ` document_numbers (department_id, kind, year, last) VALUES `)
		keys := slices.SortedFunc(maps.Keys(b.docLast), func(x, y docKey) int {
			return cmp.Or(cmp.Compare(x.dept, y.dept), cmp.Compare(x.kind, y.kind), cmp.Compare(x.year, y.year))
		})
		for _, k := range keys {
			if len(a) > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?)")
			a = append(a, k.dept, k.kind, k.year, b.docLast[k])
		}
		q.WriteString(` ON CONFLICT (department_id, kind, year) DO UPDATE SET last = ` + greatest + `(document_numbers.last, excluded.last)`)
		stmts, args = append(stmts, d.Rebind(q.String())), append(args, a)
	}
	return stmts, args
}

var (
	caseCols = []string{"id", "number", "item_id", "item_version", "applicant_id", "department_id", "region_code", "status", "channel",
		"form_data", "corrections", "accepted_on", "due_on", "paused_on", "result_sha256", "result_name", "result_type", "decision",
		"delivery", "transfers", "version", "created_at", "updated_at", "submitted_at",
		"finished_on", "handling_days", "promise_days", "legal_days"}
	materialCols = []string{"case_id", "position", "name", "sha256", "size", "content_type", "filename", "uploaded_by", "uploaded_at"}
	documentCols = []string{"case_id", "kind", "number", "title", "body", "department_id", "issued_at"}
	eventCols    = []string{"case_id", "seq", "at", "actor_id", "actor_role", "action", "from_status", "to_status", "reason",
		"prev_hash", "state_hash", "hash"}
)

// buildCase computes the case of plan p — its row, materials, notices and
// chained events — as the workflow would have written them, and adds
// them to r. sh has no materials or notices yet.
func (g *generator) buildCase(p *plan, r *rows, sh *casework.StateHasher) error {
	it, id := p.it, p.id
	created := p.createdAt()
	c := casework.Case{ID: id, Number: caseNumber(it.RegionCode, p.day, p.seq), ItemID: it.ID, ItemVersion: it.Version,
		ApplicantID: p.who.id, DepartmentID: it.DepartmentID, RegionCode: it.RegionCode, Status: casework.Draft, Channel: "online",
		Version: 1, CreatedAt: created, UpdatedAt: created}
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
	// full: the case's materials, notices and chained events too, not
	// only its row (Options.CasesOnly).
	full := !g.opt.CasesOnly
	if p.status == casework.Draft {
		event(created, p.who.id, applicantRole, casework.Create, "", "")
		if full {
			states = append(states, sh.Digest(c, form))
		}
	} else {
		// Submitted in one request, as casework.Apply records it: created,
		// materials handed in, submitted, all committing to the state after.
		submitted = g.time(created)
		event(created, p.who.id, applicantRole, casework.Create, "", "")
		var handedIn []string
		for i, pos := range it.mats {
			m := it.Materials[pos]
			f := g.pool[(int(id)+i)%len(g.pool)]
			mats = append(mats, casework.Material{Position: pos, Name: m.Name, SHA256: f.SHA256, Size: f.Size,
				ContentType: f.ContentType, Filename: m.Name + ".pdf", UploadedAt: created})
			sh.AddMaterial(mats[len(mats)-1])
			handedIn = append(handedIn, m.Name+"（"+m.Name+".pdf）")
		}
		if len(handedIn) > 0 {
			event(created, p.who.id, applicantRole, casework.Upload, casework.Draft, "上传："+strings.Join(handedIn, "、"))
		}
		c.Status = casework.Submitted
		event(created, p.who.id, applicantRole, casework.Submit, casework.Draft, "")
		if full {
			state := sh.Digest(c, form)
			for range events {
				states = append(states, state)
			}
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
			casework.Finishing(&c, it.Item, g.d.Calendar, today)
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
			casework.Finishing(&c, it.Item, g.d.Calendar, today)
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
		if _, ok := casework.NoticeKind(a, c.Channel); ok && full {
			n := casework.Notice{Action: a, Case: c, Item: it.Item, To: casework.Party{Name: p.who.name}, Department: it.dept,
				Government: it.govt, Reason: reason, Day: today, Due: due, Decided: decision}
			d, _ := n.Document(p.docSeqs[len(docs)], at)
			if a == casework.Decide {
				decision = casework.DecisionPaper(d.Title, d.Number)
			}
			docs = append(docs, d)
			sh.AddDocument(d)
		}
		event(at, actor, role, a, from, reason)
		if full {
			states = append(states, sh.Digest(c, form))
		}
	}
	r.cases = append(r.cases, id, c.Number, c.ItemID, int64(c.ItemVersion), c.ApplicantID, c.DepartmentID, c.RegionCode, string(c.Status),
		c.Channel, form, int64(c.Corrections), dateText(c.AcceptedOn), dateText(c.DueOn), dateText(c.PausedOn), c.ResultSHA256, c.ResultName,
		c.ResultType, c.Decision, c.Delivery, int64(c.Transfers), int64(c.Version), g.time(c.CreatedAt), g.time(c.UpdatedAt), submitted,
		dateText(c.FinishedOn), int64(c.HandlingDays), int64(c.PromiseDays), int64(c.LegalDays))
	if !full {
		return nil
	}
	prev := casework.Genesis
	for i := range events {
		e := &events[i]
		e.Hash = casework.ChainHash(g.keys, id, *e, prev, states[i])
		var actor any
		if e.ActorID != 0 {
			actor = e.ActorID
		}
		r.events = append(r.events, id, int64(e.Seq), g.time(e.At), actor, e.ActorRole, string(e.Action), string(e.From), string(e.To), e.Reason,
			prev, states[i], e.Hash)
		prev = e.Hash
	}
	for _, m := range mats {
		r.materials = append(r.materials, id, int64(m.Position), m.Name, m.SHA256, m.Size, m.ContentType, m.Filename, p.who.id, g.time(m.UploadedAt))
	}
	for _, d := range docs {
		r.documents = append(r.documents, id, d.Kind, d.Number, d.Title, d.Body, d.DepartmentID, g.time(d.IssuedAt))
	}
	return nil
}

// sqliteTime is how the SQLite driver writes a time.Time (store's DSN
// asks for _time_format=sqlite).
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

// time is a row's value for t. On SQLite it is the text the driver would
// write, made here on the builders rather than on the one writer; the
// other values are given as the driver takes them (int64, not int), which
// spares database/sql's conversion by reflection.
func (g *generator) time(t time.Time) any {
	if g.d.DB.Dialect == store.SQLite {
		return formatSQLiteTime(t)
	}
	return t
}

// formatSQLiteTime is t.Format(sqliteTime), a third of the time for the
// generator's times (UTC, whole microseconds); others go to Format.
func formatSQLiteTime(t time.Time) string {
	if t.Location() != time.UTC || t.Year() < 1000 || t.Year() > 9999 {
		return t.Format(sqliteTime)
	}
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	b := make([]byte, 0, len("2006-01-02 15:04:05.999999999+00:00"))
	b = strconv.AppendInt(b, int64(year), 10)
	for _, f := range [...]struct {
		sep byte
		n   int
	}{{'-', int(month)}, {'-', day}, {' ', hour}, {':', minute}, {':', sec}} {
		b = append(b, f.sep, byte('0'+f.n/10), byte('0'+f.n%10))
	}
	if ns := t.Nanosecond(); ns > 0 {
		// .999999999: nine digits without the trailing zeros.
		digits := 9
		for ns%10 == 0 {
			ns /= 10
			digits--
		}
		var frac [9]byte
		for i := digits - 1; i >= 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		b = append(append(b, '.'), frac[:digits]...)
	}
	return string(append(b, "+00:00"...))
}

// caseNumber is the 办件编号: the region's first six digits, the day and
// the number in the day, zero-padded to six digits.
func caseNumber(region, day string, seq int) string {
	b := make([]byte, 0, 20)
	b = append(b, region[:6]...)
	b = append(b, day...)
	n := strconv.Itoa(seq)
	for range 6 - len(n) {
		b = append(b, '0')
	}
	return string(append(b, n...))
}

func dateText(d calendar.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}
