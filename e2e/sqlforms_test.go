package e2e

import (
	"strings"
	"testing"
)

// This file tests where Python calls may stand in SQL: among the Go
// built-ins, nested and chained, over Go expressions of other Python
// results, with constants of every type as arguments, in the three LATERAL
// TABLE forms; and the errors of wrong calls and failing functions.

const formsSQLUDFs = `from weir import udf, udtf, DataTypes


@udf(result_type=DataTypes.INT())
def inc(x):
    return None if x is None else x + 1


@udf(result_type='INT')
def neg(x):
    return None if x is None else -x


@udf(result_type='INT NOT NULL')
def dbl(x):
    return x * 2


@udf(result_type='STRING')
def rev(s):
    return None if s is None else s[::-1]


@udf(result_type='STRING')
def low(s):
    return None if s is None else s.lower()


@udf(result_type='STRING')
def tag(s, n):
    return f"<{s}:{n}>"


@udtf(result_types=['STRING', 'INT'])
def words(s):
    if s is None:
        return
    for i, w in enumerate(s.split()):
        yield w, i


@udtf(result_types=['INT'])
def upto(n):
    return range(n)
`

const formsSQLHead = `CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION neg AS 'udfs.neg' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION dbl AS 'udfs.dbl' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION rev AS 'udfs.rev' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION low AS 'udfs.low' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION tag AS 'udfs.tag' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION words AS 'udfs.words' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION upto AS 'udfs.upto' LANGUAGE PYTHON;
`

// TestPythonAmongBuiltins: Python calls wherever an expression may stand,
// mixed with arithmetic, comparisons, AND/OR/NOT, CASE, CAST, IS [NOT] NULL,
// UPPER, CONCAT, SUBSTRING, CHAR_LENGTH, ||, and column aliases, in SELECT
// and WHERE.
func TestPythonAmongBuiltins(t *testing.T) {
	script := formsSQLHead + `CREATE TABLE snk (x STRING, y INT, z BOOLEAN, w STRING, v INT, u BIGINT, n BOOLEAN) WITH ('connector' = 'print');
INSERT INTO snk
SELECT CONCAT(UPPER(low(s)), '-', SUBSTRING(rev(s), 2, 3)) AS x,
       CASE WHEN inc(a) > 2 AND NOT (neg(a) IS NULL) THEN CHAR_LENGTH(rev(s)) ELSE -inc(a) END AS y,
       inc(a) >= 3 OR rev(s) IS NULL AS z,
       CAST(inc(a) AS STRING) || COALESCE(rev(s), '?') AS w,
       inc(a) * 2 + neg(a) % 3 - dbl(a) / 2 AS v,
       CAST(inc(a) AS BIGINT) * 1000000000000 AS u,
       low(s) = 'abc' AS n
FROM (VALUES (1, 'Abc'), (2, 'héllo WORLD'), (3, CAST(NULL AS STRING)), (99, 'skipped')) AS t(a, s)
WHERE inc(a) <> 100 AND (rev(s) IS NOT NULL OR a BETWEEN 3 AND 4);`
	forImpls(t, func(t *testing.T, cython string) {
		r, _ := jobIn(t, cython, script, map[string]string{"udfs.py": formsSQLUDFs})
		r.mustSucceed(t)
		wantLines(t, r,
			"+I[ABC-bA, -2, false, 2cbA, 2, 2000000000000, true]",
			"+I[HÉLLO WORLD-LRO, 11, true, 3DLROW olléh, 2, 3000000000000, false]",
			"+I[null, null, true, 4?, 5, 4000000000000, null]",
		)
	})
}

