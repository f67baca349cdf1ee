package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// This file tests that values of every SQL type cross between the Go engine
// and the Python workers unchanged, in both directions, and that a result
// that does not fit its declared type fails the job with a precise error.

// scalarTypes are one column per scalar type, with three values each (the
// low end, the high end or non-ASCII text, and zero or empty); a fourth row
// is all NULL. Python's datetime has microseconds, so the values of
// TIMESTAMP(9) and TIMESTAMP_LTZ(9) here have none below them (see
// TestNanosecondsTruncated).
var scalarTypes = []struct {
	sqlType string
	values  [3]string
	printed [3]string // as the print sink shows them
}{
	{"TINYINT", [3]string{"-128", "127", "0"}, [3]string{"-128", "127", "0"}},
	{"SMALLINT", [3]string{"-32768", "32767", "0"}, [3]string{"-32768", "32767", "0"}},
	{"INT", [3]string{"-2147483648", "2147483647", "0"}, [3]string{"-2147483648", "2147483647", "0"}},
	{"BIGINT", [3]string{"-9223372036854775808", "9223372036854775807", "0"}, [3]string{"-9223372036854775808", "9223372036854775807", "0"}},
	{"BOOLEAN", [3]string{"FALSE", "TRUE", "FALSE"}, [3]string{"false", "true", "false"}},
	{"FLOAT", [3]string{"-3.4028235E38", "1.4E-45", "0.0E0"}, [3]string{"-3.4028235E38", "1.4E-45", "0.0"}},
	{"DOUBLE", [3]string{"-1.7976931348623157E308", "4.9E-324", "-0.0E0"}, [3]string{"-1.7976931348623157E308", "4.9E-324", "-0.0"}},
	// Flink takes DECIMAL literals of at most 18 digits; wider values are cast from strings.
	{"DECIMAL(38, 10)", [3]string{"'-9999999999999999999999999999.9999999999'", "'9999999999999999999999999999.9999999999'", "0.0000000001"},
		[3]string{"-9999999999999999999999999999.9999999999", "9999999999999999999999999999.9999999999", "1E-10"}},
	{"DECIMAL(38, 0)", [3]string{"'-99999999999999999999999999999999999999'", "'99999999999999999999999999999999999999'", "0"},
		[3]string{"-99999999999999999999999999999999999999", "99999999999999999999999999999999999999", "0"}},
	{"DECIMAL(5, 2)", [3]string{"-999.99", "999.99", "0.1"}, [3]string{"-999.99", "999.99", "0.10"}},
	{"CHAR(5)", [3]string{"'ab'", "'héllo'", "''"}, [3]string{"ab   ", "héllo", "     "}},
	{"VARCHAR(10)", [3]string{"'a''b'", "'世界 🌍'", "''"}, [3]string{"a'b", "世界 🌍", ""}},
	{"STRING", [3]string{"'tab\there'", "'héllo, 世界 — ∑ 🎉'", "''"}, [3]string{"tab\there", "héllo, 世界 — ∑ 🎉", ""}},
	{"BINARY(3)", [3]string{"X'000102'", "X'ff'", "X''"}, [3]string{"[0, 1, 2]", "[-1, 0, 0]", "[0, 0, 0]"}},
	{"VARBINARY(4)", [3]string{"X''", "X'deadbeef'", "X'00'"}, [3]string{"[]", "[-34, -83, -66, -17]", "[0]"}},
	{"BYTES", [3]string{"X'00ff'", "X'7f80'", "X''"}, [3]string{"[0, -1]", "[127, -128]", "[]"}},
	{"DATE", [3]string{"DATE '0001-01-01'", "DATE '9999-12-31'", "DATE '1970-01-01'"}, [3]string{"0001-01-01", "9999-12-31", "1970-01-01"}},
	{"TIME(0)", [3]string{"TIME '00:00:00'", "TIME '23:59:59'", "TIME '12:00:00'"}, [3]string{"00:00", "23:59:59", "12:00"}},
	{"TIME(3)", [3]string{"TIME '00:00:00.001'", "TIME '23:59:59.999'", "TIME '12:34:56.789'"}, [3]string{"00:00:00.001", "23:59:59.999", "12:34:56.789"}},
	{"TIMESTAMP(0)", [3]string{"TIMESTAMP '0001-01-01 00:00:00'", "TIMESTAMP '9999-12-31 23:59:59'", "TIMESTAMP '1970-01-01 00:00:00'"},
		[3]string{"0001-01-01T00:00", "9999-12-31T23:59:59", "1970-01-01T00:00"}},
	{"TIMESTAMP(3)", [3]string{"TIMESTAMP '1969-12-31 23:59:59.999'", "TIMESTAMP '9999-12-31 23:59:59.999'", "TIMESTAMP '2020-02-29 12:00:00.5'"},
		[3]string{"1969-12-31T23:59:59.999", "9999-12-31T23:59:59.999", "2020-02-29T12:00:00.500"}},
	{"TIMESTAMP(6)", [3]string{"TIMESTAMP '0001-01-01 00:00:00.000001'", "TIMESTAMP '9999-12-31 23:59:59.999999'", "TIMESTAMP '1970-01-01 00:00:00.000001'"},
		[3]string{"0001-01-01T00:00:00.000001", "9999-12-31T23:59:59.999999", "1970-01-01T00:00:00.000001"}},
	{"TIMESTAMP(9)", [3]string{"TIMESTAMP '1677-09-21 00:12:43.145225'", "TIMESTAMP '2262-04-11 23:47:16.854775'", "TIMESTAMP '1969-12-31 23:59:59.999999'"},
		[3]string{"1677-09-21T00:12:43.145225", "2262-04-11T23:47:16.854775", "1969-12-31T23:59:59.999999"}},
	{"TIMESTAMP_LTZ(0)", [3]string{"TIMESTAMP_LTZ '0001-01-01 00:00:00'", "TIMESTAMP_LTZ '9999-12-31 23:59:59'", "TIMESTAMP_LTZ '1970-01-01 00:00:00'"},
		[3]string{"0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z"}},
	{"TIMESTAMP_LTZ(3)", [3]string{"TIMESTAMP_LTZ '1969-12-31 23:59:59.999'", "TIMESTAMP_LTZ '9999-12-31 23:59:59.999'", "TIMESTAMP_LTZ '2000-01-01 00:00:00.001'"},
		[3]string{"1969-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z", "2000-01-01T00:00:00.001Z"}},
	{"TIMESTAMP_LTZ(6)", [3]string{"TIMESTAMP_LTZ '0001-01-01 00:00:00.000001'", "TIMESTAMP_LTZ '9999-12-31 23:59:59.999999'", "TIMESTAMP_LTZ '2000-01-01 00:00:00.000001'"},
		[3]string{"0001-01-01T00:00:00.000001Z", "9999-12-31T23:59:59.999999Z", "2000-01-01T00:00:00.000001Z"}},
	{"TIMESTAMP_LTZ(9)", [3]string{"TIMESTAMP_LTZ '1677-09-21 00:12:43.145225'", "TIMESTAMP_LTZ '2262-04-11 23:47:16.854775'", "TIMESTAMP_LTZ '2000-01-01 00:00:00.000001'"},
		[3]string{"1677-09-21T00:12:43.145225Z", "2262-04-11T23:47:16.854775Z", "2000-01-01T00:00:00.000001Z"}},
}

