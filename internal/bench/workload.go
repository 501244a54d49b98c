package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zwfw/zwfw/internal/loadgen"
)

// Op is one kind of request of the mixed workload.
type Op string

// The workload's operations. Staff falls back to Queue when no case of
// this run waits for a step, so Queue's count includes those.
const (
	Guide    Op = "guide"    // an item's 办事指南 page
	Search   Op = "search"   // the portal's search page
	Apply    Op = "apply"    // an online application with two materials (POST /api/v1/cases)
	Staff    Op = "staff"    // a clerk opens a case of this run and takes its next step
	Queue    Op = "queue"    // a clerk views their queue
	MyCase   Op = "mycase"   // an applicant looks at their case (GET /api/v1/cases/{id})
	Lookup   Op = "lookup"   // the public lookup by case number and mobile
	Baseline Op = "baseline" // GET /healthz: no database, no template
)

// ops lists the operations in the order reports show them.
var ops = []Op{Guide, Search, Apply, Staff, Queue, MyCase, Lookup, Baseline}

// Name is the operation's Chinese name, for the report.
func (o Op) Name() string {
	return map[Op]string{Guide: "办事指南", Search: "事项搜索", Apply: "网上申请（含材料）", Staff: "工作人员办理",
		Queue: "工作台队列", MyCase: "申请人查办件", Lookup: "公开查询", Baseline: "基线 /healthz"}[o]
}

// DefaultMix is the default share of each operation, in parts: mostly
// citizens reading guides and searching, a tenth applying, the clerks
// taking each case through 受理, 审查 and 决定.
const DefaultMix = "guide=30,search=20,apply=10,staff=15,mycase=15,lookup=10"

// ParseMix reads "op=weight,…".
func ParseMix(s string) (map[Op]int, error) {
	mix := map[Op]int{}
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("负载组成 %q 无效：应为 操作=权重，如 %s", part, DefaultMix)
		}
		op := Op(name)
		if op == Baseline || op.Name() == "" {
			return nil, fmt.Errorf("未知的操作 %q（可选：guide、search、apply、staff、queue、mycase、lookup）", name)
		}
		mix[op] += n
	}
	total := 0
	for _, n := range mix {
		total += n
	}
	if total == 0 {
		return nil, errors.New("负载组成的权重之和为 0")
	}
	return mix, nil
}

// workload is the setup a run needs on the target: applicants with
// sessions, the item they apply for, clerks signed in, the guides to
// read, and the cases of this run at each step.
type workload struct {
	base       string
	http       *loadgen.Client
	lookupHTTP *http.Client // one connection per lookup, each from another loopback address
	applicants []loadgen.Applicant
	targets    []loadgen.Target // per applicant
	items      []int64
	fileSize   int
	// clerks takes the steps: the window accepts, the reviewer reviews,
	// the head decides; steps[i] holds the cases waiting for clerks[i].
	clerks []clerk
	steps  [3]chan int64
	mu     sync.Mutex
	cases  []loadgen.Receipt // acknowledged applications, for the lookups
	seq    atomic.Int64
}

type clerk struct {
	username, queue, op string
	cookie              string
}

// Department is the bureau whose item the applications go to and whose
// clerks take them: the demo's 市场监管局 with its three accounts.
const Department = "scjgj"

// StaffPassword is the demo's staff password (printed by `zwfw demo`).
const StaffPassword = "Zwfw-Demo-2026"

var searchTerms = []string{"营业执照", "食品经营", "身份证", "社保", "出生", "医保", "低保", "yyzz", "户口", "个体工商户", "许可", "证明"}

