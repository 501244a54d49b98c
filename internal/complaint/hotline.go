package complaint

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/store"
)

// The 12345 hotline system hands complaints to the district as 工单
// (POST /api/v1/complaints, channel hotline_12345) and is told their status
// back as it changes: every step that changes a hotline complaint's state
// enqueues, in the step's transaction, a durable job that posts the
// complaint's status to the hotline's address (Options.Hotline). A failed
// post is retried by the queue. Each post carries the status when it is
// sent, with the complaint's version, so the hotline can drop an update
// older than one it has (two jobs may run out of order after a retry).

// HotlineSystem is where a hotline complaint's status is sent.
type HotlineSystem struct {
	URL    string       // "" sends nothing
	Token  string       // sent as Authorization: Bearer, if set
	Client *http.Client // nil: one with a 10-second timeout
}

// HotlineStatusArgs is the durable job that tells the hotline a status.
type HotlineStatusArgs struct {
	ComplaintID int64 `json:"complaint_id"`
}

func (HotlineStatusArgs) Kind() string { return "complaint_hotline_status" }

// HotlineStatus is the body posted to the hotline.
type HotlineStatus struct {
	WorkOrderID string    `json:"work_order_id"` // the hotline's 工单 id
	Number      string    `json:"number"`        // ours
	Status      Status    `json:"status"`
	StatusName  string    `json:"status_name"`
	Unit        string    `json:"unit,omitempty"`   // the owning unit, once dispatched
	Answer      string    `json:"answer,omitempty"` // the unit's reply, once replied
	Resolved    *bool     `json:"resolved,omitempty"`
	Satisfied   *bool     `json:"satisfied,omitempty"`
	Version     int       `json:"version"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// HotlineWorker posts HotlineStatusArgs jobs.
type HotlineWorker struct {
	river.WorkerDefaults[HotlineStatusArgs]
	Service *Service
}

// Work posts the complaint's current status; an answer other than 2xx is
// an error, which the queue retries with backoff.
func (w *HotlineWorker) Work(ctx context.Context, job *river.Job[HotlineStatusArgs]) error {
	h := w.Service.opt.Hotline
	if h.URL == "" {
		return nil
	}
	body, err := w.Service.hotlineStatus(ctx, job.Args.ComplaintID)
	if err != nil {
		return err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("12345 status for %s: %w", body.Number, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("12345 status for %s: HTTP %d", body.Number, resp.StatusCode)
	}
	return nil
}

// hotlineStatus is what the hotline is told of complaint id now.
func (s *Service) hotlineStatus(ctx context.Context, id int64) (HotlineStatus, error) {
	c, err := load(ctx, s.db.Read(), `c.id = ?`, id)
	if err != nil {
		return HotlineStatus{}, err
	}
	st := HotlineStatus{WorkOrderID: c.ExternalID, Number: c.Number, Status: c.Status, StatusName: c.Status.Name(),
		Unit: c.Department, Resolved: c.Resolved, Satisfied: c.Satisfied, Version: c.Version, UpdatedAt: c.UpdatedAt}
	if c.RepliedAt != nil {
		err := s.db.Read().QueryRow(ctx, `SELECT detail FROM complaint_events WHERE complaint_id = ? AND action = ?
			ORDER BY id DESC LIMIT 1`, c.ID, Reply).Scan(&st.Answer)
		if err != nil {
			return st, fmt.Errorf("the reply of %s: %w", c.Number, err)
		}
	}
	return st, nil
}

// tellHotline enqueues the status update of a hotline complaint whose
// state a step changed.
func (s *Service) tellHotline(ctx context.Context, tx *store.Tx, c Complaint) error {
	if c.Channel != Hotline || c.ExternalID == "" || s.opt.Hotline.URL == "" || s.opt.Queue == nil {
		return nil
	}
	return s.opt.Queue.Enqueue(ctx, tx, HotlineStatusArgs{ComplaintID: c.ID}, nil)
}
