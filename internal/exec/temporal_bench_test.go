package exec

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// BenchmarkTemporal evaluates EXTRACT(YEAR ...), FLOOR(... TO MONTH) and
// DATE_FORMAT over TIMESTAMP(3) rows spread over three centuries, and, as
// the yardstick of the same run, the year of each row through Go's time
// package; the ratio metric is how many times faster EXTRACT is.
func BenchmarkTemporal(b *testing.B) {
	mem := memory.NewGoAllocator()
	ts := types.TIMESTAMP(3)
	bld := array.NewTimestampBuilder(mem, ts.Arrow().(*arrow.TimestampType))
	vals := make([]int64, benchRows)
	for i := range vals {
		vals[i] = (int64(i)*7919%200000 - 100000) * 86400000 / 3
		bld.Append(arrow.Timestamp(vals[i]))
	}
	a := bld.NewArray()
	bld.Release()
	batch := array.NewRecordBatch(types.Schema{{Name: "ts", Type: ts}}.Arrow(), []arrow.Array{a}, benchRows)
	a.Release()
	defer batch.Release()
	x := col(0, "ts", ts)
	str := func(s string) expr.Expr { return lit(s, types.STRING.NotNull()) }
	perRow := func(b *testing.B, e expr.Expr) float64 {
		for b.Loop() {
			out, err := Eval(mem, e, batch)
			if err != nil {
				b.Fatal(err)
			}
			out.Release()
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / benchRows
		b.ReportMetric(ns, "ns/row")
		return ns
	}
	yardstick := func() float64 {
		start := time.Now()
		sum := 0
		for k := 0; k < 20; k++ {
			for _, v := range vals {
				sum += time.UnixMilli(v).UTC().Year()
			}
		}
		if sum == 0 {
			b.Fatal("no years")
		}
		return float64(time.Since(start).Nanoseconds()) / 20 / benchRows
	}
	b.Run("extract-year", func(b *testing.B) {
		ns := perRow(b, call("EXTRACT", types.BIGINT, str("YEAR"), x))
		b.ReportMetric(yardstick()/ns, "x-time-pkg")
	})
	b.Run("floor-month", func(b *testing.B) { perRow(b, call("TIME_FLOOR", ts, x, str("MONTH"))) })
	b.Run("date-format", func(b *testing.B) {
		perRow(b, call("DATE_FORMAT", types.STRING, x, str("yyyy-MM-dd HH:mm:ss.SSS")))
	})
}
