package exec

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// BenchmarkLike evaluates s LIKE '%needle%' over a batch of strings with
// the literal-pieces matcher and with the same pattern as a regular
// expression (a _ forces it), and reports how many times faster the first
// is, measured in the same run.
func BenchmarkLike(b *testing.B) {
	mem := memory.DefaultAllocator
	vals := make([]any, 4096)
	for i := range vals {
		vals[i] = fmt.Sprintf("row %d of the batch, with some text around it %d", i, i*7919)
	}
	batch := newBatch(b, mem, types.Schema{{Name: "s", Type: types.STRING}}, vals)
	defer batch.Release()
	s := col(0, "s", types.STRING)
	run := func(pattern string) time.Duration {
		e := call("LIKE", types.BOOLEAN, s, lit(pattern, types.STRING.NotNull()))
		start := time.Now()
		for range b.N {
			a, err := Eval(mem, e, batch)
			if err != nil {
				b.Fatal(err)
			}
			a.Release()
		}
		return time.Since(start)
	}
	b.ResetTimer()
	fast := run("%around it 7%")
	slow := run("%around_it 7%")
	b.ReportMetric(float64(slow)/float64(fast), "x-faster-than-regexp")
}
