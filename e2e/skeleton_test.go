package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

const incUDF = `from weir import udf, DataTypes


@udf(result_type=DataTypes.INT(False))
def inc(x):
    return x + 1
`

// TestFlip121Exact runs 1,000,000 rows x 10 columns through inc with one
// and with two workers and checks every output value.
func TestFlip121Exact(t *testing.T) {
	const rows, cols = 1_000_000, 10
	var defs, opts, calls, outs []string
	for c := 0; c < cols; c++ {
		defs = append(defs, fmt.Sprintf("c%d INT NOT NULL", c))
		opts = append(opts, fmt.Sprintf("'fields.c%d.kind' = 'sequence', 'fields.c%d.start' = '%d', 'fields.c%d.end' = '%d'", c, c, c*rows, c, c*rows+rows-1))
		calls = append(calls, fmt.Sprintf("inc(c%d)", c))
		outs = append(outs, fmt.Sprintf("r%d INT", c))
	}
	sqlText := fmt.Sprintf(`
CREATE TABLE src (%s) WITH ('connector' = 'datagen', %s);
CREATE TABLE snk (%s) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
INSERT INTO snk SELECT %s FROM src;`, strings.Join(defs, ", "), strings.Join(opts, ", "), strings.Join(outs, ", "), strings.Join(calls, ", "))
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			r := job(t, sqlText, map[string]string{"udfs.py": incUDF}, "-D", fmt.Sprintf("parallelism.default=%d", workers)).mustSucceed(t)
			lines := r.lines()
			if len(lines) != rows {
				t.Fatalf("got %d output rows, want %d", len(lines), rows)
			}
			// Every value, and each column's sum against the closed form.
			sums := make([]int64, cols)
			for i, l := range lines {
				if !strings.HasPrefix(l, "+I[") || !strings.HasSuffix(l, "]") {
					t.Fatalf("row %d: %q is not a +I[...] row", i, l)
				}
				fields := strings.Split(l[3:len(l)-1], ", ")
				if len(fields) != cols {
					t.Fatalf("row %d: %q has %d fields, want %d", i, l, len(fields), cols)
				}
				for c, f := range fields {
					v, err := strconv.ParseInt(f, 10, 64)
					if err != nil {
						t.Fatalf("row %d col %d: %q: %v", i, c, f, err)
					}
					if want := int64(c*rows + i + 1); v != want {
						t.Fatalf("row %d col %d = %d, want %d", i, c, v, want)
					}
					sums[c] += v
				}
			}
			for c, s := range sums {
				lo := int64(c*rows + 1)
				want := (lo + lo + rows - 1) * rows / 2
				if s != want {
					t.Errorf("sum of column %d = %d, want %d", c, s, want)
				}
			}
		})
	}
}

