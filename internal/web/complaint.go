package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
)

// Complaints and requests (有诉即应): the person's pages — filing (signed
// in, or with a mobile number proven by an SMS code), following and
// confirming — and what they share with the staff's (complaint_staff.go).

// complaintPages are the templates of the complaint pages.
var complaintPages = []string{"complaints", "complaintnew", "mycomplaints", "mycomplaint", "complaintqueue", "complaintstaff",
	"complaintstats", "complaintsettings"}

// parsePages parses each named page over base into pages.
func parsePages(base *template.Template, files fs.FS, names []string, pages map[string]*template.Template) error {
	for _, name := range names {
		t, err := base.Clone()
		if err != nil {
			return err
		}
		if t, err = t.ParseFS(files, "templates/"+name+".html"); err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		pages[name] = t
	}
	return nil
}

// maxComplaintPhotos is how many photos the pages take with a complaint.
const maxComplaintPhotos = 3

// complaintForm is the filing form, for a person, an anonymous visitor or
// staff taking one in.
type complaintForm struct {
	Values     url.Values
	Error      string
	Field      string // the field the error is about, for the summary's link
	Notice     string
	Categories []complaint.Category
	Regions    []regionOptions
	Anonymous  bool
	Staff      bool
	Demo       bool
	Action     string
}

func (f complaintForm) Get(k string) string { return f.Values.Get(k) }

// regionOptions is a street (or the district) with its communities, for a
// select with optgroups.
type regionOptions struct {
	region.Region
	Children []region.Region
}

func (s *Server) regionOptionss(ctx context.Context) ([]regionOptions, error) {
	all, err := s.regions.Regions(ctx, region.RegionFilter{})
	if err != nil {
		return nil, err
	}
	var out []regionOptions
	at := map[string]int{}
	for _, r := range all {
		switch r.Level {
		case region.District, region.Street:
			at[r.Code] = len(out)
			out = append(out, regionOptions{Region: r})
		default:
			if i, ok := at[r.ParentCode]; ok {
				out[i].Children = append(out[i].Children, r)
			}
		}
	}
	return out, nil
}

func (s *Server) newComplaintForm(r *http.Request, values url.Values) (complaintForm, error) {
	who := subject(r)
	f := complaintForm{Values: values, Anonymous: who.Kind == policy.Anonymous, Staff: who.Kind == policy.Staff, Demo: s.demo, Action: "/complaints"}
	if f.Staff {
		f.Action = "/workbench/complaints/new"
	}
	var err error
	if f.Categories, err = s.complaints.Categories(r.Context(), false); err != nil {
		return f, err
	}
	f.Regions, err = s.regionOptionss(r.Context())
	return f, err
}

// complaintsHome is 有诉即应: what it is, file one, follow one by its
// number — and, for a person without an account, confirm its reply with an
// SMS code.
func (s *Server) complaintsHome(w http.ResponseWriter, r *http.Request) error {
	var notice string
	if r.URL.Query().Get("confirmed") == "1" {
		notice = "已确认，谢谢您的反馈。"
	}
	return s.renderComplaintsHome(w, r, http.StatusOK, r.URL.Query().Get("number"), url.Values{}, "", notice)
}

// complaintsHomePage is what the 有诉即应 page shows.
type complaintsHomePage struct {
	Number  string
	Error   string
	Notice  string
	Found   *complaint.Public
	Cats    []complaint.Category
	Values  url.Values // the confirmation form, as typed
	Demo    bool
	Missing bool // the number was not found
}

func (p complaintsHomePage) Get(k string) string { return p.Values.Get(k) }

func (s *Server) renderComplaintsHome(w http.ResponseWriter, r *http.Request, status int, number string, values url.Values, message, notice string) error {
	data := complaintsHomePage{Number: strings.TrimSpace(number), Error: message, Notice: notice, Values: values, Demo: s.demo}
	var err error
	if data.Cats, err = s.complaints.Categories(r.Context(), false); err != nil {
		return err
	}
	if data.Number != "" {
		p, err := s.complaints.PublicView(r.Context(), data.Number)
		switch {
		case err == nil:
			data.Found = &p
		case apperr.Is(err, apperr.NotFound):
			data.Missing = true
			if status == http.StatusOK {
				status = http.StatusNotFound
			}
		default:
			return err
		}
	}
	return s.render(w, r, status, "complaints", "complaints", data)
}

// complaintConfirmCode sends the code that proves the mobile number given
// with a complaint, to confirm its reply without an account.
func (s *Server) complaintConfirmCode(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	if err := s.identity.SendCode(r.Context(), f.Get("mobile"), identity.PurposeComplaint, meta(r)); err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderComplaintsHome(w, r, status, f.Get("number"), f, message, "")
		})
	}
	return s.renderComplaintsHome(w, r, http.StatusOK, f.Get("number"), f, "", "验证码已发送，5分钟内有效。")
}

