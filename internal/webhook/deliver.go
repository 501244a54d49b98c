package webhook

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// DeliverArgs is the durable job that posts one delivery.
type DeliverArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

func (DeliverArgs) Kind() string { return "webhook_deliver" }

// Worker posts DeliverArgs jobs; app registers it.
type Worker struct {
	river.WorkerDefaults[DeliverArgs]
	Service *Service
}

// backoff is the wait after the attempt-th failed attempt: Backoff
// doubled at each failure, at most MaxBackoff.
func (s *Service) backoff(attempt int) time.Duration {
	d := s.opt.Backoff
	for i := 1; i < attempt && d < s.opt.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.opt.MaxBackoff)
}

// NextRetry schedules the next attempt by the service's backoff rather
// than River's default (attempt⁴ seconds).
func (w *Worker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return time.Now().Add(w.Service.backoff(job.Attempt))
}

// Timeout lets an attempt run its HTTP timeout and record the outcome.
func (w *Worker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.Service.opt.Timeout + 10*time.Second
}

// Work makes one attempt. A delivery already done, or one whose
// subscription was paused or deleted or whose client was revoked
// meanwhile, is not sent. An answer other than 2xx, or none within the timeout, is an
// error: the queue retries it after the backoff, and the last attempt
// fails the delivery.
func (w *Worker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	s := w.Service
	var d struct {
		state, url, sealed, previous, publicID, typ, body string
		version, attempts                                 int
		until                                             sql.NullTime
		active                                            bool
		revoked                                           sql.NullTime
	}
	err := s.db.Read().QueryRow(ctx, `SELECT d.state, s.url, s.secret, s.previous_secret, s.previous_until, s.secret_version, s.active,
		c.revoked_at, e.public_id, e.type, e.body, d.attempts
		FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id JOIN api_clients c ON c.id = s.client_id
		JOIN webhook_events e ON e.id = d.event_id WHERE d.id = ?`, job.Args.DeliveryID).Scan(&d.state, &d.url, &d.sealed, &d.previous,
		&d.until, &d.version, &d.active, &d.revoked, &d.publicID, &d.typ, &d.body, &d.attempts)
	if errors.Is(err, sql.ErrNoRows) || err == nil && d.state != "pending" {
		return nil
	}
	if err != nil {
		return err
	}
	if !d.active || d.revoked.Valid {
		return s.finish(ctx, job.Args.DeliveryID, "skipped", "订阅已暂停或接入系统已停用，未推送")
	}
	now := s.clock.Now()
	secret, err := s.open(d.sealed)
	if err != nil {
		return err
	}
	sig := "v" + strconv.Itoa(d.version) + "=" + Signature(secret, now.Unix(), []byte(d.body))
	if d.previous != "" && d.until.Valid && now.Before(d.until.Time) {
		old, err := s.open(d.previous)
		if err != nil {
			return err
		}
		sig += ",v" + strconv.Itoa(d.version-1) + "=" + Signature(old, now.Unix(), []byte(d.body))
	}
	status, latency, sendErr := s.post(ctx, d.url, []byte(d.body), map[string]string{HeaderID: d.publicID, HeaderEvent: d.typ,
		HeaderTimestamp: strconv.FormatInt(now.Unix(), 10), HeaderSignature: sig})
	final := job.Attempt >= job.MaxAttempts
	if err := s.record(ctx, job.Args.DeliveryID, d.attempts+1, now, status, latency, sendErr, final); err != nil {
		return err
	}
	return sendErr
}

// post sends body to u and returns the answer's status and how long it
// took; an answer other than 2xx is an error.
func (s *Service) post(ctx context.Context, u string, body []byte, headers map[string]string) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "zwfw-webhook/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, time.Since(start), err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, took, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, took, nil
}

// record writes an attempt and where its delivery now stands.
func (s *Service) record(ctx context.Context, id int64, attempt int, at time.Time, status int, latency time.Duration, sendErr error, final bool) error {
	msg := ""
	if sendErr != nil {
		msg = shorten(sendErr.Error(), 300)
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_attempts (delivery_id, attempt, at, status, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?)`,
			id, attempt, at, status, latency.Milliseconds(), msg); err != nil {
			return err
		}
		state, next, done := "pending", any(at.Add(s.backoff(attempt))), any(nil)
		switch {
		case sendErr == nil:
			state, next, done = "delivered", nil, at
		case final:
			state, next, done = "failed", nil, at
		}
		_, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = ?, attempts = ?, last_status = ?, last_error = ?, next_at = ?, done_at = ?
			WHERE id = ?`, state, attempt, status, msg, next, done, id)
		return err
	})
}

