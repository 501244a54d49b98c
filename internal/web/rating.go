package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
)

// 好差评 (internal/rating): a person rates a finished service; the unit
// calls a 差评 back and rectifies it, its head appeals and a supervisor
// decides; supervisors read the rates; anyone reads the rectifications;
// the counter tablet takes the visitor's rating (一次一评).

// ratingStaff lets in the staff who see some ratings: the units' window
// clerks, reviewers and heads, supervisors and administrators.
var ratingStaff = guard{name: "rating staff", staff: true, allow: func(who policy.Subject) error {
	if prefix, _ := policy.RatingScope(who); prefix == "-" {
		return apperr.New(apperr.Forbidden, "好差评回访只对窗口人员、审批人员、部门负责人和督查人员开放。")
	}
	return nil
}}

// channelNames name the channels a rating came through.
var channelNames = map[string]string{rating.ByWeb: "网站", rating.ByMessage: "消息链接", rating.ByTablet: "窗口评价器"}

// rateForm is what the rating form is shown with.
type rateForm struct {
	Invitation rating.Invitation
	Dimensions []rating.Dimension
	Levels     []rating.Level
	Via        string
	Input      rating.Input // as typed, when refused
	Error      string
	ErrorField string       // the id of the control the error is about
	Rated      rating.Level // set once rated: the page thanks
	FollowUp   bool         // the rating was a 差评
	Days       int
}

// rateForm shows the form to rate an invitation, or the thanks once rated.
func (s *Server) rateForm(w http.ResponseWriter, r *http.Request) error {
	return s.renderRate(w, r, http.StatusOK, rating.Input{}, nil)
}

// ratingErrorField is the id of the control a refused rating is about
// (the first choice of a group), for the error summary's link.
func ratingErrorField(err error) string {
	for field := range apperr.FieldsOf(err) {
		switch {
		case field == "comment":
			return "rate-comment"
		case field == "level":
			return "rl-5"
		case strings.HasPrefix(field, "score-"):
			return "rs-" + strings.TrimPrefix(field, "score-") + "-5"
		}
	}
	return ""
}

// renderRate shows the rating form; refused, the error says why and what
// was chosen stays chosen.
func (s *Server) renderRate(w http.ResponseWriter, r *http.Request, status int, in rating.Input, refused error) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	inv, err := s.ratings.Invitation(r.Context(), subject(r), id)
	if err != nil {
		return err
	}
	via := r.FormValue("via")
	if via != rating.ByMessage {
		via = rating.ByWeb
	}
	p := rateForm{Invitation: inv, Dimensions: rating.Dimensions(inv.Subject.Scene), Levels: rating.Levels, Via: via, Input: in,
		Days: s.ratings.RectifyDays()}
	if refused != nil {
		p.Error, p.ErrorField = apperr.MessageOf(refused), ratingErrorField(refused)
	}
	if inv.RatingID != 0 {
		// Just rated: the redirect says how, to thank and to say what
		// happens to a 差评.
		p.Rated, p.FollowUp = rating.Level(mustAtoi(r.URL.Query().Get("level"))), r.URL.Query().Get("followup") == "1"
	}
	return s.render(w, r, status, "rate", "me", p)
}

// rate records the person's rating from the form.
func (s *Server) rate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in := ratingInput(r)
	got, err := s.ratings.Rate(r.Context(), subject(r), meta(r), id, in)
	if err != nil {
		return formError(err, func(status int, _ string) error { return s.renderRate(w, r, status, in, err) })
	}
	v := url.Values{"level": {strconv.Itoa(int(got.Level))}}
	if got.FollowUpID != 0 {
		v.Set("followup", "1")
	}
	http.Redirect(w, r, "/me/ratings/"+strconv.FormatInt(id, 10)+"?"+v.Encode(), http.StatusSeeOther)
	return nil
}

