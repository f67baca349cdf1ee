package window

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkSession runs 16 batches of 8192 rows (event times a millisecond
// apart, jittered by up to 50 ms, over 1000 partition keys) through
// SESSION(gap) beside TUMBLE(1 s) holding the same rows until the
// watermark (delay 100 ms), and reports rows per second (wall clock) and
// the process's CPU nanoseconds per row (the machine may be shared).
func BenchmarkSession(b *testing.B) {
	mem := memory.DefaultAllocator
	const batches, rows, keys = 16, 8192, 1000
	r := rand.New(rand.NewPCG(1, 2))
	var input []arrow.RecordBatch
	for k := 0; k < batches; k++ {
		rs := make([]sessionRow, rows)
		for i := range rs {
			n := k*rows + i
			rs[i] = sessionRow{id: int32(n), key: fmt.Sprint("k", r.IntN(keys)), ts: int64(n) - int64(r.IntN(50))}
		}
		input = append(input, sessionBatch(mem, rs))
	}
	run := func(b *testing.B, mk func() *Assign) {
		cpu0 := cpuTime()
		for n := 0; n < b.N; n++ {
			a := mk()
			inc := make(chan arrow.RecordBatch, batches)
			for _, x := range input {
				x.Retain()
				inc <- x
			}
			close(inc)
			out := make(chan arrow.RecordBatch, batches+1)
			if err := a.Run(context.Background(), mem, inc, out); err != nil {
				b.Fatal(err)
			}
			close(out)
			for x := range out {
				x.Release()
			}
		}
		b.ReportMetric(float64(b.N*batches*rows)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*batches*rows), "cpu-ns/row")
	}
	b.Run("tumble", func(b *testing.B) {
		run(b, func() *Assign {
			return &Assign{Spec: Spec{Kind: Tumble, Size: 1000}, Time: 2, Schema: sessionSchema(), Hold: true, Delay: 100}
		})
	})
	for _, gap := range []int64{500, 5000} {
		b.Run(fmt.Sprintf("session_gap_%dms", gap), func(b *testing.B) {
			run(b, func() *Assign {
				return &Assign{Spec: Spec{Kind: Session, Size: gap}, Time: 2, Schema: sessionSchema(), Hold: true, Delay: 100, Keys: []int{1}}
			})
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
