package web

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/policy"
)

// The catalog managers' pages of 一件事一次办: the bundles, each edited as
// lines of text (as an item's workflow is), published and taken back.

func init() {
	adminTools = append(adminTools, adminTool{"GET /admin/bundles", "/admin/bundles", "一件事一次办", "把多个事项组合成一件事：合并申请表和材料，设置前置关系，发布或撤回"})
	for k, v := range map[string]string{"bundle_create": "新建一件事", "bundle_update": "修改一件事", "bundle_publish": "发布一件事", "bundle_unpublish": "撤回一件事",
		"bundle_import": "导入一件事"} {
		auditActions[k] = v
	}
	for _, k := range []string{"bundle_items", "bundle_fields", "bundle_deps", "summary"} {
		multiLineFields[k] = true
	}
}

// bundleEditor lets in those who build bundles.
var bundleEditor = staffMay(policy.Edit, policy.Resource{Kind: policy.Bundle})

type bundleAdminPage struct {
	Bundles []bundle.Bundle
	Notice  string
	Error   string
}

func (s *Server) bundlesAdmin(w http.ResponseWriter, r *http.Request) error {
	return s.renderBundlesAdmin(w, r, http.StatusOK, bundleAdminPage{Notice: map[string]string{"saved": "已保存。", "published": "已发布。",
		"unpublished": "已撤回，群众不再看到这件事。", "imported": "已导入。"}[r.URL.Query().Get("done")]})
}

func (s *Server) renderBundlesAdmin(w http.ResponseWriter, r *http.Request, status int, p bundleAdminPage) error {
	b, err := s.bundlesOn()
	if err != nil {
		return err
	}
	if p.Bundles, err = b.List(r.Context(), subject(r)); err != nil {
		return err
	}
	return s.render(w, r, status, "bundle_admin", "admin", p)
}

// bundleEditPage edits one bundle as text: its items (a line each, the
// item's number first), its field mappings (事项编号.字段 = 合并字段) and
// dependencies (事项编号 <- 前置事项编号 : 材料名称).
type bundleEditPage struct {
	ID                   int64
	Name, Theme, Summary string
	Items, Fields, Deps  string
	Error                string
	Status               bundle.Status
	Published            []itemChoice // published items to choose from
}

type itemChoice struct {
	ID               int64
	Name, Department string
}

func (s *Server) bundleNew(w http.ResponseWriter, r *http.Request) error {
	return s.renderBundleEdit(w, r, http.StatusOK, bundleEditPage{})
}

func (s *Server) bundleEdit(w http.ResponseWriter, r *http.Request) error {
	b, err := s.bundlesOn()
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	x, err := b.Get(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	p := bundleEditPage{ID: x.ID, Name: x.Name, Theme: x.Theme, Summary: x.Summary, Status: x.Status}
	var lines []string
	for _, it := range x.Items {
		name := ""
		if item, _, err := s.catalog.Latest(r.Context(), it); err == nil {
			name = " " + item.Name
		}
		lines = append(lines, fmt.Sprintf("%d%s", it, name))
	}
	p.Items = strings.Join(lines, "\n")
	lines = nil
	for _, f := range x.Fields {
		lines = append(lines, fmt.Sprintf("%d.%s = %s", f.ItemID, f.ItemKey, f.From))
	}
	p.Fields = strings.Join(lines, "\n")
	lines = nil
	for _, d := range x.Dependencies {
		lines = append(lines, fmt.Sprintf("%d <- %d : %s", d.ItemID, d.Requires, d.Material))
	}
	p.Deps = strings.Join(lines, "\n")
	return s.renderBundleEdit(w, r, http.StatusOK, p)
}

func (s *Server) renderBundleEdit(w http.ResponseWriter, r *http.Request, status int, p bundleEditPage) error {
	items, err := s.catalog.AllPublished(r.Context())
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.Depth.Online() {
			p.Published = append(p.Published, itemChoice{ID: it.ID, Name: it.Name, Department: it.Department})
		}
	}
	return s.render(w, r, status, "bundle_edit", "admin", p)
}

