package catalog

// Decoded is how many guides the searcher's last build decoded.
func Decoded(sr *Searcher) int { return sr.state.Load().decoded }
