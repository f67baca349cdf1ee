package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file tests Python aggregate functions (udaf: AggregateFunction
// classes and pandas functions) in GROUP BY queries, in batch mode.

// udafSources returns e2e/testdata/udaf/pyflink_udfs.py with its PyFlink
// imports changed to weir's (the only change), the SQL and PyFlink 2.3's
// answers, one list of rows per INSERT.
func udafSources(t *testing.T) (py, script string, golden [][]string) {
	t.Helper()
	py = weirImports(t, "testdata/udaf/pyflink_udfs.py", map[string]string{
		"from pyflink.table import DataTypes":                   "from weir import DataTypes",
		"from pyflink.table.udf import AggregateFunction, udaf": "from weir import AggregateFunction, udaf",
	})
	sqlText, err := os.ReadFile("testdata/udaf/examples.sql")
	if err != nil {
		t.Fatal(err)
	}
	g, err := os.ReadFile("testdata/udaf/examples.golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(g), "\n") {
		switch {
		case strings.HasPrefix(l, "-- "):
			golden = append(golden, nil)
		case strings.HasPrefix(l, "+I["):
			golden[len(golden)-1] = append(golden[len(golden)-1], l)
		}
	}
	return py, string(sqlText), golden
}

// TestUDAFPyFlinkExamples: PyFlink's documented aggregate functions (the
// weighted average AggregateFunction, the pandas mean) and a few more run on
// weir with only their import lines changed, on two workers, and give the
// final rows PyFlink 2.3 gave (e2e/testdata/udaf, recorded by record.py: the
// general functions in streaming mode, whose changelog is folded, the pandas
// ones in batch mode, as Flink runs each only there), beside COUNT, SUM and
// MAX of the same GROUP BY, with HAVING over a Python aggregate.
func TestUDAFPyFlinkExamples(t *testing.T) {
	py, script, golden := udafSources(t)
	var want []string
	for _, g := range golden {
		want = append(want, g...)
	}
	sort.Strings(want)
	if len(golden) != 7 || len(want) != 30 {
		t.Fatalf("examples.golden holds %d statements and %d rows; re-record it with record.py", len(golden), len(want))
	}
	r := job(t, script, map[string]string{"udfs.py": py}, "-D", "parallelism.default=2").mustSucceed(t)
	got := r.lines()
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("weir's rows differ from PyFlink 2.3's\n--- weir\n%s\n--- PyFlink\n%s\n--- stderr\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), r.stderr)
	}
}

// TestUDAFMixedInOneGroupBy: Flink refuses a general and a pandas aggregate
// function, or a pandas one and a built-in aggregate, in one GROUP BY; weir
// runs them together. The rows equal PyFlink's answers to the separate
// queries (statements 1 and 2 of examples.sql) merged by group key.
func TestUDAFMixedInOneGroupBy(t *testing.T) {
	py, script, golden := udafSources(t)
	ddl := script[:strings.Index(script, "INSERT INTO")]
	merged := map[string][]string{}
	for _, stmt := range golden[:2] {
		for _, l := range stmt {
			f := strings.Split(strings.TrimSuffix(strings.TrimPrefix(l, "+I["), "]"), ", ")
			m := merged[f[0]]
			if m == nil {
				m = f
			}
			for i, v := range f {
				if v != "null" {
					m[i] = v
				}
			}
			merged[f[0]] = m
		}
	}
	var want []string
	for _, f := range merged {
		want = append(want, "+I["+strings.Join(f, ", ")+"]")
	}
	sort.Strings(want)
	q := ddl + "INSERT INTO snk1 SELECT a % 7, weighted_avg(a, b % 5), mean_udaf(CAST(b AS FLOAT)), COUNT(*), SUM(b) FROM src GROUP BY a % 7;"
	r := job(t, q, map[string]string{"udfs.py": py}, "-D", "parallelism.default=2").mustSucceed(t)
	got := r.lines()
	sort.Strings(got)
	if len(want) != 7 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("mixed GROUP BY\n--- weir\n%s\n--- PyFlink (merged)\n%s\n--- stderr\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), r.stderr)
	}
}

// udafFaultUDFs has an aggregate function that SIGKILLs its own worker in
// accumulate the first time it meets each of a few groups (a marker file
// per group makes it the first time only), so the kills happen whatever the
// machine's speed, inside bundles that must then be replayed.
const udafFaultUDFs = `
import os, signal
from weir import AggregateFunction, DataTypes, udaf

MARKS = os.environ["WEIR_UDAF_MARKS"]
KILL_AT = {int(k) for k in os.environ["WEIR_UDAF_KILL"].split(",")}

class WeightedSum(AggregateFunction):
    def create_accumulator(self):
        return [0, 0]

    def accumulate(self, acc, key, v, w):
        if acc[1] == 3 and key in KILL_AT:
            try:
                fd = os.open(os.path.join(MARKS, str(key)), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.close(fd)
                os.kill(os.getpid(), signal.SIGKILL)
        acc[0] += v * w
        acc[1] += 1

    def get_value(self, acc):
        return acc[0]

wsum = udaf(WeightedSum(), result_type=DataTypes.BIGINT())
`

// TestUDAFWorkerKills: 2,000,000 rows into 100,000 groups through a Python
// aggregate function on two workers, whose workers are SIGKILLed 6 times in
// the middle of bundles (in the accumulate of six groups picked at random);
// every group's result is exact (it equals SUM of
// the same products, computed in Go in the same query) and no group is
// lost or doubled.
func TestUDAFWorkerKills(t *testing.T) {
	const rows, groups = 2_000_000, 100_000
	marks := t.TempDir()
	// Six groups picked at random: their accumulate kills the worker once
	// each, wherever their rows fall in the bundles.
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	var kill []string
	for picked := map[int]bool{}; len(kill) < 6; {
		if k := rng.IntN(groups); !picked[k] {
			picked[k] = true
			kill = append(kill, strconv.Itoa(k))
		}
	}
	t.Logf("seed %d: kills at keys %s", seed, strings.Join(kill, ","))
	q := fmt.Sprintf(`
CREATE TABLE src (a BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '0', 'fields.a.end' = '%d');
CREATE TEMPORARY FUNCTION wsum AS 'udfs.wsum' LANGUAGE PYTHON;
SELECT a %% %d AS k, wsum(a %% %d, a, a %% 13), SUM(a * (a %% 13)), COUNT(*) FROM src GROUP BY a %% %d;
`, rows, rows-1, groups, groups, groups)
	r := runWeirJob(t, q, map[string]string{"udfs.py": udafFaultUDFs},
		[]string{"WEIR_UDAF_MARKS=" + marks, "WEIR_UDAF_KILL=" + strings.Join(kill, ",")},
		"-D", "parallelism.default=2", "-D", "python.fn-execution.bundle.size=4000",
		"-D", "python.fn-execution.max-attempts=8")
	r.mustSucceed(t)
	mustHaveKilled(t, r, marks, len(kill))
	seen := map[int]bool{}
	for _, l := range r.lines() {
		f := strings.Split(strings.TrimSuffix(strings.TrimPrefix(l, "+I["), "]"), ", ")
		if len(f) != 4 {
			t.Fatalf("unexpected output line %q", l)
		}
		k, _ := strconv.Atoi(f[0])
		if seen[k] {
			t.Fatalf("group %d twice", k)
		}
		seen[k] = true
		if f[1] != f[2] || f[3] != "20" {
			t.Fatalf("group %d: wsum %s, SUM %s, COUNT %s; want wsum = SUM and COUNT 20", k, f[1], f[2], f[3])
		}
	}
	if len(seen) != groups {
		t.Fatalf("%d groups in the output, want %d", len(seen), groups)
	}
}

// mustHaveKilled checks that a job's planned worker kills all happened (a
// mark file each in marks) and that its summary says workers restarted.
func mustHaveKilled(t *testing.T, r result, marks string, planned int) {
	t.Helper()
	entries, _ := os.ReadDir(marks)
	if len(entries) != planned {
		t.Fatalf("%d of %d planned worker kills happened", len(entries), planned)
	}
	if !strings.Contains(r.stderr, "restarted") {
		t.Errorf("the job summary does not mention restarted workers:\n%s", r.stderr)
	}
}

// runWeirJob runs a SQL job with Python files and extra environment
// variables to its end.
func runWeirJob(t *testing.T, sqlText string, pyFiles map[string]string, env []string, extra ...string) result {
	t.Helper()
	args, _ := writeJob(t, sqlText, pyFiles)
	return runWeir(t, env, append(args, extra...)...)
}

// TestUDAFErrors: an accumulate that raises fails the job with the
// function's name, the group's key, the row of the group and its arguments,
// and the traceback down to the user's line; a pandas aggregate function
// that returns a Series is refused naming the function and the group; an
// aggregate function called outside an aggregation says where it belongs.
func TestUDAFErrors(t *testing.T) {
	const udfs = `
from weir import AggregateFunction, DataTypes, udaf

class Picky(AggregateFunction):
    def create_accumulator(self):
        return [0]

    def accumulate(self, acc, v):
        if v == 13:
            raise ValueError("unlucky value")
        acc[0] += v

    def get_value(self, acc):
        return acc[0]

picky = udaf(Picky(), result_type=DataTypes.BIGINT(), name="picky")

@udaf(result_type=DataTypes.DOUBLE(), func_type="pandas")
def not_scalar(v):
    return v * 2
`
	ddl := `
CREATE TABLE src (a BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '100',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '0', 'fields.a.end' = '99');
CREATE TEMPORARY FUNCTION picky AS 'udfs.picky' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION not_scalar AS 'udfs.not_scalar' LANGUAGE PYTHON;
`
	r := job(t, ddl+"SELECT CONCAT('g', CAST(a % 5 AS STRING)), picky(a), COUNT(*) FROM src GROUP BY CONCAT('g', CAST(a % 5 AS STRING));", map[string]string{"udfs.py": udfs})
	if r.code != 1 {
		t.Fatalf("exit code %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"aggregate function 'picky'", "raised ValueError in accumulate: unlucky value",
		"group key: ('g3',)", "row 3 of the group, arguments: (13,)", "in accumulate", `raise ValueError("unlucky value")`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	r = job(t, ddl+"SELECT a % 2, not_scalar(CAST(a AS DOUBLE)) FROM src GROUP BY a % 2;", map[string]string{"udfs.py": udfs})
	if r.code != 1 || !strings.Contains(r.stderr, "pandas aggregate function 'not_scalar' returned a Series") || !strings.Contains(r.stderr, "must return one scalar per group") {
		t.Errorf("exit code %d; want 1 and an error about the Series:\n%s", r.code, r.stderr)
	}
	r = job(t, ddl+"SELECT a FROM src WHERE picky(a) > 1;", map[string]string{"udfs.py": udfs})
	if r.code != 1 || !strings.Contains(r.stderr, "aggregate functions are not allowed in WHERE") {
		t.Errorf("exit code %d; want 1 and an error about WHERE:\n%s", r.code, r.stderr)
	}
}
