// Package generate fills a database with many made-up cases fast, for
// benchmarks and load tests (zwfw generate): items of the demo catalog,
// applicants, every status in set proportions, with their events,
// notices, materials (a small pool of shared files), sealed personal
// answers and due dates from the calendar.
//
// The demo's own cases (internal/demo) go through the workflow's
// transactions one step at a time, which is realistic but makes some 150
// cases a second. Here each case is computed in memory, on every core,
// and written with others in multi-row inserts or COPY, one transaction
// per batch (writers.go says how the load is sped up); what the
// workflow would have computed — the notices' text, the sealed form, each
// event's state and keyed hash — comes from casework's own functions, so
// `zwfw audit verify` and the archive export find the result whole.
//
// The generator writes case ids and numbers itself: nothing else may
// write cases to the database while it runs.
package generate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/demo"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// Share is the weight of a final status among the generated cases.
type Share struct {
	Status casework.Status
	Weight int
}

// DefaultMix is a district's cases some weeks into the year: most done,
// a steady queue at every step, a few refused, withdrawn or left as drafts.
// The weights sum to 100, so that a multiple of 100 cases has them exactly.
var DefaultMix = []Share{
	{casework.Draft, 5}, {casework.Submitted, 8}, {casework.Prechecked, 4}, {casework.Correction, 5},
	{casework.Reviewing, 12}, {casework.Paused, 2}, {casework.Decided, 4}, {casework.Completed, 30},
	{casework.Delivered, 20}, {casework.Rejected, 5}, {casework.Withdrawn, 5},
}

// Options says what to generate.
type Options struct {
	Cases int
	Seed  uint64
	Mix   []Share // default DefaultMix
	Days  int     // cases are created over this many days before Now; default 60
	Batch int     // cases per transaction; default 500
	Now   time.Time
	// CasesOnly writes the cases' rows alone, without their materials,
	// notices and chained events: for benchmarks of what reads only the
	// cases (the statistics at 10 million cases, whose full records would
	// take some 57 GB). Such cases' chains do not verify.
	CasesOnly bool
	// Progress, if set, is told the cases written so far after each batch.
	Progress func(done int)
}

// Deps are the parts the generator works with.
type Deps struct {
	DB       *store.DB // its chain keys sign the events
	Clock    clock.Clock
	Identity *identity.Service
	Calendar *calendar.Calendar
	Files    filestore.Store // the shared materials and results go here
	Keys     *pii.Keys       // the personal answers are sealed with these
}

// Result says what was generated.
type Result struct {
	Cases    int
	ByStatus map[casework.Status]int
	Elapsed  time.Duration // writing the cases, after the set-up
}

// Run generates opt.Cases cases, creating the demo district, catalog and
// staff first where the database has none.
func Run(ctx context.Context, d Deps, opt Options) (Result, error) {
	if opt.Cases <= 0 {
		return Result{}, errors.New("生成的办件数应为正整数")
	}
	if opt.Mix == nil {
		opt.Mix = DefaultMix
	}
	if opt.Days <= 0 {
		opt.Days = 60
	}
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.Now.IsZero() {
		opt.Now = d.Clock.Now()
	}
	g, err := prepare(ctx, d, opt)
	if err != nil {
		return Result{}, err
	}
	// A batch's rows are garbage once written, and the collector's work is
	// per collection: collecting less often saves a tenth of the CPU, for
	// a heap that stays a few batches large.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	return g.run(ctx)
}

// batch is some cases, planned and numbered in order, to be computed by
// one of the builders and written together by one of the writers.
type batch struct {
	plans []plan
	rows  rows
	// counters are the case and notice number counters as they stand
	// after this batch's cases, written in the batch's transaction.
	caseLast map[string]int
	docLast  map[docKey]int
	built    chan struct{} // closed when rows (or err) are ready
	err      error
}

