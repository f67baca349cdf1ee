package plan

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/sql"
	"github.com/weir-dev/weir/internal/types"
	"github.com/weir-dev/weir/internal/weirpb"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fakeFunctions are the Python functions the tests' scripts may declare, as
// `python -m weir.describe` would describe them.
var fakeFunctions = map[string]FunctionInfo{
	"udfs.inc":    {Kind: "scalar", ResultTypes: []string{"INT NOT NULL"}, Deterministic: true, MinArgs: 1, MaxArgs: 1},
	"udfs.dbl":    {Kind: "scalar", ResultTypes: []string{"INT NOT NULL"}, Deterministic: true, MinArgs: 1, MaxArgs: 1},
	"udfs.neg":    {Kind: "scalar", ResultTypes: []string{"INT"}, Deterministic: true, MinArgs: 1, MaxArgs: 1},
	"udfs.up":     {Kind: "scalar", ResultTypes: []string{"STRING"}, Deterministic: true, MinArgs: 1, MaxArgs: 1},
	"udfs.rnd":    {Kind: "scalar", ResultTypes: []string{"DOUBLE NOT NULL"}, Deterministic: false, MinArgs: 0, MaxArgs: 1},
	"udfs.any":    {Kind: "scalar", ResultTypes: []string{"STRING"}, Deterministic: true, MinArgs: 0, MaxArgs: -1},
	"udfs.typed":  {Kind: "scalar", InputTypes: []string{"BIGINT", "STRING"}, ResultTypes: []string{"STRING"}, Deterministic: true, MinArgs: 2, MaxArgs: 2},
	"udfs.arr":    {Kind: "scalar", InputTypes: []string{"ARRAY<BIGINT>"}, ResultTypes: []string{"BIGINT"}, Deterministic: true, MinArgs: 1, MaxArgs: 1},
	"udfs.arrnn":  {Kind: "scalar", InputTypes: []string{"ARRAY<INT NOT NULL> NOT NULL"}, ResultTypes: []string{"INT"}, Deterministic: true, MinArgs: 1, MaxArgs: 1},
	"udfs.mk":     {Kind: "scalar", ResultTypes: []string{"ARRAY<INT>"}, Deterministic: true, MinArgs: 1, MaxArgs: 1},
	"udfs.split":  {Kind: "table", ResultTypes: []string{"STRING", "INT"}, Deterministic: true, MinArgs: 1, MaxArgs: 2},
	"udfs.gen":    {Kind: "table", ResultTypes: []string{"INT NOT NULL"}, Deterministic: true, MinArgs: 1, MaxArgs: 1},
	"udfs.broken": {Kind: "scalar", ResultTypes: []string{"NO SUCH TYPE"}, Deterministic: true, MinArgs: 1, MaxArgs: 1},
}

func fakeDescriber(paths []string) (map[string]FunctionInfo, map[string]error, error) {
	infos := map[string]FunctionInfo{}
	errs := map[string]error{}
	for _, p := range paths {
		if fi, ok := fakeFunctions[p]; ok {
			infos[p] = fi
		} else {
			errs[p] = fmt.Errorf("module %q has no attribute", p)
		}
	}
	return infos, errs, nil
}

// prelude declares the tables and functions the test scripts use.
const prelude = `
CREATE TABLE s (c0 INT NOT NULL, c1 INT NOT NULL, s STRING, b BIGINT) WITH ('connector' = 'datagen');
CREATE TABLE out1 (a INT) WITH ('connector' = 'print');
CREATE TABLE out2 (a INT, b INT) WITH ('connector' = 'print');
CREATE TABLE out3 (a INT, b INT, c INT) WITH ('connector' = 'print');
CREATE TABLE outs (a STRING) WITH ('connector' = 'print');
CREATE TABLE outsi (a STRING, b INT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION inc AS 'udfs.inc' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION dbl AS 'udfs.dbl' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION neg AS 'udfs.neg' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION up AS 'udfs.up' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION rnd AS 'udfs.rnd' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION anyf AS 'udfs.any' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION typed AS 'udfs.typed' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION arr AS 'udfs.arr' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION mk AS 'udfs.mk' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION arrnn AS 'udfs.arrnn' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION split AS 'udfs.split' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION gen AS 'udfs.gen' LANGUAGE PYTHON;
`

