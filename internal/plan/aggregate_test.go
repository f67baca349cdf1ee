package plan

import (
	"strings"
	"testing"
)

const boundedTable = "CREATE TABLE g (c0 INT NOT NULL, c1 INT, s STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '100');\n"

// TestAggregatePlan checks the operators of a query that uses every clause,
// with a Python call inside an aggregate's argument.
func TestAggregatePlan(t *testing.T) {
	prog := mustPlan(t, boundedTable+`SELECT c0 % 3 AS m, SUM(inc(c1)) AS total, COUNT(*) FROM g WHERE s IS NOT NULL
		GROUP BY c0 % 3 HAVING COUNT(*) > 1 ORDER BY total DESC, 1 LIMIT 5 OFFSET 1`)
	got := prog.Jobs[0].Explain()
	for _, want := range []string{
		"PythonCalc: PythonCalc[inc(c1)]",
		"HashAggregate: groupBy=[$key0] select=[SUM(inc(c1)), COUNT(*)]",
		"where=[($agg1 > CAST(1",
		"SortLimit: orderBy=[total DESC NULLS LAST, m ASC NULLS FIRST] offset=1 fetch=5",
		"Sink: stdout [connector=print] (m INT NOT NULL, total INT NOT NULL, EXPR$2 BIGINT NOT NULL)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "HashAggregate") > strings.Index(got, "SortLimit") {
		t.Errorf("the sort comes before the aggregation:\n%s", got)
	}
}

// TestOrderByHiddenColumn checks that an ORDER BY key that is not selected
// is computed, sorted on and then dropped.
func TestOrderByHiddenColumn(t *testing.T) {
	got := mustPlan(t, boundedTable+"SELECT s FROM g ORDER BY c0 * 2 DESC").Jobs[0].Explain()
	for _, want := range []string{"Sort: orderBy=[$order0 DESC NULLS LAST]", "Sink: stdout [connector=print] (s STRING)"} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %q:\n%s", want, got)
		}
	}
}

func TestAggregateErrors(t *testing.T) {
	tests := []struct{ script, want string }{
		{"SELECT c0, c1 FROM g GROUP BY c0", "column c1 is neither grouped nor aggregated"},
		{"SELECT SUM(COUNT(*)) FROM g", "aggregate calls cannot be nested"},
		{"SELECT c0 FROM g WHERE SUM(c1) > 1", "aggregate functions are not allowed in WHERE"},
		{"SELECT c0 FROM g GROUP BY SUM(c1)", "aggregate functions are not allowed in GROUP BY"},
		{"SELECT SUM(s) FROM g", "SUM needs a numeric argument, got STRING"},
		{"SELECT MAX(*) FROM g", "MAX(*) is not allowed"},
		{"SELECT COUNT(c0, c1) FROM g", "COUNT takes one argument, got 2"},
		{"SELECT * FROM g GROUP BY c0", "* cannot be selected in an aggregating query"},
		{"SELECT c0 FROM g ORDER BY c0 OFFSET 3", "ORDER BY with OFFSET needs a LIMIT"},
		{"SELECT c0 FROM g ORDER BY 2", "ORDER BY position 2 is not in the select list (1 to 1)"},
		{"SELECT COUNT(*) FROM s", "which never ends"},
		{"SELECT c0 FROM s ORDER BY c0 LIMIT 1", "which never ends"},
	}
	for _, tt := range tests {
		_, err := planScript(t, boundedTable+tt.script)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("plan(%q) error = %v, want it to contain %q", tt.script, err, tt.want)
		}
	}
	// LIMIT without ORDER BY streams, but it would not end the source.
	if _, err := planScript(t, "SELECT c0 FROM s LIMIT 3"); err == nil || !strings.Contains(err.Error(), "which never ends") {
		t.Errorf("LIMIT on an unbounded source: error %v, want one saying the source never ends", err)
	}
}

// TestSubqueryPlan checks a subquery in FROM: its operators come first, the
// outer query reads its columns by alias, and Python result names stay
// unique over the job.
func TestSubqueryPlan(t *testing.T) {
	got := mustPlan(t, boundedTable+`SELECT q.m, COUNT(*), MAX(inc(q.x)) FROM
		(SELECT c0 % 4 AS m, inc(c0) AS x FROM g WHERE c1 > 0) AS q GROUP BY q.m`).Jobs[0].Explain()
	for _, want := range []string{
		"PythonCalc: PythonCalc[inc(c0)] -> (c0 INT NOT NULL, $py0 INT NOT NULL)",
		"PythonCalc: PythonCalc[inc(x)] -> (m INT NOT NULL, $py1 INT NOT NULL)",
		"HashAggregate: groupBy=[m] select=[COUNT(*), MAX(inc(x))]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %q:\n%s", want, got)
		}
	}
	if _, err := planScript(t, boundedTable+"SELECT nope FROM (SELECT c0 FROM g) AS q"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown column of a subquery: error %v", err)
	}
}

func TestAggregateFilter(t *testing.T) {
	got := mustPlan(t, boundedTable+"SELECT COUNT(*) FILTER (WHERE c0 > 1), SUM(c1) FILTER (WHERE s IS NULL), COUNT(*) FROM g").Jobs[0].Explain()
	if want := "select=[COUNT(*) FILTER (WHERE (c0 > 1)), SUM(c1) FILTER (WHERE s IS NULL), COUNT(*)]"; !strings.Contains(got, want) {
		t.Errorf("plan lacks %q:\n%s", want, got)
	}
	for script, want := range map[string]string{
		"SELECT UPPER(s) FILTER (WHERE c0 > 1) FROM g":      "applies only to aggregate functions",
		"SELECT COUNT(*) FILTER (WHERE c0) FROM g":          "FILTER",
		"SELECT COUNT(*) FILTER (WHERE MAX(c0) > 1) FROM g": "aggregate functions are not allowed in FILTER",
	} {
		if _, err := planScript(t, boundedTable+script); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("plan(%q) error = %v, want %q", script, err, want)
		}
	}
}
