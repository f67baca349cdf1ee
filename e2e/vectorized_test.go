package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// This file tests vectorized Python functions (udf(func_type="pandas") and
// func_type="arrow"), which run once per batch of rows in stages of their
// own, with Arrow batches on the wire.

// TestVectorizedPyFlinkExamples: pandas functions written for PyFlink run on
// weir with only their import lines changed and give what PyFlink 2.3 gave
// (e2e/testdata/vectorized: the functions, the SQL, and PyFlink's answers
// recorded by record.py), on two workers. One of them is a function of the
// whole batch (each value minus the batch's mean) behind a Python WHERE,
// which gives PyFlink's answer only if it sees the rows that pass the filter
// in one batch.
func TestVectorizedPyFlinkExamples(t *testing.T) {
	py := weirImports(t, "testdata/vectorized/pyflink_udfs.py", map[string]string{
		"from pyflink.table import DataTypes": "from weir import DataTypes",
		"from pyflink.table.udf import udf":   "from weir import udf",
	})
	script, err := os.ReadFile("testdata/vectorized/examples.sql")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile("testdata/vectorized/examples.golden")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(string(golden), "\n") {
		if strings.HasPrefix(l, "+I[") {
			want = append(want, l)
		}
	}
	sort.Strings(want)
	if len(want) < 40 {
		t.Fatalf("examples.golden holds %d rows; re-record it with record.py", len(want))
	}
	r := job(t, string(script), map[string]string{"udfs.py": py}, "-D", "parallelism.default=2").mustSucceed(t)
	got := r.lines()
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("weir's rows differ from PyFlink 2.3's\n--- weir\n%s\n--- PyFlink\n%s\n--- stderr\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), r.stderr)
	}
}

// TestVectorizedScalarTypesIdentity: a column of every scalar type, with a
// row of NULLs, through an identity pandas function and an identity Arrow
// function gives exactly what an identity per-row function gives, and what
// the values print as without any function.
func TestVectorizedScalarTypesIdentity(t *testing.T) {
	var udfs strings.Builder
	udfs.WriteString("from weir import udf\n\n")
	var cols, names, through, creates []string
	var rows [4][]string
	var want [4][]string
	for i, st := range scalarTypes {
		for _, ft := range []string{"general", "pandas", "arrow"} {
			fmt.Fprintf(&udfs, "%s%d = udf(lambda x: x, result_type=%q, func_type=%q)\n", ft, i, st.sqlType, ft)
			creates = append(creates, fmt.Sprintf("CREATE TEMPORARY FUNCTION %s%d AS 'udfs.%s%d' LANGUAGE PYTHON;", ft, i, ft, i))
			cols = append(cols, fmt.Sprintf("%s%d %s", ft, i, st.sqlType))
			through = append(through, fmt.Sprintf("%s%d(c%d)", ft, i, i))
		}
		names = append(names, fmt.Sprintf("c%d", i))
		for r := 0; r < 3; r++ {
			rows[r] = append(rows[r], fmt.Sprintf("CAST(%s AS %s)", st.values[r], st.sqlType))
			want[r] = append(want[r], st.printed[r], st.printed[r], st.printed[r])
		}
		rows[3] = append(rows[3], fmt.Sprintf("CAST(NULL AS %s)", st.sqlType))
		want[3] = append(want[3], "null", "null", "null")
	}
	var values, wantRows []string
	for r := range rows {
		values = append(values, "("+strings.Join(rows[r], ", ")+")")
		wantRows = append(wantRows, "+I["+strings.Join(want[r], ", ")+"]")
	}
	script := fmt.Sprintf("CREATE TABLE snk (%s) WITH ('connector' = 'print');\n%s\nINSERT INTO snk SELECT %s FROM (VALUES %s) AS t(%s);",
		strings.Join(cols, ", "), strings.Join(creates, "\n"), strings.Join(through, ", "), strings.Join(values, ", "), strings.Join(names, ", "))
	forImpls(t, func(t *testing.T, cython string) {
		r, _ := jobIn(t, cython, script, map[string]string{"udfs.py": udfs.String()})
		r.mustSucceed(t)
		wantLines(t, r, wantRows...)
	})
}

