package join

import (
	"context"
	"flag"

	"github.com/weir-dev/weir/internal/spill"
)

// budget runs the benchmarks under a memory budget, in bytes: e.g.
// -budget=4294967296 takes the bounded path jobs take with all in memory, to
// compare with the unbounded one (no flag); a small one measures spilling.
var budget = flag.Int64("budget", 0, "memory budget of the benchmarked operator, in bytes (0: none)")

func benchContext() context.Context {
	if *budget <= 0 {
		return context.Background()
	}
	return spill.WithBudget(context.Background(), spill.New(*budget))
}
