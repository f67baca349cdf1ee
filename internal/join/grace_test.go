package join

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/spill"
	"github.com/weir-dev/weir/internal/types"
)

// bigBatches is batches with up to 2,000 rows each.
func bigBatches(mem memory.Allocator, rows side, stringKey bool) []arrow.RecordBatch {
	schema := sideSchema(stringKey)
	var out []arrow.RecordBatch
	for len(rows) > 0 {
		n := min(len(rows), 2000)
		bl := array.NewRecordBuilder(mem, schema.Arrow())
		for _, r := range rows[:n] {
			for c, v := range r {
				switch {
				case v == nil:
					bl.Field(c).AppendNull()
				case c == 0 && stringKey:
					bl.Field(c).(*array.StringBuilder).Append(fmt.Sprint(v))
				default:
					bl.Field(c).(*array.Int64Builder).Append(v.(int64))
				}
			}
		}
		out = append(out, bl.NewRecordBatch())
		bl.Release()
		rows = rows[n:]
	}
	return out
}

// joinRows runs op under ctx over copies of l and r and returns its rows
// (the left columns, then the right ones or blanks), sorted.
func joinRows(t *testing.T, ctx context.Context, op *Op, mem memory.Allocator, l, r []arrow.RecordBatch, stringKey bool) []string {
	t.Helper()
	lc, rc := make(chan arrow.RecordBatch, len(l)), make(chan arrow.RecordBatch, len(r))
	for _, b := range l {
		b.Retain()
		lc <- b
	}
	for _, b := range r {
		b.Retain()
		rc <- b
	}
	close(lc)
	close(rc)
	out := make(chan arrow.RecordBatch, 64)
	errc := make(chan error, 1)
	go func() { errc <- op.Run(ctx, mem, lc, rc, out); close(out) }()
	var rows []string
	for b := range out {
		if op.Kind >= Semi {
			wide := withBlank(b)
			b.Release()
			b = wide
		}
		rows = append(rows, rowsOf([]arrow.RecordBatch{b}, stringKey)...)
		b.Release()
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	slices.Sort(rows)
	return rows
}

// TestGraceAgainstInMemory joins a few MB of random rows (NULL keys,
// duplicates, a skewed key) of every kind under a budget far below the build
// side, which splits it into partitions on disk (some split again), and
// compares with the join in memory.
func TestGraceAgainstInMemory(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for _, kind := range []Kind{Inner, Left, Right, Full, Semi, Anti, AntiNull} {
		for trial := range 2 {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			stringKey := trial == 1 && kind < Semi // withBlank renders integer keys only
			nKeys := 1 + trial
			if kind == AntiNull {
				nKeys = 1
			}
			keys := 5_000 + rng.Intn(5_000)
			l, r := randomSide(rng, 5_000+rng.Intn(3_000), keys), randomSide(rng, 8_000+rng.Intn(3_000), keys)
			for i := range 1000 {
				r[i][0], r[i][1] = int64(7), int64(7) // one key far larger than the budget
			}
			if kind == AntiNull && trial == 0 {
				for i := range r {
					if r[i][0] == nil {
						r[i][0] = int64(i)
					}
				}
			}
			schema := append(append(types.Schema{}, sideSchema(stringKey)...), sideSchema(stringKey)...)
			op := &Op{Kind: kind, Schema: schema, LeftWidth: 3}
			if kind >= Semi {
				op.Schema, op.RightSchema = sideSchema(stringKey), sideSchema(stringKey)
			}
			for k := 0; k < nKeys; k++ {
				op.LeftKeys = append(op.LeftKeys, k)
				op.RightKeys = append(op.RightKeys, k)
			}
			if trial == 1 && kind < Semi {
				op.Residual = residualLess
			}
			lb, rb := bigBatches(mem, l, stringKey), bigBatches(mem, r, stringKey)
			want := joinRows(t, context.Background(), op, mem, lb, rb, stringKey)
			budget := spill.New(16 << 10)
			got := joinRows(t, spill.WithBudget(context.Background(), budget), op, mem, lb, rb, stringKey)
			if budget.Files() < graceParts {
				t.Errorf("%s trial %d: %d spill files, want at least %d", kind, trial, budget.Files(), graceParts)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s trial %d: %d rows with spilling, %d in memory", kind, trial, len(got), len(want))
			}
			budget.Close()
			for _, b := range append(lb, rb...) {
				b.Release()
			}
			mem.AssertSize(t, 0)
		}
	}
}