// TestNestedAndChainedCalls: f(g(h(x))) in one stage; calls whose arguments
// are Go expressions over other Python results, in two and three stages;
// a call used by another stage's call and output as well.
func TestNestedAndChainedCalls(t *testing.T) {
	script := formsSQLHead + `CREATE TABLE snk (a INT, b INT, c INT, d INT, e STRING, f STRING) WITH ('connector' = 'print');
INSERT INTO snk
SELECT inc(dbl(inc(a))),
       inc(dbl(a) + 1),
       inc(dbl(inc(a) * 2) - neg(a)),
       dbl(a),
       tag(rev(s) || '!', inc(a) * 10),
       tag(tag(s, a), CHAR_LENGTH(tag(s, inc(a))))
FROM (VALUES (1, 'ab'), (-3, 'é')) AS t(a, s);`
	forImpls(t, func(t *testing.T, cython string) {
		r, _ := jobIn(t, cython, script, map[string]string{"udfs.py": formsSQLUDFs})
		r.mustSucceed(t)
		wantLines(t, r,
			"+I[5, 4, 10, 2, <ba!:20>, <<ab:1>:6>]",
			"+I[-3, -4, -10, -6, <é!:-20>, <<é:-3>:6>]",
		)
	})
}

// TestExplainOneStage: weir explain shows the Python calls of
// SELECT inc(c0) + 1, inc(c0 * 2) FROM s WHERE inc(c1) > 5 in exactly one
// Python stage, between a Go calc computing c0 * 2 and one adding 1 and
// filtering; and the job gives the rows that says.
func TestExplainOneStage(t *testing.T) {
	needPython(t)
	t.Parallel()
	script := `CREATE TABLE s (c0 INT NOT NULL, c1 INT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '8',
  'fields.c0.kind' = 'sequence', 'fields.c0.start' = '1', 'fields.c0.end' = '8', 'fields.c1.kind' = 'sequence', 'fields.c1.start' = '1', 'fields.c1.end' = '8');
CREATE TABLE snk (a INT, b INT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
INSERT INTO snk SELECT inc(c0) + 1, inc(c0 * 2) FROM s WHERE inc(c1) > 5;`
	args, _ := writeJob(t, script, map[string]string{"udfs.py": incUDF})
	r := runWeir(t, nil, append([]string{"explain"}, args[1:]...)...).mustSucceed(t)
	want := `Source: s [connector=datagen] (c0 INT NOT NULL, c1 INT NOT NULL)
GoCalc: select=[c0 AS $in0, (c0 * 2) AS $in1, c1 AS $in2]
PythonCalc: PythonCalc[inc(c0), inc((c0 * 2)), inc(c1)] -> ($py0 INT NOT NULL, $py1 INT NOT NULL, $py2 INT NOT NULL)
GoCalc: select=[($py0 + 1) AS a, $py1 AS b] where=[($py2 > 5)]
Sink: snk [connector=print] (a INT, b INT)
`
	if r.stdout != want {
		t.Errorf("explain:\n%s\nwant:\n%s", r.stdout, want)
	}
	if n := strings.Count(r.stdout, "PythonCalc:"); n != 1 {
		t.Errorf("%d Python stages, want 1", n)
	}
	r = runWeir(t, nil, args...).mustSucceed(t)
	wantLines(t, r, "+I[7, 11]", "+I[8, 13]", "+I[9, 15]", "+I[10, 17]")
}

