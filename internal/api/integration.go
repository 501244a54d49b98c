package api

// Integration (issue 12): the operations other government systems call
// with an API key of an API client (internal/integration). Every call
// states its purpose (X-Purpose), is counted against its client's rate
// limit, checked against the sharing directory, and written to the
// data-sharing access log with the records it read or wrote.

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/staging"
)

// IntegrationPath is where the clients' operations live.
const IntegrationPath = "/api/v1/integration"

// ClientApplicantFunc finds or opens, in a case's transaction, the
// account of the person a client applies for (identity.ClientApplicant).
type ClientApplicantFunc func(who policy.Subject, name, idNumber, mobile, ip string) (casework.Applicant, error)

// clientOp is a client's operation: the scope it needs, and its work on
// the call (which checks the directory and names the records).
type clientOp func(w http.ResponseWriter, r *http.Request, call *integration.Call) error

// client wraps a client's operation: the key (X-API-Key or Bearer),
// purpose and rate limit first; then the operation, whose records and
// outcome are logged.
func (a *API) client(scope string, op clientOp) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if a.integration == nil {
			return apperr.New(apperr.Unavailable, "本实例未开放共享接口。")
		}
		raw := r.Header.Get("X-API-Key")
		if raw == "" {
			raw, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		call, err := a.integration.Begin(r.Context(), raw, r.Header.Get(integration.PurposeHeader), r.Pattern, scope)
		if wait, ok := integration.RetryAfter(err); ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)))
		}
		if err != nil {
			return err
		}
		rec := &statusWriter{ResponseWriter: w}
		err = op(rec, r, call)
		status := rec.status
		if err != nil {
			status = httpx.Status(err)
		}
		if lerr := call.Finish(r.Context(), status, err); lerr != nil && err == nil {
			// The answer was written already; a read that could not be
			// logged is an internal failure in the server's log.
			return lerr
		}
		return err
	}
}

// statusWriter remembers the status an operation answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// integrationItem: a published item as a client reads it (catalog.read).
func (a *API) integrationItem(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.Invalid, "事项编号应为整数")
	}
	it, _, err := a.catalog.Published(r.Context(), id)
	if err != nil {
		return err
	}
	if err := call.Allow(r.Context(), integration.DataCatalog, it.DepartmentID); err != nil {
		return err
	}
	call.Touch("item:" + strconv.FormatInt(it.ID, 10))
	httpx.WriteJSON(w, http.StatusOK, it)
	return nil
}

// clientCaseOut is a case as a client sees it: no personal answers.
type clientCaseOut struct {
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
	Result       *resultOf `json:"result,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

type resultOf struct {
	Filename    string `json:"filename"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type"`
}

func newClientCase(c casework.Case) clientCaseOut {
	out := clientCaseOut{Number: c.Number, ItemID: c.ItemID, ItemVersion: c.ItemVersion, DepartmentID: c.DepartmentID,
		Status: string(c.Status), StatusName: c.Status.Name(), Version: c.Version, Channel: c.Channel, Decision: c.Decision,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if !c.DueOn.IsZero() {
		out.DueOn = c.DueOn.String()
	}
	if c.ResultSHA256 != "" {
		out.Result = &resultOf{Filename: c.ResultName, SHA256: c.ResultSHA256, ContentType: c.ResultType}
	}
	return out
}

// clientApplication is what a client sends to apply for a person.
type clientApplication struct {
	ItemID    int64 `json:"item_id"`
	Applicant struct {
		Name     string `json:"name"`
		IDNumber string `json:"id_number"`
		Mobile   string `json:"mobile"`
	} `json:"applicant"`
	Answers   map[string]string `json:"answers"`
	Materials []struct {
		Position int    `json:"position"`
		Filename string `json:"filename"`
		Data     string `json:"data"` // base64
	} `json:"materials"`
}

// integrationApply opens a case for a person (cases.create).
func (a *API) integrationApply(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	var in clientApplication
	if err := httpx.DecodeJSON(r.Body, &in, "请求格式不正确或不完整。"); err != nil {
		return err
	}
	it, _, err := a.catalog.Published(r.Context(), in.ItemID)
	if err != nil {
		return err
	}
	if err := call.Allow(r.Context(), integration.DataCases, it.DepartmentID); err != nil {
		return err
	}
	if a.clientApplicant == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放代为申请。")
	}
	who := call.Subject()
	find, err := a.clientApplicant(who, in.Applicant.Name, in.Applicant.IDNumber, in.Applicant.Mobile, httpx.ClientIP(r.Context()))
	if err != nil {
		return err
	}
	var files []casework.Attachment
	for _, m := range in.Materials {
		data, err := base64.StdEncoding.DecodeString(m.Data)
		if err != nil {
			return apperr.New(apperr.Invalid, fmt.Sprintf("第 %d 项材料的内容不是有效的 base64。", m.Position+1))
		}
		f := casework.Attachment{Position: m.Position, Filename: m.Filename}
		if len(data) <= staging.MaxBytes {
			f.Object, err = filestore.Inspect(data, casework.MaxMaterialBytes)
			f.Data = data
		} else {
			f.Object, err = a.files.Put(r.Context(), bytes.NewReader(data), casework.MaxMaterialBytes)
		}
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	call.Success = http.StatusCreated
	c, err := a.cases.ApplyFor(call.Context(r.Context()), who, in.ItemID, find, in.Answers, files)
	if err != nil {
		return err
	}
	w.Header().Set("Location", IntegrationPath+"/cases/"+c.Number)
	httpx.WriteJSON(w, http.StatusCreated, newClientCase(c))
	return nil
}

// clientCase finds the case a client names by its number, checks the
// directory for data of the case's department and names its records.
func (a *API) clientCase(ctx context.Context, call *integration.Call, number, data string) (casework.Case, error) {
	id, err := a.cases.IDByNumber(ctx, number)
	if err != nil {
		return casework.Case{}, err
	}
	c, _, err := a.cases.Get(ctx, call.Subject(), id)
	if err != nil {
		return casework.Case{}, err
	}
	if err := call.Allow(ctx, data, c.DepartmentID); err != nil {
		return casework.Case{}, err
	}
	call.Touch(integration.CaseRecord(c.Number), integration.AccountRecord(c.ApplicantID))
	return c, nil
}

// integrationCase reads a case: status, decision and result (results.read).
func (a *API) integrationCase(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	c, err := a.clientCase(r.Context(), call, r.PathValue("number"), integration.DataCases)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, newClientCase(c))
	return nil
}