// preludeLines is the number of lines prelude adds before a script.
var preludeLines = strings.Count(prelude, "\n")

func planScript(t *testing.T, script string) (*Program, error) {
	t.Helper()
	stmts, err := sql.Parse(prelude + script)
	if err != nil {
		return nil, err
	}
	return (&Planner{Describe: fakeDescriber, Settings: map[string]string{}}).Plan(stmts)
}

func mustPlan(t *testing.T, script string) *Program {
	t.Helper()
	prog, err := planScript(t, script)
	if err != nil {
		t.Fatalf("planning failed: %v\nscript:\n%s", err, script)
	}
	return prog
}

// render shows a program's jobs as `weir explain` does, followed by the
// exact contents of each Python stage.
func render(prog *Program) string {
	var b strings.Builder
	for i, j := range prog.Jobs {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(j.Explain())
		n := 0
		for _, st := range j.Steps {
			if st.Python == nil {
				continue
			}
			n++
			s := st.Python
			fmt.Fprintf(&b, "  stage %d: %s %s\n", n, s.Spec.GetKind(), s.Spec.GetName())
			ins := make([]string, len(s.Inputs))
			for k, c := range s.Inputs {
				ins[k] = fmt.Sprintf("#%d=col%d %s", k, c, s.InputTypes[k])
			}
			fmt.Fprintf(&b, "    inputs: [%s]\n", strings.Join(ins, ", "))
			fmt.Fprintf(&b, "    forward: %v\n", s.Forward)
			for k, f := range s.Spec.GetFunctions() {
				det := ""
				if !f.GetDeterministic() {
					det = " non-deterministic"
				}
				fmt.Fprintf(&b, "    f%d: %s = %s.%s -> %s%s\n", k, f.GetName(), f.GetModule(), f.GetAttr(), strings.Join(f.GetResultTypes(), ", "), det)
			}
			for k, o := range s.Spec.GetOutputs() {
				fmt.Fprintf(&b, "    out%d: %s\n", k, renderExpr(o))
			}
			if len(s.Spec.GetJobParameters()) > 0 {
				fmt.Fprintf(&b, "    job parameters: %v\n", s.Spec.GetJobParameters())
			}
			if s.LeftJoin {
				b.WriteString("    left join\n")
			}
		}
	}
	return b.String()
}

func renderExpr(e *weirpb.Expr) string {
	switch k := e.GetKind().(type) {
	case *weirpb.Expr_Column:
		return fmt.Sprintf("#%d", k.Column)
	case *weirpb.Expr_Constant:
		return fmt.Sprintf("const(%s 0x%s)", e.GetType(), hex.EncodeToString(k.Constant))
	case *weirpb.Expr_Call:
		args := make([]string, len(k.Call.GetArgs()))
		for i, a := range k.Call.GetArgs() {
			args[i] = renderExpr(a)
		}
		return fmt.Sprintf("f%d(%s) : %s", k.Call.GetFunction(), strings.Join(args, ", "), e.GetType())
	}
	return "?"
}