// TestConstantArguments: constants of every type as arguments of Python
// functions arrive as the Python values of their types.
func TestConstantArguments(t *testing.T) {
	udfs := `from weir import udf


@udf(result_type='STRING')
def show(*xs):
    return ' '.join(f"{type(x).__name__}:{x!r}" for x in xs)
`
	script := `CREATE TABLE snk (a STRING, b STRING, c STRING, d STRING, e STRING, f STRING) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION show AS 'udfs.show' LANGUAGE PYTHON;
INSERT INTO snk SELECT
  show(CAST(-1 AS TINYINT), CAST(300 AS SMALLINT), 7, 4000000000, TRUE, CAST(1.5 AS FLOAT), 2.5E-3),
  show(12.345, CAST(-1 AS DECIMAL(38, 10)), 'it''s é', CAST('ab' AS CHAR(4)), CAST('xy' AS VARCHAR(5)), X'00ff', CAST(X'01' AS BINARY(2))),
  show(DATE '2020-02-29', TIME '12:34:56', TIME '23:59:59.999', TIMESTAMP '2020-01-01 00:00:00', TIMESTAMP '1969-12-31 23:59:59.999',
    TIMESTAMP '2020-01-01 00:00:00.123456', TIMESTAMP '2020-01-01 00:00:00.123456789', CAST(TIMESTAMP '1970-01-01 00:00:01.5' AS TIMESTAMP_LTZ(3))),
  show(NULL, CAST(NULL AS INT), CAST(NULL AS ARRAY<INT>)),
  show(ARRAY[1, NULL, 3], ARRAY[ARRAY['a'], ARRAY[CAST(NULL AS STRING)]], MAP['k', 1, 'é', CAST(NULL AS INT)], CAST(MAP[1, ARRAY[2]] AS MAP<BIGINT, ARRAY<DECIMAL(4, 1)>>)),
  show(ROW(1, 'a', ROW(TRUE, DATE '2000-01-01')), ARRAY[ROW(1, MAP['x', ARRAY[CAST(5 AS BIGINT)]])])
FROM (VALUES (0)) AS t(x);`
	want := "+I[" + strings.Join([]string{
		"int:-1 int:300 int:7 int:4000000000 bool:True float:1.5 float:0.0025",
		"Decimal:Decimal('12.345') Decimal:Decimal('-1.0000000000') str:\"it's é\" str:'ab  ' str:'xy' bytes:b'\\x00\\xff' bytes:b'\\x01\\x00'",
		"date:datetime.date(2020, 2, 29) time:datetime.time(12, 34, 56) time:datetime.time(23, 59, 59, 999000) datetime:datetime.datetime(2020, 1, 1, 0, 0) datetime:datetime.datetime(1969, 12, 31, 23, 59, 59, 999000) datetime:datetime.datetime(2020, 1, 1, 0, 0, 0, 123456) datetime:datetime.datetime(2020, 1, 1, 0, 0, 0, 123456) datetime:datetime.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=datetime.timezone.utc)",
		"NoneType:None NoneType:None NoneType:None",
		"list:[1, None, 3] list:[['a'], [None]] dict:{'k': 1, 'é': None} dict:{1: [Decimal('2.0')]}",
		"Row:Row(EXPR$0=1, EXPR$1='a', EXPR$2=Row(EXPR$0=True, EXPR$1=datetime.date(2000, 1, 1))) list:[Row(EXPR$0=1, EXPR$1={'x': [5]})]",
	}, ", ") + "]"
	forImpls(t, func(t *testing.T, cython string) {
		r, _ := jobIn(t, cython, script, map[string]string{"udfs.py": udfs})
		r.mustSucceed(t)
		wantLines(t, r, want)
	})
}

// TestLateralForms: FROM s, LATERAL TABLE(...), CROSS JOIN LATERAL TABLE
// and LEFT JOIN LATERAL TABLE ... ON TRUE, chained; inputs without results
// are dropped by the first two and kept, NULL-padded, by the LEFT join.
// Python calls use the functions' columns, and the functions take Python
// results and Go expressions over them as arguments.
func TestLateralForms(t *testing.T) {
	values := `(VALUES (1, 'a bb'), (2, ''), (3, CAST(NULL AS STRING)), (4, 'ccc')) AS t(k, s)`
	script := formsSQLHead + `CREATE TABLE snk (k INT, w STRING, i INT, x STRING, n INT) WITH ('connector' = 'print');
INSERT INTO snk SELECT k, w, inc(i), rev(w), n FROM ` + values + `
  LEFT JOIN LATERAL TABLE(words(s)) AS T(w, i) ON TRUE, LATERAL TABLE(upto(COALESCE(i, 1) + 1)) AS U(n);
INSERT INTO snk SELECT k, T.w, T.i, s, n FROM ` + values + `
  CROSS JOIN LATERAL TABLE(words(UPPER(rev(s)))) AS T(w, i)
  LEFT JOIN LATERAL TABLE(upto(dbl(k) - 3)) AS U(n) ON TRUE WHERE T.i = 0;`
	forImpls(t, func(t *testing.T, cython string) {
		r, _ := jobIn(t, cython, script, map[string]string{"udfs.py": formsSQLUDFs})
		r.mustSucceed(t)
		wantLines(t, r,
			// LEFT: k = 2 and 3 have no words and are kept; comma: upto(i + 1) rows each.
			"+I[1, a, 1, a, 0]",
			"+I[1, bb, 2, bb, 0]", "+I[1, bb, 2, bb, 1]",
			"+I[2, null, null, null, 0]", "+I[2, null, null, null, 1]",
			"+I[3, null, null, null, 0]", "+I[3, null, null, null, 1]",
			"+I[4, ccc, 1, ccc, 0]",
			// CROSS drops k = 2 and 3; LEFT keeps k = 1, for which upto(-1) is empty.
			"+I[1, BB, 0, a bb, null]",
			"+I[4, CCC, 0, ccc, 0]", "+I[4, CCC, 0, ccc, 1]", "+I[4, CCC, 0, ccc, 2]", "+I[4, CCC, 0, ccc, 3]", "+I[4, CCC, 0, ccc, 4]",
		)
	})
}

