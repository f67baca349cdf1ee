package connector

import (
	"context"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// benchDatagen reports the rate at which datagen fills INT batches.
func benchDatagen(b *testing.B, opts map[string]string) {
	opts["connector"] = "datagen"
	mem := memory.NewGoAllocator()
	src, err := OpenSource("src", types.Schema{{Name: "i", Type: types.INT}}, opts, 8192, mem)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	rows := int64(0)
	for b.Loop() {
		batch, err := src.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		rows += batch.NumRows()
		batch.Release()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds()/1e6, "Mrows/s")
}

func BenchmarkDatagenInt(b *testing.B) {
	b.Run("random", func(b *testing.B) { benchDatagen(b, map[string]string{}) })
	b.Run("random-bounded", func(b *testing.B) {
		benchDatagen(b, map[string]string{"fields.i.min": "0", "fields.i.max": "1000"})
	})
	b.Run("sequence", func(b *testing.B) {
		benchDatagen(b, map[string]string{"fields.i.kind": "sequence", "fields.i.start": "-2147483648", "fields.i.end": "2147483647"})
	})
	b.Run("random-nulls", func(b *testing.B) { benchDatagen(b, map[string]string{"fields.i.null-rate": "0.1"}) })
}

// BenchmarkPrint prints batches of an INT, a STRING and a DOUBLE column.
func BenchmarkPrint(b *testing.B) {
	mem := memory.NewGoAllocator()
	schema := types.Schema{{Name: "i", Type: types.INT}, {Name: "s", Type: types.STRING}, {Name: "d", Type: types.DOUBLE}}
	src, err := OpenSource("src", schema, map[string]string{"connector": "datagen", "fields.s.length": "10", "fields.d.min": "0", "fields.d.max": "1000"}, 8192, mem)
	if err != nil {
		b.Fatal(err)
	}
	batch, err := src.Next(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer batch.Release()
	sink, err := OpenSink("t", schema, map[string]string{"connector": "print"}, io.Discard)
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
	sink.Commit()
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds()/1e6, "Mrows/s")
}
