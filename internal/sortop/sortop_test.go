package sortop

import (
	"context"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

type row struct {
	k    int32
	null bool
	id   int64
}

// TestRandomAgainstReference sorts random batches (INT keys with NULLs, an
// id column to see the rows) under every direction, NULL placement, limit and
// offset, through the full sort, the Top-N and the plain limit, and compares
// with slices.SortStableFunc.
func TestRandomAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	schema := types.Schema{{Name: "k", Type: types.INT}, {Name: "id", Type: types.BIGINT.NotNull()}}
	for trial := 0; trial < 60; trial++ {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		var rows []row
		var batches []arrow.RecordBatch
		for b := rng.Intn(5); b >= 0; b-- {
			n := rng.Intn(2000)
			kb, ib := array.NewInt32Builder(mem), array.NewInt64Builder(mem)
			for i := 0; i < n; i++ {
				r := row{k: int32(rng.Intn(100)), null: trial%2 == 0 && rng.Intn(15) == 0, id: int64(len(rows))}
				if r.null {
					kb.AppendNull()
				} else {
					kb.Append(r.k)
				}
				ib.Append(r.id)
				rows = append(rows, r)
			}
			ka, ia := kb.NewArray(), ib.NewArray()
			batches = append(batches, array.NewRecordBatch(schema.Arrow(), []arrow.Array{ka, ia}, int64(n)))
			ka.Release()
			ia.Release()
			kb.Release()
			ib.Release()
		}
		key := Key{Col: 0, Desc: rng.Intn(2) == 0, NullsFirst: rng.Intn(2) == 0}
		op := &Op{Keys: []Key{key}, Limit: -1, Offset: int64(rng.Intn(3) * rng.Intn(50)), Schema: schema, compactSlack: int64(1 + rng.Intn(300))}
		if trial%4 == 2 {
			// Two keys: the generic comparators, not the (key, row) pairs.
			op.Keys = append(op.Keys, Key{Col: 1})
		}
		if trial%3 == 0 {
			op.Limit = int64(rng.Intn(40))
		} else if trial%3 == 1 {
			op.Limit = topNMax + 1 // the full sort
		}
		if trial%10 == 9 {
			op.Keys = nil // plain limit
		}
		want := slices.Clone(rows)
		if op.Keys != nil {
			slices.SortStableFunc(want, func(a, b row) int {
				switch {
				case a.null && b.null:
					return 0
				case a.null == key.NullsFirst && a.null:
					return -1
				case a.null:
					return 1
				case b.null == key.NullsFirst && b.null:
					return 1
				case b.null:
					return -1
				case key.Desc:
					return int(b.k) - int(a.k)
				}
				return int(a.k) - int(b.k)
			})
		}
		want = want[min(len(want), int(op.Offset)):]
		if op.Limit >= 0 {
			want = want[:min(len(want), int(op.Limit))]
		}
		in := make(chan arrow.RecordBatch, len(batches))
		for _, b := range batches {
			in <- b
		}
		close(in)
		out := make(chan arrow.RecordBatch, 1<<12)
		if err := op.Run(context.Background(), mem, in, out); err != nil {
			t.Fatal(err)
		}
		close(out)
		var got []int64
		for b := range out {
			got = append(got, b.Column(1).(*array.Int64).Int64Values()...)
			b.Release()
		}
		var wantIDs []int64
		for _, r := range want {
			wantIDs = append(wantIDs, r.id)
		}
		if !slices.Equal(got, wantIDs) {
			t.Fatalf("trial %d (%s): got %d rows %v..., want %d rows %v...", trial, op, len(got), got[:min(len(got), 10)], len(wantIDs), wantIDs[:min(len(wantIDs), 10)])
		}
		mem.AssertSize(t, 0)
	}
}

// TestJavaDoubleOrder checks NaN above +Infinity and -0.0 below 0.0.
func TestJavaDoubleOrder(t *testing.T) {
	nan, inf, negZero := math.NaN(), math.Inf(1), math.Copysign(0, -1)
	tests := []struct {
		x, y float64
		want int
	}{{1, 2, -1}, {-1, 0, -1}, {inf, nan, -1}, {nan, inf, 1}, {nan, nan, 0}, {negZero, 0, -1}, {2, 2, 0}}
	for _, tt := range tests {
		if got := javaCompare(tt.x, tt.y); got != tt.want {
			t.Errorf("javaCompare(%v, %v) = %d, want %d", tt.x, tt.y, got, tt.want)
		}
	}
}

// TestRadixOrder checks the radix sort against a stable comparison sort on
// keys of every width, with many ties.
func TestRadixOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for _, n := range []int{0, 1, 2, 100, 70000} {
		keys := make([]uint64, n)
		for i := range keys {
			switch rng.Intn(4) {
			case 0:
				keys[i] = rng.Uint64()
			case 1:
				keys[i] = uint64(rng.Intn(5)) << (16 * uint(rng.Intn(4)))
			case 2:
				keys[i] = math.MaxUint64 - uint64(rng.Intn(3))
			default:
				keys[i] = uint64(rng.Intn(70000))
			}
		}
		want := make([]int32, n)
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortStableFunc(want, func(a, b int32) int {
			switch {
			case keys[a] < keys[b]:
				return -1
			case keys[a] > keys[b]:
				return 1
			}
			return 0
		})
		if got := radixOrder(keys); !slices.Equal(got, want) {
			t.Errorf("n=%d: radixOrder differs from a stable sort", n)
		}
	}
	// Keys from values: descending and floats keep Java's order.
	vals := []float64{math.Inf(-1), -1, math.Copysign(0, -1), 0, 1, math.Inf(1), math.NaN()}
	for i := 1; i < len(vals); i++ {
		if floatKey(vals[i-1]) >= floatKey(vals[i]) {
			t.Errorf("floatKey(%v) >= floatKey(%v)", vals[i-1], vals[i])
		}
	}
}
