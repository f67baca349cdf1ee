package plan

import (
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/pyexec"
	"github.com/weir-dev/weir/internal/sql"
)

// udafDescriber describes two aggregate functions besides the fake scalar
// and table functions.
func udafDescriber(paths []string) (map[string]FunctionInfo, map[string]error, error) {
	infos, errs, err := fakeDescriber(paths)
	for _, p := range paths {
		switch p {
		case "udfs.wavg":
			infos[p] = FunctionInfo{Kind: "aggregate", ResultTypes: []string{"DOUBLE"}, Deterministic: true, MinArgs: 2, MaxArgs: 2}
		case "udfs.pmean":
			infos[p] = FunctionInfo{Kind: "aggregate", FuncType: "pandas", InputTypes: []string{"DOUBLE"}, ResultTypes: []string{"FLOAT"}, Deterministic: true, MinArgs: 1, MaxArgs: 1}
		default:
			continue
		}
		delete(errs, p)
	}
	return infos, errs, err
}

func planUDAF(t *testing.T, q string) (*Program, error) {
	t.Helper()
	stmts, err := sql.Parse(prelude + boundedTable + `
CREATE TEMPORARY FUNCTION wavg AS 'udfs.wavg' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION pmean AS 'udfs.pmean' LANGUAGE PYTHON;
` + q)
	if err != nil {
		return nil, err
	}
	return (&Planner{Describe: udafDescriber, Settings: map[string]string{}}).Plan(stmts)
}

// TestUDAFPlan: a Python aggregate call becomes $COLLECT_PACKED aggregates
// of its arguments (numbers packed in BYTES) (cast to declared input types) beside the built-ins, and one
// per-row Python call after the aggregation with the number of arguments,
// the collected arrays and the group keys; HAVING and ORDER BY use it too.
func TestUDAFPlan(t *testing.T) {
	prog, err := planUDAF(t, `SELECT c0 % 3 AS k, wavg(c0, c1), pmean(c1) FILTER (WHERE c1 > 0), COUNT(*) FROM g
		GROUP BY c0 % 3 HAVING wavg(c0, c1) > 1 ORDER BY wavg(c0, c1) DESC`)
	if err != nil {
		t.Fatal(err)
	}
	got := render(prog)
	for _, want := range []string{
		"HashAggregate: groupBy=[$key0] select=[$COLLECT_PACKED(c0), $COLLECT_PACKED(c1), $COLLECT_PACKED(CAST(c1 AS DOUBLE)) FILTER (WHERE (c1 > 0)), COUNT(*)]",
		"inputs: [#0=col1 BYTES NOT NULL, #1=col2 BYTES NOT NULL, #2=col0 INT NOT NULL, #3=col3 BYTES]",
		"f0: wavg = udfs.wavg -> DOUBLE",
		"f1: pmean = udfs.pmean -> FLOAT",
		"Sort: orderBy=[EXPR$1 DESC",
		"PythonCalc[wavg(2, $agg0, $agg1, $key0), pmean(1, $agg2, $key0)]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %q:\n%s", want, got)
		}
	}
	// One evaluator call per aggregate: equal calls in SELECT, HAVING and
	// ORDER BY are one.
	for _, st := range pythonStages(t, prog) {
		if st.Python.Spec.GetKind().String() != "SCALAR" {
			t.Errorf("aggregate evaluators run in a %s stage, want SCALAR (per group row)", st.Python.Spec.GetKind())
		}
		for _, f := range st.Python.Spec.GetFunctions() {
			if f.GetFuncType() != "" {
				t.Errorf("evaluator %s has func_type %q, want per-row", f.GetName(), f.GetFuncType())
			}
		}
	}
}

