package coder

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/weir-dev/weir/internal/types"
)

const benchRows = 4096

type benchCase struct {
	name  string
	types []types.T
	value func(r *rand.Rand, c int) any
}

var benchCases = []benchCase{
	{"INT", []types.T{types.INT}, func(r *rand.Rand, _ int) any { return r.Int32() }},
	{"BIGINT", []types.T{types.BIGINT}, func(r *rand.Rand, _ int) any { return r.Int64() }},
	{"DOUBLE", []types.T{types.DOUBLE}, func(r *rand.Rand, _ int) any { return r.Float64() }},
	{"STRING32", []types.T{types.STRING}, func(r *rand.Rand, _ int) any {
		var b strings.Builder
		for range 32 {
			b.WriteByte(byte('a' + r.IntN(26)))
		}
		return b.String()
	}},
	{"DECIMAL", []types.T{types.DECIMAL(18, 4)}, func(r *rand.Rand, _ int) any {
		return decimal128.FromI64(r.Int64N(1e12) - 5e11)
	}},
	{"TIMESTAMP6", []types.T{types.TIMESTAMP(6)}, func(r *rand.Rand, _ int) any {
		return arrow.Timestamp(1700000000000000 + r.Int64N(1e12))
	}},
	{"ARRAY_INT", []types.T{types.ARRAY(types.INT)}, func(r *rand.Rand, _ int) any {
		out := make([]any, 4)
		for i := range out {
			out[i] = r.Int32()
		}
		return out
	}},
	{"INTx10", func() []types.T {
		ts := make([]types.T, 10)
		for i := range ts {
			ts[i] = types.INT
		}
		return ts
	}(), func(r *rand.Rand, _ int) any { return r.Int32() }},
}

func benchData(b *testing.B, mem memory.Allocator, bc benchCase) ([]arrow.Array, []byte) {
	r := rand.New(rand.NewPCG(1, 1))
	rows := make([][]any, benchRows)
	for i := range rows {
		rows[i] = make([]any, len(bc.types))
		for c := range bc.types {
			rows[i][c] = bc.value(r, c)
		}
	}
	cols := buildColumns(mem, bc.types, rows)
	data, err := NewEncoder(bc.types).Encode(nil, cols, 0, benchRows)
	if err != nil {
		b.Fatal(err)
	}
	return cols, data
}

func BenchmarkEncode(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			mem := memory.NewGoAllocator()
			cols, data := benchData(b, mem, bc)
			defer releaseAll(cols)
			enc := NewEncoder(bc.types)
			buf := make([]byte, 0, len(data))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				var err error
				if buf, err = enc.Encode(buf[:0], cols, 0, benchRows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			mem := memory.NewGoAllocator()
			cols, data := benchData(b, mem, bc)
			releaseAll(cols)
			dec := NewDecoder(mem, bc.types)
			defer dec.Release()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := dec.Decode(data); err != nil {
					b.Fatal(err)
				}
				releaseAll(dec.NewArrays())
			}
			b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