// goldenCases are scripts whose plans are compared with
// testdata/<name>.golden; run `go test ./internal/plan -update` to rewrite
// them after a deliberate change, and review the diff.
var goldenCases = []struct{ name, script string }{
	// Every Python call whose arguments need no other Python result goes to
	// one stage: a Go calc computes c0 * 2 before it, another adds 1 and
	// filters after it.
	{"one_stage", `INSERT INTO out2 SELECT inc(c0) + 1, inc(c0 * 2) FROM s WHERE inc(c1) > 5;`},
	// Nested Python calls fuse into the same stage.
	{"chained", `INSERT INTO out1 SELECT inc(dbl(inc(c0))) FROM s;`},
	// A Go expression over a Python result, fed to Python again: two stages.
	{"two_stages", `INSERT INTO out2 SELECT inc(dbl(c0) + 1), dbl(c0) FROM s;`},
	// Three stages: each call needs a Go calculation over the previous one.
	{"three_stages", `INSERT INTO out1 SELECT inc(dbl(inc(c0) * 2) - 1) FROM s;`},
	// Python calls among Go built-ins.
	{"mixed_builtins", `INSERT INTO outsi
  SELECT CONCAT(UPPER(up(s)), '-', SUBSTRING(up(s), 2, 3)) AS x,
         CASE WHEN inc(c0) > 10 AND NOT (neg(c1) IS NULL) THEN CHAR_LENGTH(up(s)) ELSE -inc(c0) END
  FROM s WHERE up(s) IS NOT NULL OR c0 = 1;`},
	// Equal deterministic calls are computed once; non-deterministic ones each time.
	{"dedup", `INSERT INTO out3 SELECT inc(c0) + inc(c0), inc(inc(c0)), CAST(rnd(c0) + rnd(c0) AS INT) FROM s WHERE inc(c0) > 0;`},
	// A filter without Python calls runs before the Python stage.
	{"filter_first", `INSERT INTO out1 SELECT inc(c0) FROM s WHERE c1 > 3 AND s IS NOT NULL;`},
	// A filter with a Python call and a projection without one.
	{"python_filter_only", `INSERT INTO out1 SELECT c0 FROM s WHERE inc(c1) = 2;`},
	// Constants of every type as arguments travel in the stage.
	{"constants", `INSERT INTO outs SELECT anyf(CAST(1 AS TINYINT), CAST(2 AS SMALLINT), 3, 4000000000, TRUE, CAST(1.5 AS FLOAT), 2.5E0,
    12.345, CAST(1 AS DECIMAL(38, 10)), CAST('ab' AS CHAR(3)), CAST('é' AS VARCHAR(4)), 'x''y', X'00ff', CAST(X'01' AS BINARY(2)),
    DATE '2020-02-29', TIME '12:34:56', TIME '12:34:56.789', TIMESTAMP '2020-01-01 00:00:00', TIMESTAMP '2020-01-01 00:00:00.123',
    TIMESTAMP '2020-01-01 00:00:00.123456', TIMESTAMP '2020-01-01 00:00:00.123456789', CAST(TIMESTAMP '1970-01-01 00:00:01' AS TIMESTAMP_LTZ(3)),
    NULL, CAST(NULL AS INT), ARRAY[1, NULL], MAP['k', ARRAY[CAST(1 AS BIGINT)]], ROW(1, 'a', ROW(TRUE)), c0) FROM s;`},
	// Declared input types: arguments are cast in Go before the stage.
	{"typed_args", `INSERT INTO outs SELECT typed(c0, s) FROM s;`},
	// A constant array converted to the declared element type.
	{"typed_array_constant", `INSERT INTO out1 SELECT CAST(arr(ARRAY[1, 2]) AS INT) FROM s;`},
	// A nested Python result passed on as it is: ARRAY<INT> is an
	// ARRAY<BIGINT> in Python, so the calls stay fused.
	{"nested_result_argument", `INSERT INTO out1 SELECT CAST(arr(mk(c0)) AS INT) FROM s;`},
	// An INT is a BIGINT in Python: typed(inc(c0), ...) stays in one stage.
	{"transparent_argument", `INSERT INTO outs SELECT typed(inc(c0), up(s)) FROM s;`},
	// Columns of the same name on both sides of a LATERAL join are different inputs.
	{"same_names", `INSERT INTO out3 SELECT neg(t.x), neg(u.x), neg(t.x) FROM (VALUES (1), (2)) AS t(x), LATERAL TABLE(gen(x)) AS u(x);`},
	// The three LATERAL TABLE forms.
	{"lateral_comma", `INSERT INTO outsi SELECT w, n FROM s, LATERAL TABLE(split(s)) AS T(w, n);`},
	{"lateral_cross", `INSERT INTO outsi SELECT up(w), inc(n) FROM s CROSS JOIN LATERAL TABLE(split(s, c0)) AS T(w, n) WHERE n > c1;`},
	{"lateral_left", `INSERT INTO outsi SELECT w, n FROM s LEFT JOIN LATERAL TABLE(split(up(s))) AS T(w, n) ON TRUE;`},
	// A Go expression over a Python call as an argument: a scalar stage first.
	{"lateral_python_in_go_argument", `INSERT INTO outsi SELECT w, n FROM s, LATERAL TABLE(split(UPPER(up(s)) || 'x', inc(c0))) AS T(w, n);`},
	{"lateral_go_argument", `INSERT INTO out2 SELECT c0, v FROM s, LATERAL TABLE(gen(c0 * 2 + c1)) AS T(v);`},
	// VALUES literals keep their precision.
	{"values_types", `CREATE TABLE tv (a TIMESTAMP(9), b TIME(3), c DECIMAL(5, 2), d CHAR(3)) WITH ('connector' = 'print');
INSERT INTO tv SELECT a, b, c, d FROM (VALUES (TIMESTAMP '2020-01-01 00:00:00.123456789', TIME '01:02:03.004', 1.25, CAST('a' AS CHAR(3))),
  (TIMESTAMP '2020-01-01 00:00:00', TIME '01:02:03', CAST(NULL AS DECIMAL(5, 2)), CAST(NULL AS CHAR(3)))) AS t(a, b, c, d);`},
	// Job parameters reach every stage.
	{"job_parameters", `SET 'pipeline.global-job-parameters' = 'k1:v1, k2 : v:2';
INSERT INTO out1 SELECT inc(c0) FROM s;`},
}

