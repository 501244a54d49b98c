package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/filestore"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
)

// 帮办代办 (assisted applications): a street or community worker applies
// for a person in two steps — who the person is and how they consent
// (the SMS code goes out here), then the form, the materials and the
// consent's proof, submitted at once (casework.ApplyAssisted) — and
// follows up the cases they applied for.

// assistPages are the templates of 帮办代办's pages.
var assistPages = []string{"assist_cases", "assist_new", "assist_apply", "assist_case"}

// assistant lets in the 帮办代办员 of streets and communities.
var assistant = guard{name: "assistant", staff: true, allow: func(who policy.Subject) error {
	if !who.Has(policy.Assistant) || !policy.AssistantDepartment(who.DepartmentKind) {
		return apperr.New(apperr.Forbidden, "帮办代办只对街道、社区的帮办代办员开放。")
	}
	return nil
}}

// assistCases lists the cases the worker applied for, with where each stands.
func (s *Server) assistCases(w http.ResponseWriter, r *http.Request) error {
	after := r.URL.Query().Get("after")
	page, err := s.cases.AssistedCases(r.Context(), subject(r), after, casework.PageSize)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "assist_cases", "workbench", struct {
		casework.Page[casework.AssistedSummary]
		Paged bool
	}{page, after != ""})
}

// assistNewPage is the first step: the item, the person and how they consent.
type assistNewPage struct {
	Query   string
	Results []catalog.Hit // items found for Query that can be applied for online
	Item    catalog.Item  // the item chosen, if any
	Values  url.Values
	Error   string
}

func (p assistNewPage) Get(k string) string { return p.Values.Get(k) }

func (s *Server) assistNew(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p := assistNewPage{Query: strings.TrimSpace(q.Get("q")), Values: url.Values{"method": {casework.ConsentSMS}}}
	if v := q.Get("item"); v != "" {
		id, _ := strconv.ParseInt(v, 10, 64)
		it, err := s.assistItem(r, id)
		if err != nil {
			return err
		}
		p.Item = it
	} else if p.Query != "" {
		// The items that serve the worker's residents: the district's, and
		// their own street's and community's, that people apply for online.
		who := subject(r)
		for _, h := range s.searcher.Search(p.Query, catalog.Filter{Subject: "自然人"}, 0, 200).Hits {
			if h.Depth.Online() && !h.Suspended && strings.HasPrefix(who.RegionCode, policy.RegionPrefix(h.RegionCode)) && len(p.Results) < 30 {
				p.Results = append(p.Results, h)
			}
		}
	}
	return s.render(w, r, http.StatusOK, "assist_new", "workbench", p)
}

// assistItem is the published item id, if people may apply for it online.
func (s *Server) assistItem(r *http.Request, id int64) (catalog.Item, error) {
	it, _, err := s.catalog.Published(r.Context(), id)
	if err != nil {
		return it, err
	}
	if !it.Depth.Online() {
		return it, apperr.New(apperr.Invalid, "本事项暂不支持网上申请，不能帮办代办，请陪同申请人到窗口办理。")
	}
	return it, nil
}

// assistApplyPage is the second step: the consent's proof, the form and
// the materials.
type assistApplyPage struct {
	Item         catalog.Item
	Values       url.Values // the person and the consent method, carried over
	Answers      map[string]string
	Problems     map[string]string
	PersonFields map[string]bool // filled from the person's identity
	IDMasked     string
	MobileMasked string
	Error        string
	Notice       string
}

func (p assistApplyPage) Get(k string) string { return p.Values.Get(k) }

// SMS reports whether the person consents by SMS code.
func (p assistApplyPage) SMS() bool { return p.Values.Get("method") == casework.ConsentSMS }

// ProblemList lists the form's problems, as on the online application.
func (p assistApplyPage) ProblemList() []problem { return problemList(p.Item, p.Problems, "af-") }

