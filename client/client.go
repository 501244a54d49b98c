// Package client is a small Go client for the platform's integration API
// (/api/v1/integration/, described in /api/openapi.json): what another
// government system calls with its API key. It is outside internal/ so
// that the departments' own Go systems can import it, and it imports
// nothing of the platform: its types are the OpenAPI document's.
//
//	c := client.New("https://zwfw.example.gov.cn", key)
//	ctx = client.WithPurpose(ctx, "企业开办审批核验")
//	cs, err := c.Case(ctx, "2026…")
//
// Every call states its purpose (the X-Purpose header), which the
// platform requires and writes to its access log.
package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls the platform with one API key.
type Client struct {
	base string
	key  string
	http *http.Client
}

// New returns a client of the platform at base (scheme and host) with key.
func New(base, key string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), key: key, http: &http.Client{Timeout: 30 * time.Second}}
}

// Error is the platform's refusal: the HTTP status, its code and its
// Chinese message, and for 429 how long to wait.
type Error struct {
	Status     int
	Code       string `json:"code"`
	Message    string `json:"message"`
	RetryAfter time.Duration
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// StatusOf returns the HTTP status of a refusal, or 0 for another error.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

type purposeKey struct{}

// WithPurpose returns ctx with the purpose the calls made with it state.
func WithPurpose(ctx context.Context, purpose string) context.Context {
	return context.WithValue(ctx, purposeKey{}, purpose)
}

// Case is a case as a client sees it.
type Case struct {
	Number       string    `json:"number"`
	ItemID       int64     `json:"item_id"`
	ItemVersion  int       `json:"item_version"`
	DepartmentID int64     `json:"department_id"`
	Status       string    `json:"status"`
	StatusName   string    `json:"status_name"`
	Version      int       `json:"version"`
	Channel      string    `json:"channel"`
	Decision     string    `json:"decision,omitempty"`
	DueOn        string    `json:"due_on,omitempty"`
	Result       *Result   `json:"result,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Result describes a case's result file.
type Result struct {
	Filename    string `json:"filename"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type"`
}

// Applicant is the person a client applies for.
type Applicant struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Mobile   string `json:"mobile,omitempty"`
}

// Material is a file handed in for one of the item's materials.
type Material struct {
	Position int
	Filename string
	Data     []byte
}

// Application is a case to open for a person.
type Application struct {
	ItemID    int64
	Applicant Applicant
	Answers   map[string]string
	Materials []Material
}

// Step is a step a department's system reports: Action is accept, refuse,
// correct, review, decide or complete; Version the case's version it acts on.
type Step struct {
	Action    string `json:"action"`
	Version   int    `json:"version"`
	Reason    string `json:"reason,omitempty"`
	Approve   bool   `json:"approve,omitempty"`
	Basis     string `json:"basis,omitempty"`
	Materials []int  `json:"materials,omitempty"`
}

// Item returns a published catalog item as raw JSON (its guide is large
// and changes with the catalog's schema; decode what you need).
func (c *Client) Item(ctx context.Context, id int64) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.do(ctx, "GET", "/items/"+strconv.FormatInt(id, 10), nil, "", &out)
	return out, err
}

// Apply opens a case for a person.
func (c *Client) Apply(ctx context.Context, a Application) (Case, error) {
	type material struct {
		Position int    `json:"position"`
		Filename string `json:"filename"`
		Data     string `json:"data"`
	}
	body := struct {
		ItemID    int64             `json:"item_id"`
		Applicant Applicant         `json:"applicant"`
		Answers   map[string]string `json:"answers"`
		Materials []material        `json:"materials"`
	}{ItemID: a.ItemID, Applicant: a.Applicant, Answers: a.Answers, Materials: []material{}}
	for _, m := range a.Materials {
		body.Materials = append(body.Materials, material{m.Position, m.Filename, base64.StdEncoding.EncodeToString(m.Data)})
	}
	b, err := json.Marshal(body)
	if err != nil {
		return Case{}, err
	}
	var out Case
	err = c.do(ctx, "POST", "/cases", bytes.NewReader(b), "application/json", &out)
	return out, err
}

// Case reads a case by its number.
func (c *Client) Case(ctx context.Context, number string) (Case, error) {
	var out Case
	err := c.do(ctx, "GET", "/cases/"+url.PathEscape(number), nil, "", &out)
	return out, err
}

// Push reports a step taken on a case.
func (c *Client) Push(ctx context.Context, number string, s Step) (Case, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return Case{}, err
	}
	var out Case
	err = c.do(ctx, "POST", "/cases/"+url.PathEscape(number)+"/steps", bytes.NewReader(b), "application/json", &out)
	return out, err
}

