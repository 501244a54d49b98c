// Package loadgen drives online submissions against a running zwfw demo
// instance over HTTP, the way the mobile app sends them: one multipart
// request with the form and the materials (POST /api/v1/cases). It is the
// load tool behind cmd/zwfw-load, the submission benchmark in
// docs/PERFORMANCE.md and the crash test that kills the server mid-burst.
//
// Applicants are registered through the demo's own pages (the one-time
// code is read from /demo/sms), so the target must be `zwfw demo`.
package loadgen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zwfw/zwfw/internal/catalog"
)

// Client talks to one zwfw instance.
type Client struct {
	URL  string
	HTTP *http.Client
}

// NewClient returns a client for the instance at base that does not follow
// redirects (sign-in answers with one, carrying the session cookie).
func NewClient(base string, conns int) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	tr.MaxConnsPerHost = conns
	return &Client{URL: strings.TrimRight(base, "/"), HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Applicant is a registered person and their session token.
type Applicant struct {
	Name, IDNumber, Mobile string
	Token                  string
}

var (
	demoCode = regexp.MustCompile(`验证码是(\d{6})`)
	// consent is the privacy notice's version that the registration form
	// asks the person to agree to, as a browser would find it.
	consent = regexp.MustCompile(`name="consent" value="([^"]+)"`)
)

// Register opens an applicant's account through the registration pages,
// reading the one-time code from the demo's SMS page, and returns the
// session token. n numbers the applicant (mobile and identity number).
func (c *Client) Register(ctx context.Context, n int) (Applicant, error) {
	a := Applicant{Name: "压测用户", Mobile: fmt.Sprintf("1370000%04d", n), IDNumber: IDNumber(fmt.Sprintf("41041119900101%03d", n%1000))}
	form := url.Values{"name": {a.Name}, "id_number": {a.IDNumber}, "mobile": {a.Mobile}}
	if resp, err := c.postForm(ctx, "/register/code", form); err != nil {
		return a, err
	} else if resp.StatusCode >= 400 {
		return a, fmt.Errorf("register code: status %d", resp.StatusCode)
	}
	page, err := c.get(ctx, "/demo/sms")
	if err != nil {
		return a, err
	}
	m := demoCode.FindStringSubmatch(page)
	if m == nil {
		return a, errors.New("no one-time code on /demo/sms: is the target `zwfw demo`?")
	}
	form.Set("code", m[1])
	regPage, err := c.get(ctx, "/register")
	if err != nil {
		return a, err
	}
	v := consent.FindStringSubmatch(regPage)
	if v == nil {
		return a, errors.New("the registration page asks for no privacy consent")
	}
	form.Set("consent", v[1])
	resp, err := c.postForm(ctx, "/register", form)
	if err != nil {
		return a, err
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "zwfw_session" && ck.Value != "" {
			a.Token = ck.Value
			return a, nil
		}
	}
	return a, fmt.Errorf("register %s: status %d and no session", a.Mobile, resp.StatusCode)
}

// IDNumber completes 17 digits with the GB 11643 check character.
func IDNumber(first17 string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	return first17 + string("10X98765432"[sum%11])
}

func (c *Client) postForm(ctx context.Context, path string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

func (c *Client) get(ctx context.Context, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.URL+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return string(b), err
}

// Metrics reads the instance's /metrics page (the demo serves it on its
// public address).
func (c *Client) Metrics(ctx context.Context) (string, error) { return c.get(ctx, "/metrics") }

// Target is an item to apply for and a filled form for it.
type Target struct {
	Item    catalog.Item
	Answers map[string]string
}

// PickItem finds a published item that can be applied for fully online
// and has at least materials materials, of the department with that slug
// if one is given, and fills its form for a.
func (c *Client) PickItem(ctx context.Context, materials int, department string, a Applicant) (Target, error) {
	return c.PickItemWhere(ctx, materials, department, a, func(catalog.Item) bool { return true })
}

// PickItemWhere is PickItem among the items keep accepts.
func (c *Client) PickItemWhere(ctx context.Context, materials int, department string, a Applicant, keep func(catalog.Item) bool) (Target, error) {
	body, err := c.get(ctx, "/api/v1/items?depth=4&limit=100&department="+url.QueryEscape(department))
	if err != nil {
		return Target{}, err
	}
	var list struct{ Items []struct{ ID int64 } }
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		return Target{}, err
	}
	for _, s := range list.Items {
		body, err := c.get(ctx, fmt.Sprintf("/api/v1/items/%d", s.ID))
		if err != nil {
			return Target{}, err
		}
		var it catalog.Item
		if err := json.Unmarshal([]byte(body), &it); err != nil {
			return Target{}, err
		}
		if len(it.Materials) >= materials && len(it.Form) > 0 && requiredWithin(it, materials) && keep(it) {
			return Target{Item: it, Answers: Fill(it, a)}, nil
		}
	}
	return Target{}, fmt.Errorf("no fully online item with %d materials", materials)
}

// requiredWithin says whether every required material is among the
// first n, which the load sends.
func requiredWithin(it catalog.Item, n int) bool {
	for i, m := range it.Materials {
		if m.Necessity == "必需" && i >= n {
			return false
		}
	}
	return true
}

// Fill answers every field of an item's form plausibly for a.
func Fill(it catalog.Item, a Applicant) map[string]string {
	out := map[string]string{}
	for _, sec := range it.Form {
		for _, f := range sec.Fields {
			v := "压测内容"
			switch {
			case f.Type == "idcard":
				v = a.IDNumber
			case f.Type == "mobile":
				v = a.Mobile
			case f.Type == "creditcode":
				v = "91350100M000100Y43"
			case f.Type == "date":
				v = "2026-01-15"
			case f.Type == "number":
				v = "1"
			case f.Type == "email":
				v = "load@example.com"
			case len(f.Options) > 0:
				v = f.Options[0]
			case strings.Contains(f.Label, "姓名"):
				v = a.Name
			}
			out[f.Key] = v
		}
	}
	return out
}

// File is a material to hand in.
type File struct {
	Name string
	Data []byte
}

// Receipt is an acknowledged submission: what the server said it holds.
type Receipt struct {
	Applicant int // index of the applicant who sent it
	ID        int64
	Number    string
	Materials []struct {
		Position int
		SHA256   string
		Size     int64
	}
}

// Submit sends one application with its materials and returns the
// server's receipt once the server acknowledged it (201).
func (c *Client) Submit(ctx context.Context, a Applicant, t Target, files []File) (Receipt, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("item_id", fmt.Sprint(t.Item.ID))
	form, _ := json.Marshal(t.Answers)
	mw.WriteField("form", string(form))
	for i, f := range files {
		w, err := mw.CreateFormFile(fmt.Sprintf("material_%d", i), f.Name)
		if err != nil {
			return Receipt{}, err
		}
		w.Write(f.Data)
	}
	mw.Close()
	req, err := http.NewRequestWithContext(ctx, "POST", c.URL+"/api/v1/cases", &buf)
	if err != nil {
		return Receipt{}, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.receipt(req, a, http.StatusCreated)
}

// receipt sends req as a and reads the case the server answers with.
func (c *Client) receipt(req *http.Request, a Applicant, want int) (Receipt, error) {
	req.Header.Set("Authorization", "Bearer "+a.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Receipt{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Receipt{}, err
	}
	if resp.StatusCode != want {
		return Receipt{}, &StatusError{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Body: string(body)}
	}
	var r Receipt
	if err := json.Unmarshal(body, &r); err != nil {
		return Receipt{}, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	return r, nil
}

// StatusError is an answer with another status than the one expected;
// the load harness counts errors by their status.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// Case fetches a case as its applicant sees it through the API.
func (c *Client) Case(ctx context.Context, a Applicant, id int64) (Receipt, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/cases/%d", c.URL, id), nil)
	if err != nil {
		return Receipt{}, err
	}
	return c.receipt(req, a, http.StatusOK)
}

// SmallPDF is a small, valid-looking PDF distinct per seed, so that files
// are stored separately as real uploads would be.
func SmallPDF(seed int, size int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	fmt.Fprintf(&b, "%% zwfw load %d\n", seed)
	for b.Len() < size-6 {
		b.WriteString("0123456789abcdef")
	}
	b.WriteString("\n%%EOF")
	return b.Bytes()
}

// NoisyPDF is a PDF of size bytes, distinct per seed, whose content does
// not compress — as scans and photos do not — so that no database stores
// it smaller than it is.
func NoisyPDF(seed int, size int) []byte {
	b := make([]byte, max(size, 16))
	n := copy(b, "%PDF-1.7\n")
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], uint64(seed))
	rand.NewChaCha8(key).Read(b[n:])
	return b
}

// Options shape a load run.
type Options struct {
	Concurrency int           // requests in flight at most
	Duration    time.Duration // how long to send
	FileSize    int           // bytes per material
	// Rate, when set, paces the run at that many submissions a second
	// (Concurrency bounds those in flight) instead of as fast as it can.
	Rate  float64
	Noisy bool // materials that do not compress (NoisyPDF), not SmallPDF
	// Acknowledged, when set, counts the acknowledged submissions as they
	// come, for a caller that acts mid-run (a test that kills the server
	// once enough are in).
	Acknowledged *atomic.Int64
}

// Result is what a run measured.
type Result struct {
	Submitted int
	Failed    int
	Late      int // paced submissions not sent: every worker was busy
	FirstErr  error
	Elapsed   time.Duration
	Latencies []time.Duration // sorted
	Receipts  []Receipt
}

// PerSecond is the acknowledged submissions per second.
func (r Result) PerSecond() float64 { return float64(r.Submitted) / r.Elapsed.Seconds() }

// Percentile is the latency at p (0–100).
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies)-1) * p / 100)
	return r.Latencies[i]
}

