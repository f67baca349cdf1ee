package job

import (
	"context"
	"os"
	"runtime/debug"
	"sync"

	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/spill"
)

// withBudget returns ctx carrying each operator's share of the job's managed
// memory (taskmanager.memory.managed.size), and the budget, whose Close
// removes the job's spill directory.
func withBudget(ctx context.Context, managed int64, steps []plan.Step) (context.Context, *spill.Budget) {
	b := spill.New(managed)
	n := memoryOperators(steps)
	if n > 0 {
		// Only operators that hold state need the heap to grow; a job of
		// calcs and Python stages keeps the engine's tight default limit,
		// which holds its memory flat under large values.
		limitGoHeap(managed)
	}
	return spill.WithBudget(ctx, b.Share(n)), b
}

// memoryOperators counts the Go operators of steps, the build sides of joins
// included: each may hold state (aggregations, joins, sorts).
func memoryOperators(steps []plan.Step) int {
	n := 0
	for _, st := range steps {
		if st.Op == nil {
			continue
		}
		n++
		if jo, ok := st.Op.(plan.TwoInput); ok {
			n += memoryOperators(jo.Second().Steps)
		}
	}
	return n
}

// limitGoHeap asks Go's garbage collector to keep the heap within what the
// operators may hold (their managed memory, and as much again for the
// copies they make while sorting, hashing and merging) plus room for the
// batches in flight, unless GOMEMLIMIT set a limit. It only ever raises a
// limit it set itself, so that concurrent jobs do not starve one another.
func limitGoHeap(managed int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	want := 2*managed + 96<<20
	heapLimit.Lock()
	defer heapLimit.Unlock()
	if want > heapLimit.set {
		heapLimit.set = want
		debug.SetMemoryLimit(want)
	}
}

var heapLimit struct {
	sync.Mutex
	set int64
}
