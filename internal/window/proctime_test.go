package window

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// TestProcTimeFiresOnClock: processing-time windows fire when the clock
// passes their end, though no row comes after; the rest at the end.
func TestProcTimeFiresOnClock(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	in := types.Schema{{Name: "id", Type: types.INT}, {Name: "proc", Type: types.TIMESTAMP(3)}}
	schema := append(append(types.Schema(nil), in...),
		types.Field{Name: "window_start", Type: ColumnType}, types.Field{Name: "window_end", Type: ColumnType}, types.Field{Name: "window_time", Type: ColumnType})
	var clock atomic.Int64
	clock.Store(1005)
	a := &Assign{Spec: Spec{Kind: Tumble, Size: 1000}, Time: 1, Schema: schema, Hold: true, ProcTime: true,
		Now: func() int64 { return clock.Load() }}
	inc := make(chan arrow.RecordBatch, 2)
	out := make(chan arrow.RecordBatch, 10)
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background(), mem, inc, out); close(out) }()
	inc <- batch(mem, in, []int32{1, 2}, []int64{1000, 1005})
	read := func() string {
		select {
		case b := <-out:
			defer b.Release()
			ids := b.Column(0).(*array.Int32).Int32Values()
			ends := b.Column(3).(*array.Timestamp).TimestampValues()
			var s []string
			for i := range ids {
				s = append(s, fmt.Sprintf("%d@%d", ids[i], ends[i]))
			}
			return fmt.Sprint(s)
		case <-time.After(5 * procTick):
			return "nothing"
		}
	}
	if got := read(); got != "nothing" {
		t.Fatalf("before the clock passed the window's end: %s", got)
	}
	clock.Store(1999) // the window [1000, 2000) ends: it fires with no new row
	if got := read(); got != "[1@2000 2@2000]" {
		t.Fatalf("after the clock passed 1999: %s", got)
	}
	inc <- batch(mem, in, []int32{3}, []int64{2500})
	close(inc)
	if got := read(); got != "[3@3000]" {
		t.Fatalf("at the end of the input: %s", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