// complaintConfirm is the answer of a person without an account to the
// reply, proven by the SMS code.
func (s *Server) complaintConfirm(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	var err error
	if f.Get("resolved") == "" || f.Get("satisfied") == "" {
		err = apperr.New(apperr.Invalid, "请选择是否解决和是否满意。")
	} else {
		_, err = s.complaints.ConfirmWithCode(r.Context(), meta(r), f.Get("number"), f.Get("mobile"), f.Get("code"),
			complaint.Confirmation{Resolved: f.Get("resolved") == "yes", Satisfied: f.Get("satisfied") == "yes", Comment: f.Get("comment")})
	}
	if err != nil {
		return formError(err, func(status int, message string) error {
			return s.renderComplaintsHome(w, r, status, f.Get("number"), f, message, "")
		})
	}
	http.Redirect(w, r, "/complaints?confirmed=1&number="+url.QueryEscape(strings.TrimSpace(f.Get("number"))), http.StatusSeeOther)
	return nil
}

// complaintNew is the filing form.
func (s *Server) complaintNew(w http.ResponseWriter, r *http.Request) error {
	if subject(r).Kind == policy.Staff {
		http.Redirect(w, r, "/workbench/complaints/new", http.StatusSeeOther)
		return nil
	}
	f, err := s.newComplaintForm(r, url.Values{"category": {r.URL.Query().Get("category")}})
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "complaintnew", "complaints", f)
}

// readComplaintForm reads a filing form: its fields and its photos, which
// it stores (the caller discards them if the filing is refused).
func (s *Server) readComplaintForm(r *http.Request) (complaint.Filing, []filestore.Object, error) {
	var n complaint.Filing
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return n, nil, apperr.New(apperr.TooLarge, fmt.Sprintf("照片超过大小限制（每张最大 %d MB，最多 %d 张）。", MaxMaterialBytes>>20, maxComplaintPhotos))
		}
		if !errors.Is(err, http.ErrNotMultipart) {
			return n, nil, apperr.New(apperr.Invalid, "提交的表单无法识别。")
		}
	}
	f := r.Form
	n.CategoryID, _ = strconv.ParseInt(f.Get("category"), 10, 64)
	n.Title, n.Description, n.Address = f.Get("title"), f.Get("description"), f.Get("address")
	n.RegionCode, n.CaseNumber, n.Name, n.Mobile, n.Code = f.Get("region"), f.Get("case_number"), f.Get("name"), f.Get("mobile"), f.Get("code")
	n.Channel = complaint.Channel(f.Get("channel"))
	if lat, lng := strings.TrimSpace(f.Get("lat")), strings.TrimSpace(f.Get("lng")); lat != "" || lng != "" {
		a, errA := strconv.ParseFloat(lat, 64)
		b, errB := strconv.ParseFloat(lng, 64)
		if errA != nil || errB != nil {
			return n, nil, &apperr.Error{Code: apperr.Invalid, Message: "地图位置无效，请重新选择或不填。", Fields: map[string]string{"location": "地图位置无效"}}
		}
		n.Lat, n.Lng = &a, &b
	}
	var files []*multipart.FileHeader
	if r.MultipartForm != nil {
		for _, h := range r.MultipartForm.File["photos"] {
			if h.Size > 0 {
				files = append(files, h)
			}
		}
	}
	if len(files) > maxComplaintPhotos {
		return n, nil, &apperr.Error{Code: apperr.Invalid, Message: fmt.Sprintf("照片最多 %d 张。", maxComplaintPhotos), Fields: map[string]string{"photos": "照片太多"}}
	}
	var stored []filestore.Object
	for _, h := range files {
		file, err := h.Open()
		if err != nil {
			return n, stored, err
		}
		obj, err := s.files.Put(r.Context(), file, MaxMaterialBytes)
		file.Close()
		if err != nil {
			if apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.TooLarge) {
				err = &apperr.Error{Code: apperr.CodeOf(err), Message: "照片“" + h.Filename + "”：" + apperr.MessageOf(err), Fields: map[string]string{"photos": "照片有误"}}
			}
			return n, stored, err
		}
		stored = append(stored, obj)
		n.Files = append(n.Files, complaint.Attachment{Object: obj, Name: h.Filename})
	}
	return n, stored, nil
}

