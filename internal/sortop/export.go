package sortop

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// Order returns the row numbers 0..rows-1 of cols sorted by keys (columns
// of cols), equal rows in input order: the sort of ORDER BY, for operators
// that sort on their own (OVER windows).
func Order(cols []arrow.Array, keys []Key, rows int) ([]int32, error) {
	if len(keys) == 0 {
		idx := make([]int32, rows)
		for i := range idx {
			idx[i] = int32(i)
		}
		return idx, nil
	}
	return (&Op{Keys: keys}).order(cols, rows)
}

// Comparator compares row i of a with row j of b (arrays of one type) by
// key, as ORDER BY does: NULLs where the key puts them, the direction
// applied.
func Comparator(a, b arrow.Array, key Key) (func(i, j int32) int, error) {
	return comparator2(a, b, key)
}

// Take returns the rows idx of b, a batch of the given schema.
func Take(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, idx []int32, schema types.Schema) (arrow.RecordBatch, error) {
	return take(ctx, mem, b, idx, schema)
}