func TestGoldenPlans(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got := "-- " + strings.ReplaceAll(strings.TrimSpace(tc.script), "\n", "\n-- ") + "\n" + render(mustPlan(t, tc.script))
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/plan -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("plan differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// pythonStages returns the Python stages of the program's only job.
func pythonStages(t *testing.T, prog *Program) []*Step {
	t.Helper()
	if len(prog.Jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(prog.Jobs))
	}
	var out []*Step
	for i := range prog.Jobs[0].Steps {
		if prog.Jobs[0].Steps[i].Python != nil {
			out = append(out, &prog.Jobs[0].Steps[i])
		}
	}
	return out
}

// countCalls counts the calls of each function in a stage's outputs.
func countCalls(st *weirpb.Stage) map[string]int {
	n := map[string]int{}
	var visit func(e *weirpb.Expr)
	visit = func(e *weirpb.Expr) {
		if c := e.GetCall(); c != nil {
			n[st.GetFunctions()[c.GetFunction()].GetName()]++
			for _, a := range c.GetArgs() {
				visit(a)
			}
		}
	}
	for _, o := range st.GetOutputs() {
		visit(o)
	}
	return n
}

func TestSplitting(t *testing.T) {
	cases := []struct {
		name   string
		script string
		stages int
		calls  []map[string]int // per stage: calls of each function in its outputs
		calcs  int              // Go calcs
	}{
		{"brief example", `INSERT INTO out2 SELECT inc(c0) + 1, inc(c0 * 2) FROM s WHERE inc(c1) > 5;`, 1, []map[string]int{{"inc": 3}}, 2},
		{"no python", `INSERT INTO out2 SELECT c0 + 1, c1 FROM s WHERE c0 > 1;`, 0, nil, 1},
		{"identity projection needs no calc", `INSERT INTO out1 SELECT inc(c0) FROM s;`, 1, []map[string]int{{"inc": 1}}, 1},
		{"f(g(h(x))) one stage", `INSERT INTO out1 SELECT inc(dbl(inc(c0))) FROM s;`, 1, []map[string]int{{"inc": 2, "dbl": 1}}, 1},
		{"go between python calls", `INSERT INTO out1 SELECT inc(dbl(c0) + 1) FROM s;`, 2, []map[string]int{{"dbl": 1}, {"inc": 1}}, 2},
		{"same call twice once", `INSERT INTO out2 SELECT inc(c0), inc(c0) * 2 FROM s;`, 1, []map[string]int{{"inc": 1}}, 1},
		{"same call in select and where once", `INSERT INTO out1 SELECT inc(c0) FROM s WHERE inc(c0) > 2;`, 1, []map[string]int{{"inc": 1}}, 1},
		{"same call by another case once", `INSERT INTO out1 SELECT inc(C0) + inc(s.c0) FROM s;`, 1, []map[string]int{{"inc": 1}}, 1},
		{"different arguments twice", `INSERT INTO out2 SELECT inc(c0), inc(c1) FROM s;`, 1, []map[string]int{{"inc": 2}}, 1},
		{"non-deterministic twice", `INSERT INTO out2 SELECT CAST(rnd(c0) AS INT), CAST(rnd(c0) AS INT) FROM s;`, 1, []map[string]int{{"rnd": 2}}, 1},
		{"deterministic over non-deterministic twice", `INSERT INTO out2 SELECT CAST(inc(CAST(rnd(c0) AS INT)) AS INT), CAST(inc(CAST(rnd(c0) AS INT)) AS INT) FROM s;`, 2, []map[string]int{{"rnd": 2}, {"inc": 2}}, 2},
		{"deterministic over non-deterministic fused twice", `INSERT INTO out2 SELECT dbl(anyf(rnd())), dbl(anyf(rnd())) FROM s;`, 1, []map[string]int{{"dbl": 2, "anyf": 2, "rnd": 2}}, 1},
		{"non-deterministic in where and select", `INSERT INTO out1 SELECT CAST(rnd() AS INT) FROM s WHERE rnd() > 0.5;`, 1, []map[string]int{{"rnd": 2}}, 1},
		{"python inside a lateral argument", `INSERT INTO outsi SELECT w, n FROM s, LATERAL TABLE(split(UPPER(up(s)), dbl(c0))) AS T(w, n);`, 2, []map[string]int{{"up": 1}, {"split": 1, "dbl": 1}}, 2},
		{"nullability of a nested argument needs no cast", `INSERT INTO out1 SELECT arrnn(mk(c0)) FROM s;`, 1, []map[string]int{{"arrnn": 1, "mk": 1}}, 1},
		{"lateral then scalar", `INSERT INTO outsi SELECT up(w), inc(n) FROM s, LATERAL TABLE(split(s)) AS T(w, n);`, 2, []map[string]int{{"split": 1}, {"up": 1, "inc": 1}}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prog := mustPlan(t, tc.script)
			stages := pythonStages(t, prog)
			if len(stages) != tc.stages {
				t.Fatalf("%d Python stages, want %d:\n%s", len(stages), tc.stages, render(prog))
			}
			for i, st := range stages {
				got := countCalls(st.Python.Spec)
				if fmt.Sprint(got) != fmt.Sprint(tc.calls[i]) {
					t.Errorf("stage %d calls %v, want %v:\n%s", i+1, got, tc.calls[i], render(prog))
				}
			}
			calcs := len(prog.Jobs[0].Steps) - len(stages)
			if calcs != tc.calcs {
				t.Errorf("%d Go calcs, want %d:\n%s", calcs, tc.calcs, render(prog))
			}
		})
	}
}

