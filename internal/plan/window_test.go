package plan

import (
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/window"
)

const eventsTable = "CREATE TABLE ev (id INT, k STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH ('connector' = 'datagen', 'number-of-rows' = '10');\n"

// TestWindowPlans: a window table function adds the window columns; in
// streaming mode a GROUP BY window_start, window_end is an insert-only
// window aggregation fed by held windows, in batch mode a hash aggregation.
func TestWindowPlans(t *testing.T) {
	q := "SELECT k, window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k;\n"
	prog := mustPlan(t, eventsTable+q)
	if ev := prog.Tables["ev"]; ev == nil || ev.Watermark == nil || ev.Watermark.Column != 2 || ev.Watermark.Delay != 5000 {
		t.Fatalf("table ev's watermark: %+v", prog.Tables["ev"])
	}
	got := prog.Jobs[0].Explain()
	if !strings.Contains(got, "WindowTableFunction: TUMBLE(time=[ts], size=[10000 ms])") || !strings.Contains(got, "HashAggregate") || strings.Contains(got, "emit=") {
		t.Errorf("batch plan:\n%s", got)
	}
	prog = mustPlan(t, streamingSet+eventsTable+q+
		"SELECT k, COUNT(*) FROM TABLE(HOP(TABLE ev, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND)) GROUP BY k;")
	j := prog.Jobs[0]
	if got := j.Explain(); !strings.Contains(got, "emit=[watermark, delay 5000 ms]") || !strings.Contains(got, "WindowAggregate:") || j.Updating {
		t.Errorf("streaming window aggregation: updating %v, plan:\n%s", j.Updating, got)
	}
	// Grouped without the window: a regular, updating aggregation.
	if j := prog.Jobs[1]; !j.Updating || strings.Contains(j.Explain(), "emit=") {
		t.Errorf("streaming GROUP BY k over HOP: updating %v, plan:\n%s", j.Updating, j.Explain())
	}
}

// TestSessionPlans: SESSION holds its rows until the watermark closes a
// session, with or without a window aggregation; in a window aggregation a
// WHERE over the table's columns goes into the window function (Flink
// filters before assigning sessions), and not one over the window columns.
func TestSessionPlans(t *testing.T) {
	sess := "FROM TABLE(SESSION(TABLE ev PARTITION BY k, DESCRIPTOR(ts), INTERVAL '10' SECOND))"
	prog := mustPlan(t, streamingSet+eventsTable+
		"SELECT k, window_start, COUNT(*) "+sess+" WHERE id > 3 GROUP BY k, window_start, window_end;\n"+
		"SELECT id, window_start "+sess+" WHERE id > 3;\n"+
		"SELECT k, COUNT(*) "+sess+" WHERE window_start > TIMESTAMP '2026-01-01 00:00:00' GROUP BY k, window_start, window_end;\n")
	for i, want := range []struct {
		agg, filter bool
	}{{true, true}, {false, false}, {true, false}} {
		j := prog.Jobs[i]
		got := j.Explain()
		if !strings.Contains(got, "SESSION(time=[ts], gap=[10000 ms], partition=[k])") || !strings.Contains(got, "emit=[watermark, delay 5000 ms]") || j.Updating {
			t.Errorf("query %d: updating %v, plan:\n%s", i, j.Updating, got)
		}
		if strings.Contains(got, "WindowAggregate:") != want.agg {
			t.Errorf("query %d: window aggregation %v, plan:\n%s", i, !want.agg, got)
		}
		var a *window.Assign
		for _, s := range j.Steps {
			if w, ok := s.Op.(*window.Assign); ok {
				a = w
			}
		}
		if a == nil || (a.Filter != nil) != want.filter {
			t.Errorf("query %d: the WHERE in the window function: %v, want %v", i, a != nil && a.Filter != nil, want.filter)
		}
	}
}

// TestWindowRefusals: what weir refuses around event time, each with its
// reason.
func TestWindowRefusals(t *testing.T) {
	tumble := func(col, size string) string {
		return "SELECT COUNT(*) FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(" + col + "), " + size + ")) GROUP BY window_start, window_end"
	}
	for _, tt := range []struct{ script, want string }{
		{eventsTable + tumble("k", "INTERVAL '1' SECOND"), "it must be TIMESTAMP"},
		{eventsTable + tumble("ts", "INTERVAL '1' MONTH"), "day-time interval"},
		{eventsTable + tumble("ts", "INTERVAL '0' SECOND"), "positive window size"},
		{eventsTable + tumble("ts", "5"), "interval literal"},
		{eventsTable + "SELECT * FROM TABLE(HOP(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' SECOND))", "HOP takes"},
		{eventsTable + "SELECT * FROM TABLE(CUMULATE(TABLE ev, DESCRIPTOR(ts), INTERVAL '3' SECOND, INTERVAL '10' SECOND))", "integral multiple"},
		{"CREATE TABLE w (a INT, WATERMARK FOR a AS a) WITH ('connector' = 'datagen')", "it must be TIMESTAMP"},
		{"CREATE TABLE w (a TIMESTAMP(6), WATERMARK FOR a AS a) WITH ('connector' = 'datagen')", "at most 3"},
		{"CREATE TABLE w (a TIMESTAMP(3), WATERMARK FOR b AS a) WITH ('connector' = 'datagen')", "has no column b"},
		{"CREATE TABLE w (a TIMESTAMP(3), WATERMARK FOR a AS a + INTERVAL '1' SECOND) WITH ('connector' = 'datagen')", "less an interval"},
		{streamingSet + "CREATE TABLE w (a TIMESTAMP(3)) WITH ('connector' = 'datagen');\nSELECT * FROM TABLE(TUMBLE(TABLE w, DESCRIPTOR(a), INTERVAL '1' SECOND))", "declare WATERMARK FOR a"},
		{streamingSet + eventsTable + "SELECT * FROM TABLE(HOP(TABLE ev, DESCRIPTOR(ts), INTERVAL '3' SECOND, INTERVAL '10' SECOND))", "integral multiple"},
		{streamingSet + eventsTable + "SELECT l.id FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' SECOND)) AS l JOIN ev AS r ON l.id = r.id", "window joins"},
		{streamingSet + eventsTable + "SELECT k, window_start, ROW_NUMBER() OVER (PARTITION BY window_start ORDER BY id) FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' SECOND))", "streaming OVER windows are not supported"},
		{eventsTable + "SELECT COUNT(*) FROM TABLE(SESSION(TABLE ev, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, window_end", "not supported in batch mode, as in Flink"},
		{streamingSet + eventsTable + "SELECT COUNT(*) FROM TABLE(SESSION(TABLE ev, DESCRIPTOR(ts), INTERVAL '0' SECOND)) GROUP BY window_start, window_end", "positive gap"},
		{streamingSet + eventsTable + "SELECT COUNT(*) FROM TABLE(SESSION(TABLE ev PARTITION BY nope, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, window_end", "nope"},
		{streamingSet + eventsTable + "SELECT k, COUNT(*) FROM ev GROUP BY k, SESSION(ts, INTERVAL '1' SECOND)", "use the window table functions"},
		{streamingSet + eventsTable + "SELECT TUMBLE_START(ts, INTERVAL '1' SECOND), COUNT(*) FROM ev GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)", "group window functions"},
	} {
		_, err := planScript(t, tt.script)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s\n  error %v, want one containing %q", tt.script, err, tt.want)
		}
	}
}
