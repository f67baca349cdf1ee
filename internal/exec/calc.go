package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/weir-dev/weir/internal/expr"
	"github.com/weir-dev/weir/internal/types"
)

// Calc filters then projects: the output batch has one column per
// projection, for the rows where Filter is TRUE (a nil Filter keeps every
// row). Projections are evaluated only on the rows that pass the filter.
type Calc struct {
	Filter      expr.Expr
	Projections []expr.Expr
	Schema      types.Schema // of the output
}

// Apply runs the Calc over b. It returns a nil batch (and no error) when no
// row passes the filter; the caller releases a non-nil result.
func (c *Calc) Apply(mem memory.Allocator, b arrow.RecordBatch) (arrow.RecordBatch, error) {
	if len(c.Projections) != len(c.Schema) {
		return nil, fmt.Errorf("exec: calc has %d projections but an output schema of %d columns", len(c.Projections), len(c.Schema))
	}
	ev := evaluator{mem: mem}
	return c.apply(&ev, b)
}

func (c *Calc) apply(ev *evaluator, b arrow.RecordBatch) (arrow.RecordBatch, error) {
	in := batchOf(b)
	if c.Filter != nil {
		f, err := ev.evalBool(c.Filter, in)
		if err != nil {
			return nil, err
		}
		idx := trueRows(f)
		f.Release()
		if len(idx) == 0 {
			return nil, nil
		}
		if len(idx) < in.n {
			sub, err := in.take(ev.mem, idx, c.Projections...)
			if err != nil {
				return nil, err
			}
			defer sub.release()
			in = sub
		}
	}
	schema := c.Schema.Arrow()
	cols := make([]arrow.Array, len(c.Projections))
	defer func() { release(cols...) }()
	for i, p := range c.Projections {
		a, err := ev.eval(p, in)
		if err != nil {
			return nil, err
		}
		cols[i] = a
		if want := schema.Field(i).Type; !arrow.TypeEqual(a.DataType(), want) {
			if cols[i], err = ev.coerce(a, p.Type(), c.Schema[i].Type, p); err != nil {
				cols[i] = nil
				return nil, fmt.Errorf("exec: projection %d (%s) gives %s, the output column %s is %s: %w", i, p, plain(p.Type()), c.Schema[i].Name, plain(c.Schema[i].Type), err)
			}
		}
	}
	return array.NewRecordBatch(schema, cols, int64(in.n)), nil
}