// TestScalarTypesIdentity: a column of every scalar type through identity
// UDFs gives exactly the rows it gives without them.
func TestScalarTypesIdentity(t *testing.T) {
	var udfs strings.Builder
	udfs.WriteString("from weir import udf\n\n")
	var cols, names, through, creates []string
	var rows [4][]string
	var want [4][]string
	for i, st := range scalarTypes {
		fmt.Fprintf(&udfs, "id%d = udf(lambda x: x, result_type=%q)\n", i, st.sqlType)
		creates = append(creates, fmt.Sprintf("CREATE TEMPORARY FUNCTION id%d AS 'udfs.id%d' LANGUAGE PYTHON;", i, i))
		cols = append(cols, fmt.Sprintf("c%d %s", i, st.sqlType))
		names = append(names, fmt.Sprintf("c%d", i))
		through = append(through, fmt.Sprintf("id%d(c%d)", i, i))
		for r := 0; r < 3; r++ {
			rows[r] = append(rows[r], fmt.Sprintf("CAST(%s AS %s)", st.values[r], st.sqlType))
			want[r] = append(want[r], st.printed[r])
		}
		rows[3] = append(rows[3], fmt.Sprintf("CAST(NULL AS %s)", st.sqlType))
		want[3] = append(want[3], "null")
	}
	var values []string
	var wantRows []string
	for r := range rows {
		values = append(values, "("+strings.Join(rows[r], ", ")+")")
		wantRows = append(wantRows, "+I["+strings.Join(want[r], ", ")+"]")
	}
	from := fmt.Sprintf("(VALUES %s) AS t(%s)", strings.Join(values, ", "), strings.Join(names, ", "))
	head := fmt.Sprintf("CREATE TABLE snk (%s) WITH ('connector' = 'print');\n%s\n", strings.Join(cols, ", "), strings.Join(creates, "\n"))
	files := map[string]string{"udfs.py": udfs.String()}
	t.Run("direct", func(t *testing.T) {
		t.Parallel()
		r, _ := jobIn(t, "1", head+"INSERT INTO snk SELECT "+strings.Join(names, ", ")+" FROM "+from+";", files)
		r.mustSucceed(t)
		wantLines(t, r, wantRows...)
	})
	forImpls(t, func(t *testing.T, cython string) {
		r, _ := jobIn(t, cython, head+"INSERT INTO snk SELECT "+strings.Join(through, ", ")+" FROM "+from+";", files)
		r.mustSucceed(t)
		wantLines(t, r, wantRows...)
	})
}

