package connector

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

var benchParquetSchema = types.Schema{{Name: "i", Type: types.INT}, {Name: "s", Type: types.STRING},
	{Name: "d", Type: types.DOUBLE}, {Name: "ts", Type: types.TIMESTAMP(3)}}

// BenchmarkParquet10M writes 10,000,000 datagen rows (INT, STRING(10),
// DOUBLE, TIMESTAMP(3)) to a Parquet part file, reads them back, and reads
// the INT column alone (projection: the others are not decoded). It reports
// rows/s of each; proj/all is the projected read's speed over the full read.
//
//	go test ./internal/connector -run - -bench Parquet10M -benchtime 1x
func BenchmarkParquet10M(b *testing.B) {
	const rows = 10_000_000
	mem := memory.NewGoAllocator()
	ctx := context.Background()
	var write, readAll, readProj time.Duration
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "t")
		opts := map[string]string{"connector": "filesystem", "path": dir, "format": "parquet"}
		src, err := OpenSource("src", benchParquetSchema, map[string]string{"connector": "datagen", "number-of-rows": "10000000",
			"fields.s.length": "10", "fields.d.min": "0", "fields.d.max": "1000"}, 8192, mem)
		if err != nil {
			b.Fatal(err)
		}
		sink, err := OpenSink("t", benchParquetSchema, opts, nil)
		if err != nil {
			b.Fatal(err)
		}
		for {
			batch, err := src.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now() // the sink's time only, not datagen's
			if err := sink.Write(ctx, batch); err != nil {
				b.Fatal(err)
			}
			write += time.Since(start)
			batch.Release()
		}
		start := time.Now()
		if err := sink.Commit(); err != nil {
			b.Fatal(err)
		}
		write += time.Since(start)
		for _, proj := range []bool{false, true} {
			start := time.Now()
			in, err := OpenSource("t", benchParquetSchema, opts, 8192, mem)
			if err != nil {
				b.Fatal(err)
			}
			if proj {
				in.(*parquetSource).project([]int{0})
			}
			n := int64(0)
			for {
				batch, err := in.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n += batch.NumRows()
				batch.Release()
			}
			in.Close()
			if n != rows {
				b.Fatalf("read %d rows, wrote %d", n, rows)
			}
			if proj {
				readProj += time.Since(start)
			} else {
				readAll += time.Since(start)
			}
		}
	}
	mrows := func(d time.Duration) float64 { return float64(b.N) * rows / d.Seconds() / 1e6 }
	b.ReportMetric(mrows(write), "write-Mrows/s")
	b.ReportMetric(mrows(readAll), "read-Mrows/s")
	b.ReportMetric(mrows(readProj), "read1col-Mrows/s")
	b.ReportMetric(readAll.Seconds()/readProj.Seconds(), "proj/all")
}

// BenchmarkParquetPassThrough is bench/parquet.py's job without its Python
// function: 2,000,000 rows (id BIGINT, x DOUBLE, s STRING of 12-16
// characters, k INT; x of 100,003 distinct values) read from a Parquet
// file with id, x and s projected, y = x * 2 + 1 computed, and (id, y, s)
// written to another, in batches of 25,000 rows (Python stages' batch
// size). It reports rows/s; run it with GOMEMLIMIT=96MiB for the engine's
// heap limit (cmd/weir), which makes the garbage collector part of it:
//
//	GOMEMLIMIT=96MiB go test ./internal/connector -run - -bench ParquetPassThrough -benchtime 3x
func BenchmarkParquetPassThrough(b *testing.B) {
	const rows = 2_000_000
	mem := memory.NewGoAllocator()
	ctx := context.Background()
	in := filepath.Join(b.TempDir(), "in")
	inSchema := types.Schema{{Name: "id", Type: types.BIGINT}, {Name: "x", Type: types.DOUBLE},
		{Name: "s", Type: types.STRING}, {Name: "k", Type: types.INT}}
	sink, err := OpenSink("in", inSchema, map[string]string{"connector": "filesystem", "path": in, "format": "parquet"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	for start := 0; start < rows; start += 25_000 {
		id, x := array.NewInt64Builder(mem), array.NewFloat64Builder(mem)
		s, k := array.NewStringBuilder(mem), array.NewInt32Builder(mem)
		for i := start; i < start+25_000; i++ {
			id.Append(int64(i))
			x.Append(float64(i%100_003) / 7)
			s.Append(fmt.Sprintf("name-%d", i*7919%100_000_000))
			k.Append(int32(i % 1000))
		}
		cols := []arrow.Array{id.NewArray(), x.NewArray(), s.NewArray(), k.NewArray()}
		batch := array.NewRecordBatch(inSchema.Arrow(), cols, 25_000)
		if err := sink.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch.Release()
		for _, c := range cols {
			c.Release()
		}
	}
	if err := sink.Commit(); err != nil {
		b.Fatal(err)
	}
	outSchema := types.Schema{{Name: "id", Type: types.BIGINT}, {Name: "y", Type: types.DOUBLE}, {Name: "s", Type: types.STRING}}
	var took time.Duration
	for b.Loop() {
		start := time.Now()
		src, err := OpenSource("in", inSchema, map[string]string{"connector": "filesystem", "path": in, "format": "parquet"}, 25_000, mem)
		if err != nil {
			b.Fatal(err)
		}
		src.(*parquetSource).project([]int{0, 1, 2})
		out, err := OpenSink("out", outSchema, map[string]string{"connector": "filesystem", "path": filepath.Join(b.TempDir(), "out"), "format": "parquet"}, nil)
		if err != nil {
			b.Fatal(err)
		}
		for {
			batch, err := src.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			yb := array.NewFloat64Builder(mem)
			yb.Reserve(int(batch.NumRows()))
			for _, v := range batch.Column(1).(*array.Float64).Float64Values() {
				yb.UnsafeAppend(v*2 + 1)
			}
			y := yb.NewArray()
			yb.Release()
			res := array.NewRecordBatch(outSchema.Arrow(), []arrow.Array{batch.Column(0), y, batch.Column(2)}, batch.NumRows())
			y.Release()
			batch.Release()
			if err := out.Write(ctx, res); err != nil {
				b.Fatal(err)
			}
			res.Release()
		}
		if err := out.Commit(); err != nil {
			b.Fatal(err)
		}
		src.Close()
		took += time.Since(start)
	}
	b.ReportMetric(float64(b.N)*rows/took.Seconds()/1e6, "Mrows/s")
}
