package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// This file tests the forms of Python functions through the real binary and
// real workers: @udf on a def, a lambda, a callable object, a
// functools.partial and ScalarFunction subclasses; open and close once per
// worker; job parameters; metrics in the job summary; deduplication of
// deterministic calls; and the result forms of table functions.
//
// Most tests run twice, on the Cython operations and on the pure-Python
// ones (WEIR_CYTHON=0), and in parallel with each other (a job is mostly
// waiting for Python to start).

// impls are the two implementations of the workers' operations.
var impls = []struct {
	name   string
	cython string
}{{"cython", "1"}, {"python", "0"}}

// forImpls runs f as a parallel subtest per implementation.
func forImpls(t *testing.T, f func(t *testing.T, cython string)) {
	for _, im := range impls {
		im := im
		t.Run(im.name, func(t *testing.T) {
			t.Parallel()
			f(t, im.cython)
		})
	}
}

// cythonOnly runs f as a parallel subtest on the Cython operations only.
func cythonOnly(t *testing.T, f func(t *testing.T, cython string)) {
	t.Run("cython", func(t *testing.T) {
		t.Parallel()
		f(t, "1")
	})
}

// jobIn runs `weir sql` like job, with WEIR_CYTHON set for the workers and
// $DIR in the SQL replaced by the job's directory (returned).
func jobIn(t *testing.T, cython, sqlText string, pyFiles map[string]string, extra ...string) (result, string) {
	t.Helper()
	args, dir := writeJob(t, sqlText, pyFiles)
	return runWeir(t, []string{"WEIR_CYTHON=" + cython}, append(args, extra...)...), dir
}

// wantLines compares the output rows with want, exactly and in order.
func wantLines(t *testing.T, r result, want ...string) {
	t.Helper()
	got := r.lines()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output rows differ\n--- got\n%s\n--- want\n%s\n--- stderr\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), r.stderr)
	}
}

