package sortop

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// BenchmarkSort orders rows of (INT key, BIGINT payload) in 25,000-row
// batches by the key, descending: the full sort of 2M rows, and Top-N
// (LIMIT 10) of 10M rows; it reports rows/s.
func BenchmarkSort(b *testing.B) {
	const batchRows = 25_000
	for _, tc := range []struct {
		rows  int
		limit int64
	}{{2_000_000, -1}, {10_000_000, 10}} {
		b.Run(fmt.Sprintf("rows=%d/limit=%d", tc.rows, tc.limit), func(b *testing.B) {
			mem := memory.NewGoAllocator()
			rng := rand.New(rand.NewSource(1))
			schema := types.Schema{{Name: "k", Type: types.INT.NotNull()}, {Name: "v", Type: types.BIGINT.NotNull()}}
			var batches []arrow.RecordBatch
			for i := 0; i < 40; i++ {
				kb, vb := array.NewInt32Builder(mem), array.NewInt64Builder(mem)
				for r := 0; r < batchRows; r++ {
					kb.Append(rng.Int31())
					vb.Append(int64(r))
				}
				batches = append(batches, array.NewRecordBatch(schema.Arrow(), []arrow.Array{kb.NewArray(), vb.NewArray()}, batchRows))
			}
			op := &Op{Keys: []Key{{Col: 0, Desc: true}}, Limit: tc.limit, Schema: schema}
			b.ResetTimer()
			start := time.Now()
			for it := 0; it < b.N; it++ {
				in := make(chan arrow.RecordBatch, 8)
				out := make(chan arrow.RecordBatch, 1024)
				go func() {
					for i := 0; i < tc.rows/batchRows; i++ {
						bt := batches[i%len(batches)]
						bt.Retain()
						in <- bt
					}
					close(in)
				}()
				if err := op.Run(benchContext(), mem, in, out); err != nil {
					b.Fatal(err)
				}
				close(out)
				for r := range out {
					r.Release()
				}
			}
			b.ReportMetric(float64(tc.rows)*float64(b.N)/time.Since(start).Seconds(), "rows/s")
		})
	}
}
