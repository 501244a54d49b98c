package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/zwfw/zwfw/internal/licence"
)

// 电子证照 (e-licences, issue 12): the holder's 证照夹 on 我的, the public
// verification page the QR code leads to, and the issuing department's
// list with revocation. Templates are kept on licence_admin.go's page.

func init() {
	adminTools = append(adminTools, adminTool{"GET /workbench/licences", "/workbench/licences", "电子证照", "本部门签发的电子证照：查看、吊销或注销"})
	for k, v := range map[string]string{"licence_template": "设置电子证照模板", "licence_revoke": "吊销或注销电子证照"} {
		auditActions[k] = v
	}
}

// licencePages are the e-licences' templates.
var licencePages = []string{"licences", "licence", "licenceverify", "licencesissued", "licenceadmin"}

// licenceView is one licence on a page: the licence, its verification
// URL and QR code.
type licenceView struct {
	licence.Licence
	URL    string
	QR     template.HTML
	Status string
}

func (s *Server) licenceView(l licence.Licence) (licenceView, error) {
	v := licenceView{Licence: l, URL: licence.VerifyURL(s.publicURL, l.Token), Status: "有效"}
	if l.Revoked() {
		v.Status = licence.RevokeName(l.RevokeKind)
	}
	svg, err := qrSVG(v.URL)
	v.QR = template.HTML(svg)
	return v, err
}

// myLicences is the 证照夹.
func (s *Server) myLicences(w http.ResponseWriter, r *http.Request) error {
	mine, err := s.licences.Mine(r.Context(), subject(r))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "licences", "me", mine)
}

// myLicence shows one licence, ready to print, with its QR code.
func (s *Server) myLicence(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	l, err := s.licences.Get(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	v, err := s.licenceView(l)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "licence", "me", v)
}

// licenceFile downloads the signed licence (zwfw licence verify reads it).
func (s *Server) licenceFile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	l, err := s.licences.Get(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	b, err := s.licences.FileOf(l)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="licence-%d.json"`, l.ID))
	_, err = w.Write(b)
	return err
}

// verifyLicence is the public verification page: /v/{token} from a QR
// code, or /licences/verify?token=… from its form.
func (s *Server) verifyLicence(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	if token == "" {
		token = strings.TrimSpace(r.URL.Query().Get("token"))
	}
	var data struct {
		Asked bool
		V     licence.Verification
	}
	if token != "" {
		// A pasted verification URL works as well as the token.
		if i := strings.LastIndex(token, "/v/"); i >= 0 {
			token = token[i+3:]
		}
		v, err := s.licences.Verify(r.Context(), token)
		if err != nil {
			return err
		}
		data.Asked, data.V = true, v
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, http.StatusOK, "licenceverify", "", data)
}

// issuedLicences lists the department's licences, with revocation.
func (s *Server) issuedLicences(w http.ResponseWriter, r *http.Request) error {
	return s.renderIssued(w, r, http.StatusOK, "")
}

func (s *Server) renderIssued(w http.ResponseWriter, r *http.Request, status int, message string) error {
	ls, err := s.licences.Issued(r.Context(), subject(r), 100)
	if err != nil {
		return err
	}
	return s.render(w, r, status, "licencesissued", "workbench", struct {
		Licences []licence.Licence
		Error    string
		Done     bool
	}{ls, message, r.URL.Query().Get("done") == "revoked"})
}

// revokeLicence revokes (吊销) or cancels (注销) a licence, with a reason.
func (s *Server) revokeLicence(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.licences.Revoke(r.Context(), subject(r), meta(r), id, r.FormValue("kind"), r.FormValue("reason")); err != nil {
		return formError(err, func(status int, message string) error { return s.renderIssued(w, r, status, message) })
	}
	http.Redirect(w, r, "/workbench/licences?done=revoked", http.StatusSeeOther)
	return nil
}
