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

// CachedResults is how many search results the server keeps, and their
// bytes.
func CachedResults(s *Server) (entries, bytes int) {
	c := s.results
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m), c.size
}

// CachedResultsText is every search result the server keeps, for a test
// that looks for what must never be in them.
func CachedResultsText(s *Server) []string {
	c := s.results
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, h := range c.m {
		out = append(out, string(h))
	}
	return out
}

// LimitResultCache makes the server keep at most max bytes of results.
func LimitResultCache(s *Server, max int) { s.results = newResultCache(max) }