// TestVectorizedNestedTypesIdentity: ARRAY, MAP and ROW values with NULLs at
// every level, built by per-row functions, come back exactly through identity
// pandas and Arrow functions, as through an identity per-row function. A NULL
// ROW value is the one exception, for pandas only: a DataFrame has no NULL
// rows, so it arrives as a row of NULL fields (as in PyFlink), which this
// ROW type's NOT NULL field refuses; those run without it.
func TestVectorizedNestedTypesIdentity(t *testing.T) {
	udfs := nestedUDFs + "\n"
	var cols, sel, creates []string
	for _, k := range nestedKinds {
		for _, ft := range []string{"pandas", "arrow"} {
			udfs += fmt.Sprintf("%s_%s = udf(lambda x: x, result_type=%q, func_type=%q)\n", ft, k.name, k.sqlType, ft)
			creates = append(creates, fmt.Sprintf("CREATE TEMPORARY FUNCTION %s_%s AS 'udfs.%s_%s' LANGUAGE PYTHON;", ft, k.name, ft, k.name))
		}
		creates = append(creates, fmt.Sprintf("CREATE TEMPORARY FUNCTION mk_%s AS 'udfs.mk_%s' LANGUAGE PYTHON;", k.name, k.name),
			fmt.Sprintf("CREATE TEMPORARY FUNCTION id_%s AS 'udfs.id_%s' LANGUAGE PYTHON;", k.name, k.name))
		if k.name == "row" {
			continue
		}
		for _, s := range []string{"id", "pandas", "arrow"} {
			cols = append(cols, fmt.Sprintf("%s_%s %s", s, k.name, k.sqlType))
			sel = append(sel, fmt.Sprintf("%s_%s(mk_%s(i))", s, k.name, k.name))
		}
	}
	row := nestedKinds[5]
	script := fmt.Sprintf(`CREATE TABLE snk (i INT, %s) WITH ('connector' = 'print');
CREATE TABLE snk2 (i INT, r %s, r2 %s, r3 %s) WITH ('connector' = 'print');
CREATE TABLE snk3 (i INT, r %s, r2 %s) WITH ('connector' = 'print');
%s
INSERT INTO snk SELECT i, %s FROM (VALUES (0), (1), (2), (3), (4), (5)) AS t(i);
INSERT INTO snk2 SELECT i, mk_row(i), id_row(mk_row(i)), arrow_row(mk_row(i)) FROM (VALUES (0), (1), (2), (3), (4), (5)) AS t(i);
INSERT INTO snk3 SELECT i, id_row(mk_row(i)), pandas_row(mk_row(i)) FROM (VALUES (0), (1), (2), (3), (4), (5)) AS t(i) WHERE i > 0;`,
		strings.Join(cols, ", "), row.sqlType, row.sqlType, row.sqlType, row.sqlType, row.sqlType,
		strings.Join(creates, "\n"), strings.Join(sel, ", "))
	var want []string
	for i := 0; i < 6; i++ {
		var f []string
		for _, k := range nestedKinds {
			if k.name != "row" {
				f = append(f, k.printed[i], k.printed[i], k.printed[i])
			}
		}
		want = append(want, fmt.Sprintf("+I[%d, %s]", i, strings.Join(f, ", ")))
	}
	for i := 0; i < 6; i++ {
		want = append(want, fmt.Sprintf("+I[%d, %s, %s, %s]", i, row.printed[i], row.printed[i], row.printed[i]))
	}
	for i := 1; i < 6; i++ {
		want = append(want, fmt.Sprintf("+I[%d, %s, %s]", i, row.printed[i], row.printed[i]))
	}
	cythonOnly(t, func(t *testing.T, cython string) {
		r, _ := jobIn(t, cython, script, map[string]string{"udfs.py": udfs})
		r.mustSucceed(t)
		got := r.lines()
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("output rows differ\n--- got\n%s\n--- want\n%s\n--- stderr\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), r.stderr)
		}
	})
}

