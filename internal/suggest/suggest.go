// Package suggest finds the likely intended word behind a typo, for error
// messages that say "did you mean ...?".
//
// suggest is a leaf package: it imports only the standard library.
package suggest

import "strings"

// Distance is the optimal-string-alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent letters (the
// commonest typo, FORM for FROM) each count one. It counts runes and
// ignores case.
func Distance(a, b string) int {
	ra, rb := []rune(strings.ToUpper(a)), []rune(strings.ToUpper(b))
	// Long words are never typos of short names; don't spend time on them.
	if len(ra) > 64 || len(rb) > 64 {
		return len(ra) + len(rb)
	}
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// Closest returns the candidate nearest to word, if it is at most maxDist
// edits away and not word itself (ignoring case); otherwise "".
func Closest(word string, candidates []string, maxDist int) string {
	best, bestDist := "", maxDist+1
	for _, c := range candidates {
		if strings.EqualFold(c, word) {
			return ""
		}
		if d := Distance(word, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
