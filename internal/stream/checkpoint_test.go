package stream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/checkpoint"
	"github.com/weir-dev/weir/internal/types"
)

type checkpointedOp interface {
	Run(context.Context, memory.Allocator, <-chan arrow.RecordBatch, chan<- arrow.RecordBatch) error
	checkpoint.Operator
}

// runUntilBarrier runs op over batches followed by a barrier and returns
// the rows it sent before the barrier and the state it saved; what it
// sends after the barrier (at the end of its input) is what a crash
// loses, and is dropped.
func runUntilBarrier(t *testing.T, op checkpointedOp, mem memory.Allocator, batches []arrow.RecordBatch) ([]string, []byte) {
	t.Helper()
	var state bytes.Buffer
	saved := 0
	br := checkpoint.NewBarrier(1, func(o any, write func(io.Writer) error) error {
		if o != any(op) {
			t.Errorf("state saved under %T, not the operator", o)
		}
		saved++
		return write(&state)
	})
	in := make(chan arrow.RecordBatch, len(batches)+1)
	for _, b := range batches {
		b.Retain()
		in <- b
	}
	in <- br
	close(in)
	out := make(chan arrow.RecordBatch, 1000)
	if err := op.Run(context.Background(), mem, in, out); err != nil {
		t.Fatal(err)
	}
	close(out)
	var before []arrow.RecordBatch
	found := false
	for b := range out {
		if checkpoint.IsBarrier(b) != nil {
			found = true
		}
		if found {
			b.Release()
			continue
		}
		before = append(before, b)
	}
	if !found || saved != 1 {
		t.Fatalf("barrier forwarded %v, state saved %d times", found, saved)
	}
	return rowsOf(before), state.Bytes()
}