// setup registers applicants, signs the clerks in and finds the item.
func setup(ctx context.Context, base string, applicants, fileSize int) (*workload, error) {
	w := &workload{base: strings.TrimRight(base, "/"), http: loadgen.NewClient(base, 512), fileSize: fileSize}
	for i := range w.steps {
		w.steps[i] = make(chan int64, 1<<20)
	}
	w.lookupHTTP = lookupClient(w.base)
	// Numbers of this run: another run against the same instance most
	// likely draws others (the mobile numbers are 1370000xxxx).
	first := rand.IntN(10000 - applicants)
	// Registration, like the lookup, is limited per address.
	registrar := &loadgen.Client{URL: w.base, HTTP: w.lookupHTTP}
	for i := range applicants {
		a, err := registrar.Register(ctx, first+i)
		if err != nil {
			return nil, fmt.Errorf("注册第 %d 位申请人：%w（目标须是 zwfw demo）", i+1, err)
		}
		w.applicants = append(w.applicants, a)
	}
	t, err := w.http.PickItem(ctx, 2, Department, w.applicants[0])
	if err != nil {
		return nil, fmt.Errorf("寻找可网上申请的事项：%w", err)
	}
	for _, a := range w.applicants {
		w.targets = append(w.targets, loadgen.Target{Item: t.Item, Answers: loadgen.Fill(t.Item, a)})
	}
	body, err := w.get(ctx, "/api/v1/items?limit=100", nil)
	if err != nil {
		return nil, err
	}
	var list struct{ Items []struct{ ID int64 } }
	if err := json.Unmarshal(body, &list); err != nil || len(list.Items) == 0 {
		return nil, fmt.Errorf("事项列表无法读取：%v", err)
	}
	for _, it := range list.Items {
		w.items = append(w.items, it.ID)
	}
	for _, c := range []clerk{{"scjg.window", "submitted", "accept", ""}, {"scjg.reviewer", "reviewing", "review", ""}, {"scjg.head", "reviewed", "decide", ""}} {
		if c.cookie, err = w.signIn(ctx, c.username); err != nil {
			return nil, err
		}
		w.clerks = append(w.clerks, c)
	}
	// A few applications before the clock starts, so that the lookups
	// have cases from the first second.
	for range 3 {
		if _, err := w.apply(ctx); err != nil {
			return nil, fmt.Errorf("预先提交申请：%w", err)
		}
	}
	return w, nil
}