// TestVectorizedErrors: a vectorized function that returns the wrong number
// of values, values of the wrong type, NULL for NOT NULL, or raises, fails
// the job with an error that names the function and its declared type.
func TestVectorizedErrors(t *testing.T) {
	udfs := `import pandas as pd
import pyarrow as pa
from weir import udf

short = udf(lambda x: x.head(1), result_type='INT', func_type='pandas')
words = udf(lambda x: x.astype(str) + ' apples', result_type='INT', func_type='pandas')
scalar = udf(lambda x: 42, result_type='INT', func_type='pandas')
frame = udf(lambda x: pd.DataFrame({'a': x}), result_type='INT', func_type='pandas')
nulls = udf(lambda x: x.where(x != 2), result_type='INT NOT NULL', func_type='pandas')
arrow_words = udf(lambda x: pa.array(['a'] * len(x)), result_type='INT', func_type='arrow')
arrow_list = udf(lambda x: x.to_pylist(), result_type='INT', func_type='arrow')
arrow_long = udf(lambda x: pa.concat_arrays([x, x]), result_type='INT', func_type='arrow')

@udf(result_type='INT', func_type='pandas')
def boom(x):
    raise ValueError('no thanks')
`
	cases := []struct {
		fn   string
		want []string
	}{
		{"short", []string{"Python pandas function 'short' (udfs.short)", "declared result type INT", "it returned 1 values for the batch's 3 rows"}},
		{"words", []string{"Python pandas function 'words' (udfs.words)", "declared result type INT", "cannot be converted to INT"}},
		{"scalar", []string{"Python pandas function 'scalar' (udfs.scalar)", "declared result type INT", "expected a pandas.Series, got int 42"}},
		{"frame", []string{"Python pandas function 'frame' (udfs.frame)", "declared result type INT", "got a pandas.DataFrame"}},
		{"nulls", []string{"Python pandas function 'nulls' (udfs.nulls)", "declared result type INT NOT NULL", "returned NULL (value at row 2 of the batch)"}},
		{"arrow_words", []string{"Python arrow function 'arrow_words' (udfs.arrow_words)", "declared result type INT", "cannot be cast to int32"}},
		{"arrow_list", []string{"Python arrow function 'arrow_list' (udfs.arrow_list)", "declared result type INT", "expected a pyarrow.Array, got list"}},
		{"arrow_long", []string{"Python arrow function 'arrow_long' (udfs.arrow_long)", "it returned 6 values for the batch's 3 rows"}},
		{"boom", []string{"Python pandas function 'boom' (udfs.boom) raised ValueError: no thanks", "arguments: (Series[int32] of 3 rows, first [1, 2, 3])", "raise ValueError('no thanks')"}},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.fn, func(t *testing.T) {
			t.Parallel()
			r := job(t, fmt.Sprintf(`CREATE TABLE snk (a INT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION %s AS 'udfs.%s' LANGUAGE PYTHON;
INSERT INTO snk SELECT %s(a) FROM (VALUES (1), (2), (3)) AS t(a);`, tc.fn, tc.fn, tc.fn), map[string]string{"udfs.py": udfs})
			stderr := r.mustFail(t)
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("error lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(r.stdout, "+I[") {
				t.Errorf("rows were printed: %s", r.stdout)
			}
		})
	}
}

// TestVectorizedMixedStages: vectorized and per-row calls of one query run in
// separate stages, each fed by the other's results, and explain tells which
// is which.
func TestVectorizedMixedStages(t *testing.T) {
	udfs := `import pyarrow.compute as pc
from weir import udf
pinc = udf(lambda x: x + 1, result_type='BIGINT', func_type='pandas')
ainc = udf(lambda x: pc.add(x, 1), result_type='BIGINT', func_type='arrow')
inc = udf(lambda x: None if x is None else x + 1, result_type='BIGINT')
`
	script := `CREATE TABLE src (a BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '50000',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '50000');
CREATE TABLE snk (s BIGINT, n BIGINT) WITH ('connector' = 'filesystem', 'path' = '$DIR/out', 'format' = 'csv');
CREATE TEMPORARY FUNCTION pinc AS 'udfs.pinc' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION ainc AS 'udfs.ainc' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
INSERT INTO snk SELECT SUM(inc(pinc(ainc(a))) + pinc(inc(a)) - a * 2), COUNT(*) FROM src WHERE inc(a) % 2 = 0;`
	args, dir := writeJob(t, script, map[string]string{"udfs.py": udfs})
	explain := runWeir(t, nil, append([]string{"explain"}, args[1:]...)...).mustSucceed(t).stdout
	// The WHERE's inc(a) runs first (and is reused for pinc(inc(a))); then
	// one vectorized stage for pinc(ainc(a)) and pinc($inc), then a per-row
	// one for the inc of its result.
	for _, w := range []string{"PythonCalc: PythonCalc[inc(a)]", "VectorizedPythonCalc: VectorizedPythonCalc[pinc(ainc(a)), pinc($py0)]", "PythonCalc: PythonCalc[inc($py1)]"} {
		if !strings.Contains(explain, w) {
			t.Errorf("explain lacks %q:\n%s", w, explain)
		}
	}
	runWeir(t, nil, append(args, "-D", "python.fn-execution.arrow.batch.size=777", "-D", "parallelism.default=2")...).mustSucceed(t)
	// Odd a pass (inc(a) even); each row gives (a+3) + (a+2) - 2a = 5.
	out := readDir(t, dir+"/out")
	if strings.TrimSpace(out) != "125000,25000" {
		t.Errorf("got %q, want 125000,25000", out)
	}
}