// ratingInput reads a rating form: the overall level, one level per
// dimension (score-<key>), the comment and the channel. What is missing
// or out of range is the service's to refuse.
func ratingInput(r *http.Request) rating.Input {
	f := r.PostForm
	in := rating.Input{Level: rating.Level(mustAtoi(f.Get("level"))), Comment: f.Get("comment"), Channel: f.Get("via"), Scores: map[string]rating.Level{}}
	for k, v := range f {
		if key, ok := strings.CutPrefix(k, "score-"); ok && len(v) > 0 && v[0] != "" {
			in.Scores[key] = rating.Level(mustAtoi(v[0]))
		}
	}
	return in
}

// followUpsPage is the unit's and supervisors' list of 差评 follow-ups.
type followUpsPage struct {
	Rows          []rating.FollowUp
	State         string
	States        []string
	Next, First   string
	Rates         rating.FollowUpRates
	HasRates      bool
	Notice, Error string
}

// followUps lists the follow-ups who may see, newest first.
func (s *Server) followUps(w http.ResponseWriter, r *http.Request) error {
	who, q := subject(r), r.URL.Query()
	f := rating.FollowUpFilter{State: q.Get("state")}
	if v := q.Get("after"); v != "" {
		after, err := strconv.ParseInt(v, 10, 64)
		if err != nil || after <= 0 {
			return apperr.New(apperr.Invalid, "翻页参数无效。")
		}
		f.After = after
	}
	rows, next, err := s.ratings.FollowUps(r.Context(), who, f, 50)
	if err != nil {
		return err
	}
	p := followUpsPage{Rows: rows, State: f.State, States: []string{rating.AwaitCallback, rating.AwaitRectify, rating.Appealed, rating.Rectified, rating.Excluded}}
	if next != 0 {
		v := url.Values{"after": {strconv.FormatInt(next, 10)}}
		if f.State != "" {
			v.Set("state", f.State)
		}
		p.Next = "/workbench/ratings?" + v.Encode()
	}
	if f.After != 0 {
		p.First = "/workbench/ratings"
		if f.State != "" {
			p.First += "?state=" + url.QueryEscape(f.State)
		}
	}
	// Supervisors and heads see the rates they answer for above the list.
	if rates, err := s.ratings.FollowUpRatesOf(r.Context(), who, calendar.Date{}, calendar.Date{}); err == nil {
		p.Rates, p.HasRates = rates, true
	} else if !apperr.Is(err, apperr.Forbidden) {
		return err
	}
	return s.render(w, r, http.StatusOK, "followups", "workbench", p)
}

// followUpPage is one follow-up and what who may do to it.
type followUpPage struct {
	F                      rating.FollowUp
	MayHandle, MayAppeal   bool
	MayDecide, MayReveal   bool
	Mobile, Notice, Error  string
	Dimensions             []rating.Dimension
	CallNote, What, Reason string // as typed, when refused
}

// followUp shows a follow-up.
func (s *Server) followUp(w http.ResponseWriter, r *http.Request) error {
	return s.renderFollowUp(w, r, http.StatusOK, followUpNotices[r.URL.Query().Get("done")], "", "")
}

var followUpNotices = map[string]string{"callback": "回访情况已记录。", "rectify": "整改情况已记录，并在整改公示中公开。",
	"appeal": "申诉已提交，等待督查人员审核。", "decide": "申诉审核结果已记录。"}

func (s *Server) renderFollowUp(w http.ResponseWriter, r *http.Request, status int, notice, message, mobile string) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	who := subject(r)
	f, err := s.ratings.FollowUp(r.Context(), who, id)
	if err != nil {
		return err
	}
	res := f.Resource()
	p := followUpPage{F: f, Notice: notice, Error: message, Mobile: mobile, Dimensions: rating.Dimensions(f.Rating.Subject.Scene),
		MayHandle: policy.Check(who, policy.Handle, res) == nil, MayAppeal: policy.Check(who, policy.Approve, res) == nil,
		MayDecide: policy.Check(who, policy.Follow, res) == nil, MayReveal: policy.Check(who, policy.Reveal, res) == nil && f.Rating.MobileMasked != ""}
	if message != "" {
		p.CallNote, p.What, p.Reason = r.PostForm.Get("note"), r.PostForm.Get("what"), r.PostForm.Get("reason")
	}
	if mobile != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	return s.render(w, r, status, "followup", "workbench", p)
}

