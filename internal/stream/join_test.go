package stream

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/changelog"
	"github.com/weir-dev/weir/internal/types"
)

// TestStreamingJoin: rows of either side join the other side's rows so far;
// a retraction emits -D for each match; NULL keys (here none) never match;
// the result, materialized, is the inner join of what is left on each side.
func TestStreamingJoin(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	I, D := changelog.Insert, changelog.Delete
	schema := types.Schema{{Name: "k", Type: types.INT.NotNull()}, {Name: "v", Type: types.INT},
		{Name: "k0", Type: types.INT.NotNull()}, {Name: "w", Type: types.INT}}
	op := &Join{LeftKeys: []int{0}, RightKeys: []int{0}, LeftWidth: 2, Schema: schema, Retracting: true}
	left, right := make(chan arrow.RecordBatch), make(chan arrow.RecordBatch)
	out := make(chan arrow.RecordBatch, 100)
	done := make(chan error, 1)
	go func() { done <- op.Run(context.Background(), mem, left, right, out) }()
	// Send in a fixed interleaving: each send completes before the next.
	left <- batch(mem, []int32{1, 2}, []int32{10, 20}, []changelog.Kind{I, I})
	right <- batch(mem, []int32{1, 1, 3}, []int32{100, 101, 300}, []changelog.Kind{I, I, I})
	left <- batch(mem, []int32{1, 3}, []int32{10, 30}, []changelog.Kind{D, I})
	right <- batch(mem, []int32{2}, []int32{200}, []changelog.Kind{I})
	close(left)
	close(right)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(out)
	var got []string
	for b := range out {
		kinds := changelog.Kinds(b)
		for r := 0; r < int(b.NumRows()); r++ {
			var f []string
			for c := 0; c < changelog.Data(b); c++ {
				f = append(f, b.Column(c).ValueStr(r))
			}
			got = append(got, changelog.At(kinds, r).String()+"["+strings.Join(f, ", ")+"]")
		}
		b.Release()
	}
	// The right rows of one key come in arrival order; the batches'
	// order is fixed by the unbuffered sends.
	want := []string{
		"+I[1, 10, 1, 100]", "+I[1, 10, 1, 101]",
		"-D[1, 10, 1, 100]", "-D[1, 10, 1, 101]", "+I[3, 30, 3, 300]",
		"+I[2, 20, 2, 200]",
	}
	sort.Strings(got)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}