// run plans the cases in order on one goroutine, computes batches on as
// many as there are cores (sealing, hashing and the notices' text are
// most of the CPU) and writes them on the database's writers: SQLite's
// one connection, or several COPY streams on PostgreSQL, each batch in
// its own transaction. At most a few batches are in memory at a time,
// whatever the number of cases.
func (g *generator) run(ctx context.Context) (Result, error) {
	res := Result{ByStatus: map[casework.Status]int{}}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	builders := runtime.GOMAXPROCS(0)
	w, err := g.writer(ctx)
	if err != nil {
		return res, err
	}
	todo := make(chan *batch, builders)
	ready := make(chan *batch, builders+w.streams())
	var wg sync.WaitGroup
	wg.Go(func() { g.planAll(ctx, todo, ready) })
	for range builders {
		wg.Go(func() {
			for b := range todo {
				b.err = g.build(b)
				close(b.built)
			}
		})
	}
	var mu sync.Mutex
	var failed error
	for i := range w.streams() {
		wg.Go(func() {
			for b := range ready {
				var err error
				select {
				case <-b.built:
					err = b.err
				case <-ctx.Done():
				}
				if err == nil {
					err = ctx.Err()
				}
				if err == nil {
					err = w.write(ctx, i, b)
				}
				mu.Lock()
				if err != nil {
					if failed == nil {
						failed = err
					}
					cancel()
				} else {
					res.Cases += len(b.plans)
					for _, p := range b.plans {
						res.ByStatus[p.status]++
					}
					if g.opt.Progress != nil && failed == nil {
						g.opt.Progress(res.Cases)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := w.finish(); err != nil && failed == nil {
		failed = err
	}
	res.Elapsed = time.Since(start)
	if failed == nil && res.Cases < g.opt.Cases {
		failed = context.Cause(ctx)
	}
	return res, failed
}

// planAll plans the cases batch by batch, giving each its number, and
// hands every batch to the builders and, in the same order, to the
// writers.
func (g *generator) planAll(ctx context.Context, todo, ready chan<- *batch) {
	defer close(ready)
	defer close(todo)
	for done := 0; done < g.opt.Cases; {
		b := &batch{plans: make([]plan, min(g.opt.Batch, g.opt.Cases-done)), built: make(chan struct{}),
			caseLast: map[string]int{}, docLast: map[docKey]int{}}
		for i := range b.plans {
			b.plans[i] = g.plan()
			p := &b.plans[i]
			b.caseLast[p.day] = g.caseLast[p.day]
			for _, k := range p.docKeys {
				b.docLast[k] = g.docLast[k]
			}
		}
		select {
		case ready <- b:
		case <-ctx.Done():
			return
		}
		select {
		case todo <- b:
		case <-ctx.Done():
			return
		}
		done += len(b.plans)
	}
}

// item is a catalog item with what its cases need.
type item struct {
	catalog.Item
	dept  region.Department
	govt  string
	staff policy.Subject
	roles map[string]string // step → the role the clerk takes it in
	mats  []int             // the positions handed in
}

// applicant is one of the made-up citizens.
type applicant struct {
	id                   int64
	name, idcard, mobile string
}

type generator struct {
	d        Deps
	opt      Options
	rng      *rand.Rand
	keys     *chainhash.Keys
	byStatus map[casework.Status][]*item // the items a case can reach the status with
	people   []applicant
	pool     []filestore.Object // materials
	result   filestore.Object
	mix      []Share
	current  []int // smooth weighted round robin over mix
	nextID   int64
	caseLast map[string]int // the last case number given, by day
	docLast  map[docKey]int // the last notice number given, by sequence
}

// paths are the steps after submission that lead to each status.
var paths = map[casework.Status][]casework.Action{
	casework.Draft:      nil,
	casework.Submitted:  nil,
	casework.Prechecked: {casework.Precheck},
	casework.Correction: {casework.AskCorrect},
	casework.Reviewing:  {casework.Accept},
	casework.Paused:     {casework.Accept, casework.Pause},
	casework.Decided:    {casework.Accept, casework.Decide},
	casework.Completed:  {casework.Accept, casework.Decide, casework.Complete},
	casework.Delivered:  {casework.Accept, casework.Decide, casework.Complete, casework.Deliver},
	casework.Rejected:   {casework.Refuse},
	casework.Withdrawn:  {casework.AskCorrect, casework.Withdraw},
}

// stepOf is the workflow step whose roles take a staff action.
var stepOf = map[casework.Action]string{
	casework.Precheck: catalog.StepPrecheck, casework.Accept: catalog.StepAccept, casework.Refuse: catalog.StepAccept,
	casework.AskCorrect: catalog.StepAccept, casework.Pause: catalog.StepReview, casework.Decide: catalog.StepDecide,
	casework.Complete: catalog.StepComplete, casework.Deliver: catalog.StepDeliver,
}

func prepare(ctx context.Context, d Deps, opt Options) (*generator, error) {
	if _, err := demo.Seed(ctx, d.DB, d.Clock); err != nil {
		return nil, fmt.Errorf("演示区：%w", err)
	}
	if _, err := demo.SeedStaff(ctx, d.DB, d.Identity); err != nil {
		return nil, fmt.Errorf("演示账号：%w", err)
	}
	g := &generator{d: d, opt: opt, rng: rand.New(rand.NewPCG(opt.Seed, 410411)), keys: d.DB.ChainKeys(),
		byStatus: map[casework.Status][]*item{}, mix: opt.Mix, current: make([]int, len(opt.Mix))}
	for _, s := range opt.Mix {
		if _, ok := paths[s.Status]; !ok || s.Weight < 0 {
			return nil, fmt.Errorf("无效的办件状态比例：%s %d", s.Status, s.Weight)
		}
	}
	regions := region.NewStore(d.DB)
	items := catalog.NewStore(d.DB, regions, d.Clock)
	published, err := items.AllPublished(ctx)
	if err != nil {
		return nil, err
	}
	depts := map[int64]*item{}
	for _, it := range published {
		if it.Status != catalog.Published || !it.Depth.Online() {
			continue
		}
		x := &item{Item: it, roles: map[string]string{}}
		if dep, ok := depts[it.DepartmentID]; ok {
			x.dept, x.govt, x.staff = dep.dept, dep.govt, dep.staff
		} else {
			if x.dept, err = regions.Department(ctx, it.DepartmentID); err != nil {
				return nil, err
			}
			if x.govt, err = casework.DistrictGovernment(ctx, d.DB.Read(), x.dept); err != nil {
				return nil, err
			}
			if x.staff, err = demo.DepartmentStaff(ctx, d.DB, d.Identity, it.DepartmentID); err != nil {
				return nil, err
			}
			depts[it.DepartmentID] = x
		}
		for _, st := range it.HandlingSteps() {
			for _, r := range st.Roles {
				if x.staff.Has(r) {
					x.roles[st.Step] = r.Name()
					break
				}
			}
		}
		for pos, m := range it.Materials {
			if m.Necessity == "必需" {
				x.mats = append(x.mats, pos)
			}
		}
	outcomes:
		for status, path := range paths {
			for _, a := range path {
				if step, staff := stepOf[a]; staff && x.roles[step] == "" {
					continue outcomes
				}
			}
			g.byStatus[status] = append(g.byStatus[status], x)
		}
	}
	for _, s := range opt.Mix {
		if s.Weight > 0 && len(g.byStatus[s.Status]) == 0 {
			return nil, fmt.Errorf("目录中没有能办到“%s”的网上事项", s.Status.Name())
		}
	}
	for _, list := range g.byStatus { // map order must not decide which item a case gets
		slices.SortFunc(list, func(a, b *item) int { return int(a.ID - b.ID) })
	}
	// A small pool of files that every case's materials point at: the
	// store keeps each once, as it would a file handed in many times.
	for i := range 8 {
		obj, err := d.Files.Put(ctx, bytes.NewReader(pdf(fmt.Sprintf("生成的申请材料 %d", i+1))), 1<<20)
		if err != nil {
			return nil, err
		}
		g.pool = append(g.pool, obj)
	}
	if g.result, err = d.Files.Put(ctx, bytes.NewReader(pdf("生成的办理结果")), 1<<20); err != nil {
		return nil, err
	}
	if err := g.applicants(ctx); err != nil {
		return nil, err
	}
	if err := d.DB.Read().QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM cases`).Scan(&g.nextID); err != nil {
		return nil, err
	}
	return g, g.counters(ctx)
}

// applicants opens the citizens' accounts (found again on a later run
// with the same seed): one for every fifty cases, from 40 to 2,000.
func (g *generator) applicants(ctx context.Context) error {
	n := min(max(g.opt.Cases/50, 40), 2000)
	surnames := []rune("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
	given := []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平",
		"建华", "桂英", "志强", "玉兰", "海燕", "晓东", "红梅", "文博"}
	rng := rand.New(rand.NewPCG(g.opt.Seed, 1))
	for i := range n {
		first17 := fmt.Sprintf("410411%04d%02d%02d%03d", 1950+rng.IntN(55), 1+rng.IntN(12), 1+rng.IntN(28), i%1000)
		check, err := ident.IDCardCheckChar(first17)
		if err != nil {
			return err
		}
		a := applicant{name: string(surnames[rng.IntN(len(surnames))]) + given[rng.IntN(len(given))],
			idcard: first17 + string(check), mobile: fmt.Sprintf("13%d%08d", 5+rng.IntN(5), rng.IntN(100000000))}
		if a.id, err = g.d.Identity.PersonAtCounter(ctx, 0, a.name, a.idcard, a.mobile, identity.Meta{IP: "generate", Client: "zwfw generate"}); err != nil {
			return fmt.Errorf("申请人 %s：%w", a.idcard, err)
		}
		g.people = append(g.people, a)
	}
	return nil
}

// pdf is a small valid PDF with a line of text.
func pdf(text string) []byte {
	return []byte("%PDF-1.4\n% zwfw " + text + "\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
}

// nextStatus picks the next case's status by smooth weighted round robin:
// interleaved, and exactly in proportion over every run of the weights' sum.
func (g *generator) nextStatus() casework.Status {
	total, best := 0, 0
	for i, s := range g.mix {
		g.current[i] += s.Weight
		total += s.Weight
		if g.current[i] > g.current[best] {
			best = i
		}
	}
	g.current[best] -= total
	return g.mix[best].Status
}

// plan is one case as drawn, with its id and numbers: the rest is
// computed from it.
type plan struct {
	status  casework.Status
	it      *item
	who     applicant
	created time.Time
	steps   []time.Time // when each action of the path was taken
	approve bool
	answers map[string]string
	id      int64
	day     string   // the Beijing day of its case number
	seq     int      // its number in the day
	docKeys []docKey // the sequence of each notice its steps issue
	docSeqs []int    // and the notice's number in it
}

func (g *generator) plan() plan {
	p := plan{status: g.nextStatus()}
	list := g.byStatus[p.status]
	p.it = list[g.rng.IntN(len(list))]
	p.who = g.people[g.rng.IntN(len(g.people))]
	p.approve = g.rng.IntN(10) > 0
	// Created over the last days; submitted within hours; each step 1–30
	// hours after the one before; all of it before now.
	at := g.opt.Now.Add(-time.Duration(g.rng.Int64N(int64(g.opt.Days) * int64(24*time.Hour))))
	p.created = at
	path := paths[p.status]
	if p.status != casework.Draft {
		at = at.Add(time.Duration(g.rng.IntN(120)) * time.Minute)
		p.steps = append(p.steps, at) // submission
	}
	for range path {
		at = at.Add(time.Duration(1+g.rng.IntN(30))*time.Hour + time.Duration(g.rng.IntN(3600))*time.Second)
		p.steps = append(p.steps, at)
	}
	if late := at.Sub(g.opt.Now); late > 0 {
		p.created = p.created.Add(-late)
		for i := range p.steps {
			p.steps[i] = p.steps[i].Add(-late)
		}
	}
	p.created = p.created.UTC().Truncate(time.Microsecond)
	for i := range p.steps {
		p.steps[i] = p.steps[i].UTC().Truncate(time.Microsecond)
	}
	p.answers = make(map[string]string)
	for _, sec := range p.it.Form {
		for _, f := range sec.Fields {
			p.answers[f.Key] = g.answer(f, p.who)
		}
	}
	// The numbers are taken here, in order, from the counters read at the
	// start: the generator is the only writer of cases while it runs.
	p.id = g.nextID
	g.nextID++
	p.day = chinaDay(p.createdAt())
	g.caseLast[p.day]++
	p.seq = g.caseLast[p.day]
	for i, a := range paths[p.status] {
		if kind, ok := casework.NoticeKind(a, "online"); ok {
			k := docKey{p.it.DepartmentID, kind, p.steps[i+1].In(clock.China).Year()}
			g.docLast[k]++
			p.docKeys, p.docSeqs = append(p.docKeys, k), append(p.docSeqs, g.docLast[k])
		}
	}
	return p
}

// answer fills a form field plausibly, with the applicant's own numbers.
func (g *generator) answer(f catalog.FormField, who applicant) string {
	switch f.Type {
	case "idcard":
		return who.idcard
	case "mobile":
		return who.mobile
	case "creditcode":
		return "91350100M000100Y43"
	case "date":
		return g.opt.Now.AddDate(0, 0, -g.rng.IntN(3650)).In(clock.China).Format("2006-01-02")
	case "number":
		return strconv.Itoa(1 + g.rng.IntN(20))
	case "email":
		return "applicant" + strconv.FormatInt(who.id, 10) + "@example.com"
	case "select", "radio", "checkbox":
		if len(f.Options) > 0 {
			return f.Options[g.rng.IntN(len(f.Options))]
		}
	}
	if strings.Contains(f.Label, "姓名") {
		return who.name
	}
	if strings.Contains(f.Label, "地址") || strings.Contains(f.Label, "住所") {
		return "平顶山市湛河区" + []string{"开源路", "南环路", "建设路", "光明路", "姚孟街"}[g.rng.IntN(5)] + strconv.Itoa(1+g.rng.IntN(300)) + "号"
	}
	return "按申请表填写的内容"
}