// clientStep is a step a department's system reports.
type clientStep struct {
	Action    string `json:"action"` // accept, refuse, correct, review, decide, complete
	Version   int    `json:"version"`
	Reason    string `json:"reason"`
	Approve   bool   `json:"approve"`
	Basis     string `json:"basis"`
	Materials []int  `json:"materials"` // correct: positions of the materials to hand in again
}

// integrationStep pushes a case's step (cases.status), through the same
// domain methods as the department's staff.
func (a *API) integrationStep(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	var in clientStep
	if err := httpx.DecodeJSON(r.Body, &in, "请求格式不正确或不完整。"); err != nil {
		return err
	}
	c, err := a.clientCase(r.Context(), call, r.PathValue("number"), integration.DataCases)
	if err != nil {
		return err
	}
	ctx, who := call.Context(r.Context()), call.Subject()
	switch in.Action {
	case "accept":
		c, err = a.cases.Act(ctx, who, c.ID, in.Version, casework.Accept, in.Reason)
	case "refuse":
		c, err = a.cases.Act(ctx, who, c.ID, in.Version, casework.Refuse, in.Reason)
	case "review":
		c, err = a.cases.Act(ctx, who, c.ID, in.Version, casework.Review, in.Reason)
	case "correct":
		c, err = a.cases.AskCorrection(ctx, who, c.ID, in.Version, in.Reason, in.Materials)
	case "decide":
		c, err = a.cases.Decide(ctx, who, c.ID, in.Version, in.Approve, in.Reason, in.Basis)
	case "complete":
		c, err = a.cases.Complete(ctx, who, c.ID, in.Version, filestore.Object{}, "")
	default:
		return apperr.New(apperr.Invalid, "办理步骤应为 accept、refuse、correct、review、decide 或 complete；准予办结须上传结果（PUT …/result）。")
	}
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, newClientCase(c))
	return nil
}

// integrationAttachResult completes an approved case with its result file
// (results.attach; the department's system needs cases.status as well,
// since completing is its step): the body is the file (PDF, JPEG or PNG),
// ?version= the case's version and ?filename= its name.
func (a *API) integrationAttachResult(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	version, err := strconv.Atoi(r.URL.Query().Get("version"))
	if err != nil {
		return apperr.New(apperr.Invalid, "请在参数 version 中给出办件的版本号。")
	}
	c, err := a.clientCase(r.Context(), call, r.PathValue("number"), integration.DataResults)
	if err != nil {
		return err
	}
	obj, err := a.files.Put(r.Context(), r.Body, casework.MaxMaterialBytes)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return bodyError(err)
		}
		return err
	}
	name := strings.TrimSpace(r.URL.Query().Get("filename"))
	if name == "" {
		name = "办理结果"
	}
	c, err = a.cases.Complete(call.Context(r.Context()), call.Subject(), c.ID, version, obj, name)
	if err != nil {
		a.discard(r, obj.SHA256)
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, newClientCase(c))
	return nil
}

// integrationResult sends a case's result file (results.read).
func (a *API) integrationResult(w http.ResponseWriter, r *http.Request, call *integration.Call) error {
	c, err := a.clientCase(r.Context(), call, r.PathValue("number"), integration.DataResults)
	if err != nil {
		return err
	}
	if c.ResultSHA256 == "" {
		return apperr.New(apperr.NotFound, "该办件尚无办理结果。")
	}
	f, obj, err := a.files.Open(r.Context(), c.ResultSHA256)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", obj.ContentType)
	w.Header().Set("Content-Length", strconv.FormatInt(obj.Size, 10))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, f); err != nil {
		httpx.LogError(a.log, r, err) // the status is out: only the log can tell
	}
	return nil
}