// TestErrors checks planning errors: their text and their position in the
// script (lines counted from the script, after the prelude).
func TestErrors(t *testing.T) {
	cases := []struct {
		name, script string
		line, col    int
		want         string
	}{
		{"too many arguments", "INSERT INTO out1\n  SELECT inc(c0, c1) FROM s;", 2, 10,
			"function inc takes 1 argument(s) but got 2 (INT NOT NULL, INT NOT NULL)"},
		{"too few arguments", "INSERT INTO out1 SELECT inc() FROM s;", 1, 25, "function inc takes 1 argument(s) but got 0 ()"},
		{"range of arguments", "INSERT INTO outs SELECT CAST(rnd(1, 2) AS STRING) FROM s;", 1, 30, "function rnd takes 0 to 1 argument(s) but got 2 (INT NOT NULL, INT NOT NULL)"},
		{"typed wrong count", "INSERT INTO outs SELECT typed(c0) FROM s;", 1, 25,
			"function typed expects 2 argument(s) (BIGINT, STRING) but got 1 (INT NOT NULL)"},
		{"typed wrong type", "INSERT INTO outs SELECT typed(c0, TRUE) FROM s;", 1, 35,
			"function typed expects argument 2 of type STRING but got BOOLEAN NOT NULL (arguments: INT NOT NULL, BOOLEAN NOT NULL)"},
		{"typed wrong type first", "INSERT INTO outs\nSELECT typed(s, s) FROM s;", 2, 14,
			"function typed expects argument 1 of type BIGINT but got STRING (arguments: STRING, STRING)"},
		{"array element type", "INSERT INTO out1 SELECT CAST(arr(ARRAY['a']) AS INT) FROM s;", 1, 34,
			"function arr expects argument 1 of type ARRAY<BIGINT> but got ARRAY<CHAR(1) NOT NULL> NOT NULL"},
		{"table function arguments", "INSERT INTO outsi SELECT w, n FROM s, LATERAL TABLE(split()) AS T(w, n);", 1, 53,
			"function split takes 1 to 2 argument(s) but got 0 ()"},
		{"table function in select", "INSERT INTO outs SELECT split(s) FROM s;", 1, 25,
			"split is a table function; call it in FROM with LATERAL TABLE(split(...))"},
		{"scalar function in lateral", "INSERT INTO outsi SELECT s, c0 FROM s, LATERAL TABLE(up(s)) AS T(w);", 1, 54,
			"up is a scalar function; LATERAL TABLE(...) needs a table function declared with @udtf"},
		{"lateral names", "INSERT INTO outsi SELECT w, n FROM s, LATERAL TABLE(split(s)) AS T(w, n, z);", 1, 39,
			"table function split returns 2 column(s) but AS T(...) names 3"},
		{"left join without on", "INSERT INTO outsi SELECT w, n FROM s LEFT JOIN LATERAL TABLE(split(s)) AS T(w, n);", 1, 82,
			"expected ON after JOIN LATERAL TABLE(...) (write ON TRUE to join each row with every row of the function) but found ';'"},
		{"on other than true", "INSERT INTO outsi SELECT w, n FROM s LEFT JOIN LATERAL TABLE(split(s)) AS T(w, n) ON n > 1;", 1, 86,
			"a join with LATERAL TABLE supports only ON TRUE"},
		{"unknown function", "INSERT INTO out1 SELECT nosuch(c0) FROM s;", 1, 25, "unknown function nosuch"},
		{"unknown python attribute", "CREATE TEMPORARY FUNCTION nope AS 'udfs.nope' LANGUAGE PYTHON;", 1, 35,
			"cannot load Python function nope = 'udfs.nope'"},
		{"bad declared type", "CREATE TEMPORARY FUNCTION broken AS 'udfs.broken' LANGUAGE PYTHON;", 1, 37,
			"function broken declares result type \"NO SUCH TYPE\""},
		{"result type to sink", "INSERT INTO out1 SELECT up(s) FROM s;", 1, 25,
			"INSERT INTO out1: column 1 (up(s)) is STRING, which cannot be stored in a INT"},
		{"array in go", "INSERT INTO out1 SELECT CAST(ARRAY_SORT(ARRAY[1]) AS INT) FROM s;", 1, 30, "unknown function ARRAY_SORT"},
		{"empty array", "INSERT INTO outs SELECT anyf(ARRAY[]) FROM s;", 1, 36, "expected an expression but found ']'"},
		{"null array", "INSERT INTO outs SELECT anyf(ARRAY[NULL]) FROM s;", 1, 30, "ARRAY[...] of only NULLs has no element type"},
		{"odd map", "INSERT INTO outs SELECT anyf(MAP['a', 1, 'b']) FROM s;", 1, 30, "MAP[...] needs keys and values in pairs"},
		{"null map key", "INSERT INTO outs SELECT anyf(MAP[NULL, 1]) FROM s;", 1, 34, "MAP[...]: a key may not be NULL"},
		{"mixed array", "INSERT INTO outs SELECT anyf(ARRAY[1, 'a']) FROM s;", 1, 30, "ARRAY[...]: elements have incompatible types: branches have incompatible types INT NOT NULL and CHAR(1) NOT NULL"},
		{"timestamp out of nanosecond range", "INSERT INTO outs SELECT anyf(TIMESTAMP '2300-01-01 00:00:00.000000001') FROM s;", 1, 30,
			"TIMESTAMP '2300-01-01 00:00:00.000000001' is outside the range of a timestamp with nanoseconds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := planScript(t, tc.script)
			if err == nil {
				t.Fatalf("planned; want an error containing %q", tc.want)
			}
			se, ok := err.(*sql.Error)
			if !ok {
				t.Fatalf("error %v (%T) is not a *sql.Error with a position", err, err)
			}
			if got := (sql.Pos{Line: se.Pos.Line - preludeLines, Col: se.Pos.Col}); got != (sql.Pos{Line: tc.line, Col: tc.col}) {
				t.Errorf("error at %s of the script, want line %d, column %d: %v", got, tc.line, tc.col, err)
			}
			if !strings.Contains(se.Msg, tc.want) {
				t.Errorf("error %q does not contain %q", se.Msg, tc.want)
			}
		})
	}
}

