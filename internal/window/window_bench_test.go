package window

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// BenchmarkAssign runs 16 batches of 8192 rows with increasing event times
// (a millisecond apart) through TUMBLE(1 s) without holding rows (batch
// mode) and holding them until the watermark (streaming mode), and reports
// rows per second.
func BenchmarkAssign(b *testing.B) {
	mem := memory.DefaultAllocator
	in := types.Schema{{Name: "id", Type: types.INT}, {Name: "ts", Type: types.TIMESTAMP(3)}}
	schema := append(append(types.Schema(nil), in...),
		types.Field{Name: "window_start", Type: ColumnType}, types.Field{Name: "window_end", Type: ColumnType}, types.Field{Name: "window_time", Type: ColumnType})
	const batches, rows = 16, 8192
	var input []arrow.RecordBatch
	for k := 0; k < batches; k++ {
		ids := make([]int32, rows)
		ts := make([]int64, rows)
		for i := range ids {
			ids[i] = int32(k*rows + i)
			ts[i] = int64(k*rows + i)
		}
		input = append(input, batch(mem, in, ids, ts))
	}
	for _, hold := range []bool{false, true} {
		name := "batch"
		if hold {
			name = "hold"
		}
		b.Run(name, func(b *testing.B) {
			for n := 0; n < b.N; n++ {
				a := &Assign{Spec: Spec{Kind: Tumble, Size: 1000}, Time: 1, Schema: schema, Hold: hold, Delay: 100}
				inc := make(chan arrow.RecordBatch, batches)
				for _, r := range input {
					r.Retain()
					inc <- r
				}
				close(inc)
				out := make(chan arrow.RecordBatch, batches+1)
				if err := a.Run(context.Background(), mem, inc, out); err != nil {
					b.Fatal(err)
				}
				close(out)
				for r := range out {
					r.Release()
				}
			}
			b.ReportMetric(float64(b.N*batches*rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
