package exec

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

const benchRows = 8192

func benchBatch(b *testing.B, mem memory.Allocator, nulls bool) arrow.RecordBatch {
	bld := array.NewInt32Builder(mem)
	defer bld.Release()
	for i := 0; i < benchRows; i++ {
		if nulls && i%10 == 0 {
			bld.AppendNull()
		} else {
			bld.Append(int32(i))
		}
	}
	a := bld.NewArray()
	defer a.Release()
	return array.NewRecordBatch(types.Schema{{Name: "c0", Type: types.INT}}.Arrow(), []arrow.Array{a}, benchRows)
}

func benchEval(b *testing.B, e expr.Expr, nulls, generic bool) {
	mem := memory.NewGoAllocator()
	batch := benchBatch(b, mem, nulls)
	defer batch.Release()
	ev := evaluator{mem: mem, generic: generic}
	b.SetBytes(benchRows * 4)
	b.ResetTimer()
	for b.Loop() {
		out, err := ev.eval(e, batchOf(batch))
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
	b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds()/1e6, "Mrows/s")
}

var c0 = col(0, "c0", types.INT)

// BenchmarkEvalPlusOne evaluates c0 + 1 on INT.
func BenchmarkEvalPlusOne(b *testing.B) {
	e := call("+", types.INT, c0, lit(int32(1), types.INT))
	b.Run("fast", func(b *testing.B) { benchEval(b, e, false, false) })
	b.Run("fast-nulls", func(b *testing.B) { benchEval(b, e, true, false) })
	b.Run("generic", func(b *testing.B) { benchEval(b, e, false, true) })
}

// BenchmarkEvalCompare evaluates c0 < 100 on INT.
func BenchmarkEvalCompare(b *testing.B) {
	e := call("<", types.BOOLEAN, c0, lit(int32(100), types.INT))
	b.Run("fast", func(b *testing.B) { benchEval(b, e, false, false) })
	b.Run("generic", func(b *testing.B) { benchEval(b, e, false, true) })
}

// BenchmarkCalc filters c0 % 2 = 0 and projects c0 * 2.
func BenchmarkCalc(b *testing.B) {
	mem := memory.NewGoAllocator()
	batch := benchBatch(b, mem, false)
	defer batch.Release()
	c := &Calc{
		Filter:      call("=", types.BOOLEAN, call("%", types.INT, c0, lit(int32(2), types.INT)), lit(int32(0), types.INT)),
		Projections: []expr.Expr{call("*", types.INT, c0, lit(int32(2), types.INT))},
		Schema:      types.Schema{{Name: "x", Type: types.INT}},
	}
	b.ResetTimer()
	for b.Loop() {
		out, err := c.Apply(mem, batch)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
	b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds()/1e6, "Mrows/s")
}

// BenchmarkEvalDecimal evaluates CAST(c0 AS DECIMAL(10, 2)) * 1.1 and the
// same plus c0, DECIMAL arithmetic with Flink's result types, on the typed
// 128-bit path and the exact generic one; and a DECIMAL division, which has
// only the exact path.
func BenchmarkEvalDecimal(b *testing.B) {
	d := &expr.Cast{X: c0, T: types.DECIMAL(10, 2)}
	mul := call("*", types.DECIMAL(13, 3), d, lit(decimal128.FromI64(11), types.DECIMAL(2, 1).NotNull()))
	add := call("+", types.DECIMAL(13, 2), d, c0)
	div := call("/", types.DECIMAL(23, 13), d, lit(int32(7), types.INT.NotNull()))
	b.Run("mul/fast", func(b *testing.B) { benchEval(b, mul, true, false) })
	b.Run("mul/generic", func(b *testing.B) { benchEval(b, mul, true, true) })
	b.Run("add/fast", func(b *testing.B) { benchEval(b, add, true, false) })
	b.Run("add/generic", func(b *testing.B) { benchEval(b, add, true, true) })
	b.Run("div", func(b *testing.B) { benchEval(b, div, true, false) })
}
