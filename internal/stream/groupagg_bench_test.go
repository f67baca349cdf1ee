package stream

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/types"
)

// BenchmarkStreamingVsBatchGroupBy runs SUM and COUNT(*) GROUP BY over 1M
// rows and 1000 keys through the streaming GroupAgg (a +I or -U/+U per row)
// and through the batch aggregate.Op (one row per group at the end), and
// reports the streaming path's cost as a ratio of the batch one.
func BenchmarkStreamingVsBatchGroupBy(b *testing.B) {
	mem := memory.NewGoAllocator()
	const rows, size, keys = 1 << 20, 1 << 16, 1000
	var batches []arrow.RecordBatch
	for lo := 0; lo < rows; lo += size {
		ks, vs := make([]int32, size), make([]int32, size)
		for i := range ks {
			ks[i] = int32((lo + i) * 7919 % keys)
			vs[i] = int32(lo + i)
		}
		batches = append(batches, batch(mem, ks, vs, nil))
	}
	run := func(op interface {
		Run(context.Context, memory.Allocator, <-chan arrow.RecordBatch, chan<- arrow.RecordBatch) error
	}) time.Duration {
		start := time.Now()
		in := make(chan arrow.RecordBatch, len(batches))
		for _, bt := range batches {
			bt.Retain()
			in <- bt
		}
		close(in)
		out := make(chan arrow.RecordBatch, 16)
		done := make(chan struct{})
		go func() {
			for r := range out {
				r.Release()
			}
			close(done)
		}()
		if err := op.Run(context.Background(), mem, in, out); err != nil {
			b.Fatal(err)
		}
		close(out)
		<-done
		return time.Since(start)
	}
	g := sumCount()
	batchOp := &aggregate.Op{Keys: g.Keys, Aggs: g.Aggs, Schema: g.Schema}
	var st, bt time.Duration
	for i := 0; i < b.N; i++ {
		st += run(g)
		bt += run(batchOp)
	}
	b.ReportMetric(float64(st.Nanoseconds())/float64(b.N*rows), "stream-ns/row")
	b.ReportMetric(float64(bt.Nanoseconds())/float64(b.N*rows), "batch-ns/row")
	b.ReportMetric(float64(st)/float64(bt), "stream/batch")
	_ = types.INT
}