func (p assistApplyPage) Checked(key, option string) bool {
	return applyPage{Answers: p.Answers}.Checked(key, option)
}

// assistPerson is the person as the worker typed them.
func assistPerson(f url.Values) identity.AssistPerson {
	return identity.AssistPerson{Name: strings.TrimSpace(f.Get("name")), IDNumber: strings.TrimSpace(f.Get("id_number")), Mobile: strings.TrimSpace(f.Get("mobile"))}
}

// assistConsent takes the first step: it checks who the person is and,
// for consent by SMS, texts them the code; then it shows the second.
func (s *Server) assistConsent(w http.ResponseWriter, r *http.Request) error {
	who, f := subject(r), r.PostForm
	id, _ := strconv.ParseInt(f.Get("item"), 10, 64)
	it, err := s.assistItem(r, id)
	if err != nil {
		return err
	}
	again := func(err error) error {
		return formError(err, func(status int, message string) error {
			return s.render(w, r, status, "assist_new", "workbench", assistNewPage{Item: it, Values: f, Error: message})
		})
	}
	p := assistPerson(f)
	notice := "请上传申请人签字的授权委托书，填写申请表，上传申请材料后提交。"
	switch f.Get("method") {
	case casework.ConsentSMS:
		if err := s.identity.SendAssistCode(r.Context(), who, p, it.Name, meta(r)); err != nil {
			return again(err)
		}
		notice = fmt.Sprintf("验证码已发送至申请人手机 %s，5 分钟内有效。请申请人告知验证码（或在自己的手机上查看后告知），填写后提交。", ident.MaskMobile(p.Mobile))
	case casework.ConsentForm:
		if _, err := s.identity.AssistedApplicant(r.Context(), who, p, "", meta(r)); err != nil {
			return again(err)
		}
	default:
		return again(apperr.New(apperr.Invalid, "请选择申请人的授权方式：短信验证码确认，或签字的授权委托书。"))
	}
	return s.renderAssistApply(w, r, http.StatusOK, it, f, nil, "", notice, nil)
}

func (s *Server) renderAssistApply(w http.ResponseWriter, r *http.Request, status int, it catalog.Item, f url.Values, answers map[string]string,
	errMsg, notice string, problems map[string]string) error {
	carried := url.Values{}
	for _, k := range []string{"name", "id_number", "mobile", "method"} {
		carried.Set(k, strings.TrimSpace(f.Get(k)))
	}
	p := assistApplyPage{Item: it, Values: carried, Answers: answers, Problems: problems, PersonFields: casework.PersonFields(it),
		IDMasked: ident.MaskIDCard(carried.Get("id_number")), MobileMasked: ident.MaskMobile(carried.Get("mobile")), Error: errMsg, Notice: notice}
	if p.Answers == nil {
		p.Answers = map[string]string{"mobile": carried.Get("mobile")}
	}
	// The page holds the person's numbers: no copy in the browser's cache.
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, status, "assist_apply", "workbench", p)
}

// maxAssistFiles bounds the files of one assisted application: the
// consent form and the item's materials.
const maxAssistFiles = 12

