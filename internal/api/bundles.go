package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/httpx"
)

// 一件事一次办 (internal/bundle): the published bundles and their guides,
// an application in one multipart request, and its tracking.

type bundleOut struct {
	ID      int64   `json:"id"`
	Name    string  `json:"name"`
	Theme   string  `json:"theme"`
	Summary string  `json:"summary"`
	Items   []int64 `json:"items"`
}

type bundleGuideOut struct {
	bundleOut
	Parts     []bundlePartOut     `json:"parts"`
	Fields    []bundleFieldOut    `json:"fields"`
	Materials []bundleMaterialOut `json:"materials"`
	Longest   int                 `json:"longest_working_days"`
}

type bundlePartOut struct {
	ItemID     int64  `json:"item_id"`
	ItemName   string `json:"item_name"`
	Department string `json:"department"`
	Requires   *int64 `json:"requires_item_id,omitempty"`
	Filled     string `json:"filled_material,omitempty"`
}

type bundleFieldOut struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Options  []string `json:"options,omitempty"`
}

type bundleMaterialOut struct {
	Index     int      `json:"index"`
	Name      string   `json:"name"`
	Necessity string   `json:"necessity"`
	Items     []string `json:"items"`
}

type bundleAppOut struct {
	ID         int64              `json:"id"`
	BundleID   int64              `json:"bundle_id"`
	BundleName string             `json:"bundle_name"`
	Outcome    string             `json:"outcome"`
	OutcomeNm  string             `json:"outcome_name"`
	DueOn      string             `json:"due_on,omitempty"`
	CreatedAt  time.Time          `json:"created_at"`
	Parts      []bundlePartStatus `json:"parts"`
}

type bundlePartStatus struct {
	CaseID     int64  `json:"case_id"`
	Number     string `json:"number"`
	ItemName   string `json:"item_name"`
	Department string `json:"department"`
	Status     string `json:"status"`
	StatusName string `json:"status_name"`
	DueOn      string `json:"due_on,omitempty"`
	HasResult  bool   `json:"has_result"`
}

// BundleApplyPath takes whole applications to a bundle; its body limit
// is MaxSubmissionBytes.
const BundleApplyPath = "/api/v1/bundles/{id}/applications"

func (a *API) bundlesOn() (*bundle.Service, error) {
	if a.bundles == nil {
		return nil, apperr.New(apperr.Unavailable, "本实例未开放“一件事一次办”。")
	}
	return a.bundles, nil
}

func newBundleOut(b bundle.Bundle) bundleOut {
	return bundleOut{ID: b.ID, Name: b.Name, Theme: b.Theme, Summary: b.Summary, Items: append([]int64{}, b.Items...)}
}

func (a *API) listBundles(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.bundlesOn()
	if err != nil {
		return err
	}
	list, err := svc.Published(r.Context())
	if err != nil {
		return err
	}
	out := []bundleOut{}
	for _, b := range list {
		out = append(out, newBundleOut(b))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func bundleParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.NotFound, "没有找到。")
	}
	return id, nil
}

