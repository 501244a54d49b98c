package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/licence"
)

// 电子证照模板: each item's licence template, kept by its department's
// catalog managers (the service checks the item and audits the change).
// Decision: a template of its own, not a field of the catalog item — it
// changes without a new item version and review, is not part of the
// published guide, and the catalog's files and quality rules stay as
// they are.

// licenceTemplateRows are the print lines a template's form offers.
const licenceTemplateRows = 6

type licenceAdminPage struct {
	Templates []licence.Template
	Edit      licence.Template
	Item      catalog.Item // the item being edited, for its form's fields
	Rows      []licence.FieldMap
	Error     string
	Saved     bool
}

// licenceAdmin lists the templates of the manager's items and, with
// ?item=ID, the form for one.
func (s *Server) licenceAdmin(w http.ResponseWriter, r *http.Request) error {
	p := licenceAdminPage{Saved: r.URL.Query().Get("done") == "saved"}
	if id, err := strconv.ParseInt(r.URL.Query().Get("item"), 10, 64); err == nil {
		t, _, err := s.licences.Template(r.Context(), id)
		if err != nil {
			return err
		}
		t.ItemID = id
		p.Edit = t
	}
	return s.renderLicenceAdmin(w, r, http.StatusOK, p)
}

func (s *Server) renderLicenceAdmin(w http.ResponseWriter, r *http.Request, status int, p licenceAdminPage) error {
	dept, err := catalogScope(subject(r))
	if err != nil {
		return err
	}
	ts, err := s.licences.Templates(r.Context(), dept)
	if err != nil {
		return err
	}
	p.Templates = ts
	if p.Edit.ItemID != 0 {
		if p.Item, _, err = s.catalog.Latest(r.Context(), p.Edit.ItemID); err != nil {
			return err
		}
		p.Rows = append(p.Rows, p.Edit.Fields...)
		for len(p.Rows) < licenceTemplateRows {
			p.Rows = append(p.Rows, licence.FieldMap{})
		}
	}
	return s.render(w, r, status, "licenceadmin", "admin", p)
}

// saveLicenceTemplate saves the posted template.
func (s *Server) saveLicenceTemplate(w http.ResponseWriter, r *http.Request) error {
	id, _ := strconv.ParseInt(r.FormValue("item"), 10, 64)
	years, err := strconv.Atoi(r.FormValue("valid_years"))
	if err != nil {
		years = -1
	}
	t := licence.Template{ItemID: id, TypeName: r.FormValue("type_name"), NumberFormat: r.FormValue("number_format"), ValidYears: years}
	labels, keys := r.Form["label"], r.Form["key"]
	for i := range labels {
		if i < len(keys) {
			t.Fields = append(t.Fields, licence.FieldMap{Label: labels[i], Key: keys[i]})
		}
	}
	if err := s.licences.SaveTemplate(r.Context(), subject(r), meta(r), t); err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderLicenceAdmin(w, r, status, licenceAdminPage{Edit: t, Error: message})
		})
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/licences?item=%d&done=saved", id), http.StatusSeeOther)
	return nil
}