// finish closes a delivery without an attempt.
func (s *Service) finish(ctx context.Context, id int64, state, why string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = ?, last_error = ?, next_at = NULL, done_at = ? WHERE id = ?`,
			state, why, s.clock.Now(), id)
		return err
	})
}

func shorten(v string, n int) string {
	if len(v) <= n {
		return v
	}
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n] + "…"
}

// Delivery is one event sent (or to be sent) to one subscription.
type Delivery struct {
	ID             int64
	SubscriptionID int64
	EventID        string // the event's public id
	Type           string
	State          string // pending, delivered, failed, skipped
	Attempts       int
	LastStatus     int
	LastError      string
	NextAt         time.Time // the next attempt, while pending
	DoneAt         time.Time
	RedeliveredBy  string // who asked for it again; "" for the first delivery
	CreatedAt      time.Time
	Log            []Attempt
}

// StateName is the delivery state's Chinese name.
func (d Delivery) StateName() string {
	switch d.State {
	case "pending":
		if d.Attempts > 0 {
			return "等待重试"
		}
		return "待推送"
	case "delivered":
		return "已送达"
	case "failed":
		return "失败"
	case "skipped":
		return "未推送"
	}
	return d.State
}

var errNoDelivery = apperr.New(apperr.NotFound, "没有这条推送记录。")

// Attempt is one try of a delivery.
type Attempt struct {
	Attempt int
	At      time.Time
	Status  int // 0: no answer
	Latency time.Duration
	Error   string
}

// Deliveries returns the newest deliveries of a subscription older than
// the delivery before (0: the newest), at most limit, with their
// attempts: to an administrator, or to the subscription's client, which
// reads why its receiver refused an event.
func (s *Service) Deliveries(ctx context.Context, who policy.Subject, subscription, before int64, limit int) ([]Delivery, error) {
	if _, err := s.Get(ctx, who, subscription); err != nil {
		return nil, err
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := s.db.Read().Query(ctx, `SELECT d.id, d.subscription_id, e.public_id, e.type, d.state, d.attempts, d.last_status, d.last_error,
		d.next_at, d.done_at, d.redelivered_by, d.created_at FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
		WHERE d.subscription_id = ? AND d.id < ? ORDER BY d.id DESC LIMIT ?`, subscription, before, limit)
	if err != nil {
		return nil, fmt.Errorf("webhook: deliveries: %w", err)
	}
	var out []Delivery
	index := map[int64]int{}
	for rows.Next() {
		var d Delivery
		var next, done sql.NullTime
		if err := rows.Scan(&d.ID, &d.SubscriptionID, &d.EventID, &d.Type, &d.State, &d.Attempts, &d.LastStatus, &d.LastError, &next, &done,
			&d.RedeliveredBy, &d.CreatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		d.NextAt, d.DoneAt = next.Time, done.Time
		index[d.ID] = len(out)
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]string, 0, len(out))
	args := make([]any, 0, len(out))
	for _, d := range out {
		ids = append(ids, "?")
		args = append(args, d.ID)
	}
	rows, err = s.db.Read().Query(ctx, `SELECT delivery_id, attempt, at, status, latency_ms, error FROM webhook_attempts
		WHERE delivery_id IN (`+strings.Join(ids, ", ")+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("webhook: attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, ms int64
		var a Attempt
		if err := rows.Scan(&id, &a.Attempt, &a.At, &a.Status, &ms, &a.Error); err != nil {
			return nil, err
		}
		a.Latency = time.Duration(ms) * time.Millisecond
		out[index[id]].Log = append(out[index[id]].Log, a)
	}
	return out, rows.Err()
}

// Redeliver sends the event of a delivery of subscription sub again to
// it, as a new delivery with the same event id (receivers drop what they
// already have). An administrator may, or the subscription's client (once
// its receiver is back from an outage); it is audited.
func (s *Service) Redeliver(ctx context.Context, who policy.Subject, meta audit.Meta, sub, delivery int64) (int64, error) {
	if who.Kind != policy.Client {
		if err := admin(who, policy.Edit); err != nil {
			return 0, err
		}
	}
	if s.queue == nil {
		return 0, apperr.New(apperr.Unavailable, "后台任务未启用，不能重新推送。")
	}
	var id int64
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var event int64
		var publicID, typ string
		err := tx.QueryRow(ctx, `SELECT d.event_id, e.public_id, e.type FROM webhook_deliveries d
			JOIN webhook_events e ON e.id = d.event_id WHERE d.id = ? AND d.subscription_id = ?`, delivery, sub).Scan(&event, &publicID, &typ)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoDelivery
		}
		if err != nil {
			return err
		}
		sb, err := get(ctx, tx, sub)
		if err != nil {
			return err
		}
		if err := mayOwn(who, policy.Edit, sb.ClientID); err != nil {
			if who.Kind == policy.Client {
				return errNoDelivery // another client's: as if there were none
			}
			return err
		}
		if !sb.Active || sb.ClientRevoked {
			return apperr.New(apperr.Conflict, "该订阅已暂停或其接入系统已停用，请先恢复再重新推送。")
		}
		now := s.clock.Now()
		if id, err = s.deliver(ctx, tx, sub, event, actorName(who), now); err != nil {
			return err
		}
		return audit.Append(ctx, tx, audit.Entry{At: now, ActorID: who.AccountID, Actor: actorName(who), Action: ActionRedeliver,
			Object: object(sub), Detail: fmt.Sprintf("向接入系统「%s」重新推送事件 %s（%s），原推送记录 %d", sb.Client, publicID,
				typ, delivery), IP: meta.IP, RegionCode: who.RegionCode})
	})
	return id, err
}
