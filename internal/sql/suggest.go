package sql

import "github.com/weir-dev/weir/internal/suggest"

// closest returns the candidate nearest to word by edit distance, or "" if
// none is close enough to be a plausible typo: one edit for words of up to
// four letters, two for longer ones.
func closest(word string, candidates []string) string {
	limit := 1
	if len(word) > 4 {
		limit = 2
	}
	return suggest.Closest(word, candidates, limit)
}
