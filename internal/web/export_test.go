package web

// RouteGuards is the route table as its test reads it: each route's
// pattern and the name of its guard, in the table's order.
func RouteGuards(s *Server) [][2]string {
	var out [][2]string
	for _, rt := range s.table {
		out = append(out, [2]string{rt.pattern, rt.guard.name})
	}
	return out
}
