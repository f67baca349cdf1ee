package sortop

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/spill"
	"github.com/weir-dev/weir/internal/types"
)

var spillSchema = types.Schema{{Name: "i", Type: types.INT}, {Name: "s", Type: types.STRING},
	{Name: "d", Type: types.DOUBLE}, {Name: "id", Type: types.BIGINT.NotNull()}}

// randomBatches makes rows batches of random rows: few distinct values (many
// ties), NULLs, NaN, -0.0 and strings with zero bytes; id numbers the rows.
func randomBatches(rng *rand.Rand, mem memory.Allocator, rows int) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	id := int64(0)
	for id < int64(rows) {
		n := min(1+rng.IntN(5000), rows-int(id))
		rb := array.NewRecordBuilder(mem, spillSchema.Arrow())
		ib := rb.Field(0).(*array.Int32Builder)
		sb := rb.Field(1).(*array.StringBuilder)
		db := rb.Field(2).(*array.Float64Builder)
		idb := rb.Field(3).(*array.Int64Builder)
		for range n {
			if rng.IntN(10) == 0 {
				ib.AppendNull()
			} else {
				ib.Append(int32(rng.IntN(40)) - 20)
			}
			switch rng.IntN(12) {
			case 0:
				sb.AppendNull()
			case 1:
				sb.Append("a\x00b")
			default:
				sb.Append(string([]byte{byte('a' + rng.IntN(4)), byte('a' + rng.IntN(4))})[:1+rng.IntN(2)])
			}
			switch rng.IntN(20) {
			case 0:
				db.AppendNull()
			case 1:
				db.Append(math.NaN())
			case 2:
				db.Append(math.Copysign(0, -1))
			default:
				db.Append(float64(rng.IntN(7)) - 3)
			}
			idb.Append(id)
			id++
		}
		out = append(out, rb.NewRecordBatch())
		rb.Release()
	}
	return out
}

// run sorts the batches (retained) under ctx and returns the id column of
// the output, in order.
func runIDs(t *testing.T, ctx context.Context, op *Op, mem memory.Allocator, batches []arrow.RecordBatch) []int64 {
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
	var ids []int64
	for b := range out {
		ids = append(ids, b.Column(3).(*array.Int64).Int64Values()...)
		b.Release()
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestExternalAgainstInMemory sorts a few MB of random rows under a 128 KB
// budget (many runs, several merge passes with a small fan-in) and without a budget, by random
// keys, directions, NULL placements, offsets and limits: the spilled sort
// gives the same rows in the same order, and leaves no file behind.
func TestExternalAgainstInMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 6 {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		batches := randomBatches(rng, mem, 40_000+rng.IntN(40_000))
		var keys []Key
		for _, c := range rng.Perm(3)[:1+rng.IntN(3)] {
			keys = append(keys, Key{Col: c, Desc: rng.IntN(2) == 0, NullsFirst: rng.IntN(2) == 0})
		}
		op := &Op{Keys: keys, Limit: -1, Schema: spillSchema}
		if trial%2 == 1 {
			op.Offset = int64(rng.IntN(1000))
			op.Limit = topNMax + int64(rng.IntN(1000)) // the full sort, not Top-N
		}
		want := runIDs(t, context.Background(), op, mem, batches)
		budget := spill.New(128 << 10)
		if trial%3 == 0 {
			mergeFanIn = 3 // several merge passes
		}
		got := runIDs(t, spill.WithBudget(context.Background(), budget), op, mem, batches)
		mergeFanIn = 64
		if budget.Files() < 8 {
			t.Errorf("trial %d: %d spill files, want many", trial, budget.Files())
		}
		if len(got) != len(want) {
			t.Fatalf("trial %d (%s): %d rows spilled, %d in memory", trial, op, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("trial %d (%s): row %d is id %d spilled, %d in memory", trial, op, i, got[i], want[i])
			}
		}
		budget.Close()
		for _, b := range batches {
			b.Release()
		}
		mem.AssertSize(t, 0)
	}
}