// parseBundle reads the edit form; a line it cannot read is an error
// naming the line.
func parseBundle(r *http.Request) (bundle.Bundle, bundleEditPage, error) {
	f := r.PostForm
	p := bundleEditPage{Name: f.Get("name"), Theme: f.Get("theme"), Summary: f.Get("summary"), Items: f.Get("bundle_items"),
		Fields: f.Get("bundle_fields"), Deps: f.Get("bundle_deps")}
	b := bundle.Bundle{Name: p.Name, Theme: p.Theme, Summary: p.Summary}
	for _, line := range nonEmptyLines(p.Items) {
		num, _, _ := strings.Cut(line, " ")
		id, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return b, p, apperr.New(apperr.Invalid, "事项列表的每行应以事项编号开头："+line)
		}
		b.Items = append(b.Items, id)
	}
	for _, line := range nonEmptyLines(p.Fields) {
		left, from, ok := strings.Cut(line, "=")
		num, key, ok2 := strings.Cut(strings.TrimSpace(left), ".")
		id, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if !ok || !ok2 || err != nil || strings.TrimSpace(from) == "" {
			return b, p, apperr.New(apperr.Invalid, "字段映射应写成“事项编号.字段 = 合并字段”："+line)
		}
		b.Fields = append(b.Fields, bundle.Field{ItemID: id, ItemKey: strings.TrimSpace(key), From: strings.TrimSpace(from)})
	}
	for _, line := range nonEmptyLines(p.Deps) {
		line = strings.NewReplacer("←", "<-", "：", ":").Replace(line)
		left, rest, ok := strings.Cut(line, "<-")
		req, material, ok2 := strings.Cut(rest, ":")
		id, err1 := strconv.ParseInt(strings.TrimSpace(left), 10, 64)
		rid, err2 := strconv.ParseInt(strings.TrimSpace(req), 10, 64)
		if !ok || !ok2 || err1 != nil || err2 != nil {
			return b, p, apperr.New(apperr.Invalid, "前置关系应写成“事项编号 <- 前置事项编号 : 材料名称”："+line)
		}
		b.Dependencies = append(b.Dependencies, bundle.Dependency{ItemID: id, Requires: rid, Material: strings.TrimSpace(material)})
	}
	return b, p, nil
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) bundleSave(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.bundlesOn()
	if err != nil {
		return err
	}
	var id int64
	if r.PathValue("id") != "" {
		if id, err = pathID(r, "id"); err != nil {
			return err
		}
	}
	b, p, err := parseBundle(r)
	p.ID, b.ID = id, id
	if err == nil {
		err = svc.Save(r.Context(), subject(r), meta(r), &b)
	}
	if err != nil {
		return formError(err, func(status int, message string) error {
			p.Error = message
			return s.renderBundleEdit(w, r, status, p)
		})
	}
	http.Redirect(w, r, "/admin/bundles?done=saved", http.StatusSeeOther)
	return nil
}

func (s *Server) bundlePublish(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.bundlesOn()
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	publish := r.PostForm.Get("to") == string(bundle.Published)
	if err := svc.SetPublished(r.Context(), subject(r), meta(r), id, publish); err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderBundlesAdmin(w, r, status, bundleAdminPage{Error: message})
		})
	}
	done := "unpublished"
	if publish {
		done = "published"
	}
	http.Redirect(w, r, "/admin/bundles?done="+done, http.StatusSeeOther)
	return nil
}

// bundlesExport downloads every bundle as the exchange file (bundle.File).
func (s *Server) bundlesExport(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.bundlesOn()
	if err != nil {
		return err
	}
	data, err := svc.Export(r.Context(), subject(r), meta(r))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="bundles.json"`)
	_, err = w.Write(data)
	return err
}

// bundlesImport takes an exchange file: all its bundles, or none.
func (s *Server) bundlesImport(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.bundlesOn()
	if err != nil {
		return err
	}
	refuse := func(status int, message string) error {
		return s.renderBundlesAdmin(w, r, status, bundleAdminPage{Error: message})
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		return refuse(http.StatusBadRequest, "请选择要导入的一件事文件（.json）。")
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, 1<<20))
	if err != nil {
		return err
	}
	if _, err := svc.Import(r.Context(), subject(r), meta(r), data); err != nil {
		return formError(err, refuse)
	}
	http.Redirect(w, r, "/admin/bundles?done=imported", http.StatusSeeOther)
	return nil
}
