package over

import (
	"context"
	"math/rand"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/sortop"
	"github.com/weir-dev/weir/internal/types"
)

// benchInput is 10M rows (k BIGINT in 1M partitions, v BIGINT) in batches
// of 64K rows.
func benchInput(b *testing.B, rows, parts int) ([]arrow.RecordBatch, types.Schema) {
	b.Helper()
	schema := types.Schema{{Name: "k", Type: types.BIGINT.NotNull()}, {Name: "v", Type: types.BIGINT.NotNull()}}
	rng := rand.New(rand.NewSource(1))
	mem := memory.NewGoAllocator()
	var out []arrow.RecordBatch
	for lo := 0; lo < rows; lo += outRows {
		n := min(outRows, rows-lo)
		kb, vb := array.NewInt64Builder(mem), array.NewInt64Builder(mem)
		for i := 0; i < n; i++ {
			kb.Append(int64(rng.Intn(parts)))
			vb.Append(rng.Int63n(1 << 40))
		}
		ka, va := kb.NewArray(), vb.NewArray()
		out = append(out, array.NewRecordBatch(schema.Arrow(), []arrow.Array{ka, va}, int64(n)))
		ka.Release()
		va.Release()
		kb.Release()
		vb.Release()
	}
	return out, schema
}

func runBench(b *testing.B, op *Op, in []arrow.RecordBatch) int64 {
	ch := make(chan arrow.RecordBatch, len(in))
	for _, r := range in {
		r.Retain()
		ch <- r
	}
	close(ch)
	out := make(chan arrow.RecordBatch, 64)
	done := make(chan int64)
	go func() {
		n := int64(0)
		for r := range out {
			n += r.NumRows()
			r.Release()
		}
		done <- n
	}()
	if err := op.Run(context.Background(), memory.NewGoAllocator(), ch, out); err != nil {
		b.Fatal(err)
	}
	close(out)
	return <-done
}

// BenchmarkTop3 is ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) <= 3
// over 10M rows in 1M partitions: the Top-N path, and the full sort it
// replaces, in one run; it reports rows/s of each and their ratio.
func BenchmarkTop3(b *testing.B) {
	rows, parts := benchSize()
	in, schema := benchInput(b, rows, parts)
	defer func() {
		for _, r := range in {
			r.Release()
		}
	}()
	newOp := func(limit int64) *Op {
		return &Op{Schema: schema, Partition: []int{0}, Order: []sortop.Key{{Col: 1, Desc: true}},
			Calls: []Call{{Func: RowNumber, Arg: -1, Default: -1, Out: types.BIGINT.NotNull()}}, Limit: limit}
	}
	// Wall time and the process's CPU time of each path: on a shared
	// machine the CPU time is the steadier figure.
	var topSecs, fullSecs, topCPU, fullCPU float64
	for i := 0; i < b.N; i++ {
		b.ResetTimer()
		c0 := cpuSeconds()
		if n := runBench(b, newOp(3), in); n > int64(3*parts) {
			b.Fatalf("Top-3 kept %d rows", n)
		}
		b.StopTimer()
		topCPU += cpuSeconds() - c0
		topSecs += b.Elapsed().Seconds()
		b.ResetTimer()
		b.StartTimer()
		c0 = cpuSeconds()
		runBench(b, newOp(0), in)
		b.StopTimer()
		fullCPU += cpuSeconds() - c0
		fullSecs += b.Elapsed().Seconds()
	}
	total := float64(rows) * float64(b.N)
	b.ReportMetric(total/topSecs, "top3_rows/s")
	b.ReportMetric(total/fullSecs, "fullsort_rows/s")
	b.ReportMetric(total/topCPU, "top3_rows/cpu-s")
	b.ReportMetric(total/fullCPU, "fullsort_rows/cpu-s")
	b.ReportMetric(fullCPU/topCPU, "cpu_speedup")
}

// cpuSeconds is the user and system CPU time of the process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// benchSize is 10M rows in 1M partitions, or a tenth of that with -short.
func benchSize() (int, int) {
	if testing.Short() {
		return 1_000_000, 100_000
	}
	return 10_000_000, 1_000_000
}
