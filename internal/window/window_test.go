package window

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// bruteWindows enumerates the windows holding ts from their definition.
func bruteWindows(s Spec, ts int64) [][2]int64 {
	var out [][2]int64
	step := s.Size
	if s.Kind == Hop {
		step = s.Step
	}
	for k := int64(-1000); k <= 1000; k++ {
		start := s.Offset + k*step
		switch s.Kind {
		case Tumble, Hop:
			if start <= ts && ts < start+s.Size {
				out = append(out, [2]int64{start, start + s.Size})
			}
		case Cumulate:
			if start <= ts && ts < start+s.Size {
				for end := start + s.Step; end <= start+s.Size; end += s.Step {
					if ts < end {
						out = append(out, [2]int64{start, end})
					}
				}
			}
		}
	}
	return out
}

func TestWindowsAgainstDefinition(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		step := int64(1 + r.Intn(7))
		s := Spec{Kind: Kind(r.Intn(3)), Step: step, Size: step * int64(1+r.Intn(5)), Offset: int64(r.Intn(21) - 10)}
		ts := int64(r.Intn(400) - 200)
		var got [][2]int64
		s.Windows(ts, func(a, b int64) { got = append(got, [2]int64{a, b}) })
		want := bruteWindows(s, ts)
		cmp := func(x, y [2]int64) int {
			if x[0] != y[0] {
				return int(x[0] - y[0])
			}
			return int(x[1] - y[1])
		}
		slices.SortFunc(got, cmp)
		slices.SortFunc(want, cmp)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%+v at %d: got %v, want %v", s, ts, got, want)
		}
	}
}

func TestSpecCheck(t *testing.T) {
	for _, s := range []Spec{{Kind: Tumble}, {Kind: Hop, Size: 10, Step: 3}, {Kind: Cumulate, Size: 10, Step: 0}} {
		if s.Check(true) == nil {
			t.Errorf("%+v: no error", s)
		}
	}
}

func batch(mem memory.Allocator, schema types.Schema, ids []int32, ts []int64) arrow.RecordBatch {
	ib := array.NewInt32Builder(mem)
	ib.AppendValues(ids, nil)
	tb := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Millisecond})
	for _, v := range ts {
		tb.Append(arrow.Timestamp(v))
	}
	ia, ta := ib.NewArray(), tb.NewArray()
	defer ia.Release()
	defer ta.Release()
	return array.NewRecordBatch(schema.Arrow(), []arrow.Array{ia, ta}, int64(len(ids)))
}

// TestHoldDropsLateRows feeds out-of-order rows in two batches: windows
// leave whole once the watermark passes their end, a row of a window that
// has fired is dropped, and the rest fire at the end of the input.
func TestHoldDropsLateRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	in := types.Schema{{Name: "id", Type: types.INT}, {Name: "ts", Type: types.TIMESTAMP(3)}}
	schema := append(append(types.Schema(nil), in...),
		types.Field{Name: "window_start", Type: ColumnType}, types.Field{Name: "window_end", Type: ColumnType}, types.Field{Name: "window_time", Type: ColumnType})
	a := &Assign{Spec: Spec{Kind: Tumble, Size: 10}, Time: 1, Schema: schema, Hold: true, Delay: 5}
	inc := make(chan arrow.RecordBatch, 2)
	inc <- batch(mem, in, []int32{1, 2, 3}, []int64{1, 12, 5})  // wm 7 after id 2: nothing fires
	inc <- batch(mem, in, []int32{4, 5, 6}, []int64{3, 25, 15}) // id 4 in time; wm 20 after id 5: id 6 is late
	close(inc)
	out := make(chan arrow.RecordBatch, 10)
	if err := a.Run(context.Background(), mem, inc, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var got []string
	for b := range out {
		ids := b.Column(0).(*array.Int32).Int32Values()
		ends := b.Column(3).(*array.Timestamp).TimestampValues()
		var part []string
		for i := range ids {
			part = append(part, fmt.Sprintf("%d@%d", ids[i], ends[i]))
		}
		got = append(got, fmt.Sprint(part))
		b.Release()
	}
	want := []string{"[1@10 2@20 3@10 4@10]", "[5@30]"}
	if fmt.Sprint(got) != fmt.Sprint(want) || a.Late != 1 {
		t.Fatalf("got %v (late %d), want %v (late 1)", got, a.Late, want)
	}
}
