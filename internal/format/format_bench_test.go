package format

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// benchSchema is the shape of a typical event: ids, a name, a value, a time.
var benchSchema = types.Schema{
	{Name: "id", Type: types.BIGINT}, {Name: "name", Type: types.STRING},
	{Name: "v", Type: types.INT}, {Name: "score", Type: types.DOUBLE}, {Name: "at", Type: types.TIMESTAMP(3)},
}

func benchRows(n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(i), fmt.Sprintf("name-%d", i), int32(i % 1000), float64(i) / 7, nil}
	}
	return rows
}

// BenchmarkEncode and BenchmarkDecode report rows/s of each format on
// 8192-row batches.
func BenchmarkEncode(b *testing.B) {
	for _, name := range []string{"json", "csv", "avro"} {
		b.Run(name, func(b *testing.B) {
			f := mustOpen(b, name, benchSchema, nil)
			batch := batchOf(b, benchSchema, benchRows(8192))
			defer batch.Release()
			enc := f.NewEncoder()
			cols := batch.Columns()
			var buf []byte
			b.ResetTimer()
			for range b.N {
				for i := range 8192 {
					var err error
					if buf, err = enc.Append(buf[:0], cols, i); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N)*8192/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"json", "csv", "avro"} {
		b.Run(name, func(b *testing.B) {
			f := mustOpen(b, name, benchSchema, nil)
			batch := batchOf(b, benchSchema, benchRows(8192))
			recs := encodeAll(b, f, batch)
			batch.Release()
			dec := f.NewDecoder()
			bld := NewBuilder(benchSchema, memory.DefaultAllocator)
			b.ResetTimer()
			for range b.N {
				for _, r := range recs {
					if err := dec.Decode(r, bld); err != nil {
						b.Fatal(err)
					}
				}
				out, err := bld.Finish()
				if err != nil {
					b.Fatal(err)
				}
				out.Release()
			}
			b.ReportMetric(float64(b.N)*8192/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
