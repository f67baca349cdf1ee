package stream

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/checkpoint"
)

// BenchmarkGroupAggSnapshot measures what a checkpoint costs a GroupAgg of
// SUM and COUNT(*) over 1M groups: the time its Run spends saving the state
// on a barrier (the operator's goroutine waits meanwhile), the state's size,
// and the time to restore it.
func BenchmarkGroupAggSnapshot(b *testing.B) {
	mem := memory.NewGoAllocator()
	const groups, size = 1 << 20, 1 << 16
	var batches []arrow.RecordBatch
	for lo := 0; lo < groups; lo += size {
		ks, vs := make([]int32, size), make([]int32, size)
		for i := range ks {
			ks[i], vs[i] = int32(lo+i), int32(i)
		}
		batches = append(batches, batch(mem, ks, vs, nil))
	}
	var saveTime, restoreTime time.Duration
	var bytesOut int
	for i := 0; i < b.N; i++ {
		g := sumCount()
		var state bytes.Buffer
		br := checkpoint.NewBarrier(1, func(_ any, write func(io.Writer) error) error {
			start := time.Now()
			err := write(&state)
			saveTime += time.Since(start)
			return err
		})
		in := make(chan arrow.RecordBatch, len(batches)+1)
		for _, bt := range batches {
			bt.Retain()
			in <- bt
		}
		in <- br
		close(in)
		out := make(chan arrow.RecordBatch, 1024)
		go func() {
			for r := range out {
				r.Release()
			}
		}()
		if err := g.Run(context.Background(), mem, in, out); err != nil {
			b.Fatal(err)
		}
		close(out)
		bytesOut = state.Len()
		start := time.Now()
		r := sumCount()
		if err := r.Restore(bytes.NewReader(state.Bytes())); err != nil {
			b.Fatal(err)
		}
		st, err := r.start(mem, []arrow.DataType{r.Schema[0].Type.Arrow()})
		if err != nil || len(st.groups) != groups {
			b.Fatalf("restored %v groups: %v", st, err)
		}
		restoreTime += time.Since(start)
	}
	b.ReportMetric(float64(saveTime.Milliseconds())/float64(b.N), "save-ms")
	b.ReportMetric(float64(restoreTime.Milliseconds())/float64(b.N), "restore-ms")
	b.ReportMetric(float64(bytesOut)/groups, "bytes/group")
}
