package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/staging"
)

// SessionCookie is the cookie the web pages sign people in with; the API
// accepts it too, so that a page's script and the app share one session.
const SessionCookie = "zwfw_session"

// MaxSubmissionBytes bounds a whole submission: the form and every
// material, each at most casework.MaxMaterialBytes.
const MaxSubmissionBytes = 64 << 20

// CasesPath takes whole submissions; its body limit is MaxSubmissionBytes.
const CasesPath = "/api/v1/cases"

// who resolves the caller from a bearer token or the session cookie.
func (a *API) who(r *http.Request) (policy.Subject, error) {
	token := ""
	if h := r.Header.Get("Authorization"); h != "" {
		t, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || t == "" {
			return policy.Subject{}, apperr.New(apperr.Unauthorized, "Authorization 头应为 Bearer 加会话令牌。")
		}
		token = t
	} else if c, err := r.Cookie(SessionCookie); err == nil {
		token = c.Value
	}
	if token == "" {
		return policy.Subject{}, apperr.New(apperr.Unauthorized, "请先登录。")
	}
	if a.authenticate == nil {
		return policy.Subject{}, apperr.New(apperr.Unavailable, "本实例未开放办件接口。")
	}
	return a.authenticate(r.Context(), token)
}

// caseOut is a case as the API shows it to its applicant.
type caseOut struct {
	ID          int64         `json:"id"`
	Number      string        `json:"number"`
	ItemID      int64         `json:"item_id"`
	ItemVersion int           `json:"item_version"`
	Status      string        `json:"status"`
	StatusName  string        `json:"status_name"`
	DueOn       string        `json:"due_on,omitempty"`
	Materials   []materialOut `json:"materials"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

type materialOut struct {
	Position    int    `json:"position"`
	Name        string `json:"name"`
	Filename    string `json:"filename"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
}

func newCaseOut(c casework.Case, mats []casework.Material) caseOut {
	out := caseOut{ID: c.ID, Number: c.Number, ItemID: c.ItemID, ItemVersion: c.ItemVersion, Status: string(c.Status),
		StatusName: c.Status.Name(), Materials: []materialOut{}, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if c.DueOn != (calendar.Date{}) {
		out.DueOn = c.DueOn.String()
	}
	for _, m := range mats {
		out.Materials = append(out.Materials, materialOut{m.Position, m.Name, m.Filename, m.SHA256, m.Size, m.ContentType})
	}
	return out
}

// createCase takes a whole application in one multipart request: the
// item, the form as JSON and a file per material (material_0, material_1
// … by the material's position in the item). Files are stored as they
// stream in; the case, its materials and its submission are then written
// in one transaction. 201 means it is durable.
func (a *API) createCase(w http.ResponseWriter, r *http.Request) (err error) {
	// Large materials are in the file store before the case is written:
	// a refused request deletes those that no other case refers to.
	var stored []string
	defer func() {
		if err != nil && len(stored) > 0 {
			a.discard(r, stored...)
		}
	}()
	who, err := a.who(r)
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return apperr.New(apperr.Invalid, "请求应为 multipart/form-data：item_id、form（JSON）和各材料文件 material_0、material_1 …")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return apperr.Wrap(apperr.Invalid, "请求格式不正确。", err)
	}
	var itemID int64
	var answers map[string]string
	var files []casework.Attachment
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bodyError(err)
		}
		// The middleware leaves streamed multipart bodies to this
		// handler: names and file names are checked here, the form's
		// answers below, with the same rules (httpx.CheckText).
		name := part.FormName()
		if err := httpx.CheckText("", name, false); err != nil {
			return err
		}
		if err := httpx.CheckText("", part.FileName(), false); err != nil {
			return err
		}
		switch {
		case name == "item_id":
			v, err := smallValue(part)
			if err != nil {
				return err
			}
			if itemID, err = strconv.ParseInt(v, 10, 64); err != nil {
				return apperr.New(apperr.Invalid, "item_id 应为事项编号（整数）。")
			}
		case name == "form":
			v, err := smallValue(part)
			if err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(v), &answers); err != nil {
				return apperr.New(apperr.Invalid, "form 应为 JSON 对象，键为字段名，值为字符串。")
			}
		case strings.HasPrefix(name, "material_"):
			pos, err := strconv.Atoi(strings.TrimPrefix(name, "material_"))
			if err != nil || pos < 0 {
				return apperr.New(apperr.Invalid, "材料文件的字段名应为 material_ 加材料序号，如 material_0。")
			}
			if part.FileName() == "" {
				return apperr.New(apperr.Invalid, name+" 应为文件。")
			}
			f, err := a.attachment(r, part)
			if err != nil {
				return err
			}
			if f.Data == nil {
				stored = append(stored, f.Object.SHA256)
			}
			f.Position = pos
			files = append(files, f)
		default:
			return apperr.New(apperr.Invalid, "不认识的字段："+name)
		}
		part.Close()
	}
	if itemID == 0 {
		return apperr.New(apperr.Invalid, "请给出 item_id。")
	}
	if len(answers) > 0 {
		// The item says which answers may hold line breaks; an item that
		// cannot be had is refused by Apply.
		it, _ := a.catalog.PublishedRecent(r.Context(), itemID)
		for k, v := range answers {
			if err := httpx.CheckText("", k, false); err != nil {
				return err
			}
			if err := httpx.CheckText(k, v, it.MultiLine(k)); err != nil {
				return err
			}
		}
	}
	c, err := a.cases.Apply(r.Context(), who, itemID, answers, files)
	if err != nil {
		return err
	}
	mats := make([]casework.Material, 0, len(files))
	it, err := a.catalog.Version(r.Context(), c.ItemID, c.ItemVersion)
	if err != nil {
		return err
	}
	for _, f := range files {
		mats = append(mats, casework.Material{Position: f.Position, Name: it.Materials[f.Position].Name, Filename: f.Filename,
			SHA256: f.Object.SHA256, Size: f.Object.Size, ContentType: f.Object.ContentType})
	}
	w.Header().Set("Location", fmt.Sprintf("%s/%d", CasesPath, c.ID))
	httpx.WriteJSON(w, http.StatusCreated, newCaseOut(c, mats))
	return nil
}

