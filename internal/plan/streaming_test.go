package plan

import (
	"strings"
	"testing"
)

const streamingSet = "SET 'execution.runtime-mode' = 'streaming';\n"

// TestStreamingPlans: in streaming mode a GROUP BY is a changelog-emitting
// GroupAggregate whose row kinds the calcs after it carry; a second GROUP
// BY over it retracts; an unbounded inner join is a streaming join.
func TestStreamingPlans(t *testing.T) {
	prog := mustPlan(t, streamingSet+`SELECT c, COUNT(*) FROM (SELECT c0 % 3 AS g, COUNT(*) AS c FROM s GROUP BY c0 % 3) GROUP BY c;
SELECT a.c0, b.c1 FROM s AS a JOIN s AS b ON a.c0 = b.c0;
SELECT c0 FROM s;`)
	j := prog.Jobs[0]
	got := j.Explain()
	if strings.Count(got, "GroupAggregate:") != 2 || !strings.Contains(got, "$row_kind") || !j.Streaming || !j.Updating || !j.RowKinds {
		t.Errorf("streaming GROUP BY over GROUP BY: streaming %v updating %v kinds %v, plan:\n%s", j.Streaming, j.Updating, j.RowKinds, got)
	}
	if got := prog.Jobs[1].Explain(); !strings.Contains(got, "StreamingJoin:") || prog.Jobs[1].Updating {
		t.Errorf("unbounded inner join: updating %v, plan:\n%s", prog.Jobs[1].Updating, got)
	}
	if j := prog.Jobs[2]; j.Updating || j.RowKinds || j.CheckMode() != nil {
		t.Errorf("a plain SELECT over an unbounded table in streaming mode: updating %v, kinds %v, check %v", j.Updating, j.RowKinds, j.CheckMode())
	}
	// The same GROUP BY in batch mode is a hash aggregation, insert-only.
	prog = mustPlan(t, "CREATE TABLE g (c0 INT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '10');\nSELECT c0 % 3, COUNT(*) FROM g GROUP BY c0 % 3;")
	if j := prog.Jobs[0]; j.Streaming || j.Updating || strings.Contains(j.Explain(), "$row_kind") {
		t.Errorf("batch GROUP BY:\n%s", j.Explain())
	}
}

// TestStreamingRefusals: what streaming mode refuses, each with its reason.
func TestStreamingRefusals(t *testing.T) {
	for _, tt := range []struct{ script, want string }{
		{"SELECT c0 FROM s ORDER BY c0", "Sort on a non-time-attribute field is not supported"},
		{"SELECT c0 FROM s ORDER BY c0 LIMIT 3", "which never ends"},
		{"CREATE TABLE fs (a INT, n BIGINT) WITH ('connector' = 'filesystem', 'path' = '/nonexistent', 'format' = 'csv');\nINSERT INTO fs SELECT c0, COUNT(*) FROM s GROUP BY c0",
			"Table sink 'fs' doesn't support consuming update changes which is produced by node GroupAggregate"},
		{"SELECT a.c0 FROM s AS a LEFT JOIN s AS b ON a.c0 = b.c0", "inner joins only"},
		{"SELECT a.c0 FROM (SELECT c0, COUNT(*) AS n FROM s GROUP BY c0) AS a JOIN s AS b ON a.c0 = b.c0", "insert-only inputs"},
		{"SELECT c0, ROW_NUMBER() OVER (ORDER BY c1) FROM s", "OVER windows in streaming mode"},
		{"SELECT x, LISTAGG(y) FROM (SELECT c0 AS x, MAX(s) AS y FROM s GROUP BY c0) GROUP BY x", "LISTAGG"},
	} {
		_, err := planScript(t, streamingSet+tt.script)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s\n  error %v, want one containing %q", tt.script, err, tt.want)
		}
	}
}

// TestBatchModeEndlessSource: batch mode plans a query over a source that
// never ends but refuses to run it.
func TestBatchModeEndlessSource(t *testing.T) {
	prog := mustPlan(t, "SELECT c0 FROM s")
	if err := prog.Jobs[0].CheckMode(); err == nil || !strings.Contains(err.Error(), "'execution.runtime-mode' = 'streaming'") {
		t.Errorf("CheckMode = %v, want a refusal naming streaming mode", err)
	}
	prog = mustPlan(t, "CREATE TABLE q (a INT NOT NULL) WITH ('connector' = 'datagen', 'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '5');\nSELECT a FROM q")
	if err := prog.Jobs[0].CheckMode(); err != nil {
		t.Errorf("a sequence that ends its data: CheckMode = %v, want nil", err)
	}
}