// readDir returns the contents of the visible files of a directory.
func readDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || e.IsDir() {
			continue
		}
		data, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

// TestVectorizedCrashNamesRow: a vectorized function that kills its worker
// on one value fails the job, after its replays, with an error that names
// the function and the input row, found by running parts of the batch alone
// as Arrow elements.
func TestVectorizedCrashNamesRow(t *testing.T) {
	udfs := `import os
from weir import udf

@udf(result_type='INT', func_type='pandas')
def die(x):
    if (x == 777).any():
        os._exit(3)
    return x
`
	var values []string
	for i := 0; i < 300; i++ {
		values = append(values, fmt.Sprintf("(%d)", i*7+1))
	}
	values[123] = "(777)"
	r := job(t, fmt.Sprintf(`CREATE TABLE snk (a INT) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION die AS 'udfs.die' LANGUAGE PYTHON;
INSERT INTO snk SELECT die(a) FROM (VALUES %s) AS t(a);`, strings.Join(values, ", ")), map[string]string{"udfs.py": udfs})
	stderr := r.mustFail(t)
	for _, w := range []string{"VectorizedPythonCalc[die(a)] (function die) failed 3 times because its Python worker died",
		"The input row that kills the worker (it did so again when run alone): row 124 of the bundle's 300 rows",
		"input: (777)", "die(777)"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("error lacks %q:\n%s", w, stderr)
		}
	}
}

// TestVectorizedRateLimited: rows that arrive over time (a rate-limited
// source, as in streaming) reach a vectorized function in the batches that
// python.fn-execution.bundle.time closes, and every row is answered once.
func TestVectorizedRateLimited(t *testing.T) {
	udfs := `from weir import udf
vinc = udf(lambda x: x + 1, result_type='INT NOT NULL', func_type='pandas')
`
	script := `CREATE TABLE src (c0 INT NOT NULL) WITH ('connector' = 'datagen', 'rows-per-second' = '3000', 'number-of-rows' = '6000',
  'fields.c0.kind' = 'sequence', 'fields.c0.start' = '1', 'fields.c0.end' = '6000');
CREATE TABLE snk (a INT NOT NULL) WITH ('connector' = 'filesystem', 'path' = '$DIR/out', 'format' = 'csv');
CREATE TEMPORARY FUNCTION vinc AS 'udfs.vinc' LANGUAGE PYTHON;
INSERT INTO snk SELECT vinc(c0) FROM src;`
	args, dir := writeJob(t, script, map[string]string{"udfs.py": udfs})
	r := runWeir(t, nil, append(args, "-D", "python.fn-execution.bundle.time=100")...).mustSucceed(t)
	got := strings.Fields(readDir(t, dir+"/out"))
	seen := map[string]bool{}
	for _, v := range got {
		seen[v] = true
	}
	if len(got) != 6000 || len(seen) != 6000 || !seen["2"] || !seen["6001"] {
		t.Errorf("got %d values (%d distinct), want 2..6001 once each\n%s", len(got), len(seen), r.stderr)
	}
	// At 3,000 rows/s and bundles closed after 100 ms, the function sees many batches.
	if m := regexp.MustCompile(`Python stages: (\d+) batches`).FindStringSubmatch(r.stderr); m == nil || len(m[1]) < 2 {
		t.Errorf("want 10 or more batches: %s", r.stderr)
	}
}