// TestNanosecondsTruncated: Python's datetime holds microseconds, so a
// TIMESTAMP(9) value through a Python function loses its nanoseconds
// (floored), as the coder documents; values outside the range of a
// nanosecond timestamp after flooring fail.
func TestNanosecondsTruncated(t *testing.T) {
	udfs := "from weir import udf\nid9 = udf(lambda x: x, result_type='TIMESTAMP(9)')\nidl9 = udf(lambda x: x, result_type='TIMESTAMP_LTZ(9)')\n"
	t.Parallel()
	r, _ := jobIn(t, "1", `CREATE TABLE snk (a TIMESTAMP(9), b TIMESTAMP(9), c TIMESTAMP_LTZ(9)) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION id9 AS 'udfs.id9' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION idl9 AS 'udfs.idl9' LANGUAGE PYTHON;
INSERT INTO snk SELECT a, id9(a), idl9(CAST(a AS TIMESTAMP_LTZ(9))) FROM (VALUES (TIMESTAMP '2020-02-29 12:00:00.123456789'), (TIMESTAMP '1969-12-31 23:59:59.999999999')) AS t(a);`,
		map[string]string{"udfs.py": udfs})
	r.mustSucceed(t)
	wantLines(t, r,
		"+I[2020-02-29T12:00:00.123456789, 2020-02-29T12:00:00.123456, 2020-02-29T12:00:00.123456Z]",
		"+I[1969-12-31T23:59:59.999999999, 1969-12-31T23:59:59.999999, 1969-12-31T23:59:59.999999Z]")
}

