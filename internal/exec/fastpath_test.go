package exec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// randomValue returns a random value of a primitive numeric type, biased
// towards edge cases.
func randomValue(r *rand.Rand, t types.T, noZero bool) any {
	var i int64
	switch r.IntN(4) {
	case 0:
		i = r.Int64N(7) - 3
	case 1:
		i = []int64{math.MinInt64, math.MaxInt64, math.MinInt32, math.MaxInt32, math.MinInt8, math.MaxInt8, math.MinInt16}[r.IntN(7)]
	default:
		i = int64(r.Uint64())
	}
	if noZero && i == 0 {
		i = 1
	}
	switch t.Kind {
	case types.TinyInt:
		if noZero && int8(i) == 0 {
			i = 3
		}
		return int8(i)
	case types.SmallInt:
		if noZero && int16(i) == 0 {
			i = 3
		}
		return int16(i)
	case types.Int:
		if noZero && int32(i) == 0 {
			i = 3
		}
		return int32(i)
	case types.BigInt:
		return i
	}
	var f float64
	switch r.IntN(5) {
	case 0:
		f = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 1e300, -1e-300, 3.5e38}[r.IntN(8)]
	case 1:
		f = float64(r.IntN(7) - 3)
	default:
		f = (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(20)-10))
	}
	if t.Kind == types.Float {
		return float32(f)
	}
	return f
}

func randomColumn(r *rand.Rand, t types.T, n int, nullRate float64, noZero bool) []any {
	vals := make([]any, n)
	for i := range vals {
		if r.Float64() >= nullRate {
			vals[i] = randomValue(r, t, noZero)
		}
	}
	return vals
}

// TestFastPathMatchesGeneric evaluates arithmetic, comparisons, NEG, ABS and
// casts over random batches with the typed fast paths and with the generic
// value-at-a-time path, and requires the same results and errors.
func TestFastPathMatchesGeneric(t *testing.T) {
	numeric := []types.T{types.TINYINT, types.SMALLINT, types.INT, types.BIGINT, types.FLOAT, types.DOUBLE}
	r := rand.New(rand.NewPCG(1, 2))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fast := evaluator{mem: mem}
	slow := evaluator{mem: mem, generic: true}
	wider := func(a, b types.T) types.T {
		ct, _ := compareType(a, b)
		return ct
	}
	checks, errs := 0, 0
	for iter := 0; iter < 300; iter++ {
		ta, tb := numeric[r.IntN(len(numeric))], numeric[r.IntN(len(numeric))]
		n := r.IntN(70)
		nullRate := []float64{0, 0, 0.1, 0.5, 1}[r.IntN(5)]
		noZero := r.IntN(2) == 0
		schema := types.Schema{{Name: "a", Type: ta}, {Name: "b", Type: tb}}
		full := newBatch(t, mem, schema, randomColumn(r, ta, n+3, nullRate, false), randomColumn(r, tb, n+3, nullRate, noZero))
		off := int64(r.IntN(3))
		b := full.NewSlice(off, off+int64(n))
		full.Release()
		a, bb := col(0, "a", ta), col(1, "b", tb)
		sa, sb := lit(randomValue(r, ta, false), ta), lit(randomValue(r, tb, true), tb)
		rt := wider(ta, tb)
		var es []expr.Expr
		for _, op := range []string{"+", "-", "*", "/", "%"} {
			es = append(es, call(op, rt, a, bb), call(op, rt, a, sb), call(op, rt, sa, bb))
		}
		for _, op := range []string{"=", "<>", "<", "<=", ">", ">="} {
			es = append(es, call(op, types.BOOLEAN, a, bb), call(op, types.BOOLEAN, a, sb), call(op, types.BOOLEAN, sa, bb))
		}
		es = append(es, call("NEG", ta, a), call("ABS", ta, a), call("NEG", rt, a))
		for _, to := range numeric {
			es = append(es, cast(a, to))
		}
		for _, e := range es {
			want, werr := slow.eval(e, batchOf(b))
			got, gerr := fast.eval(e, batchOf(b))
			checks++
			switch {
			case werr != nil || gerr != nil:
				errs++
				if fmt.Sprint(werr) != fmt.Sprint(gerr) {
					t.Errorf("%s over %s, %s: fast error %v, generic error %v", e, ta, tb, gerr, werr)
				}
			default:
				if msg := diffArrays(got, want); msg != "" {
					t.Errorf("%s over %s, %s: %s", e, ta, tb, msg)
				}
			}
			release(got, want)
		}
		b.Release()
	}
	t.Logf("%d expression evaluations compared, %d of them errors", checks, errs)
}

// diffArrays describes the first difference between two arrays, or returns "".
func diffArrays(got, want arrow.Array) string {
	if !arrow.TypeEqual(got.DataType(), want.DataType()) {
		return fmt.Sprintf("type %s, want %s", got.DataType(), want.DataType())
	}
	if got.Len() != want.Len() {
		return fmt.Sprintf("length %d, want %d", got.Len(), want.Len())
	}
	if got.NullN() != want.NullN() {
		return fmt.Sprintf("%d nulls, want %d", got.NullN(), want.NullN())
	}
	for i := 0; i < got.Len(); i++ {
		g, w := valueAt(got, i), valueAt(want, i)
		if !sameValue(g, w) {
			return fmt.Sprintf("row %d = %#v, want %#v", i, g, w)
		}
	}
	return ""
}