// AttachResult completes an approved case at version with its result file.
func (c *Client) AttachResult(ctx context.Context, number string, version int, filename string, data []byte) (Case, error) {
	var out Case
	q := url.Values{"version": {strconv.Itoa(version)}, "filename": {filename}}
	err := c.do(ctx, "PUT", "/cases/"+url.PathEscape(number)+"/result?"+q.Encode(), bytes.NewReader(data), "application/octet-stream", &out)
	return out, err
}

// ResultFile downloads a case's result file.
func (c *Client) ResultFile(ctx context.Context, number string) ([]byte, string, error) {
	resp, err := c.send(ctx, "GET", "/cases/"+url.PathEscape(number)+"/result", nil, "")
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp.Header.Get("Content-Type"), err
}

// Complaint is a complaint as a client reads it: the person's name and
// mobile masked, identity and mobile numbers in the text hidden.
type Complaint struct {
	Number       string    `json:"number"`
	Category     string    `json:"category"`
	Title        string    `json:"title"`
	Description  string    `json:"description"`
	Address      string    `json:"address"`
	RegionCode   string    `json:"region_code"`
	CaseNumber   string    `json:"case_number,omitempty"`
	Channel      string    `json:"channel"`
	Status       string    `json:"status"`
	StatusName   string    `json:"status_name"`
	DepartmentID int64     `json:"department_id"`
	Department   string    `json:"department,omitempty"`
	Name         string    `json:"name"`   // masked: 张*
	Mobile       string    `json:"mobile"` // masked
	DispatchDue  time.Time `json:"dispatch_due"`
	FeedbackDue  time.Time `json:"feedback_due"`
	Version      int       `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Progress     []struct {
		At     time.Time `json:"at"`
		Action string    `json:"action"`
		Detail string    `json:"detail,omitempty"`
	} `json:"progress"`
}

// Complaint reads a complaint by its number (scope complaints).
func (c *Client) Complaint(ctx context.Context, number string) (Complaint, error) {
	var out Complaint
	err := c.do(ctx, "GET", "/complaints/"+url.PathEscape(number), nil, "", &out)
	return out, err
}

// Rating is a 好差评 as a client reads it: the rater masked, no comment.
type Rating struct {
	ID           int64          `json:"id"`
	Of           string         `json:"of"`     // case, complaint or visit
	Number       string         `json:"number"` // the case's or complaint's
	Title        string         `json:"title"`
	ItemID       int64          `json:"item_id,omitempty"`
	DepartmentID int64          `json:"department_id"`
	RegionCode   string         `json:"region_code"`
	Level        int            `json:"level"` // 5 非常满意 … 1 非常不满意
	LevelName    string         `json:"level_name"`
	Bad          bool           `json:"bad"`
	Scores       map[string]int `json:"scores"`
	Channel      string         `json:"channel"`
	Scene        string         `json:"scene"`
	Excluded     bool           `json:"excluded"`
	Rater        string         `json:"rater"` // masked: 张*
	RatedAt      time.Time      `json:"rated_at"`
}

// Ratings reads the ratings after the given id, at most limit (0: 100),
// of one case or complaint if number is not "" (scope ratings). It
// returns the after of the next page: call again with it to follow new
// ratings.
func (c *Client) Ratings(ctx context.Context, after int64, limit int, number string) ([]Rating, int64, error) {
	q := url.Values{"after": {strconv.FormatInt(after, 10)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if number != "" {
		q.Set("number", number)
	}
	var out struct {
		Items []Rating `json:"items"`
		Next  int64    `json:"next"`
	}
	err := c.do(ctx, "GET", "/ratings?"+q.Encode(), nil, "", &out)
	return out.Items, out.Next, err
}

// Subscription is one of the client's webhook subscriptions.
type Subscription struct {
	ID            int64      `json:"id"`
	URL           string     `json:"url"`
	Events        []string   `json:"events"`
	Active        bool       `json:"active"`
	SecretVersion int        `json:"secret_version"`
	PreviousUntil *time.Time `json:"previous_until,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	// Secret is the signing secret, only in the answer of Subscribe and
	// RotateWebhookSecret: keep it, it is not shown again.
	Secret string `json:"secret,omitempty"`
}

// WebhookChange changes a subscription; nil fields stay as they are.
type WebhookChange struct {
	URL    *string  `json:"url,omitempty"`
	Events []string `json:"events,omitempty"`
	Active *bool    `json:"active,omitempty"`
}

