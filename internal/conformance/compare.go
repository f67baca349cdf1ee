package conformance

import (
	"fmt"
	"strings"
)

// Compare returns "" when weir's result r matches Flink's answer in c, and
// otherwise a description of the first differences.
func Compare(c *Case, r Result) string {
	if c.Error != "" {
		if r.Err != nil {
			return ""
		}
		return fmt.Sprintf("Flink rejects the query (%s) but weir accepts it and returns %d row(s)", c.Error, len(r.Rows))
	}
	if r.Err != nil {
		return fmt.Sprintf("weir rejects the query: %v", r.Err)
	}
	var b strings.Builder
	if strings.Join(c.Types, "\t") != strings.Join(r.Types, "\t") {
		fmt.Fprintf(&b, "column types: Flink %s, weir %s\n", strings.Join(c.Types, ", "), strings.Join(r.Types, ", "))
	}
	if strings.Join(c.Rows, "\n") != strings.Join(r.Rows, "\n") {
		fmt.Fprintf(&b, "rows: Flink %d, weir %d\n", len(c.Rows), len(r.Rows))
		n := max(len(c.Rows), len(r.Rows))
		shown := 0
		for i := 0; i < n && shown < 8; i++ {
			var f, w string
			if i < len(c.Rows) {
				f = c.Rows[i]
			}
			if i < len(r.Rows) {
				w = r.Rows[i]
			}
			if f != w {
				fmt.Fprintf(&b, "  row %d: Flink %q, weir %q\n", i+1, f, w)
				shown++
			}
		}
	}
	if c.Changelog && strings.Join(c.Changes, "\n") != strings.Join(r.Changes, "\n") {
		fmt.Fprintf(&b, "changelog: Flink %d change(s), weir %d\n  Flink: %s\n  weir:  %s\n", len(c.Changes), len(r.Changes),
			strings.Join(c.Changes, " | "), strings.Join(r.Changes, " | "))
	}
	return strings.TrimRight(b.String(), "\n")
}