// assistApply takes the second step: the files go to the file store,
// then the application is made at once, or refused with nothing kept.
func (s *Server) assistApply(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	it, err := s.assistItem(r, id)
	if err != nil {
		return err
	}
	who := subject(r)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return s.renderAssistApply(w, r, http.StatusRequestEntityTooLarge, it, r.PostForm, nil,
			fmt.Sprintf("文件超过大小限制（每个文件最大 %d MB）。", MaxMaterialBytes>>20), "", nil)
	}
	f := r.PostForm
	answers := answersFrom(it, f)
	var stored []filestore.Object
	refuse := func(err error) error {
		for _, obj := range stored {
			s.discard(r, obj)
		}
		return formError(err, func(status int, message string) error {
			if len(stored) > 0 {
				message += "（已选择的文件请重新选择。）"
			}
			return s.renderAssistApply(w, r, status, it, f, answers, message, "", apperr.FieldsOf(err))
		})
	}
	put := func(field string) (filestore.Object, string, error) {
		file, header, err := r.FormFile(field)
		if err != nil || header.Size == 0 {
			if file != nil {
				file.Close()
			}
			return filestore.Object{}, "", nil // not given
		}
		defer file.Close()
		if len(stored) >= maxAssistFiles {
			return filestore.Object{}, "", apperr.New(apperr.Invalid, "文件太多。")
		}
		obj, err := s.files.Put(r.Context(), file, MaxMaterialBytes)
		if err == nil {
			stored = append(stored, obj)
		}
		return obj, header.Filename, err
	}
	con := casework.Consent{Method: f.Get("method"), Mobile: strings.TrimSpace(f.Get("mobile"))}
	switch con.Method {
	case casework.ConsentForm:
		if con.File, con.Filename, err = put("consent_file"); err != nil {
			return refuse(err)
		}
	case casework.ConsentSMS:
		// The code's check is what records the consent, in ApplyAssisted.
		if code := strings.TrimSpace(f.Get("code")); code != "" {
			con.Confirm = func(ctx context.Context) error {
				return s.identity.VerifyCode(ctx, con.Mobile, identity.PurposeAssist, code)
			}
		}
	}
	var files []casework.Attachment
	for n := range it.Materials {
		obj, name, err := put(fmt.Sprintf("file-%d", n))
		if err != nil {
			return refuse(err)
		}
		if obj.SHA256 != "" {
			files = append(files, casework.Attachment{Position: n, Object: obj, Filename: name})
		}
	}
	p := assistPerson(f)
	var confirmedBy string
	if con.Method == casework.ConsentSMS {
		confirmedBy = con.Mobile
	}
	account, err := s.identity.AssistedApplicant(r.Context(), who, p, confirmedBy, meta(r))
	if err != nil {
		return refuse(err)
	}
	c, err := s.cases.ApplyAssisted(r.Context(), who, casework.Assisted{ItemID: it.ID, Account: account, Consent: con, Answers: answers, Files: files,
		Person: casework.Known{Name: p.Name, IDNumber: p.IDNumber, Mobile: p.Mobile}})
	if err != nil {
		return refuse(err)
	}
	http.Redirect(w, r, fmt.Sprintf("/assist/cases/%d?done=assisted", c.ID), http.StatusSeeOther)
	return nil
}

// assistCasePage is the worker's view of a case they applied for.
type assistCasePage struct {
	caseRecord
	Answers     []answerRow
	Deadline    casework.Deadline
	HasDeadline bool
	Notice      string
}

func (s *Server) assistCase(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rec, err := s.record(r, id)
	if err != nil {
		return err
	}
	p := assistCasePage{caseRecord: rec, Answers: answers(rec.Item, rec.Case.Form, false, nil), Notice: notices[r.URL.Query().Get("done")]}
	// A case the worker sees for another reason (a clerk of its
	// department) is not theirs to follow here.
	if rec.Assisted == nil || rec.Case.AssistedBy != subject(r).AccountID {
		return apperr.New(apperr.NotFound, "没有找到您代办的这件办件。")
	}
	p.Deadline, p.HasDeadline = s.cases.DeadlineOf(rec.Case, rec.Item, rec.Events)
	return s.render(w, r, http.StatusOK, "assist_case", "workbench", p)
}

// consentFile sends the signed 授权委托书 of an assisted case to those
// who may see the case.
func (s *Server) consentFile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, _, err := s.cases.Get(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	as, ok, err := s.cases.AssistanceOf(r.Context(), subject(r), c)
	if err != nil {
		return err
	}
	if !ok || as.Method != casework.ConsentForm {
		return apperr.New(apperr.NotFound, "本办件没有上传授权委托书。")
	}
	return s.sendFile(w, r, as.File.SHA256, as.File.ContentType, as.FileName)
}
