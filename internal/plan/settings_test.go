package plan

import (
	"maps"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/sql"
)

// TestSettingsInScriptOrder: each job runs with the initial options and the
// SETs before it, as in Flink's SQL client; RESET returns to the initial
// options, not to nothing.
func TestSettingsInScriptOrder(t *testing.T) {
	stmts, err := sql.Parse(prelude + `
INSERT INTO out1 SELECT inc(c0) FROM s;
SET 'parallelism.default' = '3';
SET 'pipeline.global-job-parameters' = 'k:v';
INSERT INTO out1 SELECT inc(c0) FROM s;
RESET 'parallelism.default';
INSERT INTO out1 SELECT inc(c0) FROM s;
SET 'python.fn-execution.bundle.time' = '5 ms';
RESET;
INSERT INTO out1 SELECT inc(c0) FROM s;
`)
	if err != nil {
		t.Fatal(err)
	}
	initial := map[string]string{"parallelism.default": "2", "python.fn-execution.bundle.size": "1000"}
	prog, err := (&Planner{Describe: fakeDescriber, Settings: initial}).Plan(stmts)
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]string{
		initial,
		{"parallelism.default": "3", "python.fn-execution.bundle.size": "1000", "pipeline.global-job-parameters": "k:v"},
		{"parallelism.default": "2", "python.fn-execution.bundle.size": "1000", "pipeline.global-job-parameters": "k:v"},
		initial,
	}
	if len(prog.Jobs) != len(want) {
		t.Fatalf("%d jobs, want %d", len(prog.Jobs), len(want))
	}
	for i, j := range prog.Jobs {
		if !maps.Equal(j.Settings, want[i]) {
			t.Errorf("job %d runs with %v, want %v", i, j.Settings, want[i])
		}
	}
	if !maps.Equal(prog.Settings, initial) {
		t.Errorf("the script ends with %v, want %v", prog.Settings, initial)
	}
	if !maps.Equal(initial, map[string]string{"parallelism.default": "2", "python.fn-execution.bundle.size": "1000"}) {
		t.Errorf("planning changed the caller's map: %v", initial)
	}
}

// TestBadSet: a bad value stops planning at the SET, naming the option,
// the value and the expected format.
func TestBadSet(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{`SET 'python.fn-execution.bundle.time' = '1 mins';`, "line 1, column 1: option 'python.fn-execution.bundle.time' = '1 mins': want a whole number with an optional unit"},
		{`SET 'parallelism.default' = '0';`, "option 'parallelism.default' = '0': must be at least 1"},
		{`SET 'pipeline.global-job-parameters' = 'k1';`, "option 'pipeline.global-job-parameters' = 'k1': want 'k1:v1,k2:v2'"},
	} {
		_, err := planScript(t, tc.set+"\nINSERT INTO out1 SELECT inc(c0) FROM s;")
		if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), "\n", " "), strings.TrimPrefix(tc.want, "line 1, column 1: ")) {
			t.Errorf("%s: error %v, want %q", tc.set, err, tc.want)
		}
	}
}