// TestCallErrors: wrong calls are planning errors with the line and column
// of the call, naming the function, what it takes and what it got; nothing
// runs.
func TestCallErrors(t *testing.T) {
	udfs := formsSQLUDFs + `
typed = udf(lambda a, b: a, input_types=['BIGINT', 'STRING'], result_type='BIGINT')
`
	head := formsSQLHead + "CREATE TEMPORARY FUNCTION typed AS 'udfs.typed' LANGUAGE PYTHON;\nCREATE TABLE snk (a BIGINT) WITH ('connector' = 'print');\n"
	cases := []struct{ name, stmt, want string }{
		{"too many", "INSERT INTO snk\n  SELECT inc(a, a) FROM (VALUES (1)) AS t(a);",
			"line 12, column 10: function inc takes 1 argument(s) but got 2 (INT NOT NULL, INT NOT NULL)"},
		{"too few", "INSERT INTO snk SELECT tag('x') FROM (VALUES (1)) AS t(a);",
			"line 11, column 24: function tag takes 2 argument(s) but got 1 (CHAR(1) NOT NULL)"},
		{"declared count", "INSERT INTO snk SELECT typed(a) FROM (VALUES (1)) AS t(a);",
			"line 11, column 24: function typed expects 2 argument(s) (BIGINT, STRING) but got 1 (INT NOT NULL)"},
		{"declared type", "INSERT INTO snk SELECT typed(a,\n    DATE '2020-01-01') FROM (VALUES (1)) AS t(a);",
			"line 12, column 5: function typed expects argument 2 of type STRING but got DATE NOT NULL (arguments: INT NOT NULL, DATE NOT NULL)"},
		{"table function arguments", "INSERT INTO snk SELECT n FROM (VALUES (1)) AS t(a), LATERAL TABLE(upto(a, a)) AS T(n);",
			"line 11, column 67: function upto takes 1 argument(s) but got 2 (INT NOT NULL, INT NOT NULL)"},
		{"table function as scalar", "INSERT INTO snk SELECT upto(a) FROM (VALUES (1)) AS t(a);",
			"line 11, column 24: upto is a table function; call it in FROM with LATERAL TABLE(upto(...))"},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, _ := jobIn(t, "1", head+tc.stmt, map[string]string{"udfs.py": udfs})
			stderr := r.mustFail(t)
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("error:\n%s\nwant it to contain:\n%s", stderr, tc.want)
			}
			if r.stdout != "" || strings.Contains(stderr, "job finished") {
				t.Errorf("something ran: %s %s", r.stdout, stderr)
			}
		})
	}
}

