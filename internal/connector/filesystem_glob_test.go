package connector

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGlobPath: a pattern reads the files and directories it matches, in
// every format; an existing path is never a pattern; no match is an error.
func TestGlobPath(t *testing.T) {
	root := t.TempDir()
	for _, format := range []string{"csv", "json", "parquet"} {
		for i, d := range []string{"2024-01", "2024-02", "2025-01", ".2024-03"} {
			writeTable(t, newMem(t), abSchema, map[string]string{"connector": "filesystem", "path": filepath.Join(root, format, d), "format": format},
				[][]any{{int32(i), "x"}, {int32(10 + i), "y"}}, 10)
		}
	}
	must(t, os.WriteFile(filepath.Join(root, "csv", "2024-loose.csv"), []byte("7,z\n"), 0o644))
	read := func(path, format string) ([]int, error) {
		src, err := OpenSource("t", abSchema, map[string]string{"connector": "filesystem", "path": path, "format": format}, 3, newMem(t))
		if err != nil {
			return nil, err
		}
		defer src.Close()
		rows, _ := drain(t, src)
		var out []int
		for _, r := range rows {
			out = append(out, int(r[0].(int32)))
		}
		slices.Sort(out)
		return out, nil
	}
	for _, format := range []string{"csv", "json", "parquet"} {
		got, err := read(filepath.Join(root, format, "2024-*"), format)
		must(t, err)
		want := []int{0, 1, 10, 11}
		if format == "csv" {
			want = []int{0, 1, 7, 10, 11}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: 2024-* read %v, want %v", format, got, want)
		}
		if got, _ := read(filepath.Join(root, format, "202[45]-0?"), format); len(got) != 6 {
			t.Errorf("%s: 202[45]-0? read %v", format, got)
		}
	}
	_, err := read(filepath.Join(root, "csv", "1999-*"), "csv")
	if err == nil || !strings.Contains(err.Error(), "matches no file") {
		t.Errorf("no match: %v", err)
	}
	// A directory named like a pattern is that directory.
	lit := filepath.Join(root, "lit*")
	writeTable(t, newMem(t), abSchema, map[string]string{"connector": "filesystem", "path": lit, "format": "csv"}, [][]any{{int32(5), "q"}}, 10)
	if got, err := read(lit, "csv"); err != nil || !slices.Equal(got, []int{5}) {
		t.Errorf("literal 'lit*': %v %v", got, err)
	}
}