// TestNullsRoundTrip sends NULL and non-NULL values of every supported type
// through identity UDFs; the output must equal the output without UDFs.
func TestNullsRoundTrip(t *testing.T) {
	typesList := []struct{ sqlType, value string }{
		{"TINYINT", "CAST(-7 AS TINYINT)"},
		{"SMALLINT", "CAST(300 AS SMALLINT)"},
		{"INT", "-2147483648"},
		{"BIGINT", "9223372036854775807"},
		{"FLOAT", "CAST(1.5 AS FLOAT)"},
		{"DOUBLE", "CAST(-0.25 AS DOUBLE)"},
		{"BOOLEAN", "TRUE"},
		{"STRING", "'héllo, 世界'"},
		{"BYTES", "X'00ff10'"},
	}
	var udfs strings.Builder
	udfs.WriteString("from weir import udf\n\n")
	var cols, withUDF, without, creates []string
	for i, tc := range typesList {
		fmt.Fprintf(&udfs, "id%d = udf(lambda x: x, result_type=%q)\n", i, tc.sqlType)
		creates = append(creates, fmt.Sprintf("CREATE TEMPORARY FUNCTION id%d AS 'udfs.id%d' LANGUAGE PYTHON;", i, i))
		cols = append(cols, fmt.Sprintf("c%d %s", i, tc.sqlType))
		withUDF = append(withUDF, fmt.Sprintf("id%d(c%d)", i, i))
		without = append(without, fmt.Sprintf("c%d", i))
	}
	udfs.WriteString("none_int = udf(lambda x: None, result_type='INT')\n")
	var row1, row2 []string
	for _, tc := range typesList {
		row1 = append(row1, fmt.Sprintf("CAST(%s AS %s)", tc.value, tc.sqlType))
		row2 = append(row2, fmt.Sprintf("CAST(NULL AS %s)", tc.sqlType))
	}
	values := fmt.Sprintf("(VALUES (%s), (%s)) AS t(%s)", strings.Join(row1, ", "), strings.Join(row2, ", "), strings.Join(without, ", "))
	head := fmt.Sprintf("CREATE TABLE snk (%s) WITH ('connector' = 'print');\n%s\n", strings.Join(cols, ", "), strings.Join(creates, "\n"))
	direct := job(t, head+"INSERT INTO snk SELECT "+strings.Join(without, ", ")+" FROM "+values+";", map[string]string{"udfs.py": udfs.String()}).mustSucceed(t)
	through := job(t, head+"INSERT INTO snk SELECT "+strings.Join(withUDF, ", ")+" FROM "+values+";", map[string]string{"udfs.py": udfs.String()}).mustSucceed(t)
	if len(direct.lines()) != 2 {
		t.Fatalf("direct output has %d rows, want 2:\n%s", len(direct.lines()), direct.stdout)
	}
	if !strings.Contains(direct.lines()[1], "null") {
		t.Fatalf("second row should be all NULL: %s", direct.lines()[1])
	}
	if through.stdout != direct.stdout {
		t.Errorf("identity UDFs changed the rows:\nwithout UDFs:\n%s\nthrough UDFs:\n%s", direct.stdout, through.stdout)
	}
	none := job(t, `CREATE TABLE snk (a INT, b INT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION none_int AS 'udfs.none_int' LANGUAGE PYTHON;
INSERT INTO snk SELECT a, none_int(a) FROM (VALUES (1), (2)) AS t(a);`, map[string]string{"udfs.py": udfs.String()}).mustSucceed(t)
	if got, want := none.stdout, "+I[1, null]\n+I[2, null]\n"; got != want {
		t.Errorf("UDF returning None: got %q, want %q", got, want)
	}
}

// TestUDFRaises checks that a failing UDF fails the job fast, with the
// function's name and the Python traceback, and leaves no worker behind.
func TestUDFRaises(t *testing.T) {
	udfs := `from weir import udf, DataTypes


def helper(x):
    return 10 // (x - 3)


@udf(result_type=DataTypes.INT())
def fragile(x):
    return helper(x)
`
	r := job(t, `CREATE TABLE src (a INT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '100000', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '100000');
CREATE TABLE snk (a INT) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION fragile AS 'udfs.fragile' LANGUAGE PYTHON;
INSERT INTO snk SELECT fragile(a) FROM src;`, map[string]string{"udfs.py": udfs})
	if r.code == 0 {
		t.Fatalf("job succeeded; want a failure\nstderr:\n%s", r.stderr)
	}
	for _, want := range []string{"fragile", "ZeroDivisionError", "Traceback", "helper", "udfs.py", "input row: (3,)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error output lacks %q:\n%s", want, r.stderr)
		}
	}
	// Reported once, from the user's code down: not again by the harness's
	// log, nor chained to weir's first attempt at the row.
	for _, noise := range []string{"Error processing instruction", "During handling of the above exception", "_operations_fast.pyx"} {
		if strings.Contains(r.stderr, noise) {
			t.Errorf("error output contains %q:\n%s", noise, r.stderr)
		}
	}
	if r.elapsed > 30*time.Second {
		t.Errorf("failing took %s; want seconds", r.elapsed)
	}
	if ps := workerProcesses(); len(ps) > 0 {
		t.Errorf("worker processes left running: %v", ps)
	}
}

// TestSQLErrors checks the position of syntax and name errors.
func TestSQLErrors(t *testing.T) {
	cases := []struct {
		name, sql, want string
	}{
		{"syntax", "CREATE TABLE snk (a INT) WITH ('connector' = 'print');\nINSERT INTO snk SELECT a + FROM (VALUES (1)) AS t(a);", "line 2, column 28: expected an expression but found 'FROM'"},
		{"unknown function", "CREATE TABLE snk (a INT) WITH ('connector' = 'print');\nINSERT INTO snk\n  SELECT nosuch(a) FROM (VALUES (1)) AS t(a);", "line 3, column 10: unknown function nosuch"},
		{"unknown column", "CREATE TABLE snk (a INT) WITH ('connector' = 'print');\nINSERT INTO snk SELECT b FROM (VALUES (1)) AS t(a);", "line 2, column 24: unknown column b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := job(t, tc.sql, nil)
			if r.code == 0 {
				t.Fatalf("succeeded; want an error")
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tc.want)
			}
		})
	}
}
