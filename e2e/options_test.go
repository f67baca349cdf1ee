package e2e

import (
	"strings"
	"testing"
)

// TestOptionsInScriptOrder: each job of a script runs with the -D options
// and the SETs before it, as in Flink's SQL client, and RESET returns to the
// -D value: the three jobs start 1, 3 and 2 workers.
func TestOptionsInScriptOrder(t *testing.T) {
	t.Parallel()
	udfs := `from weir import udf

@udf(result_type='INT')
def inc(x):
    return x + 1
`
	body := `INSERT INTO snk SELECT inc(a) FROM (VALUES (1), (2), (3)) AS t(a);`
	script := `CREATE TABLE snk (a INT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
SET 'parallelism.default' = '1';
` + body + `
SET 'parallelism.default' = '3';
SET 'python.fn-execution.bundle.time' = '20 ms';
` + body + `
RESET 'parallelism.default';
` + body
	r := job(t, script, map[string]string{"udfs.py": udfs}, "-D", "parallelism.default=2", "-vv", "--progress=off")
	r.mustSucceed(t)
	parts := strings.Split(r.stderr, "weir: job finished")
	if len(parts) != 4 {
		t.Fatalf("%d jobs finished, want 3; stderr:\n%s", len(parts)-1, r.stderr)
	}
	for i, want := range []int{1, 3, 2} {
		if got := strings.Count(parts[i], "started Python worker"); got != want {
			t.Errorf("job %d started %d workers, want %d; stderr:\n%s", i+1, got, want, r.stderr)
		}
	}
	if got := strings.Count(r.stdout, "+I["); got != 9 {
		t.Errorf("%d rows, want 9:\n%s", got, r.stdout)
	}
}
