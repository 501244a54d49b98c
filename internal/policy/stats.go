package policy

// Statistics (统计分析, issue 10): who sees the figures of which cases.
//
//   - Administrators: every case.
//   - Supervisors (督查人员): their region's subtree.
//   - The other staff of a unit (窗口人员, 审批人员, 部门负责人, 事项管理员):
//     their own department's.
//   - Nobody else; the public page shows district-wide rates only, which
//     name no one (StatsPublic).

// StatsScope is who's view of the statistics in set form, for the figures
// and their drill-downs to filter in SQL: the prefix of the region codes
// ("" every region) and, when not 0, the one department. ok is false when
// who may not read the statistics at all.
func StatsScope(s Subject) (regionPrefix string, department int64, ok bool) {
	switch {
	case s.Kind != Staff:
		return "-", 0, false
	case s.Has(Admin):
		return "", 0, true
	case s.Has(Supervisor):
		return RegionPrefix(s.RegionCode), 0, true
	case len(s.Roles) > 0 && s.DepartmentID != 0:
		return "", s.DepartmentID, true
	}
	return "-", 0, false
}
