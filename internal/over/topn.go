package over

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// topN reports whether the Top-N path runs: the rows kept are the first
// Limit ROW_NUMBERs, and every call numbers rows only.
func (o *Op) topN() bool {
	if o.Limit <= 0 || o.Calls[o.TopCall].Func != RowNumber {
		return false
	}
	for _, c := range o.Calls {
		if c.Func != RowNumber {
			return false
		}
	}
	return true
}

func (o *Op) runTopN(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	return fmt.Errorf("over: Top-N not built yet")
}
