package plan

import (
	"strings"
	"testing"
)

// TestWindowPlan checks the operators of OVER windows: one per distinct
// window, the Top-N pattern planned as WindowTopN, and named windows.
func TestWindowPlan(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"SELECT c0, ROW_NUMBER() OVER (PARTITION BY s ORDER BY c1 DESC), SUM(c1) OVER (PARTITION BY s ORDER BY c1 DESC), COUNT(*) OVER () FROM g",
			[]string{"OverAggregate: partitionBy=[s] orderBy=[c1 DESC NULLS LAST] select=[ROW_NUMBER(), SUM(c1)]", "OverAggregate: partitionBy=[] orderBy=[] select=[COUNT(*)]"}},
		{"SELECT * FROM (SELECT c0, s, ROW_NUMBER() OVER (PARTITION BY s ORDER BY c0 DESC) AS rn FROM g) AS q WHERE rn <= 3",
			[]string{"WindowTopN: partitionBy=[s] orderBy=[c0 DESC NULLS LAST] select=[ROW_NUMBER()] rankEnd=3"}},
		{"SELECT * FROM (SELECT c0, RANK() OVER (ORDER BY c0) AS r FROM g) AS q WHERE 2 > r",
			[]string{"OverAggregate: partitionBy=[] orderBy=[c0 ASC NULLS FIRST] select=[RANK()] rankEnd=1"}},
		{"SELECT c0, SUM(c1) OVER w, MAX(c1) OVER (w ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM g WINDOW w AS (PARTITION BY s ORDER BY c0)",
			[]string{"OverAggregate: partitionBy=[s] orderBy=[c0 ASC NULLS FIRST] select=[SUM(c1), MAX(c1)]"}},
		{"SELECT c0 % 2, s, COUNT(*), GROUPING(s) FROM g GROUP BY ROLLUP (c0 % 2, s)",
			[]string{"Expand: groupingSets=[[$key0 s] [$key0] []]", "HashAggregate: groupBy=[$key0, s, $gid, $set]"}},
	} {
		got := mustPlan(t, boundedTable+tc.query).Jobs[0].Explain()
		for _, want := range tc.want {
			if !strings.Contains(got, want) {
				t.Errorf("%s: plan lacks %q:\n%s", tc.query, want, got)
			}
		}
	}
}

// TestWindowErrors checks that windows weir cannot run, or that Flink
// rejects, fail at the right place with a message that says why.
func TestWindowErrors(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"SELECT c0 FROM g WHERE ROW_NUMBER() OVER (ORDER BY c0) = 1", "window functions (OVER) are not allowed in WHERE"},
		{"SELECT RANK() OVER (PARTITION BY s) FROM g", "RANK needs ORDER BY in its window"},
		{"SELECT SUM(c1) OVER w2 FROM g WINDOW w AS (ORDER BY c0)", "unknown window w2"},
		{"SELECT SUM(c1) OVER (ORDER BY c0, c1 RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM g", "needs exactly one numeric ORDER BY key"},
		{"SELECT SUM(c1) OVER (ORDER BY c0 ROWS BETWEEN 1 FOLLOWING AND CURRENT ROW) FROM g", "after its end"},
		{"SELECT VAR_POP(c0) OVER (ORDER BY c0) FROM g", "VAR_POP is not supported as a window function"},
		{"SELECT NTILE(0) OVER (ORDER BY c0) FROM g", "positive bucket count"},
		{"SELECT COLLECT(c0) FROM g", "COLLECT returns a MULTISET"},
		{"SELECT GROUPING(s) FROM g GROUP BY ROLLUP (c0)", "must be a grouped expression"},
	} {
		_, err := planScript(t, boundedTable+tc.query)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.query, err, tc.want)
		}
	}
}