// attachment reads one material. A small file is kept in memory, to be
// staged with the case in its transaction (one flush to disk for both);
// a larger one is streamed to the file store — content-addressed, so a
// file stored for a request that then fails is harmless.
func (a *API) attachment(r *http.Request, part *multipart.Part) (casework.Attachment, error) {
	head, err := io.ReadAll(io.LimitReader(part, staging.MaxBytes+1))
	if err != nil {
		return casework.Attachment{}, bodyError(err)
	}
	f := casework.Attachment{Filename: part.FileName()}
	if len(head) <= staging.MaxBytes {
		f.Object, err = filestore.Inspect(head, casework.MaxMaterialBytes)
		f.Data = head
	} else {
		f.Object, err = a.files.Put(r.Context(), io.MultiReader(bytes.NewReader(head), part), casework.MaxMaterialBytes)
	}
	return f, err
}

// discard deletes files a refused request stored, unless a case refers to
// them (staging.Store.Discard); a failure only leaves them to the sweeper.
func (a *API) discard(r *http.Request, sums ...string) {
	d, ok := a.files.(interface {
		Discard(context.Context, ...string) (int, error)
	})
	if !ok {
		return
	}
	if _, err := d.Discard(context.WithoutCancel(r.Context()), sums...); err != nil && a.log != nil {
		a.log.Warn("refused upload not deleted", "request_id", httpx.RequestID(r.Context()), "err", err)
	}
}

// getCase shows a case to whoever may see it: its applicant, or staff.
func (a *API) getCase(w http.ResponseWriter, r *http.Request) error {
	who, err := a.who(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "没有找到该办件。")
	}
	c, _, err := a.cases.Get(r.Context(), who, id)
	if err != nil {
		return err
	}
	mats, err := a.cases.MaterialsOf(r.Context(), who, c.ID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, newCaseOut(c, mats))
	return nil
}

// smallValue reads a form value, refusing anything over 64 KiB.
func smallValue(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 64<<10+1))
	if err != nil {
		return "", bodyError(err)
	}
	if len(b) > 64<<10 {
		return "", apperr.New(apperr.TooLarge, "表单内容过长（最多 64 KB）。")
	}
	return string(b), nil
}

// bodyError tells a body over the server's limit from a broken one.
func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return apperr.Wrap(apperr.TooLarge, fmt.Sprintf("请求过大（最多 %d MB）。", MaxSubmissionBytes>>20), err)
	}
	return apperr.Wrap(apperr.Invalid, "请求格式不正确或不完整。", err)
}