// TestUDAFErrors: misplaced or misused aggregate calls are refused with the
// position and what to do.
func TestUDAFErrors(t *testing.T) {
	for _, c := range []struct{ q, want string }{
		{"SELECT c0 FROM g WHERE wavg(c0, c1) > 1", "aggregate functions are not allowed in WHERE"},
		{"SELECT wavg(c0) FROM g", "aggregate function wavg takes 2 argument(s) but got 1"},
		{"SELECT pmean(c0, c1) FROM g", "function pmean expects 1 argument(s) but got 2"},
		{"SELECT wavg(DISTINCT c0, c1) FROM g", "DISTINCT in a Python aggregate function (wavg) is not supported"},
		{"SELECT wavg(SUM(c0), c1) FROM g", "aggregate calls cannot be nested"},
		{"SELECT c0 FROM g GROUP BY wavg(c0, c1)", "aggregate functions are not allowed in GROUP BY"},
		{"SELECT k FROM g, LATERAL TABLE(gen(wavg(c0, c1))) AS t(k)", "wavg is an aggregate function"},
	} {
		_, err := planUDAF(t, c.q)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want %q", c.q, err, c.want)
		}
	}
}

// TestUDAFStreaming: in streaming mode a Python aggregate runs in a keyed
// Python stage with its state in the engine, emitting a changelog, over
// bounded and unbounded input alike, with COUNT, SUM, AVG, MIN and MAX
// beside them in the same stage; a pandas aggregate, other built-ins
// (DISTINCT), FILTER and GROUPING SETS are refused with the way out.
func TestUDAFStreaming(t *testing.T) {
	for _, src := range []string{"g", "s"} {
		prog, err := planUDAF(t, "SET 'execution.runtime-mode' = 'streaming';\nSELECT c0 % 3 AS k, wavg(c0, c1) + 1 FROM "+src+" GROUP BY c0 % 3 HAVING wavg(c0, c1) > 2")
		if err != nil {
			t.Fatal(err)
		}
		j := prog.Jobs[0]
		got := j.Explain()
		if !strings.Contains(got, "PythonGroupAggregate[wavg(") || strings.Contains(got, "HashAggregate:") || strings.Contains(got, "$udaf$") || !j.Updating || !j.RowKinds {
			t.Errorf("streaming UDAF over %s: updating %v, kinds %v, plan:\n%s", src, j.Updating, j.RowKinds, got)
		}
		var keyed *pyexec.Stage
		for _, st := range j.Steps {
			if st.Python != nil && st.Python.Keyed != nil {
				keyed = st.Python
			}
		}
		if keyed == nil || len(keyed.Spec.GetOutputs()) != 1 || keyed.Keyed.RowKind != -1 || len(keyed.Keyed.Args) != 2 {
			t.Fatalf("streaming UDAF over %s: keyed stage %+v (the same call in SELECT and HAVING is computed once)", src, keyed)
		}
	}
	for q, want := range map[string]string{
		"SELECT c0 % 3, pmean(CAST(c1 AS DOUBLE)) FROM g GROUP BY c0 % 3":          "runs in batch mode only",
		"SELECT c0 % 3, wavg(c0, c1), COUNT(DISTINCT c1) FROM g GROUP BY c0 % 3":   "the built-in aggregate COUNT(DISTINCT",
		"SELECT c0 % 3, wavg(c0, c1) FILTER (WHERE c1 > 0) FROM g GROUP BY c0 % 3": "FILTER (WHERE ...) beside Python aggregate functions",
	} {
		_, err := planUDAF(t, "SET 'execution.runtime-mode' = 'streaming';\n"+q)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", q, err, want)
		}
	}
	prog, err := planUDAF(t, "SET 'execution.runtime-mode' = 'streaming';\nSELECT c0 % 3, wavg(c0, c1), COUNT(*), AVG(c1), MAX(c1) FROM g GROUP BY c0 % 3")
	if err != nil {
		t.Fatal(err)
	}
	if got := prog.Jobs[0].Explain(); !strings.Contains(got, "PythonGroupAggregate[COUNT(*), AVG(c1), MAX(c1), wavg(") || strings.Contains(got, "HashAggregate") {
		t.Errorf("mixed streaming aggregation, plan:\n%s", got)
	}
	// Over the updates of another GROUP BY, the stage reads the row kinds.
	prog, err = planUDAF(t, "SET 'execution.runtime-mode' = 'streaming';\nSELECT n, wavg(k, n) FROM (SELECT c0 % 5 AS k, COUNT(*) AS n FROM g GROUP BY c0 % 5) GROUP BY n")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range prog.Jobs[0].Steps {
		if st.Python != nil && st.Python.Keyed != nil && st.Python.Keyed.RowKind < 0 {
			t.Errorf("a keyed stage over updates ignores their row kinds")
		}
	}
}
