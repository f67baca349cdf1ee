// Package conformance checks weir's SQL against answers recorded from Flink:
// it reads the corpus under testdata/conformance, runs each query through
// the planner and the job runner in-process, and compares the rows (and the
// column types) with Flink's.
//
// # Corpus format
//
// A corpus file (<group>/<topic>.test) is a sequence of blocks separated by
// blank lines, in the spirit of sqllogictest. Lines starting with '#' between
// blocks are comments.
//
//	statement ok
//	CREATE TABLE s (a INT) WITH ('connector' = 'datagen', ...)
//
//	query sum_int ordered
//	SELECT a, SUM(b) FROM (VALUES (1, 2), (1, 3)) AS t(a, b) GROUP BY a ORDER BY a
//	----
//	INT NOT NULL<TAB>INT NOT NULL
//	1<TAB>5
//
// A statement may name a data file next to the corpus file with ${DIR}, the
// file's directory ('path' = '${DIR}/events.csv' in a filesystem table):
// out-of-order event times need a source that keeps its rows' order.
//
// A statement block is set-up, run before every later query of the file
// ("statement error" expects it to fail); SET 'key' = 'value' there sets an
// option for the later queries (table.local-time-zone, say; record.py gives
// it to Flink's table config). A query block is "query <name>
// [ordered] [streaming]", the SQL (one or more lines), "----", and the
// result recorded
// from Flink: a line with the column types as Flink spells them, then one
// line per row; or a single line "error: <Flink's message>" when Flink
// rejects the query, in which case weir must reject it too. Rows of a query
// not marked ordered are compared as sorted lists. Flink runs a query in
// batch mode unless it is marked streaming; then its changelog is
// materialized into the final rows. A query marked changelog (streaming,
// single parallelism, small and deterministic) records the changelog itself:
// each row line starts with its kind (+I, -U, +U, -D) and a tab, in the
// order Flink emitted them; weir must emit the same sequence, and its
// materialized rows are compared too.
//
// Values are written as Flink's print connector shows them (Java's toString
// of the external classes), NULL for a null, (empty) for the empty string;
// a backslash, tab, newline or carriage return inside a value is written as
// \\, \t, \n or \r; fields are separated by tabs.
//
// internal/conformance/record.py (make conformance-record) runs the queries
// on Flink 2.3 and rewrites the result blocks.
package conformance

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/weir-dev/weir/internal/changelog"
)

// DirVariable in a statement or query stands for the directory of its corpus
// file.
const DirVariable = "${DIR}"

// Case is one query of the corpus with Flink's answer.
type Case struct {
	// Name is <group>/<topic>:<query name>, e.g. aggregate/sum:sum_int.
	Name  string
	Group string
	// File and Line locate the query block, for messages.
	File string
	Line int
	// Setup are the file's statements before the query, in order.
	Setup   []string
	Query   string
	Ordered bool
	// Streaming marks a query Flink ran in streaming mode; its answer is
	// the changelog's final rows, which weir's streaming run must give.
	Streaming bool
	// Changelog marks a streaming query whose changelog is compared too:
	// Changes are its lines, "<kind>\t<row>", in emission order, and Rows
	// the rows they materialize to, sorted.
	Changelog bool
	Changes   []string
	// Recorded is false when the block has no result yet.
	Recorded bool
	// Types are the column types; Rows the rows, each a tab-separated line.
	Types []string
	Rows  []string
	// Error is Flink's message when Flink rejects the query.
	Error string
}

// Load reads every *.test file under root, in path order.
func Load(root string) ([]*Case, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".test") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	sort.Strings(files)
	var all []*Case
	seen := map[string]string{}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		cs, err := parseFile(f, filepath.ToSlash(strings.TrimSuffix(rel, ".test")))
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if prev, dup := seen[c.Name]; dup {
				return nil, fmt.Errorf("conformance: %s:%d: query name %s is also used at %s; names must be unique in a file", c.File, c.Line, c.Name, prev)
			}
			seen[c.Name] = fmt.Sprintf("%s:%d", c.File, c.Line)
			all = append(all, c)
		}
	}
	return all, nil
}