// complaintFiled files a complaint from the form; a refusal shows the form
// again with what was typed (the photos are chosen again) and nothing
// stored.
func (s *Server) complaintFiled(w http.ResponseWriter, r *http.Request) error {
	who := subject(r)
	if who.Kind == policy.Staff && r.URL.Path == "/complaints" {
		return apperr.New(apperr.Forbidden, "工作人员请在工作台代群众登记诉求。")
	}
	n, stored, err := s.readComplaintForm(r)
	var c complaint.Complaint
	if err == nil {
		c, _, err = s.complaints.Create(r.Context(), who, meta(r), n)
	}
	if err != nil {
		for _, obj := range stored {
			s.discard(r, obj)
		}
		return s.complaintRefused(w, r, err)
	}
	switch who.Kind {
	case policy.Person:
		http.Redirect(w, r, fmt.Sprintf("/me/complaints/%d?filed=1", c.ID), http.StatusSeeOther)
	case policy.Staff:
		// The clerk who took it in may not be its unit: the queue says its
		// number, to give to the person.
		http.Redirect(w, r, "/workbench/complaints?filed="+url.QueryEscape(c.Number), http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/complaints?filed=1&number="+url.QueryEscape(c.Number), http.StatusSeeOther)
	}
	return nil
}

// complaintRefused shows the filing form again with why.
func (s *Server) complaintRefused(w http.ResponseWriter, r *http.Request, err error) error {
	return formError(err, func(status int, message string) error {
		values := r.Form
		if values == nil {
			values = url.Values{}
		}
		values.Del("code")
		f, ferr := s.newComplaintForm(r, values)
		if ferr != nil {
			return ferr
		}
		f.Error = message
		var e *apperr.Error
		if errors.As(err, &e) {
			for k := range e.Fields {
				f.Field = "c-" + k
			}
		}
		return s.render(w, r, status, "complaintnew", "complaints", f)
	})
}

// complaintCode sends the SMS code that proves an anonymous filer's
// mobile number, and shows the form again.
func (s *Server) complaintCode(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return apperr.New(apperr.Invalid, "提交的表单无法识别。")
	}
	if err := s.identity.SendCode(r.Context(), r.Form.Get("mobile"), identity.PurposeComplaint, meta(r)); err != nil {
		return s.complaintRefused(w, r, &apperr.Error{Code: apperr.CodeOf(err), Message: apperr.MessageOf(err), Fields: map[string]string{"mobile": ""}, Cause: err})
	}
	f, err := s.newComplaintForm(r, r.Form)
	if err != nil {
		return err
	}
	f.Notice = "验证码已发送，5分钟内有效。照片请在提交前重新选择。"
	return s.render(w, r, http.StatusOK, "complaintnew", "complaints", f)
}

// myComplaints lists the person's complaints.
func (s *Server) myComplaints(w http.ResponseWriter, r *http.Request) error {
	list, err := s.complaints.List(r.Context(), subject(r), complaint.Filter{Limit: 100})
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "mycomplaints", "me", list)
}

// complaintPage is what the person's and the staff's complaint pages show.
type complaintPage struct {
	complaint.Detail
	Error, Notice string
	CanReopen     bool
	ReopenDays    int
	Overdue       bool
	// Staff: what they may do, and the units to choose from.
	May         map[string]bool
	Departments []region.Department
}

func (s *Server) renderMyComplaint(w http.ResponseWriter, r *http.Request, status int, id int64, message string) error {
	d, err := s.complaints.Get(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	p := complaintPage{Detail: d, Error: message, CanReopen: s.complaints.CanReopen(d.Complaint), ReopenDays: s.complaints.ReopenDays()}
	switch r.URL.Query().Get("filed") {
	case "1":
		p.Notice = "诉求已提交，诉求编号 " + d.Number + "。承办单位会与您联系，办理进展会发短信告诉您。"
	}
	if r.URL.Query().Get("done") == "1" {
		p.Notice = "已提交，谢谢您的反馈。"
	}
	return s.render(w, r, status, "mycomplaint", "me", p)
}

func (s *Server) myComplaint(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderMyComplaint(w, r, http.StatusOK, id, "")
}

// myComplaintAct is the person's answer to a reply, or a reopening.
func (s *Server) myComplaintAct(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, who, version := r.PostForm, subject(r), mustAtoi(r.PostForm.Get("version"))
	switch f.Get("op") {
	case "confirm":
		if f.Get("resolved") == "" || f.Get("satisfied") == "" {
			err = apperr.New(apperr.Invalid, "请选择是否解决和是否满意。")
			break
		}
		_, err = s.complaints.Confirm(r.Context(), who, meta(r), id, version, complaint.Confirmation{Resolved: f.Get("resolved") == "yes",
			Satisfied: f.Get("satisfied") == "yes", Comment: f.Get("comment")})
	case "reopen":
		_, err = s.complaints.Reopen(r.Context(), who, meta(r), id, version, f.Get("comment"))
	default:
		err = apperr.New(apperr.Invalid, "请选择要进行的操作。")
	}
	if err != nil {
		return formError(err, func(status int, message string) error { return s.renderMyComplaint(w, r, status, id, message) })
	}
	http.Redirect(w, r, fmt.Sprintf("/me/complaints/%d?done=1", id), http.StatusSeeOther)
	return nil
}

// complaintFile sends a complaint's photo to whoever may see the
// complaint.
func (s *Server) complaintFile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	fileID, err := pathID(r, "file")
	if err != nil {
		return err
	}
	f, err := s.complaints.File(r.Context(), subject(r), id, fileID)
	if err != nil {
		return err
	}
	return s.sendFile(w, r, f.SHA256, f.ContentType, f.Name)
}