const nestedUDFs = `import datetime
import decimal
from weir import udf, udtf, Row

NESTED = 'ARRAY<ROW<a INT, b MAP<STRING, ARRAY<BIGINT>>>>'
ROWT = 'ROW<a INT NOT NULL, s STRING, c ARRAY<DECIMAL(10, 2)>, d DATE, e TIMESTAMP(3), f ROW<x BOOLEAN, y BYTES>>'
UTC = datetime.timezone.utc

NESTED_VALUES = [
    None,
    [],
    [None],
    [Row(a=None, b=None)],
    [Row(a=1, b={})],
    [Row(a=-2147483648, b={'k': None, 'é世': [], 'x': [None, 9223372036854775807, -9223372036854775808]}),
     Row(a=2147483647, b={'': [0]})],
]
ARRAY_VALUES = [None, [], [None], [1, None, -1], [2147483647], [-2147483648, 0]]
DEEP_VALUES = [None, [], [None, []], [['a', None, 'é']], [[''], ['x', 'y']], [[None]]]
MAP_VALUES = [None, {}, {'a': None}, {'a': 1, 'b': None}, {'é': -1}, {'': 0, 'z': 2}]
MAPK_VALUES = [None, {}, {1: [1.5, None]}, {-1: []}, {2147483647: None}, {0: [-0.0, 1e300]}]
ROW_VALUES = [
    None,
    Row(a=0, s=None, c=None, d=None, e=None, f=None),
    Row(a=1, s='', c=[], d=datetime.date(1, 1, 1), e=datetime.datetime(1969, 12, 31, 23, 59, 59, 999000), f=Row(x=None, y=None)),
    (2, 'é', [decimal.Decimal('-99999999.99'), None], datetime.date(9999, 12, 31), datetime.datetime(2020, 1, 1), (True, b'\x00\xff')),
    Row(a=3, s='t', c=[decimal.Decimal('0.10')], d=datetime.date(2000, 2, 29), e=None, f=Row(x=False, y=b'')),
    {'a': 5, 's': 'dict', 'c': None, 'd': None, 'e': None, 'f': None},
]
LTZ_VALUES = [None, [], [None], [datetime.datetime(1970, 1, 1, tzinfo=UTC)],
              [datetime.datetime(2020, 2, 29, 12, 0, 0, 123456, tzinfo=UTC)], [datetime.datetime(1, 1, 1, tzinfo=UTC)]]

mk_nested = udf(lambda i: NESTED_VALUES[i], result_type=NESTED)
mk_array = udf(lambda i: ARRAY_VALUES[i], result_type='ARRAY<INT>')
mk_deep = udf(lambda i: DEEP_VALUES[i], result_type='ARRAY<ARRAY<STRING>>')
mk_map = udf(lambda i: MAP_VALUES[i], result_type='MAP<STRING, INT>')
mk_mapk = udf(lambda i: MAPK_VALUES[i], result_type='MAP<INT, ARRAY<DOUBLE>>')
mk_row = udf(lambda i: ROW_VALUES[i], result_type=ROWT)
mk_ltz = udf(lambda i: LTZ_VALUES[i], result_type='ARRAY<TIMESTAMP_LTZ(6)>')

id_nested = udf(lambda x: x, result_type=NESTED)
id_array = udf(lambda x: x, result_type='ARRAY<INT>')
id_deep = udf(lambda x: x, result_type='ARRAY<ARRAY<STRING>>')
id_map = udf(lambda x: x, result_type='MAP<STRING, INT>')
id_mapk = udf(lambda x: x, result_type='MAP<INT, ARRAY<DOUBLE>>')
id_row = udf(lambda x: x, result_type=ROWT)
id_ltz = udf(lambda x: x, result_type='ARRAY<TIMESTAMP_LTZ(6)>')


@udtf(result_types=[NESTED, ROWT])
def explode(i):
    yield NESTED_VALUES[i], ROW_VALUES[i]
    yield NESTED_VALUES[(i + 1) % 6], ROW_VALUES[(i + 1) % 6]
`

// nestedKinds are the nested types of nestedUDFs, with how each of the six
// values prints.
var nestedKinds = []struct {
	name, sqlType string
	printed       [6]string
}{
	{"nested", "ARRAY<ROW<a INT, b MAP<STRING, ARRAY<BIGINT>>>>", [6]string{"null", "[]", "[null]", "[+I[null, null]]", "[+I[1, {}]]",
		"[+I[-2147483648, {k=null, é世=[], x=[null, 9223372036854775807, -9223372036854775808]}], +I[2147483647, {=[0]}]]"}},
	{"array", "ARRAY<INT>", [6]string{"null", "[]", "[null]", "[1, null, -1]", "[2147483647]", "[-2147483648, 0]"}},
	{"deep", "ARRAY<ARRAY<STRING>>", [6]string{"null", "[]", "[null, []]", "[[a, null, é]]", "[[], [x, y]]", "[[null]]"}},
	{"map", "MAP<STRING, INT>", [6]string{"null", "{}", "{a=null}", "{a=1, b=null}", "{é=-1}", "{=0, z=2}"}},
	{"mapk", "MAP<INT, ARRAY<DOUBLE>>", [6]string{"null", "{}", "{1=[1.5, null]}", "{-1=[]}", "{2147483647=null}", "{0=[-0.0, 1.0E300]}"}},
	{"row", "ROW<a INT NOT NULL, s STRING, c ARRAY<DECIMAL(10, 2)>, d DATE, e TIMESTAMP(3), f ROW<x BOOLEAN, y BYTES>>", [6]string{"null",
		"+I[0, null, null, null, null, null]",
		"+I[1, , [], 0001-01-01, 1969-12-31T23:59:59.999, +I[null, null]]",
		"+I[2, é, [-99999999.99, null], 9999-12-31, 2020-01-01T00:00, +I[true, [0, -1]]]",
		"+I[3, t, [0.10], 2000-02-29, null, +I[false, []]]",
		"+I[5, dict, null, null, null, null]"}},
	{"ltz", "ARRAY<TIMESTAMP_LTZ(6)>", [6]string{"null", "[]", "[null]", "[1970-01-01T00:00:00Z]", "[2020-02-29T12:00:00.123456Z]", "[0001-01-01T00:00:00Z]"}},
}