// TestVectorizedStreamingChangelog: in streaming mode a vectorized stage
// over an updating query (a GROUP BY's changelog) passes every row's kind
// through: the pandas, Arrow and per-row forms of the same function print
// the same changelog, row for row and kind for kind, on two workers.
func TestVectorizedStreamingChangelog(t *testing.T) {
	udfs := `import pyarrow.compute as pc
from weir import udf
pinc = udf(lambda x: x * 10 + 1, result_type='BIGINT', func_type='pandas')
ainc = udf(lambda x: pc.add(pc.multiply(x, 10), 1), result_type='BIGINT', func_type='arrow')
inc = udf(lambda x: x * 10 + 1, result_type='BIGINT')
`
	run := func(fn string) []string {
		script := fmt.Sprintf(`SET 'execution.runtime-mode' = 'streaming';
CREATE TABLE src (a BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '3000',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '3000');
CREATE TEMPORARY FUNCTION %[1]s AS 'udfs.%[1]s' LANGUAGE PYTHON;
SELECT k, %[1]s(n) FROM (SELECT a %% 7 AS k, COUNT(*) AS n FROM src GROUP BY a %% 7);`, fn)
		r := job(t, script, map[string]string{"udfs.py": udfs}, "-D", "parallelism.default=2",
			"-D", "python.fn-execution.arrow.batch.size=50").mustSucceed(t)
		return r.lines()
	}
	want := run("inc")
	kinds := map[string]int{}
	for _, l := range want {
		if len(l) > 2 {
			kinds[l[:2]]++
		}
	}
	// 3000 rows over 7 keys: each key's first row is +I, later ones -U/+U.
	if kinds["+I"] != 7 || kinds["-U"] != 3000-7 || kinds["+U"] != 3000-7 {
		t.Fatalf("per-row changelog has kinds %v, want 7 +I and 2993 -U and +U:\n%s", kinds, strings.Join(want[:min(len(want), 20)], "\n"))
	}
	for _, fn := range []string{"pinc", "ainc"} {
		got := run(fn)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s's changelog differs from the per-row function's:\n--- %s\n%s\n--- inc\n%s", fn, fn,
				strings.Join(got[:min(len(got), 30)], "\n"), strings.Join(want[:min(len(want), 30)], "\n"))
		}
	}
}

// TestVectorizedBatchSize: a pandas function sees batches of at most
// python.fn-execution.arrow.batch.size rows, also when the stage's input
// batches (made small by a WHERE) are merged into larger elements, and
// every row is answered once.
func TestVectorizedBatchSize(t *testing.T) {
	udfs := `import pandas as pd
from weir import udf
size = udf(lambda x: pd.Series([len(x)] * len(x)), result_type='INT NOT NULL', func_type='pandas')
`
	script := `CREATE TABLE src (a BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '200000',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '200000');
CREATE TEMPORARY FUNCTION size AS 'udfs.size' LANGUAGE PYTHON;
SELECT MAX(s) <= 777, MIN(s) >= 1, COUNT(*), SUM(a) FROM (SELECT a, size(a) AS s FROM src WHERE a % 3 = 0);`
	r := job(t, script, map[string]string{"udfs.py": udfs}, "-D", "python.fn-execution.arrow.batch.size=777").mustSucceed(t)
	if got := strings.Join(r.lines(), "\n"); !strings.Contains(got, "true, true, 66666, 6666633333") {
		t.Errorf("got %q, want batches of 1 to 777 rows and all 66666 rows", got)
	}
}

