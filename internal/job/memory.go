package job

import (
	"context"

	"github.com/weir-dev/weir/internal/plan"
	"github.com/weir-dev/weir/internal/spill"
)

// withBudget returns ctx carrying each operator's share of the job's managed
// memory (taskmanager.memory.managed.size), and the budget, whose Close
// removes the job's spill directory.
func withBudget(ctx context.Context, managed int64, steps []plan.Step) (context.Context, *spill.Budget) {
	b := spill.New(managed)
	return spill.WithBudget(ctx, b.Share(memoryOperators(steps))), b
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