func parseFile(path, rel string) ([]*Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	group := rel
	if i := strings.IndexByte(rel, '/'); i >= 0 {
		group = rel[:i]
	}
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	var cases []*Case
	var setup []string
	bad := func(i int, format string, args ...any) error {
		return fmt.Errorf("conformance: %s:%d: %s", path, i+1, fmt.Sprintf(format, args...))
	}
	for i := 0; i < len(lines); {
		line := lines[i]
		words := strings.Fields(line)
		switch {
		case len(words) == 0 || strings.HasPrefix(words[0], "#"):
			i++
		case words[0] == "statement":
			if len(words) != 2 || (words[1] != "ok" && words[1] != "error") {
				return nil, bad(i, "want 'statement ok' or 'statement error', got %q", line)
			}
			i++
			var st []string
			for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
				st = append(st, lines[i])
			}
			if words[1] == "ok" {
				setup = append(setup, strings.Join(st, "\n"))
			}
		case words[0] == "query":
			if len(words) < 2 {
				return nil, bad(i, "want 'query <name> [ordered] [streaming]', got %q", line)
			}
			c := &Case{Name: rel + ":" + words[1], Group: group, File: path, Line: i + 1,
				Setup: append([]string(nil), setup...)}
			for _, w := range words[2:] {
				switch w {
				case "ordered":
					c.Ordered = true
				case "streaming":
					c.Streaming = true
				case "changelog":
					c.Streaming, c.Changelog = true, true
				default:
					return nil, bad(i, "want 'query <name> [ordered] [streaming|changelog]', got %q", line)
				}
			}
			i++
			var q []string
			for ; i < len(lines) && lines[i] != "----"; i++ {
				q = append(q, lines[i])
			}
			if i == len(lines) {
				return nil, bad(c.Line-1, "query %s has no '----' line after its SQL", words[1])
			}
			c.Query = strings.Join(q, "\n")
			i++
			// The result ends at an empty line; a row of blanks is a row.
			var res []string
			for ; i < len(lines) && lines[i] != ""; i++ {
				res = append(res, lines[i])
			}
			if len(res) > 0 {
				c.Recorded = true
				if msg, ok := strings.CutPrefix(res[0], "error: "); ok {
					c.Error = msg
				} else {
					c.Types = strings.Split(res[0], "\t")
					c.Rows = res[1:]
				}
				if c.Changelog && c.Error == "" {
					c.Changes = c.Rows
					rows, err := Materialize(c.Changes)
					if err != nil {
						return nil, bad(c.Line-1, "query %s: %v", words[1], err)
					}
					sort.Strings(rows)
					c.Rows = rows
				}
			}
			cases = append(cases, c)
		default:
			return nil, bad(i, "want 'statement', 'query', a comment or a blank line, got %q", line)
		}
	}
	return cases, nil
}

// Escape writes a string value as the corpus does.
func Escape(s string) string {
	if s == "" {
		return "(empty)"
	}
	if !strings.ContainsAny(s, "\\\t\n\r") {
		return s
	}
	r := strings.NewReplacer("\\", `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)
	return r.Replace(s)
}

// Gaps reads the known-gaps file: one "<case name> <reason>" per line, '#'
// comments and blank lines ignored. It returns the reason of each case.
func Gaps(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	gaps := map[string]string{}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("conformance: %s:%d: %s has no reason; write '<case> <why weir differs>'", path, n+1, name)
		}
		if _, dup := gaps[name]; dup {
			return nil, fmt.Errorf("conformance: %s:%d: %s is listed twice", path, n+1, name)
		}
		gaps[name] = strings.TrimSpace(reason)
	}
	return gaps, nil
}

// Materialize applies changelog lines ("<kind>\t<row>") to an empty table
// and returns the rows left.
func Materialize(changes []string) ([]string, error) {
	var m changelog.Materializer[string]
	for _, line := range changes {
		k, row, _ := strings.Cut(line, "\t")
		kind, err := changelog.Parse(k)
		if err != nil {
			return nil, err
		}
		if err := m.Apply(kind, row, row); err != nil {
			return nil, fmt.Errorf("%w: %s", err, line)
		}
	}
	return m.Rows(), nil
}