// TestLiterals checks the types and values of typed literals.
func TestLiterals(t *testing.T) {
	cases := []struct {
		text  string
		t     string
		value string
	}{
		{"TIME '12:34:56'", "TIME(0) NOT NULL", "45296000"},
		{"TIME '12:34:56.789'", "TIME(3) NOT NULL", "45296789"},
		{"TIME '12:34'", "TIME(0) NOT NULL", "45240000"},
		{"TIMESTAMP '2020-01-01 00:00:00'", "TIMESTAMP(0) NOT NULL", "1577836800000"},
		{"TIMESTAMP '2020-01-01 00:00:00.5'", "TIMESTAMP(1) NOT NULL", "1577836800500"},
		{"TIMESTAMP '2020-01-01 00:00:00.123'", "TIMESTAMP(3) NOT NULL", "1577836800123"},
		{"TIMESTAMP '2020-01-01 00:00:00.1234'", "TIMESTAMP(4) NOT NULL", "1577836800123400"},
		{"TIMESTAMP '2020-01-01 00:00:00.123456'", "TIMESTAMP(6) NOT NULL", "1577836800123456"},
		{"TIMESTAMP '2020-01-01 00:00:00.123456789'", "TIMESTAMP(9) NOT NULL", "1577836800123456789"},
		{"TIMESTAMP '1969-12-31 23:59:59.999999999'", "TIMESTAMP(9) NOT NULL", "-1"},
		{"TIMESTAMP '2020-01-01'", "TIMESTAMP(0) NOT NULL", "1577836800000"},
		{"TIMESTAMP_LTZ '1970-01-01 00:00:01.5'", "TIMESTAMP_LTZ(1) NOT NULL", "1500"},
		// DECIMAL literals as Calcite types them for Flink: every digit
		// written counts; 5. is an integer.
		{"922337203685477580.7", "DECIMAL(19, 1) NOT NULL", ""},
		{"0.05", "DECIMAL(3, 2) NOT NULL", ""},
		{"007.50", "DECIMAL(5, 2) NOT NULL", ""},
		{".5", "DECIMAL(1, 1) NOT NULL", ""},
		{"5.", "INT NOT NULL", "5"},
		{"2147483648", "BIGINT NOT NULL", "2147483648"},
		{"-2147483648", "INT NOT NULL", "-2147483648"},
		{"-9223372036854775808", "BIGINT NOT NULL", "-9223372036854775808"},
		{"-922337203685477580.8", "DECIMAL(19, 1) NOT NULL", ""},
		{"-0.05", "DECIMAL(3, 2) NOT NULL", ""},
	}
	for _, tc := range cases {
		x, err := sql.ParseExpr(tc.text)
		if err != nil {
			t.Fatalf("%s: %v", tc.text, err)
		}
		e, err := (&binder{cat: &catalog{}}).bind(x)
		if err != nil {
			t.Fatalf("%s: %v", tc.text, err)
		}
		lit, ok := e.(*expr.Literal)
		if !ok {
			t.Fatalf("%s: bound to %T", tc.text, e)
		}
		if lit.T.String() != tc.t {
			t.Errorf("%s: type %s, want %s", tc.text, lit.T, tc.t)
		}
		if got := fmt.Sprint(lit.Value); tc.value != "" && got != tc.value {
			t.Errorf("%s: value %s, want %s", tc.text, got, tc.value)
		}
	}
}