// mustFail fails the test unless the run failed, and returns its stderr.
func (r result) mustFail(t *testing.T) string {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("weir succeeded; want a failure\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	return r.stderr
}

// metrics parses the "weir: metric KIND NAME = V" and "weir: metric
// distribution NAME: ..." lines of the job summary into NAME -> text.
func metrics(stderr string) map[string]string {
	out := map[string]string{}
	re := regexp.MustCompile(`(?m)^weir: metric (counter|gauge|distribution) ([^ :]+)(?: = |: )(.*)$`)
	for _, m := range re.FindAllStringSubmatch(stderr, -1) {
		out[m[1]+" "+m[2]] = m[3]
	}
	return out
}

const formsUDFs = `import functools
from weir import udf, DataTypes, ScalarFunction


@udf(result_type='BIGINT')
def add_def(a, b):
    return a + b


add_lambda = udf(lambda a, b: a + b, result_type=DataTypes.BIGINT())


class Adder:
    def __init__(self, k):
        self.k = k

    def __call__(self, a, b):
        return a + b + self.k


add_object = udf(Adder(100), result_type='BIGINT')


def add3(k, a, b):
    return k + a + b


add_partial = udf(functools.partial(add3, 1000), result_type='BIGINT')


class AddFunction(ScalarFunction):
    def __init__(self, k=10000):
        self.k = k

    def eval(self, a, b):
        return a + b + self.k


add_instance = udf(AddFunction(), result_type='BIGINT')
add_instance2 = udf(AddFunction(20000), result_type='BIGINT', name='add_twenty_thousand')


@udf(result_type='BIGINT')
class SubFunction(ScalarFunction):
    def eval(self, a, b):
        return a - b


total = udf(lambda *xs: sum(x for x in xs if x is not None), result_type='BIGINT')


@udf(result_type='STRING')
def with_default(a, sep='-'):
    return f"{a}{sep}"


typed = udf(lambda a, b: f"{type(a).__name__}:{a}/{type(b).__name__}:{b}",
            input_types=[DataTypes.BIGINT(), 'DOUBLE'], result_type=DataTypes.STRING())

_counter = iter(range(1, 1000))
# No arguments, and not deterministic: each call is made.
seq = udf(lambda: next(_counter), result_type='BIGINT', deterministic=False)
`

// TestFunctionForms: every way of declaring a scalar function computes the
// same thing through the real workers.
func TestFunctionForms(t *testing.T) {
	forImpls(t, func(t *testing.T, cython string) {
		r, _ := jobIn(t, cython, formsSQL, map[string]string{"udfs.py": formsUDFs})
		r.mustSucceed(t)
		wantLines(t, r,
			"+I[3, 3, 103, 1003, 10003, 20003, -1, 10, 1-, 1+, int:1/float:2.0, 1, 2]",
			"+I[35, 35, 135, 1035, 10035, 20035, -45, 42, -5-, -5+, int:-5/float:40.0, 3, 4]",
			"+I[4294967294, 4294967294, 4294967394, 4294968294, 4294977294, 4294987294, 0, 4294967301, 2147483647-, 2147483647+, int:2147483647/float:2147483647.0, 5, 6]",
		)
	})
}

// formsSQL calls every function of formsUDFs.
const formsSQL = `CREATE TABLE snk (d BIGINT, l BIGINT, o BIGINT, p BIGINT, i BIGINT, i2 BIGINT, c BIGINT, v BIGINT, w1 STRING, w2 STRING, ty STRING, s1 BIGINT, s2 BIGINT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION seq AS 'udfs.seq' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION add_def AS 'udfs.add_def' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION add_lambda AS 'udfs.add_lambda' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION add_object AS 'udfs.add_object' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION add_partial AS 'udfs.add_partial' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION add_instance AS 'udfs.add_instance' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION add_instance2 AS 'udfs.add_instance2' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION sub_class AS 'udfs.SubFunction' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION total AS 'udfs.total' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION with_default AS 'udfs.with_default' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION typed AS 'udfs.typed' LANGUAGE PYTHON;
INSERT INTO snk SELECT add_def(a, b), add_lambda(a, b), add_object(a, b), add_partial(a, b), add_instance(a, b), add_instance2(a, b),
  sub_class(a, b), total(a, b, 7, CAST(NULL AS INT)), with_default(a), with_default(a, '+'), typed(a, b), seq(), seq()
FROM (VALUES (1, 2), (-5, 40), (2147483647, 2147483647)) AS t(a, b);`

const openCloseUDFs = `import os
from weir import udf, ScalarFunction


class Logged(ScalarFunction):
    """Logs open and close (with the number of evals seen) to the file named by job parameter 'log'."""

    def open(self, ctx):
        self.path = ctx.get_job_parameter('log')
        self.tag = ctx.get_job_parameter('tag', 'no-tag')
        self.missing = ctx.get_job_parameter('nope', 'default')
        self.evals = 0
        self.closed = False
        with open(self.path, 'a') as f:
            f.write(f"open {os.getpid()} {self.tag} {self.missing}\n")

    def eval(self, x):
        if self.closed:
            raise RuntimeError("eval after close")
        self.evals += 1
        return x * 10

    def close(self):
        self.closed = True
        with open(self.path, 'a') as f:
            f.write(f"close {os.getpid()} {self.evals}\n")


logged = udf(Logged(), result_type='BIGINT')
`

// TestOpenClose: with two workers, open and close of a ScalarFunction run
// exactly once in each worker; close runs when the worker shuts down, after
// the worker's last eval. The function reads the log path from the job
// parameters. (Bundles of 1000 rows, one in flight per worker, so that both
// workers get some.)
func TestOpenClose(t *testing.T) {
	const rows, workers = 8000, 2
	sqlText := fmt.Sprintf(`SET 'pipeline.global-job-parameters' = 'log:$DIR/log.txt,tag:t1';
SET 'python.fn-execution.bundle.size' = '1000';
SET 'python.fn-execution.bundles-in-flight' = '1';
CREATE TABLE src (a BIGINT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '%d');
CREATE TABLE snk (a BIGINT, b BIGINT) WITH ('connector' = 'filesystem', 'path' = '$DIR/out.csv', 'format' = 'csv');
CREATE TEMPORARY FUNCTION logged AS 'udfs.logged' LANGUAGE PYTHON;
INSERT INTO snk SELECT a, logged(a) FROM src;`, rows)
	forImpls(t, func(t *testing.T, cython string) {
		{
			r, dir := jobIn(t, cython, sqlText, map[string]string{"udfs.py": openCloseUDFs}, "-D", fmt.Sprintf("parallelism.default=%d", workers))
			r.mustSucceed(t)
			log, err := os.ReadFile(filepath.Join(dir, "log.txt"))
			if err != nil {
				t.Fatal(err)
			}
			opens, closes := map[string]int{}, map[string]int{}
			evals := 0
			for _, l := range strings.Split(strings.TrimSpace(string(log)), "\n") {
				f := strings.Fields(l)
				switch {
				case len(f) == 4 && f[0] == "open" && f[2] == "t1" && f[3] == "default":
					if closes[f[1]] > 0 {
						t.Errorf("worker %s opened after it closed:\n%s", f[1], log)
					}
					opens[f[1]]++
				case len(f) == 3 && f[0] == "close":
					closes[f[1]]++
					n, _ := strconv.Atoi(f[2])
					if n == 0 {
						t.Errorf("worker %s closed without evals:\n%s", f[1], log)
					}
					evals += n
				default:
					t.Errorf("unexpected log line %q", l)
				}
			}
			if len(opens) != workers || len(closes) != workers {
				t.Errorf("%d workers: opened in %d processes and closed in %d, want %d each:\n%s", workers, len(opens), len(closes), workers, log)
			}
			for pid, n := range opens {
				if n != 1 || closes[pid] != 1 {
					t.Errorf("worker %s: %d opens and %d closes, want 1 each:\n%s", pid, n, closes[pid], log)
				}
			}
			// Every eval happened before its worker's close.
			if evals != rows {
				t.Errorf("the closes counted %d evals, want %d:\n%s", evals, rows, log)
			}
			out, err := readTable(filepath.Join(dir, "out.csv"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != rows || lines[0] != "1,10" || lines[rows-1] != fmt.Sprintf("%d,%d", rows, rows*10) {
				t.Errorf("output has %d rows, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
			}
		}
	})
}

// TestCloseAtSigterm: a close() still running when the engine's SIGTERM
// comes (after it closed the control stream and waited a second) completes.
func TestCloseAtSigterm(t *testing.T) {
	udfs := `import os, time
from weir import udf, ScalarFunction


class SlowClose(ScalarFunction):
    def open(self, ctx):
        self.path = ctx.get_job_parameter('log')

    def eval(self, x):
        return x

    def close(self):
        with open(self.path, 'a') as f:
            f.write("close started\n")
        time.sleep(1.8)
        with open(self.path, 'a') as f:
            f.write("close finished\n")


slow_close = udf(SlowClose(), result_type='INT')
`
	sqlText := `SET 'pipeline.global-job-parameters' = 'log:$DIR/log.txt';
CREATE TABLE snk (a INT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION slow_close AS 'udfs.slow_close' LANGUAGE PYTHON;
INSERT INTO snk SELECT slow_close(a) FROM (VALUES (1), (2)) AS t(a);`
	t.Parallel()
	r, dir := jobIn(t, "1", sqlText, map[string]string{"udfs.py": udfs})
	r.mustSucceed(t)
	wantLines(t, r, "+I[1]", "+I[2]")
	log, _ := os.ReadFile(filepath.Join(dir, "log.txt"))
	if string(log) != "close started\nclose finished\n" {
		t.Errorf("close log = %q, want the close to finish", log)
	}
}

// TestJobParameters: FunctionContext.get_job_parameter reads
// 'pipeline.global-job-parameters', from SET or from -D.
func TestJobParameters(t *testing.T) {
	udfs := `from weir import udf, ScalarFunction


class Param(ScalarFunction):
    def open(self, ctx):
        self.ctx = ctx

    def eval(self, key):
        return self.ctx.get_job_parameter(key, '<none>')


param = udf(Param(), result_type='STRING')
`
	body := `CREATE TABLE snk (k STRING, v STRING) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION param AS 'udfs.param' LANGUAGE PYTHON;
INSERT INTO snk SELECT k, param(k) FROM (VALUES ('k1'), ('k2'), ('url'), ('nope')) AS t(k);`
	t.Parallel()
	r, _ := jobIn(t, "1", "SET 'pipeline.global-job-parameters' = 'k1:v1,k2:v2 with spaces,url:http://x:80/é';\n"+body, map[string]string{"udfs.py": udfs})
	r.mustSucceed(t)
	wantLines(t, r, "+I[k1, v1]", "+I[k2, v2 with spaces]", "+I[url, http://x:80/é]", "+I[nope, <none>]")
	r, _ = jobIn(t, "0", body, map[string]string{"udfs.py": udfs}, "-D", "pipeline.global-job-parameters=k1:from-flag")
	r.mustSucceed(t)
	wantLines(t, r, "+I[k1, from-flag]", "+I[k2, <none>]", "+I[url, <none>]", "+I[nope, <none>]")
}

const metricsUDFs = `from weir import udf, udtf, ScalarFunction, TableFunction


class Measured(ScalarFunction):
    def open(self, ctx):
        group = ctx.get_metric_group()
        self.rows = group.counter('rows')
        self.twice = group.counter('twice')
        self.values = group.distribution('values')
        self.const = group.gauge('const')
        self.events = group.meter('events')
        sub = group.add_group('sub', 'x')
        self.sub_rows = sub.counter('rows')
        self.last = 0
        sub.gauge('last', lambda: self.last)

    def eval(self, x):
        self.rows.inc()
        self.twice.inc(3)
        self.twice.dec()
        self.values.update(x)
        self.const.set(7)
        self.events.mark_event()
        self.sub_rows.inc()
        self.last = x
        return x


measured = udf(Measured(), result_type='BIGINT')


class Exploded(TableFunction):
    def open(self, ctx):
        self.out = ctx.get_metric_group().counter('table_rows')

    def eval(self, x):
        for i in range(x % 3):
            self.out.inc()
            yield i


exploded = udtf(Exploded(), result_types=['INT'])
`

// TestMetrics: counters, distributions, gauges and meters of a function's
// metric group appear in the job summary with exact values, with one and
// with two workers.
func TestMetrics(t *testing.T) {
	const rows = 9000
	sqlText := fmt.Sprintf(`SET 'python.fn-execution.bundle.size' = '1500';
CREATE TABLE src (a BIGINT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '%d');
CREATE TABLE snk (a BIGINT, i INT) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION measured AS 'udfs.measured' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION exploded AS 'udfs.exploded' LANGUAGE PYTHON;
INSERT INTO snk SELECT measured(a), i FROM src, LATERAL TABLE(exploded(a)) AS T(i);`, rows)
	for _, workers := range []int{1, 2} {
		workers := workers
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			run := forImpls
			if workers == 2 {
				run = cythonOnly // the metrics' path does not depend on the operations
			}
			run(t, func(t *testing.T, cython string) {
				extra := []string{"-D", fmt.Sprintf("parallelism.default=%d", workers)}
				if workers == 1 {
					// One bundle at a time: the last value set is the last row's.
					extra = append(extra, "-D", "python.fn-execution.bundles-in-flight=1")
				}
				r, _ := jobIn(t, cython, sqlText, map[string]string{"udfs.py": metricsUDFs}, extra...)
				r.mustSucceed(t)
				// Rows with a % 3 == 1 give one table row, a % 3 == 2 two.
				tableRows := rows/3 + 2*(rows/3)
				// measured runs once per joined row.
				var n, sum, lo, hi int64 = 0, 0, -1, 0
				for a := int64(1); a <= rows; a++ {
					for i := int64(0); i < a%3; i++ {
						n++
						sum += a
						if lo < 0 {
							lo = a
						}
						hi = a
					}
				}
				want := map[string]string{
					"counter rows":       fmt.Sprint(n),
					"counter twice":      fmt.Sprint(2 * n),
					"counter events":     fmt.Sprint(n),
					"counter sub.x.rows": fmt.Sprint(n),
					"counter table_rows": fmt.Sprint(tableRows),
					"distribution values": fmt.Sprintf("count=%d sum=%d min=%d max=%d mean=%.2f",
						n, sum, lo, hi, float64(sum)/float64(n)),
					"gauge const": "7",
				}
				if workers == 1 {
					want["gauge sub.x.last"] = fmt.Sprint(hi)
				}
				got := metrics(r.stderr)
				for k, v := range want {
					if got[k] != v {
						t.Errorf("metric %s = %q, want %q\n%s", k, got[k], v, r.stderr)
					}
				}
				if _, ok := got["gauge sub.x.last"]; !ok {
					t.Errorf("the callable gauge sub.x.last is missing:\n%s", r.stderr)
				}
				if !strings.Contains(r.stderr, fmt.Sprintf("job finished: %d rows", n)) {
					t.Errorf("want %d rows:\n%s", n, r.stderr)
				}
			})
		})
	}
}

const dedupUDFs = `from weir import udf, ScalarFunction


class Counted(ScalarFunction):
    def __init__(self, name, deterministic):
        self.name, self.det = name, deterministic

    def open(self, ctx):
        self.calls = ctx.get_metric_group().counter(self.name + '_calls')

    def eval(self, x):
        self.calls.inc()
        return x + 1

    def is_deterministic(self):
        return self.det


det = udf(Counted('det', True), result_type='BIGINT')
nondet_method = udf(Counted('nondet_method', False), result_type='BIGINT')
nondet_flag = udf(Counted('nondet_flag', True), result_type='BIGINT', deterministic=False)
`

// TestDeterministicCalls: a deterministic function called twice with the
// same arguments in one SELECT (and its WHERE) is evaluated once per row; a
// non-deterministic one (is_deterministic() False, or deterministic=False)
// each time it is written.
func TestDeterministicCalls(t *testing.T) {
	const rows = 1000
	sqlText := fmt.Sprintf(`CREATE TABLE src (a BIGINT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '%d');
CREATE TABLE snk (a BIGINT, b BIGINT, c BIGINT, d BIGINT, e BIGINT, f BIGINT) WITH ('connector' = 'filesystem', 'path' = '$DIR/out.csv', 'format' = 'csv');
CREATE TEMPORARY FUNCTION det AS 'udfs.det' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION nondet_method AS 'udfs.nondet_method' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION nondet_flag AS 'udfs.nondet_flag' LANGUAGE PYTHON;
INSERT INTO snk SELECT det(a), det(a) * 2, det(det(a)), nondet_method(a), nondet_method(a) + nondet_flag(a), nondet_flag(a)
FROM src WHERE det(a) > 1;`, rows)
	forImpls(t, func(t *testing.T, cython string) {
		r, dir := jobIn(t, cython, sqlText, map[string]string{"udfs.py": dedupUDFs})
		r.mustSucceed(t)
		got := metrics(r.stderr)
		// det(a) once per row, and det(det(a)) once more.
		want := map[string]string{
			"counter det_calls":           fmt.Sprint(2 * rows),
			"counter nondet_method_calls": fmt.Sprint(2 * rows),
			"counter nondet_flag_calls":   fmt.Sprint(2 * rows),
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("metric %s = %q, want %q\n%s", k, got[k], v, r.stderr)
			}
		}
		out, err := readTable(filepath.Join(dir, "out.csv"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != rows {
			t.Fatalf("%d rows, want %d", len(lines), rows)
		}
		for i, l := range lines {
			a := i + 1
			if want := fmt.Sprintf("%d,%d,%d,%d,%d,%d", a+1, 2*(a+1), a+2, a+1, 2*(a+1), a+1); l != want {
				t.Fatalf("row %d = %q, want %q", i, l, want)
			}
		}
	})
}

const tableFormsUDFs = `from weir import udtf, Row, TableFunction


def yield_tuples(n):
    for i in range(n):
        yield i, 'x' * i


def return_list_of_tuples(n):
    return [(i, 'l%d' % i) for i in range(n)]


def yield_lists(n):
    for i in range(n):
        yield [i, 'é%d' % i]


def yield_rows(n):
    for i in range(n):
        yield Row(i, None if i % 2 else 'r')


def return_named_rows(n):
    return [Row(a=i, b='n') for i in range(n)]


def return_row(n):
    return Row(n, 'one') if n else None


def nothing(n):
    return None


def empty_generator(n):
    if False:
        yield 1, 'a'


def empty_list(n):
    return []


class Two(TableFunction):
    """Gives the rows of the form named by its first argument."""

    def open(self, ctx):
        self.word = ctx.get_job_parameter('word', '?')

    def eval(self, form, n):
        if form == 'open_state':
            return [(i, self.word) for i in range(n)]
        return globals()[form](n)


two = udtf(Two(), result_types=['INT', 'STRING'])

ONE = {
    'iterator': lambda n: map(str, range(n)),
    'scalar': lambda n: str(n * 100) if n else None,
    'string': lambda n: 's' * n if n else [],
    'one_tuples': lambda n: ((str(i),) for i in range(n)),
    'list_of_values': lambda n: [str(i * 7) for i in range(n)],
    'single_row': lambda n: Row(str(n)) if n else (),
}
one = udtf(lambda form, n: ONE[form](n), result_types=['STRING'])
`

// TestTableFunctionForms: the results a table function may give — yielded
// or returned tuples, lists and Rows, one Row, bare values of a one-column
// function, nothing — through CROSS and LEFT joins (a LEFT join keeps the
// input rows without results, padded with NULLs; a CROSS join drops them).
func TestTableFunctionForms(t *testing.T) {
	script, want := tableFormsJob()
	forImpls(t, func(t *testing.T, cython string) {
		r, _ := jobIn(t, cython, script, map[string]string{"udfs.py": tableFormsUDFs})
		r.mustSucceed(t)
		wantLines(t, r, want...)
	})
}

// tableFormsJob is the script that calls every form of tableFormsUDFs and
// its rows, in order.
func tableFormsJob() (script string, want []string) {
	forms := []struct {
		name string
		two  bool
		rows [3][]string // the rows for n = 0, 1, 2
	}{
		{"yield_tuples", true, [3][]string{nil, {"0, "}, {"0, ", "1, x"}}},
		{"return_list_of_tuples", true, [3][]string{nil, {"0, l0"}, {"0, l0", "1, l1"}}},
		{"yield_lists", true, [3][]string{nil, {"0, é0"}, {"0, é0", "1, é1"}}},
		{"yield_rows", true, [3][]string{nil, {"0, r"}, {"0, r", "1, null"}}},
		{"return_named_rows", true, [3][]string{nil, {"0, n"}, {"0, n", "1, n"}}},
		{"return_row", true, [3][]string{nil, {"1, one"}, {"2, one"}}},
		{"nothing", true, [3][]string{nil, nil, nil}},
		{"empty_generator", true, [3][]string{nil, nil, nil}},
		{"empty_list", true, [3][]string{nil, nil, nil}},
		{"open_state", true, [3][]string{nil, {"0, w"}, {"0, w", "1, w"}}},
		{"iterator", false, [3][]string{nil, {"0"}, {"0", "1"}}},
		{"scalar", false, [3][]string{nil, {"100"}, {"200"}}},
		{"string", false, [3][]string{nil, {"s"}, {"ss"}}},
		{"one_tuples", false, [3][]string{nil, {"0"}, {"0", "1"}}},
		{"list_of_values", false, [3][]string{nil, {"0"}, {"0", "7"}}},
		{"single_row", false, [3][]string{nil, {"1"}, {"2"}}},
	}
	// Two-column forms through a LEFT join, one-column forms through a
	// CROSS join (each join kind with forms that give no rows).
	var values2, values1 []string
	for _, f := range forms {
		for n := 0; n < 3; n++ {
			v := fmt.Sprintf("('%s', %d)", f.name, n)
			if f.two {
				values2 = append(values2, v)
				if len(f.rows[n]) == 0 {
					want = append(want, fmt.Sprintf("+I[%s, %d, null, null]", f.name, n))
				}
			} else {
				values1 = append(values1, v)
			}
		}
	}
	for _, two := range []bool{true, false} {
		for _, f := range forms {
			if f.two != two {
				continue
			}
			for n := 0; n < 3; n++ {
				for _, r := range f.rows[n] {
					want = append(want, fmt.Sprintf("+I[%s, %d, %s]", f.name, n, r))
				}
			}
		}
	}
	// The LEFT join's rows come in input order: put the NULL-padded ones in place.
	want = orderLike(want, values2, values1)
	script = fmt.Sprintf(`SET 'pipeline.global-job-parameters' = 'word:w';
CREATE TABLE s2 (form STRING, n INT, a INT, b STRING) WITH ('connector' = 'print');
CREATE TABLE s1 (form STRING, n INT, a STRING) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION two AS 'udfs.two' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION one_column AS 'udfs.one' LANGUAGE PYTHON;
INSERT INTO s2 SELECT form, n, a, b FROM (VALUES %[1]s) AS t(form, n) LEFT JOIN LATERAL TABLE(two(form, n)) AS T(a, b) ON TRUE;
INSERT INTO s1 SELECT form, n, a FROM (VALUES %[2]s) AS t(form, n) CROSS JOIN LATERAL TABLE(one_column(form, n)) AS T(a);`,
		strings.Join(values2, ", "), strings.Join(values1, ", "))
	return script, want
}

// orderLike sorts rows "+I[form, n, ...]" by the position of "('form', n)"
// among the VALUES rows (stable within one input row).
func orderLike(rows []string, values ...[]string) []string {
	pos := map[string]int{}
	i := 0
	for _, vs := range values {
		for _, v := range vs {
			pos[v] = i
			i++
		}
	}
	key := func(r string) int {
		f := strings.SplitN(strings.TrimPrefix(r, "+I["), ", ", 3)
		return pos[fmt.Sprintf("('%s', %s)", f[0], f[1])]
	}
	out := append([]string(nil), rows...)
	sort.SliceStable(out, func(a, b int) bool { return key(out[a]) < key(out[b]) })
	return out
}
