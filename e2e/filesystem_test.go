package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// visibleFiles lists the files of a filesystem table's directory that
// readers see (names not starting with '.' or '_'), sorted.
func visibleFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(e.Name(), "_") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// readTable returns the contents of a filesystem table's directory: its
// visible files, concatenated in name order.
func readTable(dir string) ([]byte, error) {
	names, err := visibleFiles(dir)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// onePart returns the path of the only visible file of a table's directory.
func onePart(t *testing.T, dir string) string {
	t.Helper()
	names, err := visibleFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 {
		t.Fatalf("%s has %d visible files, want one part file: %v", dir, len(names), names)
	}
	return filepath.Join(dir, names[0])
}
