package conformance

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeCorpus(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestLoad reads a file with set-up, an unrecorded query, a multi-line
// query with a row of blanks, and an error answer.
func TestLoad(t *testing.T) {
	root := writeCorpus(t, map[string]string{"g/topic.test": `# comment
statement ok
CREATE TABLE s (a INT)

query first
SELECT 1
----

query second ordered streaming
SELECT a
FROM s
----
INT	STRING
1	  
2	(empty)

statement error
BAD

query third
SELECT x
----
error: ValidationException: no x
`})
	cases, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 3 {
		t.Fatalf("Load = %d cases, want 3", len(cases))
	}
	if c := cases[0]; c.Name != "g/topic:first" || c.Group != "g" || c.Recorded || c.Line != 5 {
		t.Errorf("first = %+v, want g/topic:first, group g, unrecorded, line 5", c)
	}
	c := cases[1]
	want := &Case{Name: "g/topic:second", Group: "g", File: c.File, Line: 9, Setup: []string{"CREATE TABLE s (a INT)"},
		Query: "SELECT a\nFROM s", Ordered: true, Streaming: true, Recorded: true,
		Types: []string{"INT", "STRING"}, Rows: []string{"1\t  ", "2\t(empty)"}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("second = %+v\nwant %+v", c, want)
	}
	if c := cases[2]; c.Error != "ValidationException: no x" || len(c.Setup) != 1 {
		t.Errorf("third = %+v, want Flink's error and one set-up statement (the failing one is not set-up)", c)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"query a\nSELECT 1\n", "has no '----' line"},
		{"query a sorted\nSELECT 1\n----\n", "want 'query <name> [ordered] [streaming|changelog]'"},
		{"statement maybe\nX\n", "want 'statement ok' or 'statement error'"},
		{"SELECT 1\n", "want 'statement', 'query', a comment or a blank line"},
		{"query a\nSELECT 1\n----\n\nquery a\nSELECT 2\n----\n", "is also used"},
	}
	for _, tt := range tests {
		_, err := Load(writeCorpus(t, map[string]string{"g/x.test": tt.text}))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%q) error = %v, want %q", tt.text, err, tt.want)
		}
	}
}

func TestGaps(t *testing.T) {
	root := writeCorpus(t, map[string]string{"KNOWN_GAPS": "# c\n\ng/x:a weir lacks it\n"})
	gaps, err := Gaps(filepath.Join(root, "KNOWN_GAPS"))
	if err != nil || gaps["g/x:a"] != "weir lacks it" || len(gaps) != 1 {
		t.Errorf("Gaps = %v, %v", gaps, err)
	}
	for _, text := range []string{"g/x:a\n", "g/x:a r\ng/x:a r\n"} {
		root := writeCorpus(t, map[string]string{"KNOWN_GAPS": text})
		if _, err := Gaps(filepath.Join(root, "KNOWN_GAPS")); err == nil {
			t.Errorf("Gaps(%q) accepted it; want an error (no reason, or listed twice)", text)
		}
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{"": "(empty)", "a\tb": `a\tb`, `back\slash`: `back\\slash`, "x\ny\r": `x\ny\r`, "plain": "plain"} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}
