package connector

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

var benchCSVSchema = types.Schema{{Name: "i", Type: types.INT}, {Name: "s", Type: types.STRING}, {Name: "d", Type: types.DOUBLE}}

// writeBenchCSV writes rows of datagen rows to a new table directory.
func writeBenchCSV(b *testing.B, rows int) string {
	dir := filepath.Join(b.TempDir(), "t")
	mem := memory.NewGoAllocator()
	src, err := OpenSource("src", benchCSVSchema, map[string]string{"connector": "datagen", "number-of-rows": "1000000000",
		"fields.s.length": "10", "fields.d.min": "0", "fields.d.max": "1000"}, 8192, mem)
	if err != nil {
		b.Fatal(err)
	}
	sink, err := OpenSink("t", benchCSVSchema, map[string]string{"connector": "filesystem", "path": dir, "format": "csv"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	for n := 0; n < rows; {
		batch, err := src.Next(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if err := sink.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		n += int(batch.NumRows())
		batch.Release()
	}
	if err := sink.Commit(); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkCSVWrite writes batches of an INT, a STRING and a DOUBLE column
// to a part file.
func BenchmarkCSVWrite(b *testing.B) {
	mem := memory.NewGoAllocator()
	src, err := OpenSource("src", benchCSVSchema, map[string]string{"connector": "datagen", "number-of-rows": "8192",
		"fields.s.length": "10", "fields.d.min": "0", "fields.d.max": "1000"}, 8192, mem)
	if err != nil {
		b.Fatal(err)
	}
	batch, err := src.Next(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer batch.Release()
	sink, err := OpenSink("t", benchCSVSchema, map[string]string{"connector": "filesystem", "path": b.TempDir(), "format": "csv"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	rows := int64(0)
	for b.Loop() {
		if err := sink.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		rows += batch.NumRows()
	}
	if err := sink.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds()/1e6, "Mrows/s")
}

// BenchmarkCSVRead reads 200,000 rows of the same columns.
func BenchmarkCSVRead(b *testing.B) {
	const rows = 200_000
	dir := writeBenchCSV(b, rows)
	mem := memory.NewGoAllocator()
	total := int64(0)
	for b.Loop() {
		src, err := OpenSource("t", benchCSVSchema, map[string]string{"connector": "filesystem", "path": dir, "format": "csv"}, 8192, mem)
		if err != nil {
			b.Fatal(err)
		}
		for {
			batch, err := src.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			total += batch.NumRows()
			batch.Release()
		}
		src.Close()
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds()/1e6, "Mrows/s")
}
