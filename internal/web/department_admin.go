package web

import (
	"net/http"
	"strconv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/region"
)

func (s *Server) departmentsAdmin(w http.ResponseWriter, r *http.Request) error {
	depts, err := s.regions.Departments(r.Context(), region.DepartmentFilter{Level: region.District})
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "deptadmin", "admin", struct {
		Departments []region.Department
		Notice      string
	}{depts, map[string]string{"saved": "已保存。"}[r.URL.Query().Get("done")]})
}

// departmentUpdate saves a department's contact details and records the
// change with what it was before.
func (s *Server) departmentUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "部门不存在")
	}
	f, who, m := r.PostForm, subject(r), meta(r)
	c := region.DepartmentContact{ShortName: f.Get("short_name"), Phone: f.Get("phone"), Address: f.Get("address"), Hours: f.Get("hours")}
	if err := s.regions.UpdateContact(r.Context(), who, m, id, c); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/departments?done=saved", http.StatusSeeOther)
	return nil
}