func (a *API) getBundle(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.bundlesOn()
	if err != nil {
		return err
	}
	id, err := bundleParam(r)
	if err != nil {
		return err
	}
	g, err := svc.Guide(r.Context(), id)
	if err != nil {
		return err
	}
	out := bundleGuideOut{bundleOut: newBundleOut(g.Bundle), Parts: []bundlePartOut{}, Fields: []bundleFieldOut{}, Materials: []bundleMaterialOut{}, Longest: g.Longest}
	for _, p := range g.Parts {
		po := bundlePartOut{ItemID: p.Item.ID, ItemName: p.Item.Name, Department: p.Department, Filled: p.Filled}
		if p.Requires >= 0 {
			req := g.Parts[p.Requires].Item.ID
			po.Requires = &req
		}
		out.Parts = append(out.Parts, po)
	}
	for _, sec := range g.Form {
		for _, f := range sec.Fields {
			out.Fields = append(out.Fields, bundleFieldOut{Key: f.Key, Label: f.Label, Type: f.Type, Required: f.Required, Options: f.Options})
		}
	}
	for i, m := range g.Materials {
		out.Materials = append(out.Materials, bundleMaterialOut{Index: i, Name: m.Name, Necessity: m.Necessity, Items: m.ItemNames})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func newBundleAppOut(app bundle.Application) bundleAppOut {
	out := bundleAppOut{ID: app.ID, BundleID: app.BundleID, BundleName: app.BundleName, Outcome: string(app.Outcome), OutcomeNm: app.Outcome.Name(),
		CreatedAt: app.CreatedAt, Parts: []bundlePartStatus{}}
	if !app.DueOn.IsZero() {
		out.DueOn = app.DueOn.String()
	}
	for _, p := range app.Parts {
		ps := bundlePartStatus{CaseID: p.CaseID, Number: p.Number, ItemName: p.ItemName, Department: p.Department, Status: string(p.Status),
			StatusName: p.Status.Name(), HasResult: p.HasResult}
		if !p.DueOn.IsZero() {
			ps.DueOn = p.DueOn.String()
		}
		out.Parts = append(out.Parts, ps)
	}
	return out
}

// applyBundle takes a whole application to a bundle in one multipart
// request: the combined form as JSON and a file per merged material
// (material_0 … by the material's index in the guide).
func (a *API) applyBundle(w http.ResponseWriter, r *http.Request) (err error) {
	var stored []string
	defer func() {
		if err != nil && len(stored) > 0 {
			a.discard(r, stored...)
		}
	}()
	svc, err := a.bundlesOn()
	if err != nil {
		return err
	}
	id, err := bundleParam(r)
	if err != nil {
		return err
	}
	who, err := a.who(r)
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return apperr.New(apperr.Invalid, "请求应为 multipart/form-data：form（JSON）和各材料文件 material_0、material_1 …")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return apperr.Wrap(apperr.Invalid, "请求格式不正确。", err)
	}
	answers := map[string]string{}
	files := map[int]casework.Attachment{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bodyError(err)
		}
		name := part.FormName()
		if err := httpx.CheckText("", name, false); err != nil {
			return err
		}
		if err := httpx.CheckText("", part.FileName(), false); err != nil {
			return err
		}
		switch {
		case name == "form":
			v, err := smallValue(part)
			if err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(v), &answers); err != nil {
				return apperr.New(apperr.Invalid, "form 应为 JSON 对象，键为字段名，值为字符串。")
			}
			for k, v := range answers {
				if err := httpx.CheckText(k, v, true); err != nil {
					return err
				}
			}
		case strings.HasPrefix(name, "material_"):
			n, err := strconv.Atoi(strings.TrimPrefix(name, "material_"))
			if err != nil || n < 0 || part.FileName() == "" {
				return apperr.New(apperr.Invalid, "材料文件的字段名应为 material_ 加合并材料的序号，如 material_0。")
			}
			if _, dup := files[n]; dup {
				return apperr.New(apperr.Invalid, fmt.Sprintf("%s 重复提交了。", name))
			}
			f, err := a.attachment(r, part)
			if err != nil {
				return err
			}
			if f.Data == nil {
				stored = append(stored, f.Object.SHA256)
			}
			files[n] = f
		default:
			return apperr.New(apperr.Invalid, "不认识的字段："+name)
		}
		part.Close()
	}
	app, err := svc.Apply(r.Context(), who, id, answers, files)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/me/bundles/%d", app.ID))
	httpx.WriteJSON(w, http.StatusCreated, newBundleAppOut(app))
	return nil
}

func (a *API) getBundleApplication(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.bundlesOn()
	if err != nil {
		return err
	}
	id, err := bundleParam(r)
	if err != nil {
		return err
	}
	who, err := a.who(r)
	if err != nil {
		return err
	}
	app, err := svc.Application(r.Context(), who, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, newBundleAppOut(app))
	return nil
}