// TestNestedTypesIdentity: ARRAY, MAP and ROW values, nested, with NULLs at
// every level, built by Python functions, come back exactly: printed as
// built, through an identity function fused in the same stage (Python to
// Python), through one in a later stage (Go to Python: the CAST to the same
// type is a Go step between the stages), and through a table function.
func TestNestedTypesIdentity(t *testing.T) {
	var cols, sel, creates []string
	for _, k := range nestedKinds {
		for _, suffix := range []string{"", "_same", "_next"} {
			cols = append(cols, fmt.Sprintf("%s%s %s", k.name, suffix, k.sqlType))
		}
		sel = append(sel, fmt.Sprintf("mk_%s(i)", k.name), fmt.Sprintf("id_%s(mk_%s(i))", k.name, k.name),
			fmt.Sprintf("id_%s(CAST(mk_%s(i) AS %s))", k.name, k.name, k.sqlType))
		creates = append(creates, fmt.Sprintf("CREATE TEMPORARY FUNCTION mk_%s AS 'udfs.mk_%s' LANGUAGE PYTHON;", k.name, k.name),
			fmt.Sprintf("CREATE TEMPORARY FUNCTION id_%s AS 'udfs.id_%s' LANGUAGE PYTHON;", k.name, k.name))
	}
	nested, row := nestedKinds[0], nestedKinds[5]
	script := fmt.Sprintf(`CREATE TABLE snk (i INT, %s) WITH ('connector' = 'print');
CREATE TABLE snk2 (i INT, n %s, n2 %s, r %s, r2 %s) WITH ('connector' = 'print');
%s
CREATE TEMPORARY FUNCTION explode AS 'udfs.explode' LANGUAGE PYTHON;
INSERT INTO snk SELECT i, %s FROM (VALUES (0), (1), (2), (3), (4), (5)) AS t(i);
INSERT INTO snk2 SELECT i, n, id_nested(n), r, id_row(r) FROM (VALUES (0), (1), (2), (3), (4), (5)) AS t(i), LATERAL TABLE(explode(i)) AS T(n, r);`,
		strings.Join(cols, ", "), nested.sqlType, nested.sqlType, row.sqlType, row.sqlType, strings.Join(creates, "\n"), strings.Join(sel, ", "))
	var want []string
	for i := 0; i < 6; i++ {
		var f []string
		for _, k := range nestedKinds {
			f = append(f, k.printed[i], k.printed[i], k.printed[i])
		}
		want = append(want, fmt.Sprintf("+I[%d, %s]", i, strings.Join(f, ", ")))
	}
	for i := 0; i < 6; i++ {
		for _, j := range []int{i, (i + 1) % 6} {
			want = append(want, fmt.Sprintf("+I[%d, %s, %s, %s, %s]", i, nested.printed[j], nested.printed[j], row.printed[j], row.printed[j]))
		}
	}
	forImpls(t, func(t *testing.T, cython string) {
		r, _ := jobIn(t, cython, script, map[string]string{"udfs.py": nestedUDFs})
		r.mustSucceed(t)
		wantLines(t, r, want...)
	})
}

