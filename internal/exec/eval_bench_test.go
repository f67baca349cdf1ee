package exec

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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
