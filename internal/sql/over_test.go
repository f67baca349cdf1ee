package sql

import (
	"fmt"
	"strings"
	"testing"
)

func parseSelect(t *testing.T, src string) *Select {
	t.Helper()
	stmts, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return stmts[0].(*SelectStmt).Query
}

// TestParseOver checks OVER windows: partitions, order, frames and named
// windows.
func TestParseOver(t *testing.T) {
	q := parseSelect(t, "SELECT ROW_NUMBER() OVER (PARTITION BY a, b ORDER BY c DESC NULLS FIRST) AS rn, "+
		"SUM(x) OVER (ORDER BY c ROWS BETWEEN 2 PRECEDING AND UNBOUNDED FOLLOWING), "+
		"COUNT(*) OVER w, MAX(x) OVER (w RANGE 5 PRECEDING), f(x) over FROM t WINDOW w AS (PARTITION BY a)")
	o := q.Items[0].Expr.(*Over)
	if o.Call.Name != "ROW_NUMBER" || len(o.Window.PartitionBy) != 2 || !o.Window.OrderBy[0].Desc || o.Window.OrderBy[0].Nulls != "FIRST" || o.Window.Frame != nil || q.Items[0].Alias != "rn" {
		t.Errorf("item 0 = %+v %+v", o.Call, o.Window)
	}
	f := q.Items[1].Expr.(*Over).Window.Frame
	if !f.Rows || f.Start.Kind != Preceding || f.Start.String() != "2 PRECEDING" || f.End.Kind != UnboundedFollowing {
		t.Errorf("item 1 frame = %+v", f)
	}
	if w := q.Items[2].Expr.(*Over).Window; w.Ref != "w" || !q.Items[2].Expr.(*Over).Call.Star {
		t.Errorf("item 2 window = %+v", w)
	}
	w := q.Items[3].Expr.(*Over).Window
	if w.Ref != "w" || w.Frame.Rows || w.Frame.Start.Kind != Preceding || w.Frame.End.Kind != CurrentRow {
		t.Errorf("item 3 window = %+v %+v", w, w.Frame)
	}
	// "over" not followed by a window is an alias.
	if _, ok := q.Items[4].Expr.(*FuncCall); !ok || q.Items[4].Alias != "over" {
		t.Errorf("item 4 = %#v alias %q", q.Items[4].Expr, q.Items[4].Alias)
	}
	if len(q.Windows) != 1 || q.Windows[0].Name != "w" || len(q.Windows[0].Window.PartitionBy) != 1 {
		t.Errorf("WINDOW clause = %+v", q.Windows)
	}
}

// TestParseGroupingSets checks that GROUPING SETS, ROLLUP and CUBE expand to
// Flink's sets, over GroupBy's expressions.
func TestParseGroupingSets(t *testing.T) {
	for _, tc := range []struct{ groupBy, want string }{
		{"a, b", "[a b] nil"},
		{"ROLLUP (a, b)", "[a b] [[0 1] [0] []]"},
		{"CUBE (a, b)", "[a b] [[0 1] [0] [1] []]"},
		{"GROUPING SETS ((a, b), a, ())", "[a b a] [[0 1] [2] []]"},
		{"a, ROLLUP (b)", "[a b] [[0 1] [0]]"},
		{"ROLLUP ((a, b), c)", "[a b c] [[0 1 2] [0 1] []]"},
		{"GROUPING SETS (ROLLUP (a), b)", "[a b] [[0] [] [1]]"},
		{"()", "[] [[]]"},
	} {
		q := parseSelect(t, "SELECT COUNT(*) FROM t GROUP BY "+tc.groupBy)
		var names []string
		for _, x := range q.GroupBy {
			names = append(names, x.(*Ident).Parts[0])
		}
		sets := "nil"
		if q.GroupingSets != nil {
			sets = fmt.Sprint(q.GroupingSets)
		}
		if got := "[" + strings.Join(names, " ") + "] " + sets; got != tc.want {
			t.Errorf("GROUP BY %s: %s, want %s", tc.groupBy, got, tc.want)
		}
	}
}

// TestParseOverErrors checks the messages of malformed windows.
func TestParseOverErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"SELECT SUM(x) OVER (ORDER BY c ROWS BETWEEN 1 AND CURRENT ROW) FROM t", "PRECEDING or FOLLOWING"},
		{"SELECT SUM(x) OVER (ORDER BY c LIMIT 1) FROM t", "PARTITION BY, ORDER BY, ROWS, RANGE or ')'"},
		{"SELECT SUM(x) OVER (ORDER BY c ROWS UNBOUNDED) FROM t", "PRECEDING"},
		{"SELECT COUNT(*) FROM t GROUP BY ROLLUP (a", "')'"},
		{"SELECT COUNT(*) FROM t GROUP BY CUBE (a, b, c, d, e, f, g, h, i, j, k, l, m)", "CUBE of 13 elements"},
		{"SELECT COUNT(*) FROM t GROUP BY CUBE (a, b, c, d, e, f, g), CUBE (h, i, j, k, l, m)", "more than 4096 grouping sets"},
	} {
		_, err := Parse(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.src, err, tc.want)
		}
	}
}

// FuzzParseWindows feeds the parser windows and grouping sets: no input
// panics, and errors and statements have positions inside the input.
func FuzzParseWindows(f *testing.F) {
	for _, s := range []string{
		"SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b DESC NULLS LAST) FROM t",
		"SELECT SUM(x) OVER (w ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING) FROM t WINDOW w AS (PARTITION BY a), v AS (w ORDER BY c)",
		"SELECT COUNT(*) OVER (RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM t",
		"SELECT a, GROUPING(a), COUNT(*) FROM t GROUP BY GROUPING SETS ((a, b), ROLLUP (a), CUBE ((a, b), c), ())",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		stmts, err := Parse(src)
		checkErr(t, "Parse", src, err)
		for _, s := range stmts {
			checkPos(t, "Parse", src, s.Pos())
		}
	})
}