// TestNestedConstants checks the folded values of value constructors.
func TestNestedConstants(t *testing.T) {
	cases := []struct{ text, t, value string }{
		{"ARRAY[1, 2]", "ARRAY<INT NOT NULL> NOT NULL", "[1 2]"},
		{"ARRAY[1, NULL, 3]", "ARRAY<INT> NOT NULL", "[1 <nil> 3]"},
		{"ARRAY[1, CAST(2 AS BIGINT)]", "ARRAY<BIGINT NOT NULL> NOT NULL", "[1 2]"},
		{"ARRAY['a', 'bc']", "ARRAY<VARCHAR(2) NOT NULL> NOT NULL", "[a bc]"},
		{"ARRAY[ARRAY[1], ARRAY[CAST(NULL AS INT)]]", "ARRAY<ARRAY<INT> NOT NULL> NOT NULL", "[[1] [<nil>]]"},
		{"MAP['a', 1, 'b', NULL]", "MAP<CHAR(1) NOT NULL, INT> NOT NULL", "[[a 1] [b <nil>]]"},
		{"ROW(1, 'a', ARRAY[TRUE])", "ROW<`EXPR$0` INT NOT NULL, `EXPR$1` CHAR(1) NOT NULL, `EXPR$2` ARRAY<BOOLEAN NOT NULL> NOT NULL> NOT NULL", "[1 a [true]]"},
		{"CAST(ARRAY[1, 2] AS ARRAY<DECIMAL(5, 1)>)", "ARRAY<DECIMAL(5, 1)> NOT NULL", "[{10 0} {20 0}]"},
		{"CAST(MAP[1, 'x'] AS MAP<BIGINT, STRING>)", "MAP<BIGINT, STRING> NOT NULL", "[[1 x]]"},
		{"CAST(NULL AS ARRAY<INT>)", "ARRAY<INT>", "<nil>"},
	}
	for _, tc := range cases {
		x, err := sql.ParseExpr(tc.text)
		if err != nil {
			t.Fatalf("%s: %v", tc.text, err)
		}
		e, err := (&binder{cat: &catalog{functions: map[string]*expr.PyFunc{}}}).bind(x)
		if err != nil {
			t.Fatalf("%s: %v", tc.text, err)
		}
		if e.Type().String() != tc.t {
			t.Errorf("%s: type %s, want %s", tc.text, e.Type(), tc.t)
		}
		v, err := fold(e)
		if err != nil {
			t.Fatalf("%s: fold: %v", tc.text, err)
		}
		if got := fmt.Sprint(v); got != tc.value {
			t.Errorf("%s: value %s, want %s", tc.text, got, tc.value)
		}
	}
	// A cast that cannot hold a value fails with the value's position.
	x, _ := sql.ParseExpr("CAST(ARRAY[NULL, 1] AS ARRAY<INT NOT NULL>)")
	e, err := (&binder{cat: &catalog{}}).bind(x)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fold(e); err == nil || !strings.Contains(err.Error(), "element 1: NULL in NOT NULL INT NOT NULL") {
		t.Errorf("fold = %v, want an error about the NULL element", err)
	}
}

