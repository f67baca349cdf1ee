package e2e

import (
	"strings"
	"testing"
)

// TestEarlyWorkers: the Python workers start while a job is planned (while
// its functions are described) when the first job's settings are the
// script's end, and that job uses them; a script that sets options after
// its first query starts each job's own; when planning fails after the
// functions were described, no worker is left running.
func TestEarlyWorkers(t *testing.T) {
	udfs := `from weir import udf
inc = udf(lambda x: x + 1, result_type='BIGINT')
`
	head := `CREATE TABLE src (a BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1000',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '1000');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
`
	// Planned and run with the early workers: one worker started.
	r := job(t, head+"SELECT SUM(inc(a)) FROM src;", map[string]string{"udfs.py": udfs}, "-v", "-v").mustSucceed(t)
	if got := strings.Join(r.lines(), "\n"); !strings.Contains(got, "501500") {
		t.Errorf("got %q, want 501500", got)
	}
	if n := strings.Count(r.stderr, "started Python worker"); n != 1 {
		t.Errorf("%d workers started for a job of one; want the early one only:\n%s", n, r.stderr)
	}
	// A SET after the first query: the first job's settings are not the
	// script's end, so no worker starts early, and each job starts its own.
	r = job(t, head+"SELECT SUM(inc(a)) FROM src;\nSET 'python.fn-execution.bundle.size' = '7';\nSELECT SUM(inc(a)) FROM src;",
		map[string]string{"udfs.py": udfs}, "-v", "-v").mustSucceed(t)
	if got := strings.Join(r.lines(), "\n"); strings.Count(got, "501500") != 2 {
		t.Errorf("got %q, want 501500 twice", got)
	}
	if n := strings.Count(r.stderr, "started Python worker"); n != 2 {
		t.Errorf("%d workers started; want one per job:\n%s", n, r.stderr)
	}
	if ps := workerProcesses(); len(ps) > 0 {
		t.Errorf("worker processes left running: %v", ps)
	}
	// Planning fails after the function was described.
	r = job(t, head+"SELECT inc(nope) FROM src;", map[string]string{"udfs.py": udfs})
	if r.code == 0 || !strings.Contains(r.stderr, "nope") {
		t.Fatalf("exit %d; want the unknown column reported:\n%s", r.code, r.stderr)
	}
	if ps := workerProcesses(); len(ps) > 0 {
		t.Errorf("worker processes left running after a planning error: %v", ps)
	}
}
