package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
)

// 一件事一次办 (internal/bundle): the published life events, one guide
// each, the one application form, and the applicant's tracking page.

// bundlePages are the templates of the bundles' pages.
var bundlePages = []string{"bundle_list", "bundle_guide", "bundle_apply", "bundle_track", "bundle_admin", "bundle_edit"}

// maxBundleBytes bounds an application to a bundle: the form and a file
// per merged material.
const maxBundleBytes = 64 << 20

// bundlesOn returns the bundle service, or says the part is off.
func (s *Server) bundlesOn() (*bundle.Service, error) {
	if s.bundles == nil {
		return nil, apperr.New(apperr.Unavailable, "本实例未开放“一件事一次办”。")
	}
	return s.bundles, nil
}

func (s *Server) bundleList(w http.ResponseWriter, r *http.Request) error {
	b, err := s.bundlesOn()
	if err != nil {
		return err
	}
	list, err := b.Published(r.Context())
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "bundle_list", "items", list)
}

func (s *Server) bundleGuide(w http.ResponseWriter, r *http.Request) error {
	b, err := s.bundlesOn()
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	g, err := b.Guide(r.Context(), id)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "bundle_guide", "items", g)
}

// bundleApplyPage is the one application form of a bundle.
type bundleApplyPage struct {
	Guide    bundle.Guide
	Answers  map[string]string
	Problems map[string]string
	Fixed    map[string]bool
	Error    string
	Missing  string // the merged material a refusal is about (its file field)
}

// ProblemList lists the form's problems in the order of its fields.
func (p bundleApplyPage) ProblemList() []problem {
	return problemList(catalog.Item{Form: p.Guide.Form}, p.Problems, "f-")
}

func (s *Server) bundleApplyForm(w http.ResponseWriter, r *http.Request) error {
	b, err := s.bundlesOn()
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := bundleApplyPage{}
	if p.Guide, err = b.Guide(r.Context(), id); err != nil {
		return err
	}
	if p.Answers, p.Fixed, err = b.Prefill(r.Context(), subject(r), p.Guide); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "bundle_apply", "me", p)
}

func (s *Server) bundleApply(w http.ResponseWriter, r *http.Request) error {
	b, err := s.bundlesOn()
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	who := subject(r)
	p := bundleApplyPage{}
	if p.Guide, err = b.Guide(r.Context(), id); err != nil {
		return err
	}
	if _, p.Fixed, err = b.Prefill(r.Context(), who, p.Guide); err != nil {
		return err
	}
	again := func(status int, message string) error {
		p.Error = message
		return s.render(w, r, status, "bundle_apply", "me", p)
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return again(http.StatusRequestEntityTooLarge, fmt.Sprintf("文件超过大小限制（每份最大 %d MB，合计最大 %d MB）。", MaxMaterialBytes>>20, maxBundleBytes>>20))
	}
	p.Answers = answersFrom(catalog.Item{Form: p.Guide.Form}, r.MultipartForm.Value)
	// Each merged material's file is stored first (by its SHA-256, so a
	// file shared by several items is stored once); a refused application
	// discards those no case refers to.
	files := map[int]casework.Attachment{}
	var stored []filestore.Object
	for i := range p.Guide.Materials {
		file, header, err := r.FormFile("file-" + strconv.Itoa(i))
		if err != nil {
			continue
		}
		obj, err := s.files.Put(r.Context(), file, MaxMaterialBytes)
		file.Close()
		if err != nil {
			for _, o := range stored {
				s.discard(r, o)
			}
			p.Missing = "file-" + strconv.Itoa(i)
			return formError(err, func(status int, message string) error {
				return again(status, "「"+p.Guide.Materials[i].Name+"」："+message)
			})
		}
		stored = append(stored, obj)
		files[i] = casework.Attachment{Object: obj, Filename: header.Filename}
	}
	app, err := b.Apply(r.Context(), who, id, p.Answers, files)
	if err != nil {
		for _, o := range stored {
			s.discard(r, o)
		}
		var ae *apperr.Error
		if errors.As(err, &ae) && len(ae.Fields) > 0 {
			p.Problems = ae.Fields
		}
		return formError(err, again)
	}
	http.Redirect(w, r, fmt.Sprintf("/me/bundles/%d?done=applied", app.ID), http.StatusSeeOther)
	return nil
}

type bundleTrackPage struct {
	App    bundle.Application
	Notice string
}

func (s *Server) bundleTrack(w http.ResponseWriter, r *http.Request) error {
	b, err := s.bundlesOn()
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	app, err := b.Application(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	p := bundleTrackPage{App: app}
	if r.URL.Query().Get("done") == "applied" {
		p.Notice = fmt.Sprintf("申请已提交：共 %d 个事项，已分送各部门办理。需要前置事项结果的，将在前置事项办结后自动提交。", len(app.Parts))
	}
	return s.render(w, r, http.StatusOK, "bundle_track", "me", p)
}

// myBundles lists who's applications to bundles for 我的办件.
func (s *Server) myBundles(r *http.Request) ([]bundle.Application, error) {
	if s.bundles == nil {
		return nil, nil
	}
	return s.bundles.Mine(r.Context(), subject(r))
}

// bundleContext is what the staff case page says of the bundle a case is
// part of (nothing when it is none).
func (s *Server) bundleContext(r *http.Request, c casework.Case) (*bundle.Context, error) {
	if s.bundles == nil {
		return nil, nil
	}
	bc, ok, err := s.bundles.PartOf(r.Context(), subject(r), c)
	if err != nil || !ok {
		return nil, err
	}
	return &bc, nil
}
