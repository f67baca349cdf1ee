package aggregate

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

// BenchmarkGroupBy aggregates 10M rows (INT key, BIGINT value; COUNT(*),
// SUM, MAX) in 25,000-row batches with 10 and 1M distinct keys, and
// reports rows/s. 40 distinct batches are cycled to keep memory small.
func BenchmarkGroupBy(b *testing.B) {
	const rows, batchRows, distinctBatches = 10_000_000, 25_000, 40
	for _, keys := range []int{10, 1_000_000} {
		for _, stringKey := range []bool{false, true} {
			name := fmt.Sprintf("keys=%d/int", keys)
			keyType := types.INT.NotNull()
			if stringKey {
				name = fmt.Sprintf("keys=%d/string", keys)
				keyType = types.STRING.NotNull()
			}
			b.Run(name, func(b *testing.B) {
				mem := memory.NewGoAllocator()
				rng := rand.New(rand.NewSource(1))
				schema := types.Schema{{Name: "k", Type: keyType}, {Name: "v", Type: types.BIGINT.NotNull()}}
				var batches []arrow.RecordBatch
				for i := 0; i < distinctBatches; i++ {
					kb := array.NewBuilder(mem, keyType.Arrow())
					vb := array.NewInt64Builder(mem)
					for r := 0; r < batchRows; r++ {
						k := rng.Intn(keys)
						if stringKey {
							kb.(*array.StringBuilder).Append(fmt.Sprintf("key-%07d", k))
						} else {
							kb.(*array.Int32Builder).Append(int32(k))
						}
						vb.Append(rng.Int63n(1000))
					}
					ka, va := kb.NewArray(), vb.NewArray()
					batches = append(batches, array.NewRecordBatch(schema.Arrow(), []arrow.Array{ka, va}, batchRows))
				}
				op := &Op{Keys: []int{0}, Schema: types.Schema{{Name: "k", Type: keyType}}}
				for _, f := range []Func{CountStar, Sum, Max} {
					out, _ := ResultType(f, types.BIGINT.NotNull(), false)
					op.Aggs = append(op.Aggs, Spec{Func: f, Arg: 1, In: types.BIGINT.NotNull(), Out: out})
					op.Schema = append(op.Schema, types.Field{Name: f.String(), Type: out})
				}
				b.ResetTimer()
				start := time.Now()
				for it := 0; it < b.N; it++ {
					in := make(chan arrow.RecordBatch, 8)
					out := make(chan arrow.RecordBatch, 1024)
					go func() {
						for i := 0; i < rows/batchRows; i++ {
							bt := batches[i%distinctBatches]
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
				b.ReportMetric(float64(rows)*float64(b.N)/time.Since(start).Seconds(), "rows/s")
			})
		}
	}
}
