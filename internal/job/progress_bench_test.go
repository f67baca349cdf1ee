package job

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/sql"
)

// BenchmarkRunCounting runs a Go-only job (datagen -> calc -> blackhole,
// where per-batch costs show most; the row counters are always on) without
// progress reports and with the live line's reporter (every 500 ms): the
// two must not differ measurably.
func BenchmarkRunCounting(b *testing.B) {
	stmts, err := sql.Parse(`CREATE TABLE src (a INT NOT NULL, b INT NOT NULL) WITH ('connector' = 'datagen', 'number-of-rows' = '2000000');
CREATE TABLE snk (a INT, b INT) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT a + 1, b FROM src WHERE a > 0;`)
	if err != nil {
		b.Fatal(err)
	}
	prog, err := (&plan.Planner{Settings: map[string]string{}}).Plan(stmts)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		p    Progress
	}{
		{"off", Progress{}},
		{"reports", Progress{Mode: ProgressLines, Out: io.Discard, Interval: 500 * time.Millisecond}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				res, err := Run(context.Background(), prog.Jobs[0], prog.Settings, Options{Out: io.Discard, Progress: c.p})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(res.Rows)/res.Elapsed.Seconds(), "rows/s")
			}
		})
	}
}
