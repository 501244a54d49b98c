package catalog

// Decoded is how many guides the searcher's last build decoded.
func Decoded(sr *Searcher) int { return sr.state.Load().decoded }

// EntryOf is what publication writes to items.search_entry.
func EntryOf(it Item) any { return entryOf(it) }