// rowsOf formats rows as run does, releasing the batches.
func rowsOf(bs []arrow.RecordBatch) []string {
	var rows []string
	for _, b := range bs {
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

// checkRestore compares, for random cut points, an uninterrupted run of
// mk()'s operator over batches with a run cut at a barrier, restored into
// a new operator from the state saved there and given the rest.
func checkRestore(t *testing.T, mk func() checkpointedOp, batches []arrow.RecordBatch, r *rand.Rand) {
	t.Helper()
	mem := memory.NewGoAllocator()
	retainAll := func(bs []arrow.RecordBatch) []arrow.RecordBatch {
		for _, b := range bs {
			b.Retain()
		}
		return bs
	}
	want := run(t, mk(), mem, retainAll(batches)...)
	cuts := []int{0, len(batches)}
	for i := 0; i < 6; i++ {
		cuts = append(cuts, r.IntN(len(batches)+1))
	}
	for _, cut := range cuts {
		head, state := runUntilBarrier(t, mk(), mem, batches[:cut])
		op := mk()
		if err := op.Restore(bytes.NewReader(state)); err != nil {
			t.Fatalf("cut at batch %d: restore: %v", cut, err)
		}
		tail := run(t, op, mem, retainAll(batches[cut:])...)
		got := append(head, tail...)
		if !slices.Equal(got, want) {
			t.Fatalf("cut at batch %d of %d: restored run differs\n got %d rows: %v\nwant %d rows: %v", cut, len(batches), len(got), clipRows(got), len(want), clipRows(want))
		}
		// Truncated state: an error, not a panic.
		if len(state) > 8 {
			if err := mk().Restore(bytes.NewReader(state[:len(state)/2])); err == nil {
				t.Errorf("cut at batch %d: half the state restored without error", cut)
			}
		}
	}
}

func clipRows(rows []string) []string {
	if len(rows) > 30 {
		return append(rows[:30:30], "...")
	}
	return rows
}

// randomChangelog gives batches of (k, v) rows with row kinds: insertions
// and retractions of earlier rows, as an updating input has.
func randomChangelog(r *rand.Rand, mem memory.Allocator, n int) []arrow.RecordBatch {
	var live [][2]int32
	var out []arrow.RecordBatch
	for i := 0; i < n; i++ {
		var ks, vs []int32
		var kinds []changelog.Kind
		for j := r.IntN(30); j >= 0; j-- {
			if len(live) > 0 && r.IntN(3) == 0 {
				x := r.IntN(len(live))
				row := live[x]
				live = append(live[:x], live[x+1:]...)
				ks, vs = append(ks, row[0]), append(vs, row[1])
				kinds = append(kinds, []changelog.Kind{changelog.UpdateBefore, changelog.Delete}[r.IntN(2)])
				continue
			}
			row := [2]int32{int32(r.IntN(12)), int32(r.IntN(50)) - 5} // < 0: NULL
			live = append(live, row)
			ks, vs = append(ks, row[0]), append(vs, row[1])
			kinds = append(kinds, []changelog.Kind{changelog.Insert, changelog.UpdateAfter}[r.IntN(2)])
		}
		out = append(out, batch(mem, ks, vs, kinds))
	}
	return out
}

// TestGroupAggRestore: a GroupAgg restored from a checkpoint taken at a
// random batch emits what the uninterrupted run emits after it, for every
// accumulator over a random changelog (with retractions), and a global
// aggregation.
func TestGroupAggRestore(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	mem := memory.NewGoAllocator()
	v := func(f aggregate.Func, in, out types.T, distinct bool, label string) aggregate.Spec {
		return aggregate.Spec{Func: f, Arg: 1, In: in, Out: out, Distinct: distinct, Label: label}
	}
	aggs := []aggregate.Spec{
		{Func: aggregate.CountStar, Out: types.BIGINT.NotNull(), Label: "COUNT(*)"},
		v(aggregate.Count, types.INT, types.BIGINT.NotNull(), false, "COUNT(v)"),
		v(aggregate.Sum, types.INT, types.INT, false, "SUM(v)"),
		v(aggregate.Avg, types.INT, types.INT, false, "AVG(v)"),
		v(aggregate.Min, types.INT, types.INT, false, "MIN(v)"),
		v(aggregate.Max, types.INT, types.INT, false, "MAX(v)"),
		v(aggregate.Count, types.INT, types.BIGINT.NotNull(), true, "COUNT(DISTINCT v)"),
		v(aggregate.Sum, types.INT, types.INT, true, "SUM(DISTINCT v)"),
		v(aggregate.VarPop, types.INT, types.INT, false, "VAR_POP(v)"),
	}
	schema := types.Schema{{Name: "k", Type: types.INT.NotNull()}}
	for _, a := range aggs {
		schema = append(schema, types.Field{Name: a.Label, Type: a.Out})
	}
	for round := 0; round < 3; round++ {
		batches := randomChangelog(r, mem, 40)
		checkRestore(t, func() checkpointedOp {
			return &GroupAgg{Keys: []int{0}, Aggs: aggs, Schema: schema, Retracting: true, Name: "GroupAggregate"}
		}, batches, r)
		checkRestore(t, func() checkpointedOp {
			return &GroupAgg{Aggs: aggs, Schema: schema[1:], Retracting: true, Name: "GroupAggregate"}
		}, batches, r)
		for _, b := range batches {
			b.Release()
		}
	}
	// Insert-only input: the accumulators that need it.
	ins := []aggregate.Spec{
		v(aggregate.Min, types.INT, types.INT, false, "MIN(v)"),
		v(aggregate.FirstValue, types.INT, types.INT, false, "FIRST_VALUE(v)"),
		v(aggregate.LastValue, types.INT, types.INT, false, "LAST_VALUE(v)"),
		v(aggregate.Sum, types.INT, types.DOUBLE, false, "SUM(v)"),
	}
	var batches []arrow.RecordBatch
	for i := 0; i < 30; i++ {
		var ks, vs []int32
		for j := r.IntN(20); j >= 0; j-- {
			ks, vs = append(ks, int32(r.IntN(8))), append(vs, int32(r.IntN(40))-3)
		}
		batches = append(batches, batch(mem, ks, vs, nil))
	}
	ins[3].In = types.INT
	ischema := types.Schema{{Name: "k", Type: types.INT.NotNull()}}
	for _, a := range ins[:3] {
		ischema = append(ischema, types.Field{Name: a.Label, Type: a.Out})
	}
	checkRestore(t, func() checkpointedOp {
		return &GroupAgg{Keys: []int{0}, Aggs: ins[:3], Schema: ischema, Name: "GroupAggregate"}
	}, batches, r)
}

// TestJoinRestore: a streaming join cut at aligned barriers (at random
// batches of each input) and restored emits, with what it emitted before,
// the rows of an uninterrupted run.
func TestJoinRestore(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	mem := memory.NewGoAllocator()
	schema := types.Schema{{Name: "k", Type: types.INT.NotNull()}, {Name: "v", Type: types.INT}, {Name: "k2", Type: types.INT.NotNull()}, {Name: "v2", Type: types.INT}}
	mk := func() *Join {
		return &Join{LeftKeys: []int{0}, RightKeys: []int{0}, LeftWidth: 2, Schema: schema, Retracting: true, Text: "k = k2"}
	}
	runJoin := func(op *Join, left, right []arrow.RecordBatch, br *checkpoint.Barrier) (rows []string) {
		feed := func(bs []arrow.RecordBatch) chan arrow.RecordBatch {
			ch := make(chan arrow.RecordBatch, len(bs)+1)
			for _, b := range bs {
				b.Retain()
				ch <- b
			}
			if br != nil {
				ch <- br
			}
			close(ch)
			return ch
		}
		out := make(chan arrow.RecordBatch, 10000)
		if err := op.Run(context.Background(), mem, feed(left), feed(right), out); err != nil {
			t.Fatal(err)
		}
		close(out)
		var before []arrow.RecordBatch
		seen := false
		for b := range out {
			if checkpoint.IsBarrier(b) != nil {
				seen = true
			}
			if seen {
				b.Release()
				continue
			}
			before = append(before, b)
		}
		if br != nil && !seen {
			t.Fatal("barrier not forwarded")
		}
		rows = rowsOf(before)
		slices.Sort(rows)
		return rows
	}
	for round := 0; round < 8; round++ {
		left, right := randomChangelog(r, mem, 15), randomChangelog(r, mem, 15)
		want := runJoin(mk(), left, right, nil)
		cl, cr := r.IntN(len(left)+1), r.IntN(len(right)+1)
		var state bytes.Buffer
		op := mk()
		br := checkpoint.NewBarrier(1, func(o any, write func(io.Writer) error) error {
			if o != any(op) {
				t.Errorf("saved under %T", o)
			}
			return write(&state)
		})
		head := runJoin(op, left[:cl], right[:cr], br)
		again := mk()
		if err := again.Restore(bytes.NewReader(state.Bytes())); err != nil {
			t.Fatal(err)
		}
		tail := runJoin(again, left[cl:], right[cr:], nil)
		// The inputs interleave as they come, so the changelogs may
		// differ; what they amount to may not.
		got, wantNet := net(append(head, tail...)), net(want)
		if !slices.Equal(got, wantNet) {
			t.Fatalf("cut at %d/%d batches: %d rows, want %d", cl, cr, len(got), len(wantNet))
		}
	}
}

// net applies a changelog of rows "<kind>[fields]" and returns the rows
// left, sorted.
func net(rows []string) []string {
	count := map[string]int{}
	for _, r := range rows {
		i := strings.IndexByte(r, '[')
		if r[0] == '+' {
			count[r[i:]]++
		} else {
			count[r[i:]]--
		}
	}
	var out []string
	for r, n := range count {
		for ; n > 0; n-- {
			out = append(out, r)
		}
		if n < 0 {
			out = append(out, fmt.Sprintf("%s taken back %d times more than added", r, -n))
		}
	}
	slices.Sort(out)
	return out
}

// TestJoinBarrierEndedInput: an input that ended counts as having brought
// the barrier: the join saves its state and passes the barrier on when it
// has come on the other input only, and reads on.
func TestJoinBarrierEndedInput(t *testing.T) {
	mem := memory.NewGoAllocator()
	schema := types.Schema{{Name: "k", Type: types.INT.NotNull()}, {Name: "v", Type: types.INT}, {Name: "k2", Type: types.INT.NotNull()}, {Name: "v2", Type: types.INT}}
	op := &Join{LeftKeys: []int{0}, RightKeys: []int{0}, LeftWidth: 2, Schema: schema, Text: "k = k2"}
	saved := 0
	br := checkpoint.NewBarrier(1, func(any, func(io.Writer) error) error { saved++; return nil })
	left := make(chan arrow.RecordBatch, 3)
	right := make(chan arrow.RecordBatch, 1)
	right <- batch(mem, []int32{1}, []int32{10}, nil)
	close(right)
	left <- br
	left <- batch(mem, []int32{1}, []int32{20}, nil)
	close(left)
	out := make(chan arrow.RecordBatch, 10)
	done := make(chan error, 1)
	go func() { done <- op.Run(context.Background(), mem, left, right, out) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the join waits for a barrier from an input that ended")
	}
	close(out)
	var barriers, rows int
	for b := range out {
		if checkpoint.IsBarrier(b) != nil {
			barriers++
		} else {
			rows += int(b.NumRows())
		}
		b.Release()
	}
	if barriers != 1 || saved != 1 || rows != 1 {
		t.Errorf("barriers %d, saves %d, rows %d; want 1, 1, 1", barriers, saved, rows)
	}
}
