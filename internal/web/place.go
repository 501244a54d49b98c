package web

import (
	"net/http"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/region"
)

// placeCookie remembers where a visitor said they live: a street's or a
// community's region code and nothing else, so that search results show
// each service at the centre or station that serves them. It stays in the
// browser; no account or URL carries it.
const placeCookie = "zwfw_place"

// placeChoice is a street with its communities, for the chooser.
type placeChoice struct {
	Street      region.Region
	Communities []region.Region
}

// place is the region the visitor chose, or the zero Region.
func (s *Server) place(r *http.Request) (region.Region, error) {
	c, err := r.Cookie(placeCookie)
	if err != nil || !isRegionCode(c.Value) {
		return region.Region{}, nil
	}
	reg, err := s.regions.Region(r.Context(), c.Value)
	if apperr.Is(err, apperr.NotFound) {
		return region.Region{}, nil // a region since removed: ask again
	}
	return reg, err
}

func isRegionCode(v string) bool {
	if len(v) != 12 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// placeChoices lists the district's streets, each with its communities.
func (s *Server) placeChoices(r *http.Request) ([]placeChoice, error) {
	streets, err := s.regions.Regions(r.Context(), region.RegionFilter{Level: region.Street})
	if err != nil {
		return nil, err
	}
	communities, err := s.regions.Regions(r.Context(), region.RegionFilter{Level: region.Community})
	if err != nil {
		return nil, err
	}
	out := make([]placeChoice, len(streets))
	at := map[string]int{}
	for i, st := range streets {
		out[i].Street = st
		at[st.Code] = i
	}
	for _, c := range communities {
		if i, ok := at[c.ParentCode]; ok {
			out[i].Communities = append(out[i].Communities, c)
		}
	}
	return out, nil
}

// setPlace remembers (or, given nothing, forgets) where the visitor
// lives, and goes back to the page they were on.
func (s *Server) setPlace(w http.ResponseWriter, r *http.Request) error {
	code := r.PostForm.Get("place")
	c := &http.Cookie{Name: placeCookie, Value: code, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: int((365 * 24 * time.Hour).Seconds())}
	if code == "" {
		c.Value, c.MaxAge = "", -1
	} else {
		reg, err := s.regions.Region(r.Context(), code)
		if !isRegionCode(code) || apperr.Is(err, apperr.NotFound) || err == nil && reg.Level == region.District {
			return apperr.New(apperr.Invalid, "请选择您居住的街道（乡镇）或社区（村）。")
		}
		if err != nil {
			return err
		}
	}
	http.SetCookie(w, c)
	http.Redirect(w, r, localPath(r.PostForm.Get("back")), http.StatusSeeOther)
	return nil
}