// Webhooks lists the client's subscriptions.
func (c *Client) Webhooks(ctx context.Context) ([]Subscription, error) {
	var out struct {
		Items []Subscription `json:"items"`
	}
	err := c.do(ctx, "GET", "/webhooks", nil, "", &out)
	return out.Items, err
}

// Subscribe subscribes the client to events at url; the answer carries
// the signing secret, once. The client's key scopes decide which events
// it may have (403 otherwise).
func (c *Client) Subscribe(ctx context.Context, url string, events ...string) (Subscription, error) {
	var out Subscription
	err := c.doJSON(ctx, "POST", "/webhooks", map[string]any{"url": url, "events": events}, &out)
	return out, err
}

// Webhook reads one of the client's subscriptions.
func (c *Client) Webhook(ctx context.Context, id int64) (Subscription, error) {
	var out Subscription
	err := c.do(ctx, "GET", "/webhooks/"+strconv.FormatInt(id, 10), nil, "", &out)
	return out, err
}

// UpdateWebhook changes a subscription's address, events or state.
func (c *Client) UpdateWebhook(ctx context.Context, id int64, ch WebhookChange) (Subscription, error) {
	var out Subscription
	err := c.doJSON(ctx, "PATCH", "/webhooks/"+strconv.FormatInt(id, 10), ch, &out)
	return out, err
}

// DeleteWebhook deletes a subscription.
func (c *Client) DeleteWebhook(ctx context.Context, id int64) error {
	return c.do(ctx, "DELETE", "/webhooks/"+strconv.FormatInt(id, 10), nil, "", nil)
}

// RotateWebhookSecret gives a subscription a new secret (in the answer,
// once); the old one signs beside it for 24 hours.
func (c *Client) RotateWebhookSecret(ctx context.Context, id int64) (Subscription, error) {
	var out Subscription
	err := c.do(ctx, "POST", "/webhooks/"+strconv.FormatInt(id, 10)+"/rotate", nil, "", &out)
	return out, err
}

// Delivery is one event sent (or to be sent) to a subscription, with
// each attempt: what the receiver answered, or why it was not reached.
type Delivery struct {
	ID          int64      `json:"id"`
	EventID     string     `json:"event_id"` // the same when sent again: drop what you already have
	Type        string     `json:"type"`
	State       string     `json:"state"` // pending, delivered, failed, skipped
	StateName   string     `json:"state_name"`
	Attempts    int        `json:"attempts"`
	LastStatus  int        `json:"last_status,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	NextAt      *time.Time `json:"next_at,omitempty"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
	Redelivered bool       `json:"redelivered"`
	CreatedAt   time.Time  `json:"created_at"`
	Log         []struct {
		Attempt   int       `json:"attempt"`
		At        time.Time `json:"at"`
		Status    int       `json:"status,omitempty"` // 0: no answer
		LatencyMS int64     `json:"latency_ms"`
		Error     string    `json:"error,omitempty"`
	} `json:"log"`
}

// Deliveries reads a subscription's deliveries older than the delivery
// before (0: the newest), newest first, at most limit (0: 50). It returns
// the before of the next, older page, 0 after the last.
func (c *Client) Deliveries(ctx context.Context, subscription, before int64, limit int) ([]Delivery, int64, error) {
	q := url.Values{}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Items  []Delivery `json:"items"`
		Before int64      `json:"before"`
	}
	err := c.do(ctx, "GET", "/webhooks/"+strconv.FormatInt(subscription, 10)+"/deliveries?"+q.Encode(), nil, "", &out)
	return out.Items, out.Before, err
}

// Redeliver sends a delivery's event to the subscription again, once the
// receiver is back; the answer is the new delivery, queued.
func (c *Client) Redeliver(ctx context.Context, subscription, delivery int64) (Delivery, error) {
	var out Delivery
	err := c.do(ctx, "POST", "/webhooks/"+strconv.FormatInt(subscription, 10)+"/deliveries/"+strconv.FormatInt(delivery, 10)+"/redeliver",
		nil, "", &out)
	return out, err
}

func (c *Client) send(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/v1/integration"+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-API-Key", c.key)
	if p, _ := ctx.Value(purposeKey{}).(string); p != "" {
		// Percent-encoded: header values are safest in ASCII.
		req.Header.Set("X-Purpose", url.PathEscape(p))
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		e := &Error{Status: resp.StatusCode}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(e); err != nil {
			e.Message = resp.Status
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return nil, e
	}
	return resp, nil
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	resp, err := c.send(ctx, method, path, body, contentType)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, bytes.NewReader(b), "application/json", out)
}
