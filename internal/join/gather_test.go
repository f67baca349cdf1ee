package join

import (
	"context"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestTakeFastAgainstTake gathers random rows of sliced columns of every
// width takeFast handles and compares with compute.Take.
func TestTakeFastAgainstTake(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewSource(3))
	i64, i32, f64 := array.NewInt64Builder(mem), array.NewInt32Builder(mem), array.NewFloat64Builder(mem)
	for range 1000 {
		i64.Append(rng.Int63())
		i32.Append(rng.Int31())
		f64.Append(rng.NormFloat64())
	}
	for _, b := range []array.Builder{i64, i32, f64} {
		full := b.NewArray()
		b.Release()
		col := array.NewSlice(full, 100, 900) // an offset
		full.Release()
		idx := make([]int32, 5000)
		for i := range idx {
			idx[i] = int32(rng.Intn(col.Len()))
		}
		got, ok := takeFast(mem, col, idx)
		if !ok {
			t.Fatalf("%s: takeFast declined", col.DataType())
		}
		ia := indexArray(mem, idx)
		want, err := compute.TakeArray(context.Background(), col, ia)
		if err != nil {
			t.Fatal(err)
		}
		if !array.Equal(got, want) {
			t.Errorf("%s: takeFast differs from compute.Take", col.DataType())
		}
		for _, a := range []arrow.Array{got, want, ia, col} {
			a.Release()
		}
	}
}
