package conformance

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// corpus is the directory of the conformance corpus, from this package.
var corpus = filepath.Join("..", "..", "testdata", "conformance")

var prune = flag.Bool("prune", false, "remove from KNOWN_GAPS the queries that now match Flink")

var only = flag.String("only", "", "run only the queries whose name (<group>/<topic>:<query>) contains this")

// TestConformance runs every recorded query of the corpus through weir and
// compares with Flink's answer. A case listed in KNOWN_GAPS must fail (so
// the list stays true); any other case must match.
func TestConformance(t *testing.T) {
	cases, err := Load(corpus)
	if err != nil {
		t.Fatal(err)
	}
	gapsFile := filepath.Join(corpus, "KNOWN_GAPS")
	gaps, err := Gaps(gapsFile)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, c := range cases {
		names[c.Name] = true
	}
	for g := range gaps {
		if !names[g] {
			t.Errorf("%s lists %s, which is not a query of the corpus; remove it", gapsFile, g)
		}
	}
	type tally struct{ pass, gap, typesOnly, total int }
	groups := map[string]*tally{}
	unrecorded := 0
	var fixed []string
	for _, c := range cases {
		if *only != "" && !strings.Contains(c.Name, *only) {
			continue
		}
		if !c.Recorded {
			unrecorded++
			continue
		}
		g := groups[c.Group]
		if g == nil {
			g = &tally{}
			groups[c.Group] = g
		}
		g.total++
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		diff := Compare(c, Run(ctx, c))
		cancel()
		if diff != "" && !strings.Contains(diff, "rows:") && strings.HasPrefix(diff, "column types:") {
			g.typesOnly++
		}
		reason, listed := gaps[c.Name]
		switch {
		case diff == "" && listed && *prune:
			fixed = append(fixed, c.Name)
			g.pass++
		case diff == "" && listed:
			t.Errorf("%s (%s:%d) now matches Flink; remove it from %s (it was listed: %s), or run go test ./internal/conformance -prune", c.Name, c.File, c.Line, gapsFile, reason)
			g.pass++
		case diff == "":
			g.pass++
		case listed:
			g.gap++
		default:
			t.Errorf("%s (%s:%d) differs from Flink:\n%s\nquery: %s\n(fix weir, or list it in %s with the reason)", c.Name, c.File, c.Line, diff, c.Query, gapsFile)
		}
	}
	var keys []string
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	pass, total, typesOnly := 0, 0, 0
	for _, k := range keys {
		g := groups[k]
		fmt.Fprintf(&b, "  %-10s %4d / %4d match Flink; of the %d others, %d have Flink's rows with other column types\n", k, g.pass, g.total, g.total-g.pass, g.typesOnly)
		pass += g.pass
		total += g.total
		typesOnly += g.typesOnly
	}
	if total > 0 {
		fmt.Fprintf(&b, "  %-10s %4d / %4d match Flink (%.1f%%); of the %d others, %d have Flink's rows with other column types", "all", pass, total, 100*float64(pass)/float64(total), total-pass, typesOnly)
	}
	t.Logf("conformance with Flink 2.3 per group:\n%s", b.String())
	if len(fixed) > 0 {
		if err := removeGaps(gapsFile, fixed); err != nil {
			t.Fatal(err)
		}
		t.Logf("removed %d queries that now match Flink from %s", len(fixed), gapsFile)
	}
	if unrecorded > 0 {
		t.Logf("%d queries have no recorded result yet; run make conformance-record", unrecorded)
	}
	if os.Getenv("WEIR_CONFORMANCE_SUMMARY") != "" {
		fmt.Println(b.String())
	}
}

// TestCompare checks the comparison itself on the three outcomes.
func TestCompare(t *testing.T) {
	c := &Case{Types: []string{"INT NOT NULL"}, Rows: []string{"1", "2"}}
	if d := Compare(c, Result{Types: []string{"INT NOT NULL"}, Rows: []string{"1", "2"}}); d != "" {
		t.Errorf("equal results: Compare = %q, want empty", d)
	}
	if d := Compare(c, Result{Types: []string{"BIGINT NOT NULL"}, Rows: []string{"1", "2"}}); !strings.Contains(d, "types") {
		t.Errorf("other types: Compare = %q, want a types difference", d)
	}
	if d := Compare(c, Result{Types: []string{"INT NOT NULL"}, Rows: []string{"1", "3"}}); !strings.Contains(d, "3") {
		t.Errorf("other rows: Compare = %q, want the row shown", d)
	}
	e := &Case{Error: "ValidationException: x"}
	if d := Compare(e, Result{Types: []string{"INT"}}); !strings.Contains(d, "rejects") {
		t.Errorf("accepted a rejected query: Compare = %q", d)
	}
	if d := Compare(e, Result{Err: fmt.Errorf("no")}); d != "" {
		t.Errorf("both reject: Compare = %q, want empty", d)
	}
}

// removeGaps deletes the lines of names from the known-gaps file.
func removeGaps(path string, names []string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	var keep []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if !drop[name] {
			keep = append(keep, line)
		}
	}
	return os.WriteFile(path, []byte(strings.Join(keep, "")), 0o644)
}
