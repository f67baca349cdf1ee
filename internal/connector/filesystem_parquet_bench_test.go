package connector

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

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