// TestResultTypeErrors: a result that does not fit its declared type fails
// the job with an error that names the function, the declared type and the
// value, and the input row.
func TestResultTypeErrors(t *testing.T) {
	udfs := `import datetime
from weir import udf, udtf, DataTypes

str_for_int = udf(lambda x: 'abc', result_type='INT')
big_for_tinyint = udf(lambda x: 300, result_type=DataTypes.TINYINT())
none_for_not_null = udf(lambda x: None if x == 2 else x, result_type=DataTypes.INT(False))
naive_for_ltz = udf(lambda x: datetime.datetime(2020, 1, 1), result_type='TIMESTAMP_LTZ(3)')
bad_element = udf(lambda x: [1, 'two'], result_type='ARRAY<INT>')
import decimal
big_decimal = udf(lambda x: decimal.Decimal('1234.5'), result_type='DECIMAL(5, 2)')
table_str_for_int = udtf(lambda x: [(1, 'a'), ('b', 'c')], result_types=['INT', 'STRING'])
`
	// The four of the issue run on both operations; the others, whose
	// messages the Python tests check on both, on the Cython ones.
	cases := []struct {
		fn, sinkType string
		both         bool
		want         []string
	}{
		{"str_for_int", "INT", true, []string{"Python function 'str_for_int' (udfs.str_for_int)", "declared result type INT:", "got str 'abc'", "input row: (1,)"}},
		{"big_for_tinyint", "TINYINT", true, []string{"Python function 'big_for_tinyint'", "declared result type TINYINT:", "300 does not fit TINYINT", "input row: (1,)"}},
		{"none_for_not_null", "INT", true, []string{"Python function 'none_for_not_null'", "declared result type INT NOT NULL:", "None for INT NOT NULL", "input row: (2,)"}},
		{"naive_for_ltz", "TIMESTAMP_LTZ(3)", true, []string{"Python function 'naive_for_ltz'", "declared result type TIMESTAMP_LTZ(3):", "naive datetime", "datetime.datetime(2020, 1, 1, 0, 0)", "input row: (1,)"}},
		{"bad_element", "ARRAY<INT>", false, []string{"Python function 'bad_element'", "declared result type ARRAY<INT>:", "field 0[1]: expected int for INT, got str 'two'", "input row: (1,)"}},
		{"big_decimal", "DECIMAL(5, 2)", false, []string{"Python function 'big_decimal'", "declared result type DECIMAL(5, 2):", "1234.5", "input row: (1,)"}},
	}
	forImpls(t, func(t *testing.T, cython string) {
		for _, tc := range cases {
			if !tc.both && cython == "0" {
				continue
			}
			r, _ := jobIn(t, cython, fmt.Sprintf(`CREATE TABLE snk (a %s) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION %s AS 'udfs.%s' LANGUAGE PYTHON;
INSERT INTO snk SELECT %s(a) FROM (VALUES (1), (2)) AS t(a);`, tc.sinkType, tc.fn, tc.fn, tc.fn), map[string]string{"udfs.py": udfs})
			stderr := r.mustFail(t)
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%s: error lacks %q:\n%s", tc.fn, w, stderr)
				}
			}
			if strings.Contains(r.stdout, "+I[") {
				t.Errorf("%s: rows were printed: %s", tc.fn, r.stdout)
			}
		}
		if cython == "0" {
			return
		}
		r, _ := jobIn(t, cython, `CREATE TABLE snk (a INT, b STRING) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION table_str_for_int AS 'udfs.table_str_for_int' LANGUAGE PYTHON;
INSERT INTO snk SELECT x, y FROM (VALUES (1), (2)) AS t(a), LATERAL TABLE(table_str_for_int(a)) AS T(x, y);`, map[string]string{"udfs.py": udfs})
		stderr := r.mustFail(t)
		for _, w := range []string{"Python function 'table_str_for_int' (udfs.table_str_for_int)", "declared result type INT, STRING (column 1: INT):", "got str 'b'", "input row: (1,)"} {
			if !strings.Contains(stderr, w) {
				t.Errorf("table_str_for_int: error lacks %q:\n%s", w, stderr)
			}
		}
	})
}