// TestCommonTypes checks the types VALUES columns and CASE branches widen to.
func TestCommonTypes(t *testing.T) {
	cases := []struct {
		values string
		want   string
	}{
		{"(1), (2)", "INT NOT NULL"},
		{"(1), (NULL)", "INT"},
		{"(1), (CAST(2 AS BIGINT))", "BIGINT NOT NULL"},
		{"(CAST(1 AS DECIMAL(5, 2))), (CAST(NULL AS DECIMAL(5, 2)))", "DECIMAL(5, 2)"},
		{"(CAST('a' AS CHAR(3))), (CAST('b' AS CHAR(3)))", "CHAR(3) NOT NULL"},
		{"(CAST('a' AS CHAR(3))), ('bcd')", "CHAR(3) NOT NULL"},
		{"(X'00'), (CAST(X'01' AS BINARY(1)))", "BYTES NOT NULL"},
		{"(TIMESTAMP '2020-01-01 00:00:00'), (TIMESTAMP '2020-01-01 00:00:00.123')", "TIMESTAMP(3) NOT NULL"},
		{"(NULL), (NULL)", "STRING"},
		{"(1.25), (CAST(NULL AS DECIMAL(5, 2)))", "DECIMAL(5, 2)"},
		{"(1.5), (100.25)", "DECIMAL(5, 2) NOT NULL"},
		{"(1.5), (100)", "DECIMAL(11, 1) NOT NULL"},
		{"(1.5), (1.5E0)", "DOUBLE NOT NULL"},
	}
	for _, tc := range cases {
		prog := mustPlan(t, "CREATE TABLE tv (a STRING) WITH ('connector' = 'blackhole');\nINSERT INTO tv SELECT CAST(a AS STRING) FROM (VALUES "+tc.values+") AS t(a);")
		if got := prog.Jobs[0].Source.Schema[0].Type.String(); got != tc.want {
			t.Errorf("VALUES %s: column type %s, want %s", tc.values, got, tc.want)
		}
	}
}

// TestExplainNames: every column of a plan has its own name, so the calcs
// of an explained plan can be read unambiguously.
func TestExplainNames(t *testing.T) {
	prog := mustPlan(t, `INSERT INTO out3 SELECT inc(dbl(c0) + 1), dbl(c0), inc(dbl(c1) * 2) FROM s;`)
	for _, st := range prog.Jobs[0].Steps {
		var schema types.Schema
		if st.Python != nil {
			schema = st.Python.Output
		} else {
			schema = st.Calc.Schema
		}
		seen := map[string]bool{}
		for _, f := range schema {
			if seen[f.Name] {
				t.Errorf("column name %s appears twice in %s:\n%s", f.Name, schemaString(schema), render(prog))
			}
			seen[f.Name] = true
		}
	}
}
