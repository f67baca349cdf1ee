package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestUDAFSessionWindows: Python aggregate functions over SESSION windows
// in streaming mode (out-of-order rows, late rows bridging open sessions,
// late rows dropped) give the rows PyFlink 2.3 gave (testdata/udaf_session,
// recorded by record.py), on two workers, beside COUNT and SUM. trace
// returns its calls, so the rows also show that each session's rows reach
// one accumulator in arrival order and that no accumulators are merged when
// sessions merge, as in PyFlink; no_merge defines no merge method and runs.
func TestUDAFSessionWindows(t *testing.T) {
	needPython(t)
	dir, err := filepath.Abs("testdata/udaf_session")
	if err != nil {
		t.Fatal(err)
	}
	py := weirImports(t, filepath.Join(dir, "udfs.py"), map[string]string{
		"from pyflink.table import DataTypes":                   "from weir import DataTypes",
		"from pyflink.table.udf import AggregateFunction, udaf": "from weir import AggregateFunction, udaf",
	})
	sqlText, err := os.ReadFile(filepath.Join(dir, "session.sql"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := os.ReadFile(filepath.Join(dir, "session.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	for _, s := range strings.Split(strings.ReplaceAll(string(sqlText), "${DIR}", dir), ";") {
		if s = strings.TrimSpace(s); s != "" {
			stmts = append(stmts, s)
		}
	}
	var ddl, inserts []string
	for _, s := range stmts {
		if strings.HasPrefix(strings.ToUpper(s), "INSERT") {
			inserts = append(inserts, s)
		} else {
			ddl = append(ddl, s)
		}
	}
	var golden [][]string
	for _, l := range strings.Split(string(g), "\n") {
		switch {
		case strings.HasPrefix(l, "-- "):
			golden = append(golden, nil)
		case strings.HasPrefix(l, "+I["):
			golden[len(golden)-1] = append(golden[len(golden)-1], l)
		}
	}
	if len(golden) != len(inserts) || len(inserts) != 3 {
		t.Fatalf("session.golden holds %d statements for %d INSERTs; re-record it with record.py", len(golden), len(inserts))
	}
	for i, ins := range inserts {
		q := "SET 'execution.runtime-mode' = 'streaming';\n" + strings.Join(ddl, ";\n") + ";\n" + ins + ";\n"
		r := job(t, q, map[string]string{"udfs.py": py}, "-D", "parallelism.default=2").mustSucceed(t)
		got := r.lines()
		sort.Strings(got)
		if len(golden[i]) == 0 || strings.Join(got, "\n") != strings.Join(golden[i], "\n") {
			t.Errorf("statement %d (%s): weir's rows differ from PyFlink 2.3's\n--- weir\n%s\n--- PyFlink\n%s\n--- stderr\n%s", i+1, ins, strings.Join(got, "\n"), strings.Join(golden[i], "\n"), r.stderr)
		}
	}
}
