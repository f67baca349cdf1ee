package sortop

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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

// ConcatColumns joins column c of every batch into cols[c] (one batch's
// column is shared, not copied). On error the columns built so far are in
// cols; the caller releases cols either way.
func ConcatColumns(mem memory.Allocator, ncols int, batches []arrow.RecordBatch) ([]arrow.Array, error) {
	cols := make([]arrow.Array, ncols)
	for c := range cols {
		parts := make([]arrow.Array, len(batches))
		for i, b := range batches {
			parts[i] = b.Column(c)
		}
		if len(parts) == 1 {
			parts[0].Retain()
			cols[c] = parts[0]
			continue
		}
		cat, err := array.Concatenate(parts, mem)
		if err != nil {
			return cols, err
		}
		cols[c] = cat
	}
	return cols, nil
}

func releaseAll(cols []arrow.Array) {
	for _, c := range cols {
		if c != nil {
			c.Release()
		}
	}
}