// followUpStep takes one step of a follow-up from its form, then shows
// the follow-up again: with a notice, or with the refusal and what was typed.
func (s *Server) followUpStep(step string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		who, f, m := subject(r), r.PostForm, meta(r)
		ctx := r.Context()
		switch step {
		case "callback":
			reached := f.Get("reached")
			if reached != "yes" && reached != "no" {
				err = apperr.New(apperr.Invalid, "请选择回访是否接通。")
				break
			}
			err = s.ratings.CallBack(ctx, who, m, id, reached == "yes", f.Get("note"))
		case "rectify":
			err = s.ratings.Rectify(ctx, who, m, id, f.Get("what"))
		case "appeal":
			err = s.ratings.Appeal(ctx, who, m, id, f.Get("reason"))
		case "decide":
			outcome := f.Get("outcome")
			if outcome != "uphold" && outcome != "refuse" {
				err = apperr.New(apperr.Invalid, "请选择申诉成立或不成立。")
				break
			}
			err = s.ratings.DecideAppeal(ctx, who, m, id, outcome == "uphold", f.Get("reason"))
		default:
			return errors.New("web: unknown follow-up step " + step)
		}
		if err != nil {
			return formError(err, func(status int, message string) error { return s.renderFollowUp(w, r, status, "", message, "") })
		}
		http.Redirect(w, r, "/workbench/ratings/"+strconv.FormatInt(id, 10)+"?done="+step, http.StatusSeeOther)
		return nil
	}
}

// followUpReveal shows the rater's full mobile number for the call-back,
// once, audited by identity.Reveal on the grounds of the rating.
func (s *Server) followUpReveal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	who := subject(r)
	f, err := s.ratings.FollowUp(r.Context(), who, id)
	if err != nil {
		return err
	}
	mobile, err := s.identity.Reveal(r.Context(), who, f.Rating.RaterID, "mobile", r.PostForm.Get("reason"),
		identity.Grounds{Resource: f.Resource(), Name: "差评回访 " + f.Rating.Subject.Number}, meta(r))
	if err != nil {
		return formError(err, func(status int, message string) error { return s.renderFollowUp(w, r, status, "", message, "") })
	}
	return s.renderFollowUp(w, r, http.StatusOK, "完整号码只在本页显示这一次；本次查看已记入审计日志。", "", mobile)
}

// ratesPage is the supervisors' page of rates.
type ratesPage struct {
	ByDepartment, ByItem []rating.Rate
	FollowUps            rating.FollowUpRates
	From, To             string
	Levels               []rating.Level
}

// rates shows the rates per department and per item, and the follow-up
// rates, over a period.
func (s *Server) rates(w http.ResponseWriter, r *http.Request) error {
	who, q := subject(r), r.URL.Query()
	p := ratesPage{From: q.Get("from"), To: q.Get("to"), Levels: rating.Levels}
	f, err := ratePeriod(p.From, p.To)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if p.ByDepartment, err = s.ratings.Rates(ctx, who, f); err != nil {
		return err
	}
	f.By = "item"
	if p.ByItem, err = s.ratings.Rates(ctx, who, f); err != nil {
		return err
	}
	if p.FollowUps, err = s.ratings.FollowUpRatesOf(ctx, who, f.From, f.To); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "ratingrates", "admin", p)
}

