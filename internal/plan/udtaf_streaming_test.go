package plan

import (
	"strings"
	"testing"
)

// TestUDTAFStreamingPlan: in streaming mode flat_aggregate becomes a keyed
// stage of the table aggregate function, over unbounded input (s never
// ends) and over updates, whose output is the keys, the function's columns
// and the row kind; the batch plan's collection and table function are gone.
func TestUDTAFStreamingPlan(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"SELECT c0 % 3 AS k, `$flat_aggregate`(top2(c1)) FROM s GROUP BY c0 % 3", []string{
			"PythonGroupTableAggregate[top2(c1)]",
			"-> ($key0 INT NOT NULL, $udtaf0 BIGINT, $udtaf1 INT, $row_kind TINYINT NOT NULL)",
			"weir.keyed.retracting:false",
			"[connector=print] (k INT NOT NULL, v BIGINT, r INT)",
		}},
		{"SELECT s, `$flat_aggregate_row`(top2(c0, c1, s)) FROM g GROUP BY s", []string{
			"PythonGroupTableAggregate[top2(c0, c1, s)]",
			"[connector=print] (s STRING, v BIGINT, r INT)",
		}},
		{"SELECT `$flat_aggregate`(top2(c1)) FROM s WHERE c0 > 1", []string{
			"PythonGroupTableAggregate[top2(c1)]",
			"[connector=print] (v BIGINT, r INT)",
		}},
		{"SELECT n, `$flat_aggregate`(top2(m)) FROM (SELECT c0 % 2 AS n, COUNT(*) AS m FROM s GROUP BY c0 % 2) GROUP BY n", []string{
			"GroupAggregate",
			"PythonGroupTableAggregate[top2(m)]",
			"[connector=print] (n INT NOT NULL, v BIGINT, r INT)",
		}},
	} {
		prog, err := planUDTAF(t, "SET 'execution.runtime-mode' = 'streaming';\n"+tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		got := render(prog)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: plan lacks %q:\n%s", tc.q, w, got)
			}
		}
		for _, bad := range []string{"$COLLECT", "PythonTableFunction"} {
			if strings.Contains(got, bad) {
				t.Errorf("%s: streaming plan holds %s:\n%s", tc.q, bad, got)
			}
		}
	}
}
