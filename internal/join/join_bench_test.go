package join

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// intBatches makes n rows of (k BIGINT, v BIGINT) with k = key(i), in
// batches of 25,000.
func intBatches(mem memory.Allocator, n int, key func(i int) int64) []arrow.RecordBatch {
	schema := types.Schema{{Name: "k", Type: types.BIGINT}, {Name: "v", Type: types.BIGINT}}
	var out []arrow.RecordBatch
	for lo := 0; lo < n; lo += 25000 {
		hi := min(n, lo+25000)
		bl := array.NewRecordBuilder(mem, schema.Arrow())
		kb, vb := bl.Field(0).(*array.Int64Builder), bl.Field(1).(*array.Int64Builder)
		for i := lo; i < hi; i++ {
			kb.Append(key(i))
			vb.Append(int64(i))
		}
		out = append(out, bl.NewRecordBatch())
		bl.Release()
	}
	return out
}

// BenchmarkHashJoin10Mx1M probes 10M rows against a build side of 1M
// distinct BIGINT keys (every probe row matches one build row) and reports
// probe rows per second.
func BenchmarkHashJoin10Mx1M(b *testing.B) {
	const nProbe, nBuild = 10_000_000, 1_000_000
	mem := memory.NewGoAllocator()
	schema := types.Schema{{Name: "k", Type: types.BIGINT}, {Name: "v", Type: types.BIGINT}, {Name: "k2", Type: types.BIGINT}, {Name: "v2", Type: types.BIGINT}}
	op := &Op{Kind: Inner, Schema: schema, LeftWidth: 2, LeftKeys: []int{0}, RightKeys: []int{0}}
	probe := intBatches(mem, nProbe, func(i int) int64 { return int64(i*7919) % nBuild })
	build := intBatches(mem, nBuild, func(i int) int64 { return int64(i) })
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for _, x := range probe {
			x.Retain()
		}
		for _, x := range build {
			x.Retain()
		}
		lc, rc := make(chan arrow.RecordBatch, len(probe)), make(chan arrow.RecordBatch, len(build))
		for _, x := range probe {
			lc <- x
		}
		for _, x := range build {
			rc <- x
		}
		close(lc)
		close(rc)
		out := make(chan arrow.RecordBatch, 4)
		done := make(chan int64)
		go func() {
			var n int64
			for x := range out {
				n += x.NumRows()
				x.Release()
			}
			done <- n
		}()
		if err := op.Run(benchContext(), mem, lc, rc, out); err != nil {
			b.Fatal(err)
		}
		close(out)
		if n := <-done; n != nProbe {
			b.Fatalf("%d rows, want %d", n, nProbe)
		}
	}
	b.ReportMetric(float64(nProbe)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
