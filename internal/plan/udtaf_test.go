package plan

import (
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/sql"
)

// udtafDescriber describes a table aggregate function of one argument
// yielding ROW<v BIGINT, r INT> besides the fake functions.
func udtafDescriber(paths []string) (map[string]FunctionInfo, map[string]error, error) {
	infos, errs, err := fakeDescriber(paths)
	for _, p := range paths {
		if p == "udfs.top2" {
			infos[p] = FunctionInfo{Kind: "table_aggregate", ResultTypes: []string{"ROW<`v` BIGINT, `r` INT>"}, Deterministic: true, MinArgs: 1, MaxArgs: 1}
			delete(errs, p)
		}
	}
	return infos, errs, err
}

func planUDTAF(t *testing.T, q string) (*Program, error) {
	t.Helper()
	stmts, err := sql.Parse(prelude + boundedTable + "CREATE TEMPORARY FUNCTION top2 AS 'udfs.top2' LANGUAGE PYTHON;\n" + q)
	if err != nil {
		return nil, err
	}
	return (&Planner{Describe: udtafDescriber, Settings: map[string]string{}}).Plan(stmts)
}

// TestUDTAFPlan: flat_aggregate's marker becomes the collection of the
// arguments per group and a table function over each group, whose columns
// follow the group keys.
func TestUDTAFPlan(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"SELECT c0 % 3 AS k, `$flat_aggregate`(top2(c1)) FROM g GROUP BY c0 % 3", []string{
			"$COLLECT(c1)",
			"PythonTableFunction[top2(1, 'null', $c0, $k0)]",
			"[connector=print] (k INT NOT NULL, v BIGINT, r INT)",
		}},
		{"SELECT s, `$flat_aggregate_row`(top2(c0, c1, s)) FROM g GROUP BY s", []string{
			"$COLLECT(c0), $COLLECT(c1), $COLLECT(s)",
			`top2(3, '["c0","c1","s"]'`,
			"[connector=print] (s STRING, v BIGINT, r INT)",
		}},
		{"SELECT `$flat_aggregate`(top2(c1)) FROM g WHERE c0 > 1", []string{
			"$COLLECT(c1)",
			"[connector=print] (v BIGINT, r INT)",
		}},
	} {
		prog, err := planUDTAF(t, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		got := render(prog)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: plan lacks %q:\n%s", tc.q, w, got)
			}
		}
	}
}

// TestUDTAFErrors: a table aggregate function outside flat_aggregate (Flink
// SQL has no syntax for it) and misuses of the marker are refused by name.
func TestUDTAFErrors(t *testing.T) {
	for q, want := range map[string]string{
		"SELECT top2(c1) FROM g":                                                      "top2 is a table aggregate function: Flink SQL has no syntax",
		"SELECT s FROM g GROUP BY s HAVING top2(c1) > 1":                              "top2 is a table aggregate function",
		"SELECT s, `$flat_aggregate`(top2(c1, c0)) FROM g GROUP BY s":                 "takes 1 argument(s) but got 2",
		"SELECT s, `$flat_aggregate`(top2(*)) FROM g GROUP BY s":                      "top2(*) is not allowed",
		"SELECT s, `$flat_aggregate`(inc(c1)) FROM g GROUP BY s":                      "flat_aggregate takes a table aggregate function",
		"SELECT c1 AS v, `$flat_aggregate`(top2(c1)) FROM g GROUP BY c1":              "two columns named v",
		"SELECT s, `$flat_aggregate`(top2(c1)) FROM g GROUP BY s HAVING COUNT(*) > 1": "HAVING with flat_aggregate",
		"SELECT s, `$flat_aggregate`(top2(SUM(c1))) FROM g GROUP BY s":                "aggregate calls cannot be nested",
		"SELECT `$flat_aggregate`(top2(c1)), `$flat_aggregate`(top2(c0)) FROM g":      "one flat_aggregate per query",
		"SELECT 1 + `$flat_aggregate`(top2(c1)) FROM g":                               "a table, not a value",
	} {
		_, err := planUDTAF(t, q)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", q, err, want)
		}
	}
}
