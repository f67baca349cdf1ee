package stream

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/types"
)

// batch builds a batch of (k INT, v INT) rows, with the row-kind column
// when kinds is not empty.
func batch(mem memory.Allocator, ks, vs []int32, kinds []changelog.Kind) arrow.RecordBatch {
	schema := types.Schema{{Name: "k", Type: types.INT.NotNull()}, {Name: "v", Type: types.INT}}
	kb, vb := array.NewInt32Builder(mem), array.NewInt32Builder(mem)
	defer kb.Release()
	defer vb.Release()
	kb.AppendValues(ks, nil)
	for _, v := range vs {
		if v < 0 {
			vb.AppendNull()
		} else {
			vb.Append(v)
		}
	}
	cols := []arrow.Array{kb.NewArray(), vb.NewArray()}
	if len(kinds) > 0 {
		schema = WithRowKind(schema)
		b := array.NewInt8Builder(mem)
		for _, k := range kinds {
			b.Append(int8(k))
		}
		cols = append(cols, b.NewArray())
		b.Release()
	}
	rec := array.NewRecordBatch(schema.Arrow(), cols, int64(len(ks)))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// run runs op over the batches and returns its output rows as
// "<kind>[k, v, ...]".
func run(t *testing.T, op interface {
	Run(context.Context, memory.Allocator, <-chan arrow.RecordBatch, chan<- arrow.RecordBatch) error
}, mem memory.Allocator, batches ...arrow.RecordBatch) []string {
	t.Helper()
	in := make(chan arrow.RecordBatch, len(batches))
	for _, b := range batches {
		in <- b
	}
	close(in)
	out := make(chan arrow.RecordBatch, 100)
	if err := op.Run(context.Background(), mem, in, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var rows []string
	for b := range out {
		kinds := changelog.Kinds(b)
		for r := 0; r < int(b.NumRows()); r++ {
			var f []string
			for c := 0; c < changelog.Data(b); c++ {
				if b.Column(c).IsNull(r) {
					f = append(f, "null")
				} else {
					f = append(f, b.Column(c).ValueStr(r))
				}
			}
			rows = append(rows, changelog.At(kinds, r).String()+"["+strings.Join(f, ", ")+"]")
		}
		b.Release()
	}
	return rows
}

func sumCount() *GroupAgg {
	return &GroupAgg{
		Keys: []int{0},
		Aggs: []aggregate.Spec{
			{Func: aggregate.Sum, Arg: 1, In: types.INT, Out: types.INT, Label: "SUM(v)"},
			{Func: aggregate.CountStar, Out: types.BIGINT.NotNull(), Label: "COUNT(*)"},
		},
		Schema: types.Schema{{Name: "k", Type: types.INT.NotNull()}, {Name: "s", Type: types.INT}, {Name: "c", Type: types.BIGINT.NotNull()}},
		Name:   "GroupAggregate",
	}
}

// TestGroupAggChangelog: +I for a new group, -U/+U per row that changes it,
// per input row in order, as Flink's GroupAggFunction.
func TestGroupAggChangelog(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	got := run(t, sumCount(), mem,
		batch(mem, []int32{1, 2, 1}, []int32{10, 20, 30}, nil),
		batch(mem, []int32{2}, []int32{-1}, nil))
	want := []string{"+I[1, 10, 1]", "+I[2, 20, 1]", "-U[1, 10, 1]", "+U[1, 40, 2]", "-U[2, 20, 1]", "+U[2, 20, 2]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// TestGroupAggRetraction: retractions update a group, the last one deletes
// it (-D) and a later row starts it again with +I; a retraction of a group
// without state is ignored; an unchanged result emits nothing.
func TestGroupAggRetraction(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	op := &GroupAgg{
		Keys:       []int{0},
		Aggs:       []aggregate.Spec{{Func: aggregate.Max, Arg: 1, In: types.INT, Out: types.INT, Label: "MAX(v)"}},
		Schema:     types.Schema{{Name: "k", Type: types.INT.NotNull()}, {Name: "m", Type: types.INT}},
		Retracting: true,
		Name:       "GroupAggregate",
	}
	I, UB, UA, D := changelog.Insert, changelog.UpdateBefore, changelog.UpdateAfter, changelog.Delete
	got := run(t, op, mem, batch(mem,
		[]int32{9, 1, 1, 1, 1, 1, 1},
		[]int32{5, 3, 7, 2, 7, 3, 4},
		[]changelog.Kind{D, I, I, UA, UB, UB, I}))
	want := []string{
		"+I[1, 3]",             // new group
		"-U[1, 3]", "+U[1, 7]", // 7 is the new max
		// +U 2: max stays 7, nothing
		"-U[1, 7]", "+U[1, 3]", // 7 taken back: max of {3, 2}
		"-U[1, 3]", "+U[1, 2]", // 3 taken back
		"-U[1, 2]", "+U[1, 4]",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	got = run(t, sumCount(), mem,
		batch(mem, []int32{1, 1, 1}, []int32{5, 5, 6}, []changelog.Kind{I, D, I}))
	want = []string{"+I[1, 5, 1]", "-D[1, 5, 1]", "+I[1, 6, 1]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// TestGlobalEmpty: a global aggregation over no rows emits its one row only
// with EmitEmpty.
func TestGlobalEmpty(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	op := sumCount()
	op.Keys, op.Schema = nil, op.Schema[1:]
	if got := run(t, op, mem); len(got) != 0 {
		t.Errorf("without EmitEmpty: %v, want nothing", got)
	}
	op.EmitEmpty = true
	if got := fmt.Sprint(run(t, op, mem)); got != "[+I[null, 0]]" {
		t.Errorf("with EmitEmpty: %s, want [+I[null, 0]]", got)
	}
}

// TestMaterialize applies a changelog and keeps first-insertion order.
func TestMaterialize(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	I, UB, UA, D := changelog.Insert, changelog.UpdateBefore, changelog.UpdateAfter, changelog.Delete
	op := &Materialize{Schema: types.Schema{{Name: "k", Type: types.INT.NotNull()}, {Name: "v", Type: types.INT}}}
	got := run(t, op, mem, batch(mem,
		[]int32{1, 2, 1, 1, 3, 2},
		[]int32{10, 20, 10, 11, -1, 20},
		[]changelog.Kind{I, I, UB, UA, I, D}))
	if fmt.Sprint(got) != "[+I[1, 11] +I[3, null]]" {
		t.Errorf("got %v", got)
	}
	in := make(chan arrow.RecordBatch, 1)
	in <- batch(mem, []int32{1}, []int32{1}, []changelog.Kind{D})
	close(in)
	if err := op.Run(context.Background(), mem, in, make(chan arrow.RecordBatch, 1)); err == nil {
		t.Error("a deletion of a row never inserted: no error")
	}
}
