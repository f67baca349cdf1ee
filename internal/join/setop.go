package join

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/aggregate"
	"github.com/weir-dev/weir/internal/types"
)

// SetKind is a set operation.
type SetKind int

// The set operations. UNION (without ALL) is a UNION ALL followed by a
// grouping of all columns, as are the rows an EXCEPT keeps.
const (
	UnionAll SetKind = iota
	Intersect
	Except
)

func (k SetKind) String() string { return [...]string{"UNION ALL", "INTERSECT", "EXCEPT"}[k] }

// SetOp combines the rows of two inputs of the same columns. Rows compare
// equal when all their columns do, NULLs equal to NULLs (unlike a join's
// keys). For Intersect and Except, All keeps duplicates as SQL's ALL does
// (min(m, n) and max(m - n, 0) copies); without All, Intersect emits each
// row once and Except emits the rows to keep, with duplicates (the planner
// groups them).
type SetOp struct {
	Kind   SetKind
	All    bool
	Schema types.Schema
}

func (o *SetOp) String() string {
	all := ""
	if o.All && o.Kind != UnionAll {
		all = " ALL"
	}
	return fmt.Sprintf("SetOp[%s%s]", o.Kind, all)
}

// Run reads right to its end (UnionAll: after left), then streams left.
// It consumes and releases every batch.
func (o *SetOp) Run(ctx context.Context, mem memory.Allocator, left, right <-chan arrow.RecordBatch, out chan<- arrow.RecordBatch) error {
	defer drain(left)
	defer drain(right)
	send := func(b arrow.RecordBatch) bool {
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			b.Release()
			return false
		}
	}
	if o.Kind == UnionAll {
		for _, in := range []<-chan arrow.RecordBatch{left, right} {
			for b := range in {
				if ctx.Err() != nil {
					b.Release()
					continue
				}
				rec := array.NewRecordBatch(o.Schema.Arrow(), b.Columns(), b.NumRows())
				b.Release()
				if !send(rec) {
					return nil
				}
			}
		}
		return nil
	}
	var types []arrow.DataType
	for _, f := range o.Schema {
		types = append(types, f.Type.Arrow())
	}
	table := aggregate.NewKeyTable(types)
	var counts []int64
	var ids []int32
	for b := range right {
		n := int(b.NumRows())
		if cap(ids) < n {
			ids = make([]int32, n)
		}
		err := table.Add(b.Columns(), ids[:n])
		b.Release()
		if err != nil {
			return fmt.Errorf("%s: %w", o, err)
		}
		for len(counts) < table.Len() {
			counts = append(counts, 0)
		}
		for _, id := range ids[:n] {
			counts[id]++
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	emitted := make([]bool, len(counts))
	for b := range left {
		n := int(b.NumRows())
		if cap(ids) < n {
			ids = make([]int32, n)
		}
		if err := table.Find(b.Columns(), ids[:n]); err != nil {
			b.Release()
			return fmt.Errorf("%s: %w", o, err)
		}
		var sel []int32
		for i, id := range ids[:n] {
			keep := false
			switch {
			case o.Kind == Intersect && o.All:
				if id >= 0 && counts[id] > 0 {
					counts[id]--
					keep = true
				}
			case o.Kind == Intersect:
				if id >= 0 && !emitted[id] {
					emitted[id] = true
					keep = true
				}
			case o.Kind == Except && o.All:
				if id >= 0 && counts[id] > 0 {
					counts[id]--
				} else {
					keep = true
				}
			default: // EXCEPT: rows not in right, grouped after
				keep = id < 0
			}
			if keep {
				sel = append(sel, int32(i))
			}
		}
		rec, err := o.take(ctx, mem, b, sel)
		b.Release()
		if err != nil {
			return err
		}
		if rec != nil && !send(rec) {
			return nil
		}
	}
	return nil
}

func (o *SetOp) take(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, sel []int32) (arrow.RecordBatch, error) {
	if len(sel) == 0 {
		return nil, nil
	}
	if len(sel) == int(b.NumRows()) {
		return array.NewRecordBatch(o.Schema.Arrow(), b.Columns(), b.NumRows()), nil
	}
	idx := indexArray(mem, sel)
	defer idx.Release()
	cols := make([]arrow.Array, 0, b.NumCols())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, c := range b.Columns() {
		t, err := compute.TakeArray(ctx, c, idx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o, err)
		}
		cols = append(cols, t)
	}
	return array.NewRecordBatch(o.Schema.Arrow(), cols, int64(len(sel))), nil
}