// ratePeriod reads the period of the rates from the URL's from and to.
func ratePeriod(from, to string) (rating.RateFilter, error) {
	var f rating.RateFilter
	for _, d := range []struct {
		text string
		into *calendar.Date
	}{{from, &f.From}, {to, &f.To}} {
		if d.text == "" {
			continue
		}
		date, err := calendar.ParseDate(d.text)
		if err != nil {
			return f, apperr.New(apperr.Invalid, "日期应为“年-月-日”，如 2026-12-01。")
		}
		*d.into = date
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return f, apperr.New(apperr.Invalid, "结束日期不能早于开始日期。")
	}
	return f, nil
}

// rectifications is the public page of rectified 差评: no names, numbers
// or comments.
func (s *Server) rectifications(w http.ResponseWriter, r *http.Request) error {
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return apperr.New(apperr.Invalid, "翻页参数无效。")
		}
		after = n
	}
	rows, next, err := s.ratings.Rectifications(r.Context(), after, 30)
	if err != nil {
		return err
	}
	p := struct {
		Rows        []rating.Rectification
		Next, First string
		Days        int
	}{Rows: rows, Days: s.ratings.RectifyDays()}
	if next != 0 {
		p.Next = "/ratings/rectifications?after=" + strconv.FormatInt(next, 10)
	}
	if after != 0 {
		p.First = "/ratings/rectifications"
	}
	return s.render(w, r, http.StatusOK, "rectifications", "", p)
}

// pairTablet makes the link of the clerk's window tablet and shows it once.
func (s *Server) pairTablet(w http.ResponseWriter, r *http.Request) error {
	token, err := s.ratings.PairTablet(r.Context(), subject(r), meta(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, http.StatusOK, "tabletpair", "workbench", struct{ Path string }{"/window/" + token})
}

// tabletPage is the counter tablet's page.
type tabletPage struct {
	Token      string
	Tablet     rating.Tablet
	Dimensions []rating.Dimension
	Levels     []rating.Level
	Input      rating.Input
	Error      string
	Thanks     bool
}

// tablet shows the tablet's page: the visit to rate, or a welcome that
// looks again every few seconds (a meta refresh: no script).
func (s *Server) tablet(w http.ResponseWriter, r *http.Request) error {
	return s.renderTablet(w, r, http.StatusOK, rating.Input{}, "", r.URL.Query().Get("done") == "1")
}

func (s *Server) renderTablet(w http.ResponseWriter, r *http.Request, status int, in rating.Input, message string, thanks bool) error {
	token := r.PathValue("token")
	t, err := s.ratings.TabletPage(r.Context(), token)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	// The token is in the path: no referrer may carry it elsewhere.
	w.Header().Set("Referrer-Policy", "no-referrer")
	// The tablet looks again by itself (no script): every few seconds
	// while it waits for a visit, and back to waiting after the thanks.
	switch {
	case thanks:
		w.Header().Set("Refresh", "6; url=/window/"+url.PathEscape(token))
	case t.Visit.ID == 0:
		w.Header().Set("Refresh", "5")
	}
	return s.render(w, r, status, "tablet", "tablet", tabletPage{Token: token, Tablet: t, Dimensions: rating.Dimensions(rating.Onsite),
		Levels: rating.Levels, Input: in, Error: message, Thanks: thanks})
}

// tabletRate records the rating given on the tablet.
func (s *Server) tabletRate(w http.ResponseWriter, r *http.Request) error {
	in := ratingInput(r)
	visit, err := strconv.ParseInt(r.PostForm.Get("visit"), 10, 64)
	if err != nil {
		err = apperr.New(apperr.Invalid, "请重新选择要评价的服务。")
	} else {
		_, err = s.ratings.RateVisit(r.Context(), meta(r), r.PathValue("token"), visit, in)
	}
	if err != nil {
		return formError(err, func(status int, message string) error { return s.renderTablet(w, r, status, in, message, false) })
	}
	http.Redirect(w, r, "/window/"+url.PathEscape(r.PathValue("token"))+"?done=1", http.StatusSeeOther)
	return nil
}
