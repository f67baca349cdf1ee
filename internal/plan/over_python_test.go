package plan

import (
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/sql"
)

// overUDAFs describes a pandas aggregate function of two arguments, one with
// a declared input type, and a general one, beside the fake functions.
func overUDAFs(paths []string) (map[string]FunctionInfo, map[string]error, error) {
	infos, errs, err := fakeDescriber(paths)
	for _, p := range paths {
		switch p {
		case "udfs.pwavg":
			infos[p] = FunctionInfo{Kind: "aggregate", FuncType: "pandas", ResultTypes: []string{"DOUBLE"}, Deterministic: true, MinArgs: 2, MaxArgs: 2}
		case "udfs.pmean":
			infos[p] = FunctionInfo{Kind: "aggregate", FuncType: "pandas", InputTypes: []string{"DOUBLE"}, ResultTypes: []string{"FLOAT"}, Deterministic: true, MinArgs: 1, MaxArgs: 1}
		case "udfs.gcount":
			infos[p] = FunctionInfo{Kind: "aggregate", ResultTypes: []string{"BIGINT"}, Deterministic: true, MinArgs: 1, MaxArgs: 1}
		default:
			continue
		}
		delete(errs, p)
	}
	return infos, errs, err
}

func planOverUDAF(t *testing.T, q string) (*Program, error) {
	t.Helper()
	stmts, err := sql.Parse(prelude + boundedTable + `
CREATE TEMPORARY FUNCTION pwavg AS 'udfs.pwavg' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION pmean AS 'udfs.pmean' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION gcount AS 'udfs.gcount' LANGUAGE PYTHON;
` + q)
	if err != nil {
		return nil, err
	}
	return (&Planner{Describe: overUDAFs, Settings: map[string]string{"execution.runtime-mode": "batch"}}).Plan(stmts)
}

// TestOverUDAFPlan: a window with pandas aggregate calls is the over
// operator (built-ins computed there), one scalar Python stage calling
// each function's over-window evaluator (weir._over_aggregate,
// module:attr) with the argument lists (cast to declared input types),
// runs, positions and partition keys, forwarding the rows and runs, and
// the Unpack; a window without them stays one operator.
func TestOverUDAFPlan(t *testing.T) {
	prog, err := planOverUDAF(t, `SELECT c0, pwavg(c0, c1) OVER w, SUM(c1) OVER w, pmean(c1) OVER w,
		COUNT(*) OVER (ORDER BY c0) FROM g WINDOW w AS (PARTITION BY s ORDER BY c0 ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)`)
	if err != nil {
		t.Fatal(err)
	}
	got := render(prog)
	for _, want := range []string{
		"OverAggregate: partitionBy=[s] orderBy=[c0 ASC NULLS FIRST] select=[pwavg(c0, c1), SUM(c1), pmean(CAST(c1 AS DOUBLE))]",
		"PythonCalc: PythonOverAggregate[pwavg(c0, c1), pmean(CAST(c1 AS DOUBLE))]",
		"OverAggregate (Python results): select=[pwavg(c0, c1), pmean(CAST(c1 AS DOUBLE))]",
		"OverAggregate: partitionBy=[] orderBy=[c0 ASC NULLS FIRST] select=[COUNT(*)]",
		"f0: pwavg = weir._over_aggregate.udfs:pwavg -> ARRAY<DOUBLE> NOT NULL",
		"f1: pmean = weir._over_aggregate.udfs:pmean -> ARRAY<FLOAT> NOT NULL",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "stage "); n != 1 {
		t.Errorf("%d Python stages, want 1:\n%s", n, got)
	}
}

// TestOverUDAFErrors: what weir (and PyFlink) cannot run over a window is
// refused at the call, naming the function and the way out.
func TestOverUDAFErrors(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"SELECT gcount(c0) OVER (ORDER BY c0) FROM g", `gcount is a general aggregate function: over windows (OVER) run only vectorized ones, as in PyFlink 2.3; declare it with @udaf(result_type=..., func_type="pandas")`},
		{"SELECT pwavg(c0) OVER (ORDER BY c0) FROM g", "aggregate function pwavg takes 2 argument(s) but got 1"},
		{"SELECT pmean(c0, c1) OVER (ORDER BY c0) FROM g", "function pmean expects 1 argument(s) but got 2"},
		{"SELECT pmean(DISTINCT c0) OVER (ORDER BY c0) FROM g", "DISTINCT and FILTER are not supported in Python aggregate functions over windows (pmean)"},
		{"SELECT pmean(c0) OVER (ORDER BY c0 ROWS BETWEEN 1 FOLLOWING AND CURRENT ROW) FROM g", "after its end"},
	} {
		_, err := planOverUDAF(t, tc.query)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.query, err, tc.want)
		}
	}
}