// Run submits as fast as Concurrency workers can for Duration (or until
// ctx ends), each worker as one of the applicants in turn, each
// submission with two fresh materials.
func (c *Client) Run(ctx context.Context, applicants []Applicant, t Target, opt Options) Result {
	ctx, cancel := context.WithTimeout(ctx, opt.Duration)
	defer cancel()
	var mu sync.Mutex
	var res Result
	var wg sync.WaitGroup
	start := time.Now()
	// Paced, a ticker hands out the submissions; otherwise each worker
	// sends its next as soon as the last is answered.
	var ticks chan struct{}
	if opt.Rate > 0 {
		ticks = make(chan struct{}, opt.Concurrency)
		go func() {
			defer close(ticks)
			// On a schedule, not a ticker: a ticker drops the ticks a
			// busy machine makes it miss, and the run would send less.
			every := time.Duration(float64(time.Second) / opt.Rate)
			for next := time.Now(); ; next = next.Add(every) {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
					select {
					case ticks <- struct{}{}:
					default:
						mu.Lock()
						res.Late++
						mu.Unlock()
					}
				}
			}
		}()
	}
	pdf := SmallPDF
	if opt.Noisy {
		pdf = NoisyPDF
	}
	for w := range opt.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := w % len(applicants)
			a := applicants[who]
			for n := 0; ctx.Err() == nil; n++ {
				if ticks != nil {
					if _, ok := <-ticks; !ok {
						return
					}
				}
				seed := w<<20 | n
				files := []File{{"申请书.pdf", pdf(seed*2, opt.FileSize)}, {"身份证明.pdf", pdf(seed*2+1, opt.FileSize)}}
				t0 := time.Now()
				r, err := c.Submit(ctx, a, t, files)
				took := time.Since(t0)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						res.Failed++
						if res.FirstErr == nil {
							res.FirstErr = err
						}
					}
				} else {
					r.Applicant = who
					res.Submitted++
					res.Latencies = append(res.Latencies, took)
					res.Receipts = append(res.Receipts, r)
					if opt.Acknowledged != nil {
						opt.Acknowledged.Add(1)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	slices.Sort(res.Latencies)
	return res
}

// Checksum is the SHA-256 of data, as the server names files.
func Checksum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
