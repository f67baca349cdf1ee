package aggregate

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/types"
)

// Expand feeds GROUP BY GROUPING SETS, ROLLUP and CUBE: it sends each input
// row once per grouping set, with the key columns outside the set set to
// NULL, and two more columns: the grouping id ($gid, a BIGINT whose bit
// n-1-i is 1 when key i is not in the set, as GROUPING_ID reads it) and the
// set's ordinal ($set, which keeps the groups of equal sets apart). An
// aggregation grouped by the keys, $gid and $set then computes every set.
type Expand struct {
	// Schema is the input's; Keys are its key columns, and Sets list, per
	// set, the positions in Keys of the keys it groups by.
	Schema types.Schema
	Keys   []int
	Sets   [][]int
}

// OutSchema is the input's schema with the keys NULL-able, then $gid and
// $set.
func (e *Expand) OutSchema() types.Schema {
	s := append(types.Schema(nil), e.Schema...)
	for _, k := range e.Keys {
		s[k].Type = s[k].Type.WithNullable(true)
	}
	return append(s, types.Field{Name: "$gid", Type: types.BIGINT.NotNull()}, types.Field{Name: "$set", Type: types.INT.NotNull()})
}

// GroupingID is the $gid of a set of key positions among n keys.
func GroupingID(set []int, n int) int64 {
	in := make([]bool, n)
	for _, k := range set {
		in[k] = true
	}
	id := int64(0)
	for i := 0; i < n; i++ {
		if !in[i] {
			id |= 1 << (n - 1 - i)
		}
	}
	return id
}

// String describes the operator for EXPLAIN.
func (e *Expand) String() string {
	var sets []string
	for _, set := range e.Sets {
		var names []string
		for _, k := range set {
			names = append(names, e.Schema[e.Keys[k]].Name)
		}
		sets = append(sets, fmt.Sprint(names))
	}
	return fmt.Sprintf("Expand: groupingSets=%v", sets)
}

// Run sends each batch of in once per set. It releases the input batches.
func (e *Expand) Run(ctx context.Context, mem memory.Allocator, in <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	defer drain(in)
	schema := e.OutSchema().Arrow()
	for b := range in {
		n := int(b.NumRows())
		for s, set := range e.Sets {
			cols := make([]arrow.Array, 0, len(schema.Fields()))
			keep := map[int]bool{}
			for _, k := range set {
				keep[e.Keys[k]] = true
			}
			isKey := map[int]bool{}
			for _, k := range e.Keys {
				isKey[k] = true
			}
			for c := range e.Schema {
				if isKey[c] && !keep[c] {
					cols = append(cols, array.MakeArrayOfNull(mem, b.Column(c).DataType(), n))
					continue
				}
				col := b.Column(c)
				col.Retain()
				cols = append(cols, col)
			}
			gid := array.NewInt64Builder(mem)
			set32 := array.NewInt32Builder(mem)
			id := GroupingID(set, len(e.Keys))
			for i := 0; i < n; i++ {
				gid.Append(id)
				set32.Append(int32(s))
			}
			cols = append(cols, gid.NewArray(), set32.NewArray())
			gid.Release()
			set32.Release()
			rec := array.NewRecordBatch(schema, cols, int64(n))
			for _, c := range cols {
				c.Release()
			}
			select {
			case out <- rec:
			case <-ctx.Done():
				rec.Release()
				b.Release()
				return nil
			}
		}
		b.Release()
	}
	return nil
}