// TestFunctionRaises: an exception in a nested call, in a table function or
// in open() fails the job with the function's name, the exception, the
// traceback and the offending input row.
func TestFunctionRaises(t *testing.T) {
	udfs := `from weir import udf, udtf, ScalarFunction


def check(x):
    if x == 2:
        raise ValueError(f"bad value {x}")
    return x


@udf(result_type='INT')
def inner_fn(x):
    return check(x)


outer_fn = udf(lambda x: x + 1, result_type='INT')


@udtf(result_types=['INT'])
def table_raises(x):
    yield x
    if x == 2:
        raise KeyError('no such key')


class OpenRaises(ScalarFunction):
    def open(self, ctx):
        raise RuntimeError('cannot open ' + ctx.get_job_parameter('what', '?'))

    def eval(self, x):
        return x


open_raises = udf(OpenRaises(), result_type='INT')
`
	head := `SET 'pipeline.global-job-parameters' = 'what:the door';
CREATE TABLE snk (a INT, b STRING) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION inner_fn AS 'udfs.inner_fn' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION outer_fn AS 'udfs.outer_fn' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION table_raises AS 'udfs.table_raises' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION open_raises AS 'udfs.open_raises' LANGUAGE PYTHON;
`
	from := " FROM (VALUES (1, 'x'), (2, 'y'), (3, 'z')) AS t(a, s)"
	cases := []struct {
		name, stmt string
		want       []string
	}{
		{"nested", "INSERT INTO snk SELECT outer_fn(inner_fn(a)), s" + from + ";",
			[]string{"Python function 'inner_fn' (udfs.inner_fn) raised ValueError: bad value 2", "arguments: (2,)", "input row: (2,)", "Traceback", "in check", "udfs.py"}},
		{"table", "INSERT INTO snk SELECT v, s" + from + ", LATERAL TABLE(table_raises(a)) AS T(v);",
			[]string{"Python function 'table_raises' (udfs.table_raises) raised KeyError: 'no such key'", "input row: (2,)", "Traceback", "udfs.py"}},
		{"open", "INSERT INTO snk SELECT open_raises(a), s" + from + ";",
			[]string{"open() of Python function 'open_raises' (udfs.open_raises) failed: RuntimeError: cannot open the door", "Traceback"}},
	}
	forImpls(t, func(t *testing.T, cython string) {
		for _, tc := range cases {
			r, _ := jobIn(t, cython, head+tc.stmt, map[string]string{"udfs.py": udfs})
			stderr := r.mustFail(t)
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%s: error lacks %q:\n%s", tc.name, w, stderr)
				}
			}
			if strings.Contains(r.stdout, "+I[") {
				t.Errorf("%s: rows were printed: %s", tc.name, r.stdout)
			}
		}
	})
}

// TestNestedValuesInGo: ARRAY, MAP and ROW constants are built by the Go
// engine, in VALUES and as projections, and printed like Flink prints them.
func TestNestedValuesInGo(t *testing.T) {
	r := job(t, `CREATE TABLE snk (id INT, a ARRAY<INT>, m MAP<STRING, INT>, r ROW<x INT, y STRING>) WITH ('connector' = 'print');
INSERT INTO snk SELECT id, a, m, r FROM (VALUES (1, ARRAY[1, 2], MAP['k', 1], ROW(1, 'a')), (2, ARRAY[3], MAP['z', 2], ROW(2, 'b'))) AS t(id, a, m, r);
INSERT INTO snk SELECT id, ARRAY[7, 8], MAP['q', 9], ROW(3, 'c') FROM (VALUES (5)) AS t(id);`, nil).mustSucceed(t)
	want := "+I[1, [1, 2], {k=1}, +I[1, a]]\n+I[2, [3], {z=2}, +I[2, b]]\n+I[5, [7, 8], {q=9}, +I[3, c]]\n"
	if r.stdout != want {
		t.Errorf("got:\n%s\nwant:\n%s", r.stdout, want)
	}
}

// TestBareSelect: a SELECT without INSERT prints its rows, and a SELECT
// without FROM reads one row, as in Flink's SQL client or DuckDB.
func TestBareSelect(t *testing.T) {
	r := job(t, `CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
SELECT inc(41) AS answer, 'x' || 'y', 1 + 2;
SELECT a, inc(a) FROM (VALUES (1), (2)) AS t(a) WHERE a > 1;`, map[string]string{"udfs.py": incUDF}).mustSucceed(t)
	if want := "+I[42, xy, 3]\n+I[2, 3]\n"; r.stdout != want {
		t.Errorf("got %q, want %q", r.stdout, want)
	}
}
