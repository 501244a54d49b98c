package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/rating"
)

// 好差评 (internal/rating): the rates, for supervisors, heads and the
// systems that report them (a province's 好差评 platform).

// rateOut is the ratings of one department or item.
type rateOut struct {
	ID                 int64    `json:"id"`
	Name               string   `json:"name"`
	Total              int      `json:"total"`
	VerySatisfied      int      `json:"very_satisfied"`
	Satisfied          int      `json:"satisfied"`
	BasicallySatisfied int      `json:"basically_satisfied"`
	Dissatisfied       int      `json:"dissatisfied"`
	VeryDissatisfied   int      `json:"very_dissatisfied"`
	GoodRate           *float64 `json:"good_rate,omitempty"`      // 好评率, 0…1; absent with no ratings
	BadRate            *float64 `json:"bad_rate,omitempty"`       // 差评率
	SatisfiedRate      *float64 `json:"satisfied_rate,omitempty"` // 满意率
}

// ratio is n of total, or null with nothing to divide.
func ratio(n, total int) *float64 {
	if total == 0 {
		return nil
	}
	r := float64(n) / float64(total)
	return &r
}

// ratingRates answers GET /api/v1/ratings/rates: the rates per department
// (by=department, the default) or item (by=item) over the ratings the
// caller may see, with the follow-up rates, over an optional period.
func (a *API) ratingRates(w http.ResponseWriter, r *http.Request) error {
	who, err := a.who(r)
	if err != nil {
		return err
	}
	if a.ratings == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放好差评接口。")
	}
	q := r.URL.Query()
	f := rating.RateFilter{By: q.Get("by")}
	for _, d := range []struct {
		name string
		into *calendar.Date
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(d.name); v != "" {
			if *d.into, err = calendar.ParseDate(v); err != nil {
				return apperr.New(apperr.Invalid, "参数 "+d.name+" 应为“年-月-日”，如 2026-12-01。")
			}
		}
	}
	rates, err := a.ratings.Rates(r.Context(), who, f)
	if err != nil {
		return err
	}
	fu, err := a.ratings.FollowUpRatesOf(r.Context(), who, f.From, f.To)
	if err != nil {
		return err
	}
	by := f.By
	if by == "" {
		by = "department"
	}
	out := struct {
		By        string    `json:"by"`
		Items     []rateOut `json:"items"`
		FollowUps struct {
			rating.FollowUpRates
			CallbackRate *float64 `json:"callback_rate,omitempty"` // 实名差评回访率; absent with no 差评
			OnTimeRate   *float64 `json:"on_time_rate,omitempty"`  // 按期整改率; absent with none due
		} `json:"follow_ups"`
	}{By: by, Items: []rateOut{}}
	for _, x := range rates {
		out.Items = append(out.Items, rateOut{ID: x.ID, Name: x.Name, Total: x.Total, VerySatisfied: x.Counts[5], Satisfied: x.Counts[4],
			BasicallySatisfied: x.Counts[3], Dissatisfied: x.Counts[2], VeryDissatisfied: x.Counts[1],
			GoodRate: ratio(x.Good(), x.Total), BadRate: ratio(x.Bad(), x.Total), SatisfiedRate: ratio(x.Satisfied(), x.Total)})
	}
	out.FollowUps.FollowUpRates = fu
	out.FollowUps.CallbackRate, out.FollowUps.OnTimeRate = ratio(fu.CalledBack, fu.Bad), ratio(fu.OnTime, fu.Due)
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// A person rates through the API what they were invited to rate: an app
// or mini-program is a channel of its own (好差评 covers every channel).

// invitationOut is a service waiting for the person's rating, with the
// dimensions its rating asks besides the overall level.
type invitationOut struct {
	ID         int64          `json:"id"`
	Kind       string         `json:"kind"` // case, complaint or visit
	Number     string         `json:"number"`
	Title      string         `json:"title"`
	InvitedAt  time.Time      `json:"invited_at"`
	Dimensions []dimensionOut `json:"dimensions"`
}

type dimensionOut struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// myRatingInvitations answers GET /api/v1/me/ratings.
func (a *API) myRatingInvitations(w http.ResponseWriter, r *http.Request) error {
	who, err := a.who(r)
	if err != nil {
		return err
	}
	if a.ratings == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放好差评接口。")
	}
	if who.Kind != policy.Person {
		return apperr.New(apperr.Forbidden, "只有个人和法人用户可以评价服务。")
	}
	pending, err := a.ratings.Pending(r.Context(), who)
	if err != nil {
		return err
	}
	out := struct {
		Items []invitationOut `json:"items"`
	}{Items: []invitationOut{}}
	for _, inv := range pending {
		o := invitationOut{ID: inv.ID, Kind: inv.Subject.Kind, Number: inv.Subject.Number, Title: inv.Subject.Title,
			InvitedAt: inv.InvitedAt, Dimensions: []dimensionOut{}}
		for _, d := range rating.Dimensions(inv.Subject.Scene) {
			o.Dimensions = append(o.Dimensions, dimensionOut{d.Key, d.Name})
		}
		out.Items = append(out.Items, o)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// rateIn is a rating as the API takes it.
type rateIn struct {
	Level   int            `json:"level"`  // 5 非常满意 … 1 非常不满意
	Scores  map[string]int `json:"scores"` // by dimension key
	Comment string         `json:"comment"`
}

// rate answers POST /api/v1/me/ratings/{id}: the rating of one invitation.
// The service checks it whole (levels, the scene's dimensions, a 差评's
// reason) and refuses a second rating.
func (a *API) rate(w http.ResponseWriter, r *http.Request) error {
	who, err := a.who(r)
	if err != nil {
		return err
	}
	if a.ratings == nil {
		return apperr.New(apperr.Unavailable, "本实例未开放好差评接口。")
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return apperr.New(apperr.NotFound, "没有找到该评价邀请。")
	}
	var in rateIn
	if err := httpx.DecodeJSON(r.Body, &in, "评价应为 JSON 对象：level、scores、comment。"); err != nil {
		return err
	}
	scores := map[string]rating.Level{}
	for k, v := range in.Scores {
		scores[k] = rating.Level(v)
	}
	got, err := a.ratings.Rate(r.Context(), who, meta(r), id, rating.Input{Level: rating.Level(in.Level), Scores: scores,
		Comment: in.Comment, Channel: rating.ByApp})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, struct {
		ID       int64 `json:"id"`
		Level    int   `json:"level"`
		FollowUp bool  `json:"follow_up"` // a 差评: the unit will call back
	}{got.ID, int(got.Level), got.FollowUpID != 0})
	return nil
}