// lookupClient opens a connection per request, each from the next
// address of 127.1.0.0/16 when the target is on the loopback: the public
// lookup allows each address 10 queries a minute (and registration a few
// codes), and a run stands for many citizens, not one address querying
// hundreds of times. It does not follow redirects (registration answers
// with one, carrying the session).
func lookupClient(base string) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	u, err := url.Parse(base)
	if ip := net.ParseIP(u.Hostname()); err == nil && (ip != nil && ip.IsLoopback() || u.Hostname() == "localhost") {
		var next atomic.Uint32
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			n := next.Add(1)
			d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 1, byte(n>>8), byte(n))}}
			return d.DialContext(ctx, "tcp4", addr)
		}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (w *workload) signIn(ctx context.Context, username string) (string, error) {
	form := url.Values{"username": {username}, "password": {StaffPassword}}
	req, err := http.NewRequestWithContext(ctx, "POST", w.base+"/staff/signin", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := w.http.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "zwfw_session" && c.Value != "" {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("工作人员 %s 登录失败（HTTP %d）：目标须是 zwfw demo", username, resp.StatusCode)
}

// do performs one operation and says which it was (Staff becomes Queue
// when no case waits).
func (w *workload) do(ctx context.Context, op Op, rnd *rand.Rand) (Op, error) {
	switch op {
	case Guide:
		_, err := w.get(ctx, fmt.Sprintf("/items/%d", w.items[rnd.IntN(len(w.items))]), nil)
		return op, err
	case Search:
		_, err := w.get(ctx, "/search?q="+url.QueryEscape(searchTerms[rnd.IntN(len(searchTerms))]), nil)
		return op, err
	case Apply:
		_, err := w.apply(ctx)
		return op, err
	case Staff:
		// The latest step first, so cases move on rather than pile up at 受理.
		for i := len(w.steps) - 1; i >= 0; i-- {
			select {
			case id := <-w.steps[i]:
				return op, w.act(ctx, i, id)
			default:
			}
		}
		return w.do(ctx, Queue, rnd)
	case Queue:
		c := w.clerks[rnd.IntN(len(w.clerks))]
		_, err := w.get(ctx, "/workbench/queue/"+c.queue, func(r *http.Request) { r.Header.Set("Cookie", c.cookie) })
		return Queue, err
	case MyCase:
		r := w.someCase(rnd)
		_, err := w.http.Case(ctx, w.applicants[r.Applicant], r.ID)
		return op, err
	case Lookup:
		r := w.someCase(rnd)
		q := url.Values{"number": {r.Number}, "mobile": {w.applicants[r.Applicant].Mobile}}
		body, err := w.send(ctx, w.lookupHTTP, "GET", "/lookup?"+q.Encode(), nil, nil, http.StatusOK)
		if err == nil && !strings.Contains(string(body), r.Number) {
			err = invalid("公开查询的结果中没有该办件编号")
		}
		return op, err
	case Baseline:
		_, err := w.get(ctx, "/healthz", nil)
		return op, err
	}
	return op, fmt.Errorf("未知的操作 %q", op)
}

// apply submits an application with two fresh materials as the next
// applicant; once acknowledged it waits for the window's 受理.
func (w *workload) apply(ctx context.Context) (loadgen.Receipt, error) {
	n := int(w.seq.Add(1))
	who := n % len(w.applicants)
	files := []loadgen.File{{Name: "申请书.pdf", Data: loadgen.SmallPDF(n*2, w.fileSize)}, {Name: "身份证明.pdf", Data: loadgen.SmallPDF(n*2+1, w.fileSize)}}
	r, err := w.http.Submit(ctx, w.applicants[who], w.targets[who], files)
	if err != nil {
		return r, err
	}
	r.Applicant = who
	w.mu.Lock()
	w.cases = append(w.cases, r)
	w.mu.Unlock()
	w.steps[0] <- r.ID
	return r, nil
}

func (w *workload) someCase(rnd *rand.Rand) loadgen.Receipt {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cases[rnd.IntN(len(w.cases))]
}

var (
	versionField = regexp.MustCompile(`name="version" value="(\d+)"`)
	offeredOp    = regexp.MustCompile(`name="op" value="(\w+)"`)
)

// act has clerk i open the case and take their step: the window accepts
// (after 预审 when the item has it), the reviewer writes the review, the
// head approves. The case then waits for the next clerk.
func (w *workload) act(ctx context.Context, i int, id int64) error {
	c := w.clerks[i]
	withCookie := func(r *http.Request) { r.Header.Set("Cookie", c.cookie) }
	page, err := w.get(ctx, fmt.Sprintf("/workbench/cases/%d", id), withCookie)
	if err != nil {
		return err
	}
	v := versionField.FindSubmatch(page)
	offered := map[string]bool{}
	for _, m := range offeredOp.FindAllSubmatch(page, -1) {
		offered[string(m[1])] = true
	}
	op, next := c.op, i+1
	if !offered[op] && op == "accept" && offered["precheck"] {
		op, next = "precheck", i
	}
	if v == nil || !offered[op] {
		return invalid(fmt.Sprintf("办件 %d 的页面没有给 %s 提供“%s”", id, c.username, op))
	}
	form := url.Values{"op": {op}, "version": {string(v[1])}}
	switch op {
	case "review":
		form.Set("reason", "材料齐全，符合条件，建议准予。")
	case "decide":
		form.Set("outcome", "approve")
		form.Set("reason", "准予。")
	}
	_, err = w.send(ctx, w.http.HTTP, "POST", fmt.Sprintf("/workbench/cases/%d", id), strings.NewReader(form.Encode()), func(r *http.Request) {
		withCookie(r)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}, http.StatusSeeOther)
	if err == nil && next < len(w.steps) {
		w.steps[next] <- id
	}
	return err
}

func (w *workload) get(ctx context.Context, path string, prepare func(*http.Request)) ([]byte, error) {
	return w.send(ctx, w.http.HTTP, "GET", path, nil, prepare, http.StatusOK)
}

func (w *workload) send(ctx context.Context, c *http.Client, method, path string, body io.Reader, prepare func(*http.Request), want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, w.base+path, body)
	if err != nil {
		return nil, err
	}
	if prepare != nil {
		prepare(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return b, &loadgen.StatusError{Method: method, Path: req.URL.Path, Status: resp.StatusCode, Body: string(b[:min(len(b), 300)])}
	}
	return b, nil
}

// invalidAnswer is an answer with the expected status that does not say
// what it should.
type invalidAnswer string

func (e invalidAnswer) Error() string { return string(e) }

func invalid(s string) error { return invalidAnswer(s) }

// errorKind names an error for the report: the HTTP status, or what went
// wrong on the way.
func errorKind(err error) string {
	var st *loadgen.StatusError
	var bad invalidAnswer
	var ne net.Error
	switch {
	case errors.As(err, &st):
		return fmt.Sprintf("HTTP %d", st.Status)
	case errors.As(err, &bad):
		return "应答内容不对"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "超时"
	case errors.Is(err, context.Canceled):
		return "已取消"
	default:
		return "连接错误"
	}
}
