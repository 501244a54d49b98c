package web

import (
	"net/http"

	"github.com/zwfw/zwfw/internal/policy"
)

// supervisorList renders a supervisors' list: the casework query decides, through
// the policy, who may read it and which cases they see.
func (s *Server) supervisorList(page string, list func(*http.Request, policy.Subject) (any, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		data, err := list(r, subject(r))
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, page, "admin", data)
	}
}

// The supervisors' lists: cases that needed more than one visit (最多跑一次),
// cases asked for corrections more than once (一次性告知), cases near or
// past their deadline, finished cases with incomplete archives.
func (s *Server) multiVisits(r *http.Request, who policy.Subject) (any, error) {
	return s.cases.MultiVisits(r.Context(), who, 200)
}

func (s *Server) corrections(r *http.Request, who policy.Subject) (any, error) {
	return s.cases.RepeatedCorrections(r.Context(), who, 500)
}

func (s *Server) late(r *http.Request, who policy.Subject) (any, error) {
	return s.cases.Late(r.Context(), who, 500)
}

func (s *Server) incompleteArchives(r *http.Request, who policy.Subject) (any, error) {
	return s.cases.IncompleteArchives(r.Context(), who, 1000)
}
