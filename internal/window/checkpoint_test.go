package window

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/types"
)

// TestAssignRestore: a window assignment holding rows until the watermark,
// cut at a barrier at a random batch of out-of-order rows and restored,
// emits with what it emitted before exactly the rows (and late count) of
// an uninterrupted run.
func TestAssignRestore(t *testing.T) {
	mem := memory.NewGoAllocator()
	in := types.Schema{{Name: "id", Type: types.INT}, {Name: "ts", Type: types.TIMESTAMP(3)}}
	schema := append(append(types.Schema(nil), in...),
		types.Field{Name: "window_start", Type: ColumnType}, types.Field{Name: "window_end", Type: ColumnType}, types.Field{Name: "window_time", Type: ColumnType})
	r := rand.New(rand.NewPCG(11, 12))
	specs := []Spec{{Kind: Tumble, Size: 10}, {Kind: Hop, Size: 20, Step: 5}, {Kind: Cumulate, Size: 20, Step: 5}}
	type result struct {
		rows []string
		late int64
	}
	run := func(a *Assign, bs []arrow.RecordBatch, br *checkpoint.Barrier) result {
		inc := make(chan arrow.RecordBatch, len(bs)+1)
		for _, b := range bs {
			b.Retain()
			inc <- b
		}
		if br != nil {
			inc <- br
		}
		close(inc)
		out := make(chan arrow.RecordBatch, 1000)
		if err := a.Run(context.Background(), mem, inc, out); err != nil {
			t.Fatal(err)
		}
		close(out)
		var res result
		cut := false
		for b := range out {
			if checkpoint.IsBarrier(b) != nil {
				cut = true
				res.late = a.Late
			}
			if !cut {
				ids := b.Column(0).(*array.Int32).Int32Values()
				starts := b.Column(2).(*array.Timestamp).TimestampValues()
				ends := b.Column(3).(*array.Timestamp).TimestampValues()
				for i := range ids {
					res.rows = append(res.rows, fmt.Sprintf("%d@%d-%d", ids[i], starts[i], ends[i]))
				}
			}
			b.Release()
		}
		if br == nil {
			res.late = a.Late
		}
		return res
	}
	for round := 0; round < 12; round++ {
		spec := specs[round%len(specs)]
		mk := func() *Assign {
			return &Assign{Spec: spec, Time: 1, Schema: schema, Hold: true, Delay: int64(r.IntN(8))}
		}
		delay := mk().Delay
		var bs []arrow.RecordBatch
		id, clock := int32(0), int64(0)
		for i := 0; i < 30; i++ {
			var ids []int32
			var ts []int64
			for j := r.IntN(6); j >= 0; j-- {
				clock += int64(r.IntN(4))
				id++
				ids, ts = append(ids, id), append(ts, clock-int64(r.IntN(12))) // out of order, some late
			}
			bs = append(bs, batch(mem, in, ids, ts))
		}
		fresh := func() *Assign { a := mk(); a.Delay = delay; return a }
		want := run(fresh(), bs, nil)
		cut := r.IntN(len(bs) + 1)
		var state bytes.Buffer
		first := fresh()
		head := run(first, bs[:cut], checkpoint.NewBarrier(1, func(o any, write func(io.Writer) error) error {
			if o != any(first) {
				t.Errorf("saved under %T", o)
			}
			return write(&state)
		}))
		again := fresh()
		if err := again.Restore(bytes.NewReader(state.Bytes())); err != nil {
			t.Fatal(err)
		}
		tail := run(again, bs[cut:], nil)
		got := append(head.rows, tail.rows...)
		if !slices.Equal(got, want.rows) || tail.late != want.late {
			t.Fatalf("%s cut at batch %d: %d rows (late %d), want %d (late %d)\n got %v\nwant %v", spec.Kind, cut, len(got), tail.late, len(want.rows), want.late, got, want.rows)
		}
		if err := fresh().Restore(bytes.NewReader(state.Bytes()[:state.Len()/2])); err == nil && state.Len() > 20 {
			t.Error("half the state restored without error")
		}
		for _, b := range bs {
			b.Release()
		}
	}
}
