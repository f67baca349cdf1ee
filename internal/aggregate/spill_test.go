package aggregate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/spill"
	"github.com/weir-dev/weir/internal/types"
)

var spillInput = types.Schema{{Name: "k1", Type: types.INT}, {Name: "k2", Type: types.STRING},
	{Name: "v", Type: types.BIGINT}, {Name: "s", Type: types.STRING}, {Name: "f", Type: types.BOOLEAN}}

func spillBatches(rng *rand.Rand, mem memory.Allocator, rows, keys int) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	for rows > 0 {
		n := min(rows, 1+rng.IntN(4000))
		rows -= n
		rb := array.NewRecordBuilder(mem, spillInput.Arrow())
		for range n {
			if rng.IntN(50) == 0 {
				rb.Field(0).AppendNull()
			} else {
				rb.Field(0).(*array.Int32Builder).Append(int32(rng.IntN(keys)))
			}
			if rng.IntN(50) == 0 {
				rb.Field(1).AppendNull()
			} else {
				rb.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("key-%d", rng.IntN(keys)))
			}
			if rng.IntN(10) == 0 {
				rb.Field(2).AppendNull()
			} else {
				rb.Field(2).(*array.Int64Builder).Append(rng.Int64N(1000) - 500)
			}
			rb.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("s%d", rng.IntN(100)))
			rb.Field(4).(*array.BooleanBuilder).Append(rng.IntN(2) == 0)
		}
		out = append(out, rb.NewRecordBatch())
		rb.Release()
	}
	return out
}

// groupRows runs op under ctx over copies of batches and returns its rows
// rendered, sorted.
func groupRows(t *testing.T, ctx context.Context, op *Op, mem memory.Allocator, batches []arrow.RecordBatch) []string {
	t.Helper()
	in := make(chan arrow.RecordBatch, len(batches))
	for _, b := range batches {
		b.Retain()
		in <- b
	}
	close(in)
	out := make(chan arrow.RecordBatch, 16)
	errc := make(chan error, 1)
	go func() { errc <- op.Run(ctx, mem, in, out); close(out) }()
	var rows []string
	for b := range out {
		for r := 0; r < int(b.NumRows()); r++ {
			var sb strings.Builder
			for _, c := range b.Columns() {
				sb.WriteString(c.ValueStr(r))
				sb.WriteByte('|')
			}
			rows = append(rows, sb.String())
		}
		b.Release()
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	slices.Sort(rows)
	return rows
}

// TestSpillAgainstInMemory aggregates a few MB of random rows under a
// budget far below their groups (the rows of new keys spill, partitions
// spill again) and without one, with every kind of aggregate, the
// order-sensitive and DISTINCT ones included, and compares the results.
func TestSpillAgainstInMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial, keys := range [][]int{{0}, {1}, {0, 1}} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		batches := spillBatches(rng, mem, 30_000, 3000+rng.IntN(10_000))
		op := &Op{Keys: keys}
		for _, k := range keys {
			op.Schema = append(op.Schema, spillInput[k])
		}
		add := func(s Spec) {
			in := spillInput[s.Arg].Type
			if s.Func == CountStar {
				in = types.BIGINT
			}
			out, err := ResultType(s.Func, in, false)
			if err != nil {
				t.Fatal(err)
			}
			s.In, s.Out, s.Label = in, out, s.Func.String()
			op.Aggs = append(op.Aggs, s)
			op.Schema = append(op.Schema, types.Field{Name: fmt.Sprintf("a%d", len(op.Aggs)), Type: out})
		}
		add(Spec{Func: CountStar})
		add(Spec{Func: Count, Arg: 2})
		add(Spec{Func: Sum, Arg: 2})
		add(Spec{Func: Avg, Arg: 2})
		add(Spec{Func: Min, Arg: 3})
		add(Spec{Func: Max, Arg: 2})
		add(Spec{Func: FirstValue, Arg: 3})
		add(Spec{Func: LastValue, Arg: 2})
		add(Spec{Func: ListAgg, Arg: 3, Separator: ","})
		add(Spec{Func: Count, Arg: 2, Distinct: true})
		add(Spec{Func: Sum, Arg: 2, Filter: 4, HasFilter: true})
		add(Spec{Func: VarSamp, Arg: 2})
		add(Spec{Func: Collect, Arg: 2})
		want := groupRows(t, context.Background(), op, mem, batches)
		budget := spill.New(128 << 10)
		got := groupRows(t, spill.WithBudget(context.Background(), budget), op, mem, batches)
		if budget.Files() < aggParts {
			t.Errorf("trial %d: %d spill files, want at least %d", trial, budget.Files(), aggParts)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: %d groups with spilling, %d in memory", trial, len(got), len(want))
		}
		budget.Close()
		for _, b := range batches {
			b.Release()
		}
		mem.AssertSize(t, 0)
	}
}