// TestVectorizedTransportsAgree: the same job gives the same rows whether
// the Arrow batches go through the shared-memory arena or inside the Fn
// API's messages (python.fn-execution.shared-memory), including answers far
// larger than their input (which outgrow their region and come back
// inline until the engine has learnt their size) and NULLs of several
// types. Random values, a random batch size and a random bundle size.
func TestVectorizedTransportsAgree(t *testing.T) {
	udfs := `import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from weir import udf
inc = udf(lambda x: x + 1, result_type='BIGINT', func_type='pandas')
wide = udf(lambda s, n: s.str.repeat(n.fillna(0).astype('int64') % 40), result_type='STRING', func_type='pandas')
half = udf(lambda d: pc.divide(d, 2.0), result_type='DOUBLE', func_type='arrow')
both = udf(lambda x, s: pd.DataFrame({'n': x * 2, 's': s.str.upper()}), result_type='ROW<n BIGINT, s STRING>', func_type='pandas')
flat = udf(lambda r: r['n'].astype(str) + ':' + r['s'].fillna('-'), result_type='STRING', func_type='pandas')
`
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	rows := 50_000 + rng.IntN(150_000)
	batch := 100 + rng.IntN(30_000)
	bundle := 1_000 + rng.IntN(300_000)
	t.Logf("seed %d: %d rows, batches of %d, bundles of %d", seed, rows, batch, bundle)
	script := fmt.Sprintf(`CREATE TABLE src (a BIGINT, s STRING, d DOUBLE) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  'fields.a.min' = '-1000000', 'fields.a.max' = '1000000', 'fields.a.null-rate' = '0.1',
  'fields.a.seed' = '%d', 'fields.s.seed' = '%d', 'fields.d.seed' = '%d',
  'fields.s.length' = '12', 'fields.s.null-rate' = '0.05', 'fields.d.null-rate' = '0.2');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION wide AS 'udfs.wide' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION half AS 'udfs.half' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION both AS 'udfs.both' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION flat AS 'udfs.flat' LANGUAGE PYTHON;
SELECT COUNT(*), SUM(i), SUM(CHAR_LENGTH(w)), SUM(h), SUM(CHAR_LENGTH(b)), MAX(w), MIN(b)
FROM (SELECT inc(a) AS i, wide(s, a) AS w, half(d) AS h, flat(both(a, s)) AS b FROM src);`, rows, rng.IntN(1<<30), rng.IntN(1<<30), rng.IntN(1<<30))
	// datagen's values come from the seeds: both runs read the same rows.
	var got [2]string
	for i, shared := range []string{"true", "false"} {
		r := job(t, script, map[string]string{"udfs.py": udfs},
			"-D", "python.fn-execution.shared-memory="+shared,
			"-D", fmt.Sprintf("python.fn-execution.arrow.batch.size=%d", batch),
			"-D", fmt.Sprintf("python.fn-execution.bundle.size=%d", bundle)).mustSucceed(t)
		got[i] = strings.Join(r.lines(), "\n")
	}
	if got[0] != got[1] {
		t.Fatalf("shared memory and inline batches disagree:\nshared: %s\ninline: %s", got[0], got[1])
	}
	if !strings.Contains(got[0], fmt.Sprintf("%d, ", rows)) {
		t.Fatalf("got %q, want %d rows counted", got[0], rows)
	}
}

// TestVectorizedKeptInput: a pandas function may keep its arguments beyond
// its call (here in a global), and they must read the same later. Its
// Series are views of the shared memory the engine reuses for later
// batches; the worker reports such a bundle (the engine then leaves its
// input regions alone) and copies its inputs from then on. Random batch and
// bundle sizes, so that regions are reused many times over.
func TestVectorizedKeptInput(t *testing.T) {
	udfs := `import numpy as np
from weir import udf
kept = []
def remember(x):
    for series, values in kept:
        if not np.array_equal(series.to_numpy(), values):
            raise AssertionError(f"a batch kept at an earlier call changed: {series.head(3).tolist()}, "
                                 f"it was {values[:3].tolist()}")
    if len(kept) < 3 and len(x) > 0:
        kept.append((x, x.to_numpy().copy()))
    return x + 1
remember = udf(remember, result_type='BIGINT NOT NULL', func_type='pandas')
`
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 11))
	rows := 100_000 + rng.IntN(200_000)
	batch := 200 + rng.IntN(3_000)
	bundle := batch * (1 + rng.IntN(8))
	t.Logf("seed %d: %d rows, batches of %d, bundles of %d", seed, rows, batch, bundle)
	script := fmt.Sprintf(`CREATE TABLE src (a BIGINT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '%d');
CREATE TEMPORARY FUNCTION remember AS 'udfs.remember' LANGUAGE PYTHON;
SELECT COUNT(*), SUM(r) FROM (SELECT remember(a) AS r FROM src);`, rows, rows)
	r := job(t, script, map[string]string{"udfs.py": udfs}, "-v",
		"-D", fmt.Sprintf("python.fn-execution.arrow.batch.size=%d", batch),
		"-D", fmt.Sprintf("python.fn-execution.bundle.size=%d", bundle)).mustSucceed(t)
	if got, want := strings.Join(r.lines(), "\n"), fmt.Sprintf("%d, %d", rows, rows*(rows+1)/2+rows); !strings.Contains(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !strings.Contains(r.stderr, "kept its input batch") {
		t.Errorf("the engine was not told of the kept input; stderr:\n%s", r.stderr)
	}
}
