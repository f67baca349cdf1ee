package connector

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// A source's 'path' may be a glob pattern (filepath.Match syntax: '*', '?',
// '[...]'), in weir only (Flink's connector takes a path): the files and
// directories it matches are read as one table, a directory as a table's
// directory (its visible files, in subdirectories too), in name order. A
// path that exists is never taken for a pattern, and sinks write paths
// only.

// listGlob lists the files of the entries a pattern matches and opens the
// first ones.
func listGlob(table, pattern string) ([]string, []*os.File, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, nil, fmt.Errorf("table '%s': filesystem 'path' = '%s' is not a valid glob pattern (%v); fix it or name a directory", table, pattern, err)
	}
	var matched []string
	for _, m := range matches {
		if !hidden(filepath.Base(m)) {
			matched = append(matched, m)
		}
	}
	if len(matched) == 0 {
		return nil, nil, fmt.Errorf("table '%s': filesystem 'path' = '%s' does not exist and, as a glob pattern, matches no file; fix the path", table, pattern)
	}
	var files []string
	for _, m := range matched {
		fs, opened, err := listTableFiles(table, m)
		for _, f := range opened {
			f.Close()
		}
		if err != nil {
			return nil, nil, err
		}
		files = append(files, fs...)
	}
	slices.Sort(files)
	files = slices.Compact(files)
	opened, err := openUpfront(table, files)
	if err != nil {
		return nil, nil, err
	}
	return files, opened, nil
}
